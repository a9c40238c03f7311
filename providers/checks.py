"""The trust panel: what providers declare about themselves (Care Inspectorate registration
and grades, PVG scheme membership, insurance, training), what administrators verified and
when, and reminders before anything expires."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace import audit, mail
from marketplace.accounts.models import User
from marketplace.audit import AuditAction
from marketplace.db import utcnow
from marketplace.errors import Conflict, RuleBroken, Rules
from marketplace.paging import Page, paginate
from providers import verification
from providers.models import CARE_INSPECTORATE_THEMES, Check, CheckKind, CheckStatus, Provider

CARE_INSPECTORATE_NUMBER = re.compile(r"^CS\d{10}$")
"""A registered service's number: CS, then the year registered and six more digits."""
PVG_NUMBER = re.compile(r"^\d{16}$")
"""A PVG scheme membership number has 16 digits."""
REMIND_DAYS_BEFORE_EXPIRY = 30


@dataclass(frozen=True)
class CheckDetails:
    kind: CheckKind
    reference: str
    issuer: str | None = None
    grades: dict[str, int] | None = None
    cover_pence: int | None = None
    expires_on: date | None = None


def normalise_reference(kind: CheckKind, reference: str) -> str:
    cleaned = reference.strip()
    if kind in (CheckKind.CARE_INSPECTORATE, CheckKind.PVG):
        cleaned = re.sub(r"[\s-]", "", cleaned).upper()
    return cleaned


def validate(details: CheckDetails, *, today: date) -> CheckDetails:
    """The details, tidied, or a RuleBroken naming the field that is wrong."""
    reference = normalise_reference(details.kind, details.reference)
    grades = details.grades or None
    with Rules() as rules:
        if not reference:
            rules.broken(_REFERENCE_MISSING[details.kind], field="reference")
        elif details.kind == CheckKind.CARE_INSPECTORATE and not CARE_INSPECTORATE_NUMBER.match(
            reference
        ):
            rules.broken(
                "Enter the Care Inspectorate registration number "
                "as CS followed by 10 digits, like CS2012301234",
                field="reference",
            )
        elif details.kind == CheckKind.PVG and not PVG_NUMBER.match(reference):
            rules.broken("Enter the PVG scheme membership number: 16 digits", field="reference")
        if grades:
            if details.kind != CheckKind.CARE_INSPECTORATE:
                rules.broken("Only Care Inspectorate registrations have grades", field="grades")
            elif any(
                theme not in CARE_INSPECTORATE_THEMES or not 1 <= grade <= 6
                for theme, grade in grades.items()
            ):
                rules.broken("Grades go from 1 (unsatisfactory) to 6 (excellent)", field="grades")
        if details.kind == CheckKind.INSURANCE:
            if details.expires_on is None:
                rules.broken("Enter the date the insurance runs out", field="expires_on")
            if details.cover_pence is not None and details.cover_pence <= 0:
                rules.broken("Enter the amount of cover, like 5,000,000", field="cover")
        if details.expires_on is not None and details.expires_on < today:
            rules.broken(_EXPIRED[details.kind], field="expires_on")
    return CheckDetails(
        kind=details.kind,
        reference=reference,
        issuer=(details.issuer or "").strip() or None,
        grades=grades,
        cover_pence=details.cover_pence,
        expires_on=details.expires_on,
    )


_REFERENCE_MISSING = {
    CheckKind.CARE_INSPECTORATE: "Enter the Care Inspectorate registration number",
    CheckKind.PVG: "Enter the PVG scheme membership number",
    CheckKind.INSURANCE: "Enter the policy number",
    CheckKind.TRAINING: "Enter the name of the course or certificate",
}
_EXPIRED = {
    CheckKind.CARE_INSPECTORATE: "This date has passed: enter the registration that is in force",
    CheckKind.PVG: "This date has passed: enter a membership that is in force",
    CheckKind.INSURANCE: "This insurance has run out: enter a policy that is in force",
    CheckKind.TRAINING: "This certificate has run out: enter one that is in date",
}


def declare_check(
    session: Session, *, provider: Provider, actor: User, details: CheckDetails, today: date
) -> Check:
    """Record what a provider says about itself; it shows as declared until verified."""
    valid = validate(details, today=today)
    duplicate = session.scalar(
        select(Check).where(
            Check.provider_id == provider.id,
            Check.kind == valid.kind,
            Check.reference == valid.reference,
            Check.status != CheckStatus.REJECTED,
        )
    )
    if duplicate is not None:
        raise Conflict("You have already told us about this one", field="reference")
    check = Check(
        provider=provider,
        kind=valid.kind,
        reference=valid.reference,
        issuer=valid.issuer,
        grades=valid.grades,
        cover_pence=valid.cover_pence,
        expires_on=valid.expires_on,
        status=CheckStatus.DECLARED,
    )
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECORD_CHANGED,
        subject_type="provider_check",
        subject_id=check.id,
        detail={"change": "declared", "kind": valid.kind.value},
    )
    return check


def verify_check(session: Session, *, check: Check, admin: User, context: Any = None) -> None:
    """An administrator confirms the check against its source, today. If that makes the
    provider verified, what waits for that happens now (see providers.verification)."""
    was = verification.is_verified(session, check.provider)
    _decide(session, check=check, admin=admin, status=CheckStatus.VERIFIED, note=None)
    check.verified_at = utcnow()
    check.verified_by_id = admin.id
    if not was:
        verification.tell_if_verified(session, check.provider, context=context)


def reject_check(session: Session, *, check: Check, admin: User, note: str) -> None:
    """An administrator could not confirm the check; the provider is told why."""
    if not note.strip():
        raise RuleBroken("Say why, so the provider can put it right", field="note")
    _decide(session, check=check, admin=admin, status=CheckStatus.REJECTED, note=note.strip())
    mail.queue(
        session,
        mail.Mail(
            to=_owner_emails(check.provider)[0],
            subject=f"We could not confirm your {check.kind.label.lower()}",
            body=(
                f"We could not confirm the {check.kind.label.lower()} {check.reference} for "
                f"{check.provider.name}.\n\n{note.strip()}\n\nYou can add it again with the "
                f"right details here:\n{mail.mailer_for(session).link('/provider/checks')}\n"
            ),
        ),
    )


def _decide(
    session: Session, *, check: Check, admin: User, status: CheckStatus, note: str | None
) -> None:
    if check.status != CheckStatus.DECLARED:
        raise Conflict("This check has already been decided")
    check.status = status
    check.review_note = note
    audit.record(
        session,
        actor=admin,
        action=AuditAction.RECORD_CHANGED,
        subject_type="provider_check",
        subject_id=check.id,
        detail={"change": status.value, "kind": check.kind.value},
    )


QUEUE_PAGE_SIZE = 20


def checks_waiting(
    session: Session, *, page: int = 1, page_size: int = QUEUE_PAGE_SIZE
) -> Page[Check]:
    """Declared checks waiting for an administrator, oldest first, a page at a time: the
    queue can hold hundreds when a council's providers join together."""
    waiting = (
        select(Check)
        .where(Check.status == CheckStatus.DECLARED)
        .order_by(Check.created_at, Check.id)
        .options(selectinload(Check.provider))
    )
    return paginate(session, waiting, page=page, page_size=page_size)


def _owner_emails(provider: Provider) -> list[str]:
    owners = [m.user.email for m in provider.members if m.is_owner] or [
        m.user.email for m in provider.members
    ]
    return owners or ([provider.contact_email] if provider.contact_email else [])


def send_expiry_reminders(session: Session, *, today: date) -> int:
    """Mail providers whose checks run out within 30 days, and again once they have run
    out; each reminder is sent once. Returns how many mails were queued."""
    soon = today + timedelta(days=REMIND_DAYS_BEFORE_EXPIRY)
    candidates = session.scalars(
        select(Check).where(
            Check.expires_on.is_not(None),
            Check.expires_on <= soon,
            Check.status != CheckStatus.REJECTED,
        )
    )
    sent = 0
    link = mail.mailer_for(session).link("/provider/checks")
    for check in candidates:
        assert check.expires_on is not None
        expired = check.expires_on < today
        if expired and check.reminded_expired_at is None:
            subject = f"Your {check.kind.label.lower()} has run out"
            body = "has run out, so it now shows as expired on your page."
            check.reminded_expired_at = utcnow()
        elif not expired and check.reminded_expiring_at is None:
            subject = f"Your {check.kind.label.lower()} runs out on {check.expires_on:%-d %B %Y}"
            body = f"runs out on {check.expires_on:%-d %B %Y}."
            check.reminded_expiring_at = utcnow()
        else:
            continue
        for address in _owner_emails(check.provider):
            mail.queue(
                session,
                mail.Mail(
                    to=address,
                    subject=subject,
                    body=(
                        f"The {check.kind.label.lower()} "
                        f"{check.reference} for {check.provider.name} "
                        f"{body}\n\nAdd the new one here:\n{link}\n"
                    ),
                ),
            )
            sent += 1
    return sent
