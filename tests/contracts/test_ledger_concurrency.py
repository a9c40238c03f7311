"""Many requests against one ISF at the same moment, each in a thread with its own database
connection that really commits: the ISF is never spent beyond what it holds, and one
idempotency key sent many times at once has exactly one effect."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from contracts import ledger
from contracts.ledger import InsufficientFunds
from contracts.ledger_check import check_invariants
from contracts.models import LedgerAccount, LedgerTransaction
from marketplace.db import make_engine, make_sessionmaker, session_scope
from tests.contracts.concurrency import all_at_once
from tests.factories import make_isf_books

DEBITS = 50
DEBIT_PENCE = 100
HELD_PENCE = 2_000


@dataclass(frozen=True)
class Books:
    isf_id: int
    payable_id: int
    finance_id: int


@pytest.fixture
def writers(shared_database: str) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    """Connections of their own for every thread (no pool to queue on), to a database that
    really commits."""
    engine = make_engine(shared_database, poolclass=NullPool)
    yield engine, make_sessionmaker(engine)
    engine.dispose()


def open_books(factory: sessionmaker[Session]) -> Books:
    with session_scope(factory) as db:
        books = make_isf_books(db, funded_pence=HELD_PENCE)
        return Books(isf_id=books.isf.id, payable_id=books.payable.id, finance_id=books.finance.id)


def debit(factory: sessionmaker[Session], books: Books, *, key: str) -> str:
    """One request approving 100p of delivery: its own write transaction, committed."""
    try:
        with session_scope(factory) as db:
            posted = ledger.transfer(
                db,
                source=db.get_one(LedgerAccount, books.isf_id),
                destination=db.get_one(LedgerAccount, books.payable_id),
                amount_pence=DEBIT_PENCE,
                idempotency_key=key,
                actor=ledger.Actor(user_id=books.finance_id, role="finance"),
                reason="Support delivered",
                reference=ledger.Reference(ledger.ReferenceKind.DELIVERY, key),
            )
            return str(posted.id)
    except InsufficientFunds:
        return "refused"


def run_fifty_debits(factory: sessionmaker[Session], round_number: int) -> None:
    books = open_books(factory)
    outcomes = all_at_once(
        DEBITS, lambda n: debit(factory, books, key=f"contention-{round_number}-{books.isf_id}-{n}")
    )
    refused = outcomes.pop("refused", 0)
    assert refused == 30, outcomes
    assert len(outcomes) == 20 and set(outcomes.values()) == {1}, outcomes  # 20 transactions
    with session_scope(factory, write=False) as db:
        balances = ledger.balances_pence(
            db,
            [db.get_one(LedgerAccount, books.isf_id), db.get_one(LedgerAccount, books.payable_id)],
        )
        assert balances == {books.isf_id: 0, books.payable_id: HELD_PENCE}
        report = check_invariants(db)
        assert report.sound, report.violations


def test_fifty_debits_of_100p_against_2000p_exactly_twenty_succeed(
    writers: tuple[Engine, sessionmaker[Session]],
) -> None:
    run_fifty_debits(writers[1], round_number=0)


@pytest.mark.slow
def test_fifty_debits_twenty_times_over(writers: tuple[Engine, sessionmaker[Session]]) -> None:
    for round_number in range(1, 21):
        run_fifty_debits(writers[1], round_number)


def test_one_key_sent_twenty_times_at_once_has_one_effect(
    writers: tuple[Engine, sessionmaker[Session]],
) -> None:
    _, factory = writers
    books = open_books(factory)
    key = f"approve-delivery-storm-{books.isf_id}"
    outcomes = all_at_once(20, lambda _: debit(factory, books, key=key))
    [(answer, times)] = outcomes.items()
    assert times == 20  # every retry got the same first answer
    with session_scope(factory, write=False) as db:
        posted = db.scalars(
            select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)
        ).all()
        assert [str(t.id) for t in posted] == [answer]
        isf = db.get_one(LedgerAccount, books.isf_id)
        assert ledger.balance_pence(db, isf) == HELD_PENCE - DEBIT_PENCE
