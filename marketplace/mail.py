"""Outgoing mail. Services queue mails on their database session: each is a row of the
outbox (marketplace.outbox) in that same transaction, so a rolled-back sign-up never mails
anybody and a committed one never loses its mail. After commit the job queue is asked to
drain the outbox; the worker delivers.

The embedded default delivers each mail as an .eml file to var/outbox/ (listed at
/dev/outbox outside production); with an SMTP host configured, mails go out by SMTP."""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.settings import Settings

if TYPE_CHECKING:
    from marketplace.accounts.models import User
    from marketplace.jobs import Jobs

log = logging.getLogger(__name__)

_QUEUED_KEY = "sds_mail_queued"
_MAILER_KEY = "sds_mailer"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer:
    def __init__(self, settings: Settings, jobs: Jobs | None = None) -> None:
        self.settings = settings
        self._jobs = jobs

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            from marketplace.jobs import jobs_for

            self._jobs = jobs_for(self.settings)
        return self._jobs

    def link(self, path: str) -> str:
        """An absolute link into the service, for mails."""
        return self.settings.base_url.rstrip("/") + path

    def deliver(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        """Hand one mail to the mail server (or the outbox folder); raises if it refuses."""
        message = EmailMessage()
        message["From"] = self.settings.mail.from_address
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = message_id
        message.set_content(body)
        smtp = self.settings.mail
        if smtp.smtp_host is None:
            outbox = self.settings.outbox_dir
            outbox.mkdir(parents=True, exist_ok=True)
            name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            (outbox / name).write_bytes(bytes(message))
            return
        with smtplib.SMTP(smtp.smtp_host, smtp.smtp_port, timeout=30) as client:
            if smtp.smtp_starttls:
                client.starttls()
            if smtp.smtp_username and smtp.smtp_password:
                client.login(smtp.smtp_username, smtp.smtp_password.get_secret_value())
            client.send_message(message)


def attach_mailer(session: Session, mailer: Mailer) -> None:
    session.info[_MAILER_KEY] = mailer


def mailer_for(session: Session) -> Mailer:
    mailer = session.info.get(_MAILER_KEY)
    if mailer is None:
        raise RuntimeError("this session has no mailer; open it through the app or the CLI")
    return mailer


def queue(session: Session, mail: Mail) -> None:
    """Write `mail` to the outbox in the session's transaction: it is sent after the
    transaction commits and never exists if it rolls back."""
    from marketplace.outbox import QueuedMail, new_message_id

    mailer_for(session)
    session.add(
        QueuedMail(
            to_address=mail.to, subject=mail.subject, body=mail.body, message_id=new_message_id()
        )
    )
    session.info[_QUEUED_KEY] = True


def tell(
    session: Session,
    recipients: Iterable[User],
    *,
    subject: str,
    text: str,
    path: str,
    lead_in: str = "Read it here:",
) -> None:
    """Queue one mail to each active person among `recipients` (once each, however often
    they are listed), greeting them by name and ending with a link to `path`."""
    link = mailer_for(session).link(path)
    seen: set[int] = set()
    for user in recipients:
        if user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        queue(
            session,
            Mail(
                to=user.email,
                subject=subject,
                body=f"Hello {user.name},\n\n{text}\n\n{lead_in}\n{link}\n",
            ),
        )


def drain_after_commit(session: Session) -> None:
    """Ask for the outbox to be drained once this session's transaction commits (mails
    queued with `queue` ask by themselves; this is for mails queued again by hand)."""
    mailer_for(session)
    session.info[_QUEUED_KEY] = True


@event.listens_for(Session, "after_commit")
def _drain_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint released: its mails commit, and are sent, with the whole transaction.
        # Draining now would wait on the transaction's own lock (SQLite) and find nothing.
        return
    if session.info.pop(_QUEUED_KEY, False):
        # Only a nudge: if the queue is down the rows wait for the periodic drain.
        try:
            mailer_for(session).jobs.kick(session.get_bind())
        except Exception:
            log.exception(
                "could not ask the job queue to drain the outbox; the periodic drain will"
            )


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    if not session.in_nested_transaction():
        # (A savepoint rolled back leaves the mails queued before it, still to be sent.)
        session.info.pop(_QUEUED_KEY, None)


@dataclass(frozen=True)
class OutboxMail:
    name: str
    to: str
    subject: str
    sent_at: datetime
    body: str


def read_outbox(outbox: Path) -> list[OutboxMail]:
    """The mails written by the embedded default, newest first."""
    if not outbox.is_dir():
        return []
    return [_read(path) for path in sorted(outbox.glob("*.eml"), reverse=True)]


def read_outbox_mail(outbox: Path, name: str) -> OutboxMail:
    path = outbox / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        raise NotFound("There is no such mail in the outbox")
    return _read(path)


def _read(path: Path) -> OutboxMail:
    message = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain",))
    return OutboxMail(
        name=path.name,
        to=str(message["To"]),
        subject=str(message["Subject"]),
        sent_at=message["Date"].datetime,
        body=body.get_content() if body is not None else "",
    )
