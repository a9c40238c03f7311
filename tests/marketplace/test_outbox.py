"""The mail outbox and its worker, against a real local SMTP server (aiosmtpd) and a
database of its own, since the worker's transactions really commit."""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from huey import signals
from sqlalchemy import Engine, delete, select

from marketplace import mail, outbox
from marketplace.db import make_engine, make_sessionmaker, session_scope, utcnow
from marketplace.jobs import Jobs
from marketplace.mail import Mail, Mailer, attach_mailer
from marketplace.outbox import MailStatus, QueuedMail
from marketplace.settings import JobSettings, MailSettings, Settings
from tests.conftest import make_settings


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self._lock:
            self.received.append(envelope.content)  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [str(message_from_bytes(raw)["Message-ID"]) for raw in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self.inbox

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def own_engine(shared_database: str) -> Iterator[Engine]:
    engine = make_engine(shared_database)
    with session_scope(make_sessionmaker(engine)) as session:
        session.execute(delete(QueuedMail))
    yield engine
    engine.dispose()


def smtp_settings(url: str, tmp_path: Path, port: int, **overrides: object) -> Settings:
    return make_settings(
        url,
        tmp_path / "var",
        mail=MailSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False),
        **overrides,
    )


def queue_one(
    engine: Engine, settings: Settings, jobs: Jobs | None = None, to: str = "ann@example.org"
) -> None:
    with session_scope(make_sessionmaker(engine)) as session:
        attach_mailer(session, Mailer(settings, jobs))
        mail.queue(session, Mail(to=to, subject="Your enquiry", body="Hello Ann"))


def rows(engine: Engine) -> list[QueuedMail]:
    with session_scope(make_sessionmaker(engine), write=False) as session:
        return list(session.scalars(select(QueuedMail).order_by(QueuedMail.id)))


def test_a_committed_mail_is_sent_by_smtp_once_with_its_stored_message_id(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = smtp_settings(shared_database, tmp_path, port)
    with SmtpServer(port) as inbox:
        queue_one(own_engine, settings)  # the test queue runs the drain as the commit ends
        [row] = rows(own_engine)
        assert row.status is MailStatus.SENT
        assert inbox.message_ids() == [row.message_id]
        outbox.drain(
            make_sessionmaker(own_engine), Mailer(settings), now=utcnow() + timedelta(days=1)
        )
        assert len(inbox.received) == 1, "a sent mail is never sent again"


def test_a_rolled_back_transaction_leaves_no_mail(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    settings = smtp_settings(shared_database, tmp_path, free_port())
    # The raise is inside the transaction on purpose: that is what rolls it back.
    with pytest.raises(RuntimeError), session_scope(make_sessionmaker(own_engine)) as session:  # noqa: PT012
        attach_mailer(session, Mailer(settings))
        mail.queue(session, Mail(to="ann@example.org", subject="Welcome", body="Hello"))
        raise RuntimeError("the sign-up failed")
    assert rows(own_engine) == []


def test_savepoints_in_the_transaction_leave_its_mails_to_be_sent_when_it_commits(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = smtp_settings(shared_database, tmp_path, port)
    jobs = Jobs(settings)
    with SmtpServer(port) as inbox:
        with session_scope(make_sessionmaker(own_engine)) as session:
            attach_mailer(session, Mailer(settings, jobs))
            mail.queue(session, Mail(to="ann@example.org", subject="Approved", body="Hello"))
            with session.begin_nested():  # released: nothing is sent before the commit
                pass
            assert inbox.received == []
            with pytest.raises(RuntimeError), session.begin_nested():  # noqa: PT012
                mail.queue(session, Mail(to="ann@example.org", subject="Undone", body="-"))
                raise RuntimeError("this part failed; the rest goes on")
        assert [row.subject for row in rows(own_engine)] == ["Approved"]
        assert [row.status for row in rows(own_engine)] == [MailStatus.SENT]
        assert len(inbox.received) == 1


def test_a_refusing_mail_server_keeps_the_mail_queued_with_backoff_until_it_is_up(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here yet: connections are refused
    settings = smtp_settings(shared_database, tmp_path, port)
    queue_one(own_engine, settings)
    [row] = rows(own_engine)
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 1)
    assert row.last_error and "Refused" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20), "the next try waits"

    factory = make_sessionmaker(own_engine)
    with SmtpServer(port) as inbox:
        outbox.drain(factory, Mailer(settings), now=utcnow())
        assert inbox.received == [], "not due yet"
        done = outbox.drain(factory, Mailer(settings), now=row.next_attempt_at)
        assert (done.sent, done.failed) == (1, 0)
        assert inbox.message_ids() == [row.message_id]
    [row] = rows(own_engine)
    assert row.status is MailStatus.SENT and row.attempts == 1


def test_a_mail_that_keeps_failing_is_marked_failed_and_waits(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    settings = smtp_settings(shared_database, tmp_path, free_port())
    queue_one(own_engine, settings)
    factory = make_sessionmaker(own_engine)
    moment = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += outbox.LONGEST_WAIT
        outbox.drain(factory, Mailer(settings), now=moment)
    [row] = rows(own_engine)
    assert (row.status, row.attempts) == (MailStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert outbox.drain(factory, Mailer(settings), now=moment + timedelta(days=30)).failed == 0


def test_two_workers_draining_at_once_send_each_mail_once(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = smtp_settings(shared_database, tmp_path, port)
    with session_scope(make_sessionmaker(own_engine)) as session:
        for n in range(30):
            session.add(
                QueuedMail(
                    to_address=f"p{n}@example.org",
                    subject="Hi",
                    body="Hello",
                    message_id=outbox.new_message_id(),
                )
            )
    start = threading.Barrier(2)
    results: list[outbox.Drained] = []

    def worker() -> None:
        engine = make_engine(shared_database)  # each worker its own connections, as on two machines
        try:
            start.wait()
            results.append(outbox.drain(make_sessionmaker(engine), Mailer(settings)))
        finally:
            engine.dispose()

    with SmtpServer(port) as inbox:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = Counter(inbox.message_ids())
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert sum(r.sent for r in results) == 30
    assert {row.status for row in rows(own_engine)} == {MailStatus.SENT}


QUEUES = ["sqlite"] + (["redis"] if os.environ.get("TEST_REDIS_URL") else [])


@pytest.mark.parametrize("queue", QUEUES)
def test_a_real_queue_carries_the_nudge_to_a_worker_and_the_outbox_keeps_the_mail(
    queue: str, own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    port = free_port()
    extra: dict[str, object] = {"jobs": JobSettings(immediate=False)}
    if queue == "redis":
        extra["redis_url"] = os.environ["TEST_REDIS_URL"]
    settings = smtp_settings(shared_database, tmp_path, port, **extra)
    jobs = Jobs(settings)
    jobs.huey.flush()
    with SmtpServer(port) as inbox:
        queue_one(own_engine, settings, jobs)
        [row] = rows(own_engine)
        assert row.status is MailStatus.QUEUED and inbox.received == [], "only a worker sends"
        assert jobs.huey.pending_count() == 1
        jobs.huey.flush()  # the nudge is lost: nothing is lost with it
        jobs.kick()
        task = jobs.huey.dequeue()
        jobs.huey.execute(task)  # what a worker does with it
        assert inbox.message_ids() == [row.message_id]
    assert rows(own_engine)[0].status is MailStatus.SENT


def test_the_worker_schedules_the_drain_and_the_daily_runs_and_each_runs(
    own_engine: Engine, shared_database: str, tmp_path: Path
) -> None:
    jobs = Jobs(make_settings(shared_database, tmp_path / "var", jobs=JobSettings(immediate=False)))
    periodic = jobs.huey._registry.periodic_tasks
    assert {task.name for task in periodic} == {
        "drain_outbox_every_minute",
        "needs_daily",
        "index_prune_daily",
        "checks_remind_daily",
        "funds_daily",
    }
    errors: list[str] = []
    jobs.huey.signal(signals.SIGNAL_ERROR)(
        lambda signal, task, exc=None: errors.append(f"{task.name}: {exc!r}")
    )
    ran: list[str] = []
    jobs.huey.signal(signals.SIGNAL_COMPLETE)(lambda signal, task: ran.append(task.name))
    for task in periodic:  # as the consumer does when each one's time comes
        jobs.huey.execute(task)
    assert errors == []
    assert sorted(ran) == sorted(task.name for task in periodic)
