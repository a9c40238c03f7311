"""Rules for provider organisations and their staff."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from providers.models import Organisation, OrganisationKind, OrganisationMember


def create_organisation(
    session: Session, *, name: str, kind: OrganisationKind, owner: User
) -> Organisation:
    """A new organisation with `owner` as its first member, able to manage it."""
    organisation = Organisation(name=name.strip(), kind=kind)
    session.add(organisation)
    session.add(OrganisationMember(organisation=organisation, user=owner, is_owner=True))
    session.flush()
    return organisation


def sign_up_provider(
    session: Session,
    *,
    hasher: PasswordHasher,
    organisation_name: str,
    kind: OrganisationKind,
    name: str,
    email: str,
    password: str,
) -> Organisation | None:
    """Sign up a member of staff and their organisation together; None when the address
    already had an account (the owner of that address is told by mail, as for any sign-up)."""
    user = accounts_service.sign_up(
        session, hasher=hasher, email=email, name=name, role=Role.PROVIDER_STAFF, password=password
    )
    if user is None:
        return None
    return create_organisation(session, name=organisation_name, kind=kind, owner=user)


def organisations_of(session: Session, *, user: User) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .join(OrganisationMember)
            .where(OrganisationMember.user_id == user.id)
            .order_by(Organisation.name)
        )
    )
