"""The audit log: an append-only record of who signed in, who changed whose permissions, and
who read or changed which personal record. It names records by type and id and never holds
the personal data itself."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.db import Base, str_enum, utcnow
from marketplace.paging import Page, paginate

if TYPE_CHECKING:
    from marketplace.accounts.models import User


class AuditAction(enum.StrEnum):
    SIGN_IN_SUCCEEDED = "sign_in_succeeded"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGNED_OUT = "signed_out"
    ACCOUNT_CREATED = "account_created"
    EMAIL_CONFIRMED = "email_confirmed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    ROLE_CHANGED = "role_changed"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    REPRESENTATION_ADDED = "representation_added"
    REPRESENTATION_REMOVED = "representation_removed"
    RECORD_VIEWED = "record_viewed"
    RECORD_CHANGED = "record_changed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


DetailValue = str | int | bool | None


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    """Who did it; none for anonymous attempts such as a failed sign-in."""
    actor_role: Mapped[str | None] = mapped_column(String(32))
    """The actor's role at the time, kept because roles change."""
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(64), index=True)
    """What kind of record was touched, e.g. 'user_account' or 'isf'."""
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, DetailValue]] = mapped_column(JSON, default=dict)
    """Non-personal facts only: ids, field names, role names, reasons as codes."""


def record(
    session: Session,
    *,
    actor: User | None,
    action: AuditAction,
    subject_type: str | None = None,
    subject_id: int | str | None = None,
    detail: dict[str, DetailValue] | None = None,
) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role.value if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        detail=dict(detail or {}),
    )
    session.add(event)
    return event


def record_read(session: Session, *, actor: User, subject_type: str, subject_id: int) -> None:
    """Record that `actor` read a personal record. Later packages call this on every view."""
    record(
        session,
        actor=actor,
        action=AuditAction.RECORD_VIEWED,
        subject_type=subject_type,
        subject_id=subject_id,
    )


def record_change(
    session: Session,
    *,
    actor: User,
    subject_type: str,
    subject_id: int,
    fields: list[str],
) -> None:
    """Record that `actor` changed a personal record; only the changed fields' names are kept."""
    record(
        session,
        actor=actor,
        action=AuditAction.RECORD_CHANGED,
        subject_type=subject_type,
        subject_id=subject_id,
        detail={"fields": ",".join(sorted(fields))},
    )


@dataclass(frozen=True)
class AuditFilter:
    action: AuditAction | None = None
    actor_id: int | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def browse(session: Session, *, filters: AuditFilter, page: int = 1, page_size: int = 50) -> Page[AuditEvent]:
    """Newest first, filtered, one page at a time, for the administrators' audit pages."""
    query = select(AuditEvent)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.subject_type:
        query = query.where(AuditEvent.subject_type == filters.subject_type)
    if filters.subject_id:
        query = query.where(AuditEvent.subject_id == filters.subject_id)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.occurred_at < filters.until)
    ordered = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return paginate(session, ordered, page=page, page_size=page_size)
