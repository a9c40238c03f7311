"""Who counts as a verified provider, the one rule every posted need is sent by: an
administrator has confirmed who they are, and verified the checks their kind must have.
Also the administrator's "confirm identity" action, and the hook other packages listen on
to act when a provider becomes verified (posted needs are sent to it then)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.audit import AuditAction
from marketplace.db import today as scottish_today
from marketplace.db import utcnow
from marketplace.errors import Conflict
from providers.models import Check, CheckKind, CheckStatus, Provider, ProviderKind

REQUIRED_CHECKS: dict[ProviderKind, tuple[CheckKind, ...]] = {
    ProviderKind.REGISTERED_PROVIDER: (CheckKind.CARE_INSPECTORATE,),
    ProviderKind.MICRO_PROVIDER: (CheckKind.PVG, CheckKind.INSURANCE),
    ProviderKind.COMMUNITY_GROUP: (CheckKind.PVG, CheckKind.INSURANCE),
    ProviderKind.PERSONAL_ASSISTANT: (CheckKind.PVG, CheckKind.INSURANCE),
}
"""Besides a confirmed identity, the checks each kind of provider must have verified (and
in date) before posted needs reach it. A registered service's staff are vetted under its
Care Inspectorate registration; anyone else who would meet people alone needs their own
PVG scheme membership and public liability insurance. Stated on /about/needs."""

Listener = Callable[[Session, Provider, Any], None]
_listeners: list[Listener] = []


def when_verified(listener: Listener) -> Listener:
    """Register `listener(session, provider, context)`, called in the same transaction when
    a provider becomes verified. `context` is whatever the caller passed (the app's state,
    for pages), so a listener can find what it keeps there."""
    _listeners.append(listener)
    return listener


def rule_lines() -> list[tuple[str, list[str]]]:
    """The rule in words, for the about page: (kind of provider, what must be verified)."""
    return [
        (
            kind.label,
            ["Who they are, confirmed by an administrator"] + [check.label for check in checks],
        )
        for kind, checks in REQUIRED_CHECKS.items()
    ]


def _verified_check_kinds(
    session: Session, provider_ids: Collection[int], today: date
) -> dict[int, set[CheckKind]]:
    found: dict[int, set[CheckKind]] = {}
    if not provider_ids:
        return found
    rows = session.execute(
        select(Check.provider_id, Check.kind).where(
            Check.provider_id.in_(list(provider_ids)),
            Check.status == CheckStatus.VERIFIED,
            or_(Check.expires_on.is_(None), Check.expires_on >= today),
        )
    )
    for provider_id, kind in rows:
        found.setdefault(provider_id, set()).add(kind)
    return found


def verified_ids(
    session: Session, provider_ids: Collection[int], *, today: date | None = None
) -> set[int]:
    """Those of `provider_ids` that are verified today."""
    today = today or scottish_today()
    ids = list(provider_ids)
    if not ids:
        return set()
    confirmed = session.execute(
        select(Provider.id, Provider.kind).where(
            Provider.id.in_(ids), Provider.identity_confirmed_at.is_not(None)
        )
    ).all()
    checks = _verified_check_kinds(session, [row.id for row in confirmed], today)
    return {
        row.id for row in confirmed if set(REQUIRED_CHECKS[row.kind]) <= checks.get(row.id, set())
    }


def is_verified(session: Session, provider: Provider, *, today: date | None = None) -> bool:
    return provider.id in verified_ids(session, [provider.id], today=today)


def missing(session: Session, provider: Provider, *, today: date | None = None) -> list[str]:
    """What still stands between the provider and being verified, in words."""
    today = today or scottish_today()
    have = _verified_check_kinds(session, [provider.id], today).get(provider.id, set())
    wanted = (
        []
        if provider.identity_confirmed_at is not None
        else ["who you are, confirmed by an administrator"]
    )
    return wanted + [check.label for check in REQUIRED_CHECKS[provider.kind] if check not in have]


def confirm_identity(
    session: Session, *, provider: Provider, admin: User, context: Any = None
) -> None:
    """An administrator has confirmed who the provider is (a document seen, a call made)."""
    if provider.identity_confirmed_at is not None:
        raise Conflict("This provider's identity is already confirmed")
    was = is_verified(session, provider)
    provider.identity_confirmed_at, provider.identity_confirmed_by_id = utcnow(), admin.id
    session.flush()
    audit.record(
        session,
        actor=admin,
        action=AuditAction.RECORD_CHANGED,
        subject_type="provider",
        subject_id=provider.id,
        detail={"change": "identity confirmed"},
    )
    if not was:
        tell_if_verified(session, provider, context=context)


def tell_if_verified(session: Session, provider: Provider, *, context: Any = None) -> bool:
    """Call the listeners if the provider is verified now; the caller knows it was not
    before. Whether it is."""
    session.flush()
    if not is_verified(session, provider):
        return False
    for listener in _listeners:
        listener(session, provider, context)
    return True


def awaiting_identity(session: Session) -> list[Provider]:
    """Providers whose identity nobody has confirmed yet, oldest first."""
    return list(
        session.scalars(
            select(Provider)
            .where(Provider.identity_confirmed_at.is_(None))
            .order_by(Provider.created_at, Provider.id)
        )
    )
