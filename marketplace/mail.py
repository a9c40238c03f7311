"""Outgoing mail. Services queue mails on their database session and they are sent only
after that transaction commits, so a rolled-back sign-up never mails anybody.

The embedded default writes each mail as an .eml file to var/outbox/ (listed at
/dev/outbox outside production); with an SMTP host configured, mails go out by SMTP."""

from __future__ import annotations

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

_OUTBOX_KEY = "sds_outbox"
_MAILER_KEY = "sds_mailer"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def link(self, path: str) -> str:
        """An absolute link into the service, for mails."""
        return self.settings.base_url.rstrip("/") + path

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.settings.mail.from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = f"<{uuid.uuid4()}@sds-market>"
        message.set_content(mail.body)
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
    """Send `mail` once the session's transaction commits; drop it if it rolls back."""
    mailer_for(session)
    session.info.setdefault(_OUTBOX_KEY, []).append(mail)


def tell(
    session: Session, recipients: Iterable[User], *, subject: str, text: str, path: str, lead_in: str = "Read it here:"
) -> None:
    """Queue one mail to each active person among `recipients` (once each, however often
    they are listed), greeting them by name and ending with a link to `path`."""
    link = mailer_for(session).link(path)
    seen: set[int] = set()
    for user in recipients:
        if user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        queue(session, Mail(to=user.email, subject=subject, body=f"Hello {user.name},\n\n{text}\n\n{lead_in}\n{link}\n"))


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    queued: list[Mail] = session.info.pop(_OUTBOX_KEY, [])
    if queued:
        mailer = mailer_for(session)
        for mail in queued:
            mailer.send(mail)


@event.listens_for(Session, "after_rollback")
def _drop_queued(session: Session) -> None:
    session.info.pop(_OUTBOX_KEY, None)


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
