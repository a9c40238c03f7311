"""The names of the access rules, as marketplace.accounts.policy gives them, for the route
policy files (tests/**/route_policy*.py)."""

ADMIN = "roles:admin"
PUBLIC = "public"
SIGNED_IN = "signed_in"
SUPPORTED_PERSON = "roles:supported_person"
REPRESENTATIVE = "roles:representative"
PERSONAL_ASSISTANT = "roles:personal_assistant"
PROVIDER_STAFF = "roles:provider_staff"
PROVIDERS = "roles:personal_assistant,provider_staff"
"""Provider staff and personal assistants: the people who act for providers."""
PEOPLE = "roles:representative,supported_person"
"""Supported people and their representatives."""
