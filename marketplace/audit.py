"""The audit log: an append-only, hash-chained record of who signed in, who changed whose
permissions, and who read or changed which personal record. It names records by type and id
and never holds the personal data itself.

Each entry carries the sha256 of its own fields and of the entry before it, so changing or
removing an entry breaks the chain at that entry (`sds-market audit verify` finds it), and the
database refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of its rows. New entries wait on
the session until its transaction commits (or reads the log), and are chained then: on
PostgreSQL under a transaction advisory lock, so concurrent writers queue only for the tail
of the chain and only for the moment of committing; SQLite writers are serialised already."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, event, select, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column
from sqlalchemy.sql.util import find_tables

from marketplace.db import Base, WriteInReadTransaction, is_read_only, str_enum, utcnow
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
    prev_hash: Mapped[str] = mapped_column(String(64))
    """The hash of the entry before this one (GENESIS_HASH for the first)."""
    hash: Mapped[str] = mapped_column(String(64))
    """sha256 over `prev_hash` and this entry's fields, see `entry_hash`."""


GENESIS_HASH = "0" * 64
"""What the first entry of the log chains to."""

PENDING_KEY = "sds_audit_pending"
"""Session.info key: entries recorded in this transaction, not yet chained and inserted."""

CHAIN_LOCK_KEY = 0x5D5A0D17
"""PostgreSQL advisory lock taken while appending to the chain (an arbitrary constant)."""


def entry_hash(
    *,
    prev_hash: str,
    occurred_at: datetime,
    actor_id: int | None,
    actor_role: str | None,
    action: str,
    subject_type: str | None,
    subject_id: str | None,
    detail: dict[str, DetailValue] | None,
) -> str:
    """The sha256 of one entry over a canonical encoding of its fields: a JSON array with
    sorted keys, no spaces, ASCII only, and the time in UTC to the microsecond, so both
    databases and any Python produce the same bytes. The migration that added the chain
    uses it too, so it must never change for existing entries."""
    canonical = json.dumps(
        [
            prev_hash,
            occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor_id,
            actor_role,
            str(action),
            subject_type,
            subject_id,
            detail or {},
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _hash_of(entry: Any, prev_hash: str) -> str:
    """The hash of an entry (an AuditEvent or a row of its columns) after `prev_hash`."""
    return entry_hash(
        prev_hash=prev_hash,
        occurred_at=entry.occurred_at,
        actor_id=entry.actor_id,
        actor_role=entry.actor_role,
        action=entry.action.value if isinstance(entry.action, AuditAction) else entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        detail=entry.detail,
    )


@dataclass
class _Pending:
    event: AuditEvent
    transaction: SessionTransaction | None
    """The innermost transaction when it was recorded: a savepoint rolled back drops it."""


def _pending(session: Session) -> list[_Pending]:
    return session.info.setdefault(PENDING_KEY, [])


def write_pending(session: Session) -> None:
    """Chain and insert the entries this session has recorded, now. Runs by itself before
    the session commits and before it reads the audit log; tests may call it directly."""
    pending = session.info.get(PENDING_KEY)
    if not pending:
        return
    if is_read_only(session):
        raise WriteInReadTransaction(
            "an audit entry was recorded in a read-only request; mark the route @audited"
        )
    session.info[PENDING_KEY] = []  # before any query below, which would come back here
    if session.get_bind().dialect.name == "postgresql":
        # Held to the end of the transaction: the next writer reads the tail only after
        # this transaction's entries are committed (or rolled back).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    tail = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = tail or GENESIS_HASH
    for entry in pending:
        new = entry.event
        new.prev_hash = prev_hash
        new.hash = prev_hash = _hash_of(new, prev_hash)
        session.add(new)
        # One at a time, so the ids follow the chain's order on either database.
        session.flush()


def _is_within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "before_commit")
def _chain_before_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the real commit, not a savepoint's release
        write_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(PENDING_KEY)
    if pending:
        session.info[PENDING_KEY] = [
            p for p in pending if not _is_within(p.transaction, previous_transaction)
        ]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading_log(state: ORMExecuteState) -> None:
    # A transaction that reads the log (a test, the audit page after a sign-in) sees its
    # own entries, as it would rows it had added.
    if state.session.info.get(PENDING_KEY) and _reads_audit_log(state.statement):
        write_pending(state.session)


def _reads_audit_log(statement: Any) -> bool:
    try:
        tables = find_tables(statement, include_joins=True, include_aliases=True)
    except Exception:  # a statement find_tables cannot walk: assume it might read the log
        return True
    return any(getattr(table, "name", None) == AuditEvent.__tablename__ for table in tables)


def record(
    session: Session,
    *,
    actor: User | None,
    action: AuditAction,
    subject_type: str | None = None,
    subject_id: int | str | None = None,
    detail: dict[str, DetailValue] | None = None,
) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction: it is chained and
    inserted when the transaction commits, and dropped if it (or its savepoint) rolls back."""
    if is_read_only(session):
        raise WriteInReadTransaction(
            f"{action.value} recorded in a read-only request; mark the route @audited"
        )
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role.value if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        detail=dict(detail or {}),
    )
    current = session.get_nested_transaction() or session.get_transaction()
    _pending(session).append(_Pending(event, current))
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


def record_list_read(
    session: Session,
    *,
    actor: User,
    subject_type: str,
    listed_ids: list[int],
    listing: str,
    page: int = 1,
) -> None:
    """Record that `actor` saw a list of personal records (an administrator's list of
    accounts or reviews): one entry per page shown, naming the records on it."""
    record(
        session,
        actor=actor,
        action=AuditAction.RECORD_VIEWED,
        subject_type=subject_type,
        detail={"listing": listing, "page": page, "ids": ",".join(str(i) for i in listed_ids)},
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


def browse(
    session: Session, *, filters: AuditFilter, page: int = 1, page_size: int = 50
) -> Page[AuditEvent]:
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


@dataclass(frozen=True)
class ChainCheck:
    """What `verify` found: how many entries it checked, the latest hash (the anchor to keep
    elsewhere), and the first broken entry if any."""

    checked: int
    latest_hash: str
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _in_order(session: Session, batch: int = 1000) -> Iterator[Any]:
    """Every entry's columns in id order, a batch at a time (rows, not objects, so a long
    log does not fill the session)."""
    columns = [
        AuditEvent.id, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.actor_role,
        AuditEvent.action, AuditEvent.subject_type, AuditEvent.subject_id, AuditEvent.detail,
        AuditEvent.prev_hash, AuditEvent.hash,
    ]  # fmt: skip
    last_id = 0
    while True:
        rows = list(
            session.execute(
                select(*columns).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify(session: Session, *, anchor: str | None = None) -> ChainCheck:
    """Walk the chain from the first entry and stop at the first entry that does not fit:
    its stored hash is not the hash of its fields (it was changed), or it does not follow
    the entry before it (one was removed, inserted or reordered). With `anchor`, a hash
    kept elsewhere earlier, also check that the chain still passes through it."""
    prev_hash = GENESIS_HASH
    checked = 0
    anchor_seen = anchor is None
    for entry in _in_order(session):
        if entry.prev_hash != prev_hash:
            problem = (
                "it does not follow the entry before it: an entry was removed, inserted or "
                "reordered before it"
                if checked
                else "the first entry does not start the chain: earlier entries were removed"
            )
            return ChainCheck(checked, prev_hash, entry.id, problem)
        if entry.hash != _hash_of(entry, prev_hash):
            return ChainCheck(
                checked, prev_hash, entry.id, "its fields do not match its hash: it was changed"
            )
        prev_hash = entry.hash
        checked += 1
        anchor_seen = anchor_seen or entry.hash == anchor
    if not anchor_seen:
        return ChainCheck(
            checked, prev_hash, None, "the anchor is not in the chain: the log was rewritten"
        )
    return ChainCheck(checked, prev_hash)
