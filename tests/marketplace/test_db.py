"""The database layer: SQLite set up for durability and honest locking, savepoints that
really roll back, and timestamps that keep their time zone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from marketplace import db as db_module
from marketplace.db import make_engine, make_sessionmaker, open_session, session_scope
from marketplace.geography.models import CouncilArea
from providers.models import Provider, ProviderKind


@pytest.fixture
def sqlite_engine(engine: Engine, backend: str) -> Engine:
    if backend != "sqlite":
        pytest.skip("SQLite-specific behaviour")
    return engine


class TestSqliteConnection:
    def test_pragmas_for_durability(self, sqlite_engine: Engine) -> None:
        with sqlite_engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            # 2 is FULL: a committed transaction survives a power cut, not just a crash.
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2

    def test_a_writing_transaction_takes_the_write_lock_at_begin(
        self, sqlite_engine: Engine
    ) -> None:
        factory = make_sessionmaker(sqlite_engine)
        writer = open_session(factory, write=True)
        try:
            writer.execute(text("SELECT 1"))  # begins the transaction
            path = sqlite_engine.url.database
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
        finally:
            writer.rollback()
            writer.close()

    def test_a_reading_transaction_leaves_the_write_lock_free(self, sqlite_engine: Engine) -> None:
        factory = make_sessionmaker(sqlite_engine)
        reader = open_session(factory, write=False)
        try:
            reader.execute(text("SELECT 1"))
            other = sqlite3.connect(sqlite_engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
            finally:
                other.close()
        finally:
            reader.rollback()
            reader.close()


class TestPooledConnectionsOnPostgresql:
    """A connection the server closed while it lay in the pool (a restart, a firewall's
    idle timeout) is swapped for a new one before a request uses it."""

    @pytest.fixture
    def pooled(self, database_url: str, backend: str) -> Iterator[Engine]:
        if backend != "postgresql":
            pytest.skip("SQLite's connections are files, never closed by a server")
        engine = make_engine(database_url, pool_size=1, max_overflow=0)
        yield engine
        engine.dispose()

    def _close_on_the_server(self, pooled: Engine) -> int:
        with pooled.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with create_engine(pooled.url, poolclass=NullPool).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert isinstance(pid, int)
        return pid

    def test_one_left_idle_is_tried_and_replaced(
        self, pooled: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        closed = self._close_on_the_server(pooled)
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", -1.0)  # as if idle for long
        with pooled.connect() as connection:
            now = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert now != closed

    def test_one_just_returned_is_not_tried(
        self, pooled: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The other side of the trade: no round trip for a connection just used, so one
        # closed a moment ago fails its request (and the pool then starts afresh).
        self._close_on_the_server(pooled)
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_S", 3600.0)
        with pytest.raises(OperationalError), pooled.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        with pooled.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1


class TestTransactions:
    def test_a_rolled_back_savepoint_undoes_its_write(self, db: Session) -> None:
        db.add(Provider(name="Kept", kind=ProviderKind.COMMUNITY_GROUP))
        db.flush()
        nested = db.begin_nested()
        db.add(Provider(name="Undone", kind=ProviderKind.COMMUNITY_GROUP))
        db.flush()
        nested.rollback()
        names = set(db.scalars(select(Provider.name)))
        assert "Kept" in names
        assert "Undone" not in names

    def test_session_scope_rolls_back_on_error(self, engine: Engine) -> None:
        factory = make_sessionmaker(engine)
        # The raise is inside the transaction on purpose: that is what rolls it back.
        with pytest.raises(RuntimeError), session_scope(factory) as session:  # noqa: PT012
            session.add(Provider(name="Never stored", kind=ProviderKind.MICRO_PROVIDER))
            session.flush()
            raise RuntimeError("stop")
        with session_scope(factory, write=False) as session:
            assert session.scalar(select(Provider).where(Provider.name == "Never stored")) is None

    def test_foreign_keys_are_enforced(self, db: Session) -> None:
        from sqlalchemy.exc import IntegrityError

        from providers.models import ProviderMember

        nested = db.begin_nested()
        db.add(ProviderMember(provider_id=999_999, user_id=999_999))
        with pytest.raises(IntegrityError):
            db.flush()
        nested.rollback()


class TestTimestamps:
    def test_stored_in_utc_and_read_back_aware(self, db: Session) -> None:
        edinburgh_summer = timezone(timedelta(hours=1))
        created = datetime(2026, 7, 1, 9, 30, tzinfo=edinburgh_summer)
        provider = Provider(name="Timed", kind=ProviderKind.MICRO_PROVIDER, created_at=created)
        db.add(provider)
        db.flush()
        db.expire(provider)
        assert provider.created_at == created
        assert provider.created_at.utcoffset() == timedelta(0)
        assert provider.created_at.tzinfo is not None

    def test_naive_datetimes_are_refused(self, db: Session) -> None:
        from sqlalchemy.exc import StatementError

        nested = db.begin_nested()
        db.add(
            Provider(
                name="Naive", kind=ProviderKind.MICRO_PROVIDER, created_at=datetime(2026, 1, 1)
            )
        )
        with pytest.raises(StatementError, match="naive"):
            db.flush()
        nested.rollback()


def test_council_areas_are_readable(db: Session) -> None:
    assert db.scalar(select(CouncilArea).where(CouncilArea.name == "Highland")) is not None
