"""Who may use the posted-need pages (see tests/marketplace/test_authorisation.py)."""

from __future__ import annotations

from tests.route_rules import PEOPLE, PROVIDERS, PUBLIC

PEOPLE_AND_ADMINS = "roles:admin,representative,supported_person"
"""A need's own page: the person's side, and administrators."""

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/needs"): PEOPLE,
    ("GET", "/needs/new"): PEOPLE,
    ("POST", "/needs"): PEOPLE,
    ("GET", "/needs/{need_id}"): PEOPLE_AND_ADMINS,
    ("POST", "/needs/{need_id}/close"): PEOPLE,
    ("POST", "/needs/{need_id}/share"): PEOPLE,
    ("GET", "/about/needs"): PUBLIC,
    ("GET", "/provider/needs"): PROVIDERS,
    ("GET", "/provider/needs/{need_id}"): PROVIDERS,
    ("POST", "/provider/needs/{need_id}/responses"): PROVIDERS,
}
