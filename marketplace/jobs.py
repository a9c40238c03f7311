"""The job queue (huey): the worker that drains the mail outbox and the daily runs that
used to need cron (needs, the index's log, checks' reminders, funds' tranches). Our own
tables hold what must not be lost (the outbox, the needs, the ledger); a queue message only
says "do this now", so a lost message loses nothing.

SqliteHuey keeps the queue in var/ on the embedded default; with REDIS_URL set, RedisHuey,
and workers can run on several machines. In tests (or with SDS_JOBS__IMMEDIATE=true) tasks
run in the caller's process as they are queued."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from huey import Huey, RedisHuey, SqliteHuey, crontab
from redis import ConnectionPool
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from marketplace.db import make_engine, make_sessionmaker, session_scope, today, utcnow
from marketplace.settings import Settings

log = logging.getLogger(__name__)

# Immediate mode runs a task inside the commit that queued it: it must use that caller's
# database connection (in tests, one inside the test's transaction), not a new one.
_caller_bind: ContextVar[Engine | Connection | None] = ContextVar("sds_caller_bind", default=None)


def make_huey(settings: Settings) -> Huey:
    immediate = settings.jobs_immediate
    if settings.redis_url:
        # Bounded waits: a request's after-commit nudge must not hang on an unreachable Redis.
        pool = ConnectionPool.from_url(
            settings.redis_url, socket_connect_timeout=5, socket_timeout=10
        )
        return RedisHuey("sds-market", connection_pool=pool, results=False, immediate=immediate)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        "sds-market",
        filename=str(settings.var_dir / "jobs.sqlite3"),
        results=False,
        immediate=immediate,
    )


class Jobs:
    """One process's job queue and its tasks, for one configuration."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.huey = make_huey(settings)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        huey = self.huey
        self.drain_outbox = huey.task(name="drain_outbox")(self._drain_outbox)
        # The outbox is the truth: draining every minute catches anything whose nudge was lost.
        huey.periodic_task(crontab(minute="*"), name="drain_outbox_every_minute")(
            self._drain_outbox
        )
        hour = str(settings.jobs.daily_hour_utc)
        huey.periodic_task(crontab(minute="0", hour=hour), name="needs_daily")(self._needs_daily)
        huey.periodic_task(crontab(minute="20", hour=hour), name="index_prune_daily")(
            self._index_prune_daily
        )
        huey.periodic_task(crontab(minute="40", hour=hour), name="checks_remind_daily")(
            self._checks_remind_daily
        )
        # Tranches fall due on dates: paying on the day's first run, and again on any run
        # after a missed one, since each run pays everything due and not yet paid.
        huey.periodic_task(crontab(minute="50", hour=hour), name="funds_daily")(self._funds_daily)

    # -- running ---------------------------------------------------------------------

    def kick(self, bind: Engine | Connection | None = None) -> None:
        """Ask a worker to drain the outbox now (in immediate mode: drain it here, on `bind`)."""
        token = _caller_bind.set(bind if self.huey.immediate else None)
        try:
            self.drain_outbox()
        finally:
            _caller_bind.reset(token)

    def run_worker(self, *, workers: int = 1, periodic: bool = True) -> None:
        """Run the huey consumer in this process until it is interrupted."""
        from marketplace.models import import_all_models

        import_all_models()
        consumer = self.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=periodic
        )
        consumer.run()

    # -- database --------------------------------------------------------------------

    def session_factory(self) -> sessionmaker[Session]:
        bind = _caller_bind.get()
        if isinstance(bind, Connection):
            return sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        if bind is not None:
            return make_sessionmaker(bind)
        with self._engine_lock:
            if self._engine is None:
                self._engine = make_engine(self.settings.database_url)
            return make_sessionmaker(self._engine)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        from marketplace.mail import Mailer, attach_mailer

        with session_scope(self.session_factory()) as session:
            attach_mailer(session, Mailer(self.settings, self))
            yield session

    # -- tasks -----------------------------------------------------------------------

    def _drain_outbox(self) -> None:
        from marketplace.mail import Mailer
        from marketplace.outbox import drain

        done = drain(self.session_factory(), Mailer(self.settings, self))
        if done.sent or done.failed:
            log.info("outbox: sent %s, failed %s", done.sent, done.failed)

    def _needs_daily(self) -> None:
        from matching.index import OfferIndex
        from matching.needs import service as needs_service

        with self._session() as session:
            needs_service.run_daily(session, index=OfferIndex())

    def _index_prune_daily(self) -> None:
        from matching.change_log import prune_changes

        with self._session() as session:
            prune_changes(session, now=utcnow())

    def _checks_remind_daily(self) -> None:
        from providers import checks as checks_service

        with self._session() as session:
            checks_service.send_expiry_reminders(session, today=today())

    def _funds_daily(self) -> None:
        from contracts.changes import decisions as changes_decisions
        from contracts.funds.funding import post_due_tranches
        from contracts.spending.fees import charge_due_fees

        # Tranches first: a month's fee is charged from money that came in today.
        with self._session() as session:
            posted = post_due_tranches(session, today=today())
            charged = charge_due_fees(session, today=today())
        if posted or charged:
            log.info("funds: %s tranches paid in, %s fees charged", len(posted), len(charged))
        with self._session() as session:
            reminded = changes_decisions.send_reminders(session, today=today())
            late = changes_decisions.escalate_overdue(session, today=today())
        if reminded or late:
            log.info("change of use: %s reminders, %s escalated late", len(reminded), len(late))


_jobs: dict[tuple[object, ...], Jobs] = {}
_jobs_lock = threading.Lock()


def jobs_for(settings: Settings) -> Jobs:
    """The process's Jobs for this configuration (one queue connection and engine each)."""
    key = (
        settings.env,
        settings.database_url,
        str(settings.var_dir),
        settings.redis_url,
        settings.jobs_immediate,
        settings.mail.smtp_host,
        settings.mail.smtp_port,
    )
    with _jobs_lock:
        if key not in _jobs:
            _jobs[key] = Jobs(settings)
        return _jobs[key]
