"""Forms for providers."""

from __future__ import annotations

from typing import Annotated

from marketplace.forms import Email, Form, Text, required
from providers.models import ProviderKind


class ProviderSignUpForm(Form):
    messages = {"kind": "Choose what kind of organisation it is"}

    organisation_name: Annotated[Text, required("Enter your organisation's name")] = ""
    kind: ProviderKind
    name: Annotated[Text, required("Enter your full name")] = ""
    email: Email = ""
    password: str = ""
