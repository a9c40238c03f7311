"""The database: declarative base, engine factory and the one place transactions are opened.

SQLite is the embedded default and PostgreSQL the production database. SQLite has no row
locks, so a transaction that writes begins with BEGIN IMMEDIATE and takes the database's
single write lock up front instead of failing half way.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_INTENT = "sds_write_intent"
"""Execution option: this transaction will write, so SQLite must BEGIN IMMEDIATE."""

READ_ONLY = "sds_read_only"
"""Session.info key: this session's transaction was opened to read only (a GET not marked
as writing), so any write is a mistake to report, not a lock to fight for."""


class WriteInReadTransaction(RuntimeError):
    """A write in a transaction opened to read only. On SQLite such a transaction would
    upgrade its read lock to a write lock half way, which fails with "database is locked"
    under load; a route whose GET writes (an audited read) must say so (`@audited`)."""


SCOTTISH_TIME = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Scotland, for dates people see (expiry dates, reminders)."""
    return utcnow().astimezone(SCOTTISH_TIME).date()


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use marketplace.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for either database, with SQLite set up for durability and honest locking."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            from pathlib import Path

            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            sa_url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    engine = create_engine(sa_url, **kwargs)
    _ping_connections_left_idle(engine)
    return engine


PING_AFTER_IDLE_S = 2.0
"""A pooled connection unused for longer than this is tried before it is handed out."""
_RETURNED_AT = "sds_returned_at"


def _ping_connections_left_idle(engine: Engine) -> None:
    # pool_pre_ping tries every connection on every checkout: a round trip to the server
    # for each request, a sixth of a search page's. A connection the pool got back a moment
    # ago is as alive as a ping would find it; one left idle may have been closed by a
    # restart or a firewall, and is swapped for a new one before anyone uses it.
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE_S:
            return  # new, or just used
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("a pooled connection had closed") from error
        if not alive:
            raise DisconnectionError("a pooled connection had closed")


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own BEGIN handling defers BEGIN and breaks SAVEPOINTs; switch it off and
    # emit BEGIN ourselves (the SQLAlchemy SQLite dialect's documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_INTENT):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def open_session(factory: sessionmaker[Session], *, write: bool, strict: bool = False) -> Session:
    """A session whose transaction, once begun, takes SQLite's write lock when it will write.
    `strict` (with write=False): any write in it raises WriteInReadTransaction."""
    session = factory()
    if write:
        session.connection(execution_options={WRITE_INTENT: True})
    elif strict:
        session.info[READ_ONLY] = True
    return session


def is_read_only(session: Session) -> bool:
    return bool(session.info.get(READ_ONLY))


@event.listens_for(Session, "before_flush")
def _refuse_flush_when_read_only(session: Session, _context: Any, _instances: Any) -> None:
    if not is_read_only(session):
        return
    changed = [o for o in session.dirty if session.is_modified(o)]
    if session.new or session.deleted or changed:
        objects = [*session.new, *changed, *session.deleted]
        names = sorted({type(o).__name__ for o in objects})
        raise WriteInReadTransaction(
            f"{', '.join(names)} written in a read-only request; mark the route @audited"
        )


@event.listens_for(Session, "do_orm_execute")
def _refuse_statement_when_read_only(state: Any) -> None:
    if is_read_only(state.session) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteInReadTransaction(
            f"{type(state.statement).__name__.lower()} in "
            "a read-only request; mark the route @audited"
        )


@contextmanager
def session_scope(
    factory: sessionmaker[Session], *, write: bool = True, strict: bool = False
) -> Iterator[Session]:
    """One transaction for a CLI command or a job: commit on success, roll back on any error."""
    session = open_session(factory, write=write, strict=strict)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A portable enum column: the member's value as VARCHAR, read back as the member."""
    return Enum(
        enum_class,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
