"""Forms and API shapes for accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from marketplace.accounts.models import Relationship, Role
from marketplace.forms import Email, Form, Text, required
from marketplace.parsing import one_line


class SignInForm(Form):
    email: Email
    password: Annotated[str, required("Enter your password")] = ""
    next: str = ""


class SignUpForm(Form):
    name: Annotated[str, one_line("your name"), required("Enter your full name")] = ""
    email: Email = ""
    password: str = ""


class ChooseAccountForm(Form):
    messages = {"account": "Choose what you want to use the service for"}

    account: Annotated[Text, required("Choose what you want to use the service for")] = ""


class PasswordResetRequestForm(Form):
    email: Email = ""


class NewPasswordForm(Form):
    password: str = ""


class ChangePasswordForm(Form):
    current_password: Annotated[str, required("Enter your current password")] = ""
    new_password: str = ""


class AddRepresentativeForm(Form):
    messages = {"relationship_kind": "Choose how this person is related to you"}

    email: Email = ""
    relationship_kind: Relationship


class ChangeRoleForm(Form):
    messages = {"role": "Choose a role", "council": "Choose a council area"}

    role: Role
    council: Annotated[str, one_line("the council area")] = ""


class UserOut(BaseModel):
    """A user as the API shows them to themselves or to an administrator."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    role: Role
    council: str | None
    created_at: datetime


class CouncilAreaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    gss_code: str
    name: str
