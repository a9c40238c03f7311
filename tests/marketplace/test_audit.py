"""The audit log is tamper-evident: entries are chained by hash, `sds-market audit verify`
names the first entry that was changed or removed, the database refuses to change rows (and
PostgreSQL to truncate them), and the chain holds when many transactions append at once."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace import audit
from marketplace.audit import AuditAction, AuditEvent
from marketplace.cli import app as cli_app
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.migrate import alembic_config
from tests.conftest import fresh_database
from tests.factories import make_user

runner = CliRunner()


def append(db: Session, count: int) -> list[AuditEvent]:
    events = [
        audit.record(db, actor=None, action=AuditAction.SIGN_IN_FAILED, detail={"n": n})
        for n in range(count)
    ]
    audit.write_pending(db)
    return events


def allow_tampering(db: Session, backend: str) -> None:
    """What someone with the database owner's rights could do; in the test's transaction,
    so it is undone with the test."""
    if backend == "postgresql":
        db.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_event_no_update"))
        db.execute(text("DROP TRIGGER audit_event_no_delete"))


class TestChain:
    def test_each_entry_chains_to_the_one_before(self, db: Session) -> None:
        first, second, third = append(db, 3)
        assert second.prev_hash == first.hash and third.prev_hash == second.hash
        assert len({first.hash, second.hash, third.hash}) == 3
        found = audit.verify(db)
        assert found.intact and found.latest_hash == third.hash

    def test_a_changed_entry_is_named(self, db: Session, backend: str) -> None:
        events = append(db, 4)
        allow_tampering(db, backend)
        db.execute(
            text("UPDATE audit_event SET subject_id = 'x' WHERE id = :id"), {"id": events[1].id}
        )
        found = audit.verify(db)
        assert (found.intact, found.broken_id) == (False, events[1].id)
        assert "changed" in (found.problem or "")

    def test_a_removed_entry_is_found_at_the_next(self, db: Session, backend: str) -> None:
        events = append(db, 4)
        allow_tampering(db, backend)
        db.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[2].id})
        found = audit.verify(db)
        assert (found.intact, found.broken_id) == (False, events[3].id)
        assert "removed" in (found.problem or "")

    def test_a_rewritten_log_misses_its_anchor(self, db: Session) -> None:
        append(db, 2)
        anchor = audit.verify(db).latest_hash
        assert audit.verify(db, anchor=anchor).intact
        assert not audit.verify(db, anchor="f" * 64).intact

    def test_entries_wait_for_the_commit_and_a_rolled_back_savepoint_drops_its_own(
        self, db: Session
    ) -> None:
        before = db.scalar(select(func.count()).select_from(AuditEvent))
        audit.record(db, actor=None, action=AuditAction.SIGN_IN_FAILED, detail={"kept": True})
        savepoint = db.begin_nested()
        audit.record(db, actor=None, action=AuditAction.SIGN_IN_FAILED, detail={"kept": False})
        savepoint.rollback()
        db.commit()  # in this fixture, releases the test's savepoint
        kept = list(db.scalars(select(AuditEvent.detail).order_by(AuditEvent.id)))[before:]
        assert kept == [{"kept": True}]
        assert audit.verify(db).intact

    def test_reading_the_log_sees_entries_of_the_same_transaction(self, db: Session) -> None:
        person = make_user(db)
        audit.record_read(db, actor=person, subject_type="user_account", subject_id=person.id)
        assert db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == person.id)
        )

    def test_postgresql_refuses_truncate(self, db: Session, backend: str) -> None:
        if backend != "postgresql":
            pytest.skip("TRUNCATE is PostgreSQL's")
        append(db, 1)
        savepoint = db.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text("TRUNCATE audit_event CASCADE"))
        savepoint.rollback()


@pytest.fixture
def own_database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the run's backend with the schema and no reference data, for
    tests that commit from several connections."""
    with fresh_database(backend, tmp_path) as url:
        command.upgrade(alembic_config(database_url=url), "head")
        engine = make_engine(url, pool_size=10) if backend == "postgresql" else make_engine(url)
        yield engine
        engine.dispose()


def test_the_chain_holds_when_many_transactions_append_at_once(own_database: Engine) -> None:
    factory = make_sessionmaker(own_database)
    writers, each = 8, 5
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for n in range(each):
                with session_scope(factory) as session:
                    # Something else in the transaction first, as a request would.
                    session.execute(
                        select(func.count()).select_from(AuditEvent.__table__).where(text("1 = 0"))
                    )
                    audit.record(
                        session,
                        actor=None,
                        action=AuditAction.SIGN_IN_FAILED,
                        detail={"w": writer, "n": n},
                    )
                    audit.record(
                        session,
                        actor=None,
                        action=AuditAction.SIGNED_OUT,
                        detail={"w": writer, "n": n},
                    )
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with session_scope(factory, write=False) as session:
        found = audit.verify(session)
        assert found.intact, found.problem
        assert found.checked == writers * each * 2


def test_verify_command_names_the_broken_entry(cli_database: str, backend: str) -> None:
    command.upgrade(alembic_config(database_url=cli_database), "head")
    engine = make_engine(cli_database)
    with session_scope(make_sessionmaker(engine)) as session:
        for n in range(3):
            audit.record(session, actor=None, action=AuditAction.SIGN_IN_FAILED, detail={"n": n})

    intact = runner.invoke(cli_app, ["audit", "verify", "--anchor"])
    assert intact.exit_code == 0, intact.output
    assert "3 entries" in intact.output
    anchor = re.search(r"Latest hash: ([0-9a-f]{64})", intact.output)
    assert anchor
    assert runner.invoke(cli_app, ["audit", "verify", "--expect", anchor.group(1)]).exit_code == 0

    with engine.begin() as connection:
        second = connection.scalar(text("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 1"))
        if backend == "postgresql":
            connection.execute(
                text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
            )
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(
            text("UPDATE audit_event SET detail = '{\"n\": 7}' WHERE id = :id"), {"id": second}
        )
    engine.dispose()

    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"entry {second}" in broken.output and "changed" in broken.output


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_role_sql() -> str:
    section = README.read_text().split("## The audit log", 1)[1]
    found = re.search(r"```sql\n(.*?)```", section, re.S)
    assert found, "the README shows the role's GRANT statements"
    return found.group(1)


def test_the_readme_role_can_only_insert_into_and_read_the_log(
    engine: Engine, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = f"sds_app_{uuid.uuid4().hex[:8]}"
    database = engine.url.database
    sql = (
        readme_role_sql()
        .replace("sds_app", role)
        .replace("DATABASE sds ", f'DATABASE "{database}" ')
    )
    with engine.connect() as owner:
        for statement in filter(None, (s.strip() for s in sql.split(";"))):
            owner.execute(text(statement))
        owner.commit()
    try:
        with engine.connect() as connection, Session(connection) as session:
            session.execute(text(f"SET LOCAL ROLE {role}"))
            audit.record(session, actor=None, action=AuditAction.SIGN_IN_FAILED)
            audit.write_pending(session)
            assert audit.verify(session).intact
            for statement in (
                "UPDATE audit_event SET actor_role = 'x'",
                "DELETE FROM audit_event",
                "TRUNCATE audit_event",
            ):
                savepoint = session.begin_nested()
                with pytest.raises(DBAPIError, match="permission denied"):
                    session.execute(text(statement))
                savepoint.rollback()
            session.rollback()
    finally:
        with engine.connect() as owner:
            owner.execute(text(f"DROP OWNED BY {role}"))
            owner.execute(text(f"DROP ROLE {role}"))
            owner.commit()


def test_the_migration_chains_the_entries_already_there(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        config = alembic_config(database_url=url)
        command.upgrade(config, "289c86769e6b")  # the revision before the chain
        engine = make_engine(url)
        with engine.begin() as connection:
            for n, when in enumerate(
                ("2026-11-30 09:00:00.123456", "2026-11-30 09:00:00", "2026-12-01 23:59:59.5")
            ):
                connection.execute(
                    text(
                        "INSERT INTO audit_event (occurred_at, action, subject_type, subject_id, detail) "
                        "VALUES (:when, 'sign_in_failed', 'user_account', :n, :detail)"
                    ),
                    {"when": when, "n": str(n), "detail": f'{{"n": {n}, "why": "café"}}'},
                )
        command.upgrade(config, "head")
        with Session(engine) as session:
            found = audit.verify(session)
            assert (found.intact, found.checked) == (True, 3)
            audit.record(session, actor=None, action=AuditAction.SIGNED_OUT)
            session.commit()
            assert audit.verify(session).checked == 4
        engine.dispose()
