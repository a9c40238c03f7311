"""A money-moving request sent again with its idempotency key has exactly one effect and
gets the first answer back; with different content it is refused; a request that failed
leaves its key free; and the record commits or rolls back with the request's effects."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from contracts import ledger
from contracts.ledger import InsufficientFunds
from contracts.models import LedgerAccount, LedgerTransaction
from marketplace import idempotency
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.idempotency import IdempotentRequest, KeyReused
from tests.factories import IsfBooks, make_isf_books


def approve_delivery(
    db: Session, books: IsfBooks, *, key: str, pence: int, acted: list[int] | None = None
) -> idempotency.Answer:
    """A request as a route would carry it out: its key, its content, and the work."""

    def act() -> dict[str, idempotency.JsonValue]:
        if acted is not None:
            acted.append(pence)
        posted = ledger.transfer(
            db,
            source=books.isf,
            destination=books.payable,
            amount_pence=pence,
            idempotency_key=f"{key}/ledger",
            actor=books.actor,
            reason="Support delivered",
            reference=ledger.Reference(ledger.ReferenceKind.DELIVERY, "7"),
        )
        return {"transaction": str(posted.id), "remaining_pence": books.isf.balance_pence}

    return idempotency.once(
        db,
        key=key,
        operation="isf.approve_delivery",
        content={"delivery": 7, "amount_pence": pence, "actor": books.finance.id},
        act=act,
    )


class TestOnce:
    def test_a_retry_gets_the_first_answer_and_does_nothing(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        acted: list[int] = []
        first = approve_delivery(db, books, key="form-key-0001", pence=1_200, acted=acted)
        again = approve_delivery(db, books, key="form-key-0001", pence=1_200, acted=acted)
        assert (first.replayed, again.replayed) == (False, True)
        assert (
            again.response
            == first.response
            == {
                "transaction": first.response["transaction"],
                "remaining_pence": 3_800,
            }
        )
        assert acted == [1_200]
        assert ledger.balance_pence(db, books.isf) == 3_800

    def test_the_same_key_with_different_content_is_refused(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        acted: list[int] = []
        approve_delivery(db, books, key="form-key-0002", pence=1_200, acted=acted)
        with pytest.raises(KeyReused, match="different details"):
            approve_delivery(db, books, key="form-key-0002", pence=1_300, acted=acted)
        assert acted == [1_200]

    def test_a_request_that_failed_leaves_its_key_free(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=1_000)
        with pytest.raises(InsufficientFunds), db.begin_nested():
            approve_delivery(db, books, key="form-key-0003", pence=1_200)
        ledger.transfer(
            db,
            source=books.funding,
            destination=books.isf,
            amount_pence=500,
            idempotency_key="top-up-0003",
            actor=books.actor,
            reason="Top-up agreed by the council",
            reference=ledger.Reference(ledger.ReferenceKind.FINANCE_ADJUSTMENT),
        )
        answer = approve_delivery(db, books, key="form-key-0003", pence=1_200)
        assert not answer.replayed and answer.response["remaining_pence"] == 300

    def test_the_record_rolls_back_with_the_effects(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        request = db.begin_nested()
        approve_delivery(db, books, key="form-key-0004", pence=1_200)
        request.rollback()
        recorded = select(func.count()).where(IdempotentRequest.key == "form-key-0004")
        assert db.scalar(recorded) == 0
        assert ledger.balance_pence(db, books.isf) == 5_000
        assert not approve_delivery(db, books, key="form-key-0004", pence=1_200).replayed


class TestKeys:
    @pytest.mark.parametrize("key", ["", "short", "x" * 101, "with space-123", "ünïcödé-key", None])
    def test_what_cannot_be_a_key_is_refused(self, key: object) -> None:
        with pytest.raises(ValueError, match="reload the page"):
            idempotency.parse_key(key)

    def test_a_new_key_is_a_key_and_new(self) -> None:
        keys = {idempotency.new_key() for _ in range(100)}
        assert len(keys) == 100
        assert all(idempotency.parse_key(key) == key for key in keys)

    def test_a_uuid_is_a_key(self) -> None:
        assert idempotency.parse_key(" 3f2b8f5e-4d7a-4a53-9f6e-0c1d2e3f4a5b ") == (
            "3f2b8f5e-4d7a-4a53-9f6e-0c1d2e3f4a5b"
        )


def test_one_key_sent_ten_times_at_once_acts_once(shared_database: str) -> None:
    engine = make_engine(shared_database, poolclass=NullPool)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as db:
        books = make_isf_books(db, funded_pence=5_000)
        isf_id = books.isf.id
    start = threading.Barrier(10)
    answers: list[object] = []

    def send(work: Callable[[Session], idempotency.Answer]) -> None:
        start.wait()
        try:
            with session_scope(factory) as db:
                answers.append(work(db).response)
        except Exception as error:  # kept, so the assertion shows it
            answers.append(error)

    def request(db: Session) -> idempotency.Answer:
        same_books = IsfBooks(
            funding=db.get_one(LedgerAccount, books.funding.id),
            isf=db.get_one(LedgerAccount, isf_id),
            payable=db.get_one(LedgerAccount, books.payable.id),
            fees=db.get_one(LedgerAccount, books.fees.id),
            finance=books.finance,
        )
        return approve_delivery(db, same_books, key="storm-key-0001", pence=1_000)

    threads = [threading.Thread(target=send, args=(request,)) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(answers) == 10 and all(answer == answers[0] for answer in answers), answers
        with session_scope(factory, write=False) as db:
            posted = select(func.count()).where(
                LedgerTransaction.idempotency_key == "storm-key-0001/ledger"
            )
            assert db.scalar(posted) == 1
            assert ledger.balance_pence(db, db.get_one(LedgerAccount, isf_id)) == 4_000
    finally:
        engine.dispose()
