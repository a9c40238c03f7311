"""The ledger's migration runs both ways on both databases: from empty to head and back to
empty, then up again with every guard working; and its own step down and up again over a
ledger holding entries."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts import ledger
from contracts.ledger_check import check_invariants
from contracts.models import LedgerPosting, LedgerTransaction
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.geography.models import CouncilArea
from marketplace.migrate import downgrade, upgrade
from tests.conftest import fresh_database
from tests.factories import make_isf_books

BEFORE_LEDGER = "20261203_truth_1"
LEDGER_TABLES = {"ledger_account", "ledger_transaction", "ledger_posting", "idempotent_request"}


def write_unbalanced_by_hand(factory: sessionmaker[Session], *, account_id: int) -> None:
    unbalanced = uuid.uuid4()
    with session_scope(factory) as db:
        db.execute(
            insert(LedgerPosting),
            [{"transaction_id": unbalanced, "account_id": account_id, "amount_pence": 5}],
        )
        db.execute(
            insert(LedgerTransaction),
            [
                {
                    "id": unbalanced,
                    "idempotency_key": f"by-hand-{unbalanced}",
                    "request_hash": "0" * 64,
                    "posting_count": 2,
                    "actor_role": "system",
                    "reason": "Written by hand",
                    "reference_kind": "correction",
                }
            ],
        )


def seed_and_check(url: str) -> None:
    """Fund an ISF, spend some, reverse a mistake; the guards refuse a transaction that
    does not balance; and `ledger check` finds nothing wrong."""
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with session_scope(factory) as db:
            books = make_isf_books(db, funded_pence=10_000)
            mistake = ledger.transfer(
                db,
                source=books.isf,
                destination=books.payable,
                amount_pence=2_500,
                idempotency_key=f"seed-{uuid.uuid4()}",
                actor=books.actor,
                reason="Support delivered",
                reference=ledger.Reference(ledger.ReferenceKind.DELIVERY, "1"),
            )
            ledger.reverse_transaction(
                db,
                original=mistake,
                idempotency_key=f"seed-{uuid.uuid4()}",
                actor=books.actor,
                reason="Wrong person",
            )
        with pytest.raises(IntegrityError, match="summing to 0"):
            write_unbalanced_by_hand(factory, account_id=books.isf.id)
        with session_scope(factory, write=False) as db:
            report = check_invariants(db)
            assert report.sound, report.violations
            assert report.transactions >= 3
    finally:
        engine.dispose()


def ledger_objects(url: str) -> tuple[set[str], set[str]]:
    """The ledger's tables, and its PostgreSQL functions, present in the database."""
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names()) & LEDGER_TABLES
        functions: set[str] = set()
        if engine.dialect.name == "postgresql":
            with Session(engine) as db:
                functions = set(
                    db.scalars(text("SELECT proname FROM pg_proc WHERE proname LIKE 'ledger%'"))
                )
        return tables, functions
    finally:
        engine.dispose()


def all_tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_empty_to_head_to_empty_to_head_then_a_sound_ledger(backend: str, tmp_path: Path) -> None:
    """The whole schema's round trip (it is the migrations' own test as well as the
    ledger's, so a run upgrades from empty once for both): down to base leaves no table but
    Alembic's, and up again seeds the 32 council areas and a ledger that works."""
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        assert ledger_objects(url)[0] == LEDGER_TABLES
        downgrade(url, "base")
        assert ledger_objects(url) == (set(), set())
        assert all_tables(url) <= {"alembic_version"}
        upgrade(url)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                assert len(list(session.scalars(select(CouncilArea)))) == 32
        finally:
            engine.dispose()
        seed_and_check(url)


def test_the_ledger_step_down_and_up_again_over_entries(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        seed_and_check(url)
        downgrade(url, BEFORE_LEDGER)
        assert ledger_objects(url) == (set(), set())
        upgrade(url)
        tables, functions = ledger_objects(url)
        assert tables == LEDGER_TABLES
        assert bool(functions) == (backend == "postgresql")
        seed_and_check(url)
