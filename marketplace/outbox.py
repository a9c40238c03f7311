"""The mail outbox: every mail is a row written in the transaction that causes it, and a
worker sends the rows after commit, retrying with backoff, so a failing mail server loses
neither the record nor the mail, and two workers never send one mail twice."""

from __future__ import annotations

import enum
import logging
import os
import smtplib
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from marketplace.db import Base, session_scope, str_enum, utcnow

if TYPE_CHECKING:
    from marketplace.mail import Mailer

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
"""After this many failed tries a mail is marked failed and waits for an administrator."""
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
LEASE = timedelta(minutes=10)
"""A claim older than this belongs to a worker that died mid-send; the mail is queued again
(its stable Message-ID lets the receiving server drop the rare duplicate)."""


class MailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class QueuedMail(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@sds-market>"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 30 seconds, doubling, at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_WAIT)


@dataclass(frozen=True)
class Drained:
    sent: int
    failed: int


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def drain(
    factory: sessionmaker[Session], mailer: Mailer, *, now: datetime | None = None, limit: int = 500
) -> Drained:
    """Send every due mail once: claim it in its own short transaction, send with no
    transaction open, then record the outcome. Safe to run in any number of workers."""
    worker = worker_name()
    with session_scope(factory) as session:
        _release_stale_claims(session, now or utcnow())
    sent = failed = 0
    for _ in range(limit):
        moment = now or utcnow()
        with session_scope(factory) as session:
            claimed = _claim_next(session, worker, moment)
        if claimed is None:
            break
        mail_id, to, subject, body, message_id = claimed
        try:
            mailer.deliver(to=to, subject=subject, body=body, message_id=message_id)
            error = None
        except (OSError, smtplib.SMTPException) as problem:
            error = f"{type(problem).__name__}: {problem}"[:500]
            log.warning("outbox mail %s (%s) failed: %s", mail_id, message_id, error)
        with session_scope(factory) as session:
            if error is None:
                _mark_sent(session, mail_id, now or utcnow())
                sent += 1
            else:
                _mark_failed(session, mail_id, error, now or utcnow())
                failed += 1
    return Drained(sent=sent, failed=failed)


def _release_stale_claims(session: Session, now: datetime) -> None:
    session.execute(
        update(QueuedMail)
        .where(QueuedMail.status == MailStatus.SENDING, QueuedMail.claimed_at < now - LEASE)
        .values(status=MailStatus.QUEUED, claimed_by=None, claimed_at=None)
    )


def _claim_next(
    session: Session, worker: str, now: datetime
) -> tuple[int, str, str, str, str] | None:
    # SKIP LOCKED lets PostgreSQL workers pass over a row another is claiming; SQLite has
    # one writer at a time anyway. The conditional UPDATE is what makes a claim exclusive
    # on both: only one worker's UPDATE finds the row still queued and unclaimed.
    candidate = session.scalar(
        select(QueuedMail.id)
        .where(
            QueuedMail.status == MailStatus.QUEUED,
            QueuedMail.claimed_by.is_(None),
            QueuedMail.next_attempt_at <= now,
        )
        .order_by(QueuedMail.next_attempt_at, QueuedMail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if candidate is None:
        return None
    claimed = session.execute(
        update(QueuedMail)
        .where(
            QueuedMail.id == candidate,
            QueuedMail.status == MailStatus.QUEUED,
            QueuedMail.claimed_by.is_(None),
        )
        .values(status=MailStatus.SENDING, claimed_by=worker, claimed_at=now)
        .returning(
            QueuedMail.id,
            QueuedMail.to_address,
            QueuedMail.subject,
            QueuedMail.body,
            QueuedMail.message_id,
        )
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return None
    mail_id, to_address, subject, body, message_id = claimed
    return mail_id, to_address, subject, body, message_id


def newest_id(session: Session) -> int:
    """The id of the newest mail queued so far (0 for none): a mark to pass to
    `record_as_sent_since`."""
    return session.scalar(select(func.max(QueuedMail.id))) or 0


def record_as_sent_since(session: Session, newest: int, *, at: datetime) -> None:
    """Record the mails queued after the mark `newest` as sent at `at`, without sending
    them: for a past replayed as it happened (the demo's year), whose mails went out then,
    not all at once today."""
    session.execute(
        update(QueuedMail)
        .where(QueuedMail.id > newest, QueuedMail.status == MailStatus.QUEUED)
        .values(status=MailStatus.SENT, created_at=at, next_attempt_at=at, sent_at=at)
        .execution_options(synchronize_session=False)
    )


def _mark_sent(session: Session, mail_id: int, now: datetime) -> None:
    session.execute(
        update(QueuedMail)
        .where(QueuedMail.id == mail_id)
        .values(
            status=MailStatus.SENT, sent_at=now, claimed_by=None, claimed_at=None, last_error=None
        )
        .execution_options(synchronize_session=False)
    )


def _mark_failed(session: Session, mail_id: int, error: str, now: datetime) -> None:
    row = session.get(QueuedMail, mail_id)
    if row is None:
        return
    row.attempts += 1
    row.last_error = error
    row.claimed_by = None
    row.claimed_at = None
    row.next_attempt_at = now + backoff(row.attempts)
    row.status = MailStatus.FAILED if row.attempts >= MAX_ATTEMPTS else MailStatus.QUEUED


def troubled(session: Session, *, limit: int = 100) -> list[QueuedMail]:
    """Mails that have failed at least once and are not yet sent, most tried first."""
    return list(
        session.scalars(
            select(QueuedMail)
            .where(QueuedMail.status != MailStatus.SENT, QueuedMail.attempts > 0)
            .order_by(QueuedMail.attempts.desc(), QueuedMail.id)
            .limit(limit)
        )
    )


def recent(session: Session, *, limit: int = 50) -> list[QueuedMail]:
    return list(session.scalars(select(QueuedMail).order_by(QueuedMail.id.desc()).limit(limit)))


def retry(session: Session, mail_id: int, *, now: datetime) -> QueuedMail | None:
    """Queue a failed (or waiting) mail to be tried at once. A sent mail stays sent."""
    row = session.get(QueuedMail, mail_id)
    if row is None or row.status in (MailStatus.SENT, MailStatus.SENDING):
        return row
    row.status = MailStatus.QUEUED
    row.next_attempt_at = now
    return row
