"""Rules for providers: organisations and personal assistants, and who acts for them."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from providers.models import Provider, ProviderKind, ProviderMember


def create_provider(session: Session, *, name: str, kind: ProviderKind, owner: User) -> Provider:
    """A new provider with `owner` as its first member, able to manage it."""
    provider = Provider(name=name.strip(), kind=kind)
    session.add(provider)
    session.add(ProviderMember(provider=provider, user=owner, is_owner=True))
    session.flush()
    return provider


def sign_up_provider(
    session: Session,
    *,
    hasher: PasswordHasher,
    organisation_name: str,
    kind: ProviderKind,
    name: str,
    email: str,
    password: str,
) -> Provider | None:
    """Sign up a member of staff and their organisation together; None when the address
    already had an account (the owner of that address is told by mail, as for any sign-up)."""
    user = accounts_service.sign_up(
        session, hasher=hasher, email=email, name=name, role=Role.PROVIDER_STAFF, password=password
    )
    if user is None:
        return None
    return create_provider(session, name=organisation_name, kind=kind, owner=user)


def providers_of(session: Session, *, user: User) -> list[Provider]:
    """The providers `user` acts for."""
    return list(
        session.scalars(
            select(Provider)
            .join(ProviderMember)
            .where(ProviderMember.user_id == user.id)
            .order_by(Provider.name)
        )
    )
