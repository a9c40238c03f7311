"""The rules of accounts: sign-up and confirmation, sign-in and sessions, passwords,
roles and representation. Every change to who may do what is written to the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts import passwords
from marketplace.accounts.models import (
    SELF_SERVICE_ROLES,
    EmailToken,
    Relationship,
    Representation,
    Role,
    TokenPurpose,
    User,
    UserSession,
)
from marketplace.audit import AuditAction
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound, RuleBroken, Rules
from marketplace.geography.models import CouncilArea
from marketplace.paging import Page, paginate
from marketplace.settings import SecuritySettings

TOKEN_LIFETIMES = {
    TokenPurpose.CONFIRM_EMAIL: timedelta(days=3),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}
COUNCIL_ROLES = (Role.COMMISSIONER, Role.BUDGET_HOLDER, Role.PANEL_MEMBER, Role.FINANCE)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _audit_account(
    session: Session,
    *,
    actor: User | None,
    action: AuditAction,
    account: User,
    detail: dict[str, audit.DetailValue] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="user_account",
        subject_id=account.id,
        detail=detail,
    )


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_scope(role: Role, council: CouncilArea | None) -> None:
    with Rules() as rules:
        if role == Role.BUDGET_HOLDER and council is None:
            rules.broken("A budget holder must belong to a council area", field="council")
        if council is not None and role not in COUNCIL_ROLES:
            rules.broken(
                "Only council staff (commissioners, budget holders, panel members and finance) "
                "belong to a council area",
                field="council",
            )


def create_user(
    session: Session,
    *,
    hasher: PasswordHasher,
    email: str,
    name: str,
    role: Role,
    password: str,
    council: CouncilArea | None = None,
    confirmed: bool = False,
    created_by: User | None = None,
) -> User:
    """Create an account with any role; used by administrators, the CLI and sign-up."""
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email address already exists", field="email")
    passwords.check_new_password(password, email=email)
    _check_scope(role, council)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hasher.hash(password),
        council=council,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    session.add(user)
    session.flush()
    _audit_account(
        session,
        actor=created_by,
        action=AuditAction.ACCOUNT_CREATED,
        account=user,
        detail={"role": role.value},
    )
    return user


def sign_up(
    session: Session,
    *,
    hasher: PasswordHasher,
    email: str,
    name: str,
    role: Role,
    password: str,
) -> User | None:
    """Self-service sign-up; the account works once its email address is confirmed.

    An address already in use gets a mail saying so, and the caller shows the same
    "check your email" page either way, so sign-up cannot be used to find who has an account.
    """
    if role not in SELF_SERVICE_ROLES:
        raise RuleBroken("Choose what you want to use the service for", field="role")
    passwords.check_new_password(password, email=email)
    existing = find_user_by_email(session, email)
    mailer = mail.mailer_for(session)
    if existing is not None:
        mail.queue(
            session,
            mail.Mail(
                to=existing.email,
                subject="Someone tried to sign up with your email address",
                body=(
                    f"Hello {existing.name},\n\n"
                    "Someone tried to create an account on the SDS Marketplace with this "
                    "email address, which already has an account.\n\n"
                    "If it was you, sign in instead. If you have forgotten your password, "
                    f"reset it here:\n{mailer.link('/password-reset')}\n\n"
                    "If it was not you, you do not need to do anything.\n"
                ),
            ),
        )
        return None
    user = create_user(session, hasher=hasher, email=email, name=name, role=role, password=password)
    send_confirmation(session, user=user)
    return user


def _issue_token(session: Session, *, user: User, purpose: TokenPurpose) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        EmailToken(
            token_hash=hash_token(token),
            user=user,
            purpose=purpose,
            expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
        )
    )
    return token


def send_confirmation(session: Session, *, user: User) -> None:
    token = _issue_token(session, user=user, purpose=TokenPurpose.CONFIRM_EMAIL)
    link = mail.mailer_for(session).link(f"/confirm-email?token={token}")
    mail.queue(
        session,
        mail.Mail(
            to=user.email,
            subject="Confirm your email address",
            body=(
                f"Hello {user.name},\n\n"
                "To finish creating your SDS Marketplace account, confirm your email "
                f"address by opening this link within 3 days:\n{link}\n\n"
                "If you did not create an account, you can ignore this email.\n"
            ),
        ),
    )


def _valid_token(session: Session, *, token: str, purpose: TokenPurpose) -> EmailToken:
    stored = session.get(EmailToken, hash_token(token))
    if (
        stored is None
        or stored.purpose != purpose
        or stored.used_at is not None
        or stored.expires_at <= utcnow()
    ):
        raise NotFound("This link has expired or has already been used")
    return stored


def _use_token(session: Session, *, token: str, purpose: TokenPurpose) -> EmailToken:
    stored = _valid_token(session, token=token, purpose=purpose)
    stored.used_at = utcnow()
    return stored


def confirm_email(session: Session, *, token: str) -> User:
    """Mark the address confirmed; the account can now sign in."""
    user = _use_token(session, token=token, purpose=TokenPurpose.CONFIRM_EMAIL).user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        _audit_account(session, actor=user, action=AuditAction.EMAIL_CONFIRMED, account=user)
    return user


_UNKNOWN_ACCOUNT_HASHES: dict[tuple[object, ...], str] = {}


def _unknown_account_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password made with `hasher`'s own costs, once for those costs, so
    checking a password against it takes as long as checking a real account's."""
    costs = (
        hasher.type,
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
    )
    if costs not in _UNKNOWN_ACCOUNT_HASHES:
        _UNKNOWN_ACCOUNT_HASHES[costs] = hasher.hash(secrets.token_hex(16))
    return _UNKNOWN_ACCOUNT_HASHES[costs]


def authenticate(
    session: Session, *, hasher: PasswordHasher, email: str, password: str
) -> User | None:
    """The user these credentials belong to, or None. Every attempt is audited."""
    user = find_user_by_email(session, email)
    if user is None:
        # Spend the same time as a real check, and no more (no hashing here after the first
        # time), so response times do not reveal which addresses have accounts.
        passwords.verify(hasher, _unknown_account_hash(hasher), password)
        audit.record(
            session,
            actor=None,
            action=AuditAction.SIGN_IN_FAILED,
            detail={"reason": "unknown_account"},
        )
        return None
    if not passwords.verify(hasher, user.password_hash, password):
        reason = "wrong_password"
    elif user.disabled_at is not None:
        reason = "account_disabled"
    elif user.email_confirmed_at is None:
        reason = "email_not_confirmed"
    else:
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
        _audit_account(session, actor=user, action=AuditAction.SIGN_IN_SUCCEEDED, account=user)
        return user
    _audit_account(
        session,
        actor=None,
        action=AuditAction.SIGN_IN_FAILED,
        account=user,
        detail={"reason": reason},
    )
    return None


def start_session(session: Session, *, user: User, replacing: str | None = None) -> str:
    """A new session token for `user`; any session the browser had before is ended, so a
    token planted before sign-in is useless after it."""
    if replacing is not None:
        session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(replacing)))
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=hash_token(token), user=user))
    return token


def end_session(session: Session, *, token: str, user: User) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))
    _audit_account(session, actor=user, action=AuditAction.SIGNED_OUT, account=user)


def user_for_session(session: Session, *, token: str, security: SecuritySettings) -> User | None:
    """The active user behind a session token, or None if it ended, expired or was revoked.
    The idle timeout is enforced by the signed cookie; this enforces the absolute one."""
    stored = session.get(UserSession, hash_token(token))
    if stored is None:
        return None
    if stored.created_at <= utcnow() - timedelta(hours=security.session_max_hours):
        return None
    if not stored.user.is_active:
        return None
    return stored.user


def _end_all_sessions(session: Session, *, user: User, except_token: str | None = None) -> None:
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if except_token is not None:
        query = query.where(UserSession.token_hash != hash_token(except_token))
    session.execute(query)


def request_password_reset(session: Session, *, email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    user = find_user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        return
    token = _issue_token(session, user=user, purpose=TokenPurpose.RESET_PASSWORD)
    link = mail.mailer_for(session).link(f"/password-reset/new?token={token}")
    mail.queue(
        session,
        mail.Mail(
            to=user.email,
            subject="Reset your password",
            body=(
                f"Hello {user.name},\n\n"
                "Someone asked to reset the password of your SDS Marketplace account. "
                f"To choose a new password, open this link within 1 hour:\n{link}\n\n"
                "If it was not you, you do not need to do anything: your password has not "
                "changed.\n"
            ),
        ),
    )
    _audit_account(session, actor=None, action=AuditAction.PASSWORD_RESET_REQUESTED, account=user)


def check_reset_token(session: Session, *, token: str) -> None:
    """Refuse a reset link that cannot be used, before asking for a new password."""
    _valid_token(session, token=token, purpose=TokenPurpose.RESET_PASSWORD)


def reset_password(
    session: Session, *, hasher: PasswordHasher, token: str, new_password: str
) -> User:
    """Set a new password from an emailed link; every session of the account ends."""
    stored = _valid_token(session, token=token, purpose=TokenPurpose.RESET_PASSWORD)
    passwords.check_new_password(new_password, email=stored.user.email)
    stored.used_at = utcnow()
    user = stored.user
    user.password_hash = hasher.hash(new_password)
    if user.email_confirmed_at is None:
        # Following a link sent to the address proves the address as well as confirming would.
        user.email_confirmed_at = utcnow()
    _end_all_sessions(session, user=user)
    _audit_account(session, actor=user, action=AuditAction.PASSWORD_RESET, account=user)
    return user


def change_password(
    session: Session,
    *,
    hasher: PasswordHasher,
    user: User,
    current_password: str,
    new_password: str,
    session_token: str,
) -> None:
    """Change a signed-in user's password; their other sessions end (ASVS 3.3.3)."""
    if not passwords.verify(hasher, user.password_hash, current_password):
        raise RuleBroken("Your current password is not right", field="current_password")
    passwords.check_new_password(new_password, email=user.email, field="new_password")
    user.password_hash = hasher.hash(new_password)
    _end_all_sessions(session, user=user, except_token=session_token)
    _audit_account(session, actor=user, action=AuditAction.PASSWORD_CHANGED, account=user)


def change_role(
    session: Session,
    *,
    changed_by: User,
    user: User,
    role: Role,
    council: CouncilArea | None,
) -> None:
    """Give `user` a new role and scope; their sessions end so the change applies at once."""
    if user.id == changed_by.id and role != Role.ADMIN:
        raise RuleBroken("You cannot take away your own administrator role", field="role")
    _check_scope(role, council)
    before = (user.role, user.council_id)
    user.role = role
    user.council = council
    session.flush()
    if before == (user.role, user.council_id):
        return
    _end_all_sessions(session, user=user)
    _audit_account(
        session,
        actor=changed_by,
        action=AuditAction.ROLE_CHANGED,
        account=user,
        detail={
            "from_role": before[0].value,
            "to_role": role.value,
            "from_council_id": before[1],
            "to_council_id": user.council_id,
        },
    )


def set_disabled(session: Session, *, changed_by: User, user: User, disabled: bool) -> None:
    """Disable an account (its sessions end at once) or enable it again."""
    if user.id == changed_by.id:
        raise RuleBroken("You cannot disable your own account")
    if disabled == (user.disabled_at is not None):
        return
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        _end_all_sessions(session, user=user)
    action = AuditAction.ACCOUNT_DISABLED if disabled else AuditAction.ACCOUNT_ENABLED
    _audit_account(session, actor=changed_by, action=action, account=user)


def add_representative(
    session: Session,
    *,
    supported_person: User,
    representative_email: str,
    relationship_kind: Relationship,
) -> Representation:
    """A supported person names someone with a representative account to act for them."""
    if supported_person.role != Role.SUPPORTED_PERSON:
        raise RuleBroken("Only a supported person can name a representative")
    representative = find_user_by_email(session, representative_email)
    if representative is None or representative.role != Role.REPRESENTATIVE:
        raise RuleBroken(
            "There is no representative account with this email address. Ask them to "
            "sign up as a representative first",
            field="email",
        )
    already = session.scalar(
        select(Representation).where(
            Representation.representative_id == representative.id,
            Representation.supported_person_id == supported_person.id,
        )
    )
    if already is not None:
        raise Conflict("This person already acts for you", field="email")
    link = Representation(
        representative=representative,
        supported_person=supported_person,
        relationship_kind=relationship_kind,
    )
    try:
        with session.begin_nested():
            session.add(link)
            session.flush()
    except IntegrityError:
        # The same pair named twice at once (a double click): the table's unique pair
        # decides, and the later request is told so rather than failing.
        raise Conflict("This person already acts for you", field="email") from None
    mail.queue(
        session,
        mail.Mail(
            to=representative.email,
            subject=f"{supported_person.name} has named you as their representative",
            body=(
                f"Hello {representative.name},\n\n"
                f"{supported_person.name} has named you on the SDS Marketplace as someone who "
                f"acts for them ({relationship_kind.label.lower()}). You will see them on your "
                f"account page:\n{mail.mailer_for(session).link('/account')}\n\n"
                "If you do not know why, tell them or your council's Self-directed Support team.\n"
            ),
        ),
    )
    audit.record(
        session,
        actor=supported_person,
        action=AuditAction.REPRESENTATION_ADDED,
        subject_type="representation",
        subject_id=link.id,
        detail={
            "representative_id": representative.id,
            "supported_person_id": supported_person.id,
            "relationship": relationship_kind.value,
        },
    )
    return link


def remove_representative(session: Session, *, removed_by: User, link: Representation) -> None:
    """End a representation; either side may end it."""
    audit.record(
        session,
        actor=removed_by,
        action=AuditAction.REPRESENTATION_REMOVED,
        subject_type="representation",
        subject_id=link.id,
        detail={
            "representative_id": link.representative_id,
            "supported_person_id": link.supported_person_id,
        },
    )
    session.delete(link)


def representations_of(session: Session, *, user: User) -> list[Representation]:
    """The links in which `user` is either the representative or the supported person."""
    return list(
        session.scalars(
            select(Representation)
            .where(
                (Representation.representative_id == user.id)
                | (Representation.supported_person_id == user.id)
            )
            .order_by(Representation.created_at)
        )
    )


def acts_for(session: Session, *, representative: User, supported_person_id: int) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(Representation)
            .where(
                Representation.representative_id == representative.id,
                Representation.supported_person_id == supported_person_id,
            )
        )
        or 0
    ) > 0


def list_users(
    session: Session,
    *,
    role: Role | None = None,
    search: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[User]:
    """Accounts for administrators, filtered by role and by text in the name or email."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if search:
        needle = f"%{search.strip().lower().replace('%', '').replace('_', '')}%"
        query = query.where(func.lower(User.name).like(needle) | User.email.like(needle))
    return paginate(session, query.order_by(User.name, User.id), page=page, page_size=page_size)


def account_counts(session: Session) -> tuple[int, int, int]:
    """How many accounts there are, how many are disabled and how many not yet confirmed."""
    total, disabled, unconfirmed = session.execute(
        select(
            func.count(),
            func.count(User.disabled_at),
            func.count().filter(User.email_confirmed_at.is_(None)),
        ).select_from(User)
    ).one()
    return total, disabled, unconfirmed
