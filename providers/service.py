"""Rules for providers: organisations and personal assistants, and who acts for them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound, RuleBroken, Rules
from marketplace.geography.models import CouncilArea, Settlement
from marketplace.geography.service import Location
from providers import photos
from providers.models import (
    Employment,
    Provider,
    ProviderKind,
    ProviderLanguage,
    ProviderMember,
    StaffInvitation,
)

WEBSITE = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$")


def create_provider(session: Session, *, name: str, kind: ProviderKind, owner: User) -> Provider:
    """A new provider with `owner` as its first member, able to manage it."""
    provider = create_listing(session, name=name, kind=kind)
    session.add(ProviderMember(provider=provider, user=owner, is_owner=True))
    session.flush()
    return provider


def create_listing(session: Session, *, name: str, kind: ProviderKind) -> Provider:
    """A provider listed by the service itself (imported from another directory, or demo
    data) that nobody signs in for yet: an unclaimed listing, until an owner joins it."""
    provider = Provider(name=name.strip(), kind=kind)
    session.add(provider)
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


STANDARD_LANGUAGES = ("English", "Gaelic", "British Sign Language")
INVITATION_LIFETIME = timedelta(days=7)


def start_personal_assistant(session: Session, *, user: User) -> Provider:
    """A personal assistant's own provider record, created the first time they need one."""
    existing = providers_of(session, user=user)
    if existing:
        return existing[0]
    if user.role != Role.PERSONAL_ASSISTANT:
        raise RuleBroken("Only personal assistants list themselves")
    return create_provider(
        session, name=user.name, kind=ProviderKind.PERSONAL_ASSISTANT, owner=user
    )


def members_of(session: Session, provider_id: int) -> list[User]:
    """Everyone who works for the provider, oldest account first: whom its mail goes to."""
    return list(
        session.scalars(
            select(User)
            .join(ProviderMember, ProviderMember.user_id == User.id)
            .where(ProviderMember.provider_id == provider_id)
            .order_by(User.id)
        )
    )


def membership(session: Session, *, provider: Provider, user: User) -> ProviderMember | None:
    return session.scalar(
        select(ProviderMember).where(
            ProviderMember.provider_id == provider.id, ProviderMember.user_id == user.id
        )
    )


@dataclass(frozen=True)
class ProfileDetails:
    name: str
    about: str
    holds_isf: bool
    contact_email: str | None
    phone: str | None
    website: str | None
    drives: bool | None
    employment: Employment | None
    languages: list[str]
    base: Location | None


def update_profile(
    session: Session, *, provider: Provider, actor: User, details: ProfileDetails
) -> None:
    """Change what the provider says about itself on its public page."""
    with Rules() as rules:
        if not details.name.strip():
            rules.broken("Enter the name people will see", field="name")
        if details.holds_isf and not provider.kind.is_organisation:
            rules.broken(
                "Personal assistants do not hold individual service funds", field="holds_isf"
            )
        if details.employment is not None and provider.kind.is_organisation:
            rules.broken("Only personal assistants say how they are employed", field="employment")
        if details.website and not WEBSITE.match(details.website):
            rules.broken(
                "Enter the website address in full, like https://www.example.org", field="website"
            )
    provider.name = details.name.strip()
    provider.about = details.about.strip()
    provider.holds_isf = details.holds_isf
    provider.contact_email = details.contact_email or None
    provider.phone = details.phone or None
    provider.website = details.website or None
    provider.drives = details.drives
    provider.employment = details.employment
    set_languages(provider, details.languages)
    if details.base is not None:
        set_base(session, provider, details.base)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECORD_CHANGED,
        subject_type="provider",
        subject_id=provider.id,
        detail={"change": "profile"},
    )


def set_languages(provider: Provider, languages: list[str]) -> None:
    wanted: list[str] = []
    for language in languages:
        cleaned = " ".join(language.split())
        if cleaned and cleaned.lower() not in {w.lower() for w in wanted}:
            if len(cleaned) > 60:
                raise RuleBroken(
                    "Enter each language's name in under 60 letters", field="other_languages"
                )
            wanted.append(cleaned)
    current = {language.language: language for language in provider.languages}
    provider.languages = [current.get(name) or ProviderLanguage(language=name) for name in wanted]


def set_base(session: Session, provider: Provider, location: Location) -> None:
    """Where the provider is based; kept to the precision of the place they gave."""
    provider.base_label = location.kept_label
    provider.base_latitude = location.latitude
    provider.base_longitude = location.longitude
    provider.base_council = session.get_one(CouncilArea, location.council.id)
    provider.base_settlement = session.get_one(Settlement, location.settlement.id)


def set_photo(session: Session, *, provider: Provider, actor: User, data: bytes) -> None:
    """A photo or logo: a real PNG or JPEG, recognised by its content, not its name, and
    stored redrawn without its metadata (providers.photos)."""
    if not data:
        raise RuleBroken("Choose a photo or logo to upload", field="photo")
    provider.photo, provider.photo_type = photos.clean_photo(data)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECORD_CHANGED,
        subject_type="provider",
        subject_id=provider.id,
        detail={"change": "photo"},
    )


def invite_staff(
    session: Session, *, provider: Provider, inviter: User, email: str
) -> StaffInvitation:
    """Mail someone a link to join the provider's staff."""
    if not provider.kind.is_organisation:
        raise RuleBroken("Personal assistants work on their own and have no staff to invite")
    address = accounts_service.normalise_email(email)
    existing = accounts_service.find_user_by_email(session, address)
    if existing is not None and membership(session, provider=provider, user=existing) is not None:
        raise Conflict("This person is already on your staff", field="email")
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(
        provider=provider,
        email=address,
        token_hash=accounts_service.hash_token(token),
        invited_by_id=inviter.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    link = mail.mailer_for(session).link(f"/provider/join?token={token}")
    mail.queue(
        session,
        mail.Mail(
            to=address,
            subject=f"{inviter.name} has invited you to join {provider.name}",
            body=(
                f"{inviter.name} has invited you to join {provider.name} on the SDS Marketplace, "
                f"to manage its offers and enquiries.\n\nTo accept, open this link within 7 days "
                f"and sign in or create an account with this email address:\n{link}\n"
            ),
        ),
    )
    audit.record(
        session,
        actor=inviter,
        action=AuditAction.RECORD_CHANGED,
        subject_type="provider",
        subject_id=provider.id,
        detail={"change": "staff invited", "invitation_id": invitation.id},
    )
    return invitation


def invitation_for(session: Session, *, token: str) -> StaffInvitation:
    invitation = session.scalar(
        select(StaffInvitation).where(
            StaffInvitation.token_hash == accounts_service.hash_token(token)
        )
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise NotFound("This invitation has expired or has already been used")
    return invitation


def accept_invitation(session: Session, *, token: str, user: User) -> Provider:
    """Join the provider the invitation is from, as the person it was sent to."""
    invitation = invitation_for(session, token=token)
    if user.email != invitation.email:
        raise RuleBroken(
            "This invitation was sent to another email "
            "address. Sign in as that address to accept it"
        )
    if user.role != Role.PROVIDER_STAFF:
        raise RuleBroken("Only provider staff accounts can join a provider's staff")
    invitation.accepted_at = utcnow()
    if membership(session, provider=invitation.provider, user=user) is None:
        session.add(ProviderMember(provider=invitation.provider, user=user, is_owner=False))
    audit.record(
        session,
        actor=user,
        action=AuditAction.ROLE_CHANGED,
        subject_type="provider",
        subject_id=invitation.provider_id,
        detail={"change": "joined staff"},
    )
    session.flush()
    return invitation.provider


def join_with_new_account(
    session: Session, *, hasher: PasswordHasher, token: str, name: str, password: str
) -> User:
    """Make a staff account for the invited address and join the provider. The invitation
    was mailed to that address, so following it proves the address as confirming would."""
    invitation = invitation_for(session, token=token)
    if accounts_service.find_user_by_email(session, invitation.email) is not None:
        raise Conflict("This address already has an account: sign in to accept the invitation")
    user = accounts_service.create_user(
        session,
        hasher=hasher,
        email=invitation.email,
        name=name,
        role=Role.PROVIDER_STAFF,
        password=password,
        confirmed=True,
    )
    accept_invitation(session, token=token, user=user)
    return user
