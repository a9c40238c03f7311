"""`sds-market ledger check` finds what got past the database's guards (a trigger dropped
by someone with the owner's rights, a cached balance edited by hand) and names it: which
transaction or account, what was expected and what was found; and exits non-zero."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from contracts import ledger
from contracts.ledger_check import Violation, check_invariants
from contracts.models import LedgerAccount, LedgerPosting, LedgerTransaction
from marketplace.cli import app as cli_app
from marketplace.db import make_engine, make_sessionmaker, session_scope
from tests.factories import IsfBooks, make_isf_books

runner = CliRunner()


def drop_balance_guards(db: Session, backend: str) -> None:
    """What someone with the database owner's rights could do: turn off the triggers that
    check a transaction as it is sealed and again at COMMIT."""
    if backend == "postgresql":
        db.execute(
            text("ALTER TABLE ledger_transaction DISABLE TRIGGER ledger_transaction_before_insert")
        )
        # A table with checks still pending in this transaction cannot be altered: run them.
        db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        db.execute(
            text("ALTER TABLE ledger_posting DISABLE TRIGGER ledger_posting_balanced_at_commit")
        )
        db.execute(text("SET CONSTRAINTS ALL DEFERRED"))
    else:
        db.execute(text("DROP TRIGGER ledger_transaction_balances"))
        db.execute(text("DROP TRIGGER ledger_transaction_reversal_mirrors"))


def seal_by_hand(
    db: Session,
    *legs: tuple[LedgerAccount, int],
    reverses_id: uuid.UUID | None = None,
    key: str | None = None,
) -> uuid.UUID:
    """A transaction written straight into the tables, sealed with its true fingerprint."""
    transaction_id = uuid.uuid4()
    db.execute(
        insert(LedgerPosting),
        [
            {"transaction_id": transaction_id, "account_id": account.id, "amount_pence": pence}
            for account, pence in legs
        ],
    )
    fields = {
        "actor_id": None,
        "actor_role": "system",
        "reason": "Written by hand",
        "reference_kind": "correction",
        "reference_id": None,
        "reverses_id": reverses_id,
    }
    db.execute(
        insert(LedgerTransaction),
        [
            {
                "id": transaction_id,
                "idempotency_key": key or f"by-hand-{transaction_id}",
                "request_hash": ledger.transaction_fingerprint(
                    **fields,  # type: ignore[arg-type]
                    postings=[(account.id, pence) for account, pence in legs],
                ),
                "posting_count": len(legs),
                **fields,
            }
        ],
    )
    return transaction_id


def spend(db: Session, books: IsfBooks, pence: int, key: str) -> LedgerTransaction:
    return ledger.transfer(
        db,
        source=books.isf,
        destination=books.payable,
        amount_pence=pence,
        idempotency_key=key,
        actor=books.actor,
        reason="Support delivered",
        reference=ledger.Reference(ledger.ReferenceKind.DELIVERY, key),
    )


def problems(db: Session) -> list[Violation]:
    return check_invariants(db).violations


class TestCheckInvariants:
    def test_a_sound_ledger_has_no_problems(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        mistake = spend(db, books, 1_200, "delivery-check-1")
        ledger.reverse_transaction(
            db,
            original=mistake,
            idempotency_key="delivery-check-1-rev",
            actor=books.actor,
            reason="Wrong line",
        )
        report = check_invariants(db)
        assert report.sound, report.violations
        assert (report.transactions, report.postings) >= (3, 6)

    def test_a_cached_balance_edited_by_hand_is_named(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        db.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == books.isf.id)
            .values(balance_pence=LedgerAccount.balance_pence + 1)
        )
        [found] = problems(db)
        assert found.subject == f"ledger account {books.isf.id} ({books.isf.name})"
        assert "cached balance" in found.rule
        assert (found.expected, found.found) == ("5000p (the sum of its postings)", "5001p cached")

    def test_a_transaction_that_does_not_balance_is_named(self, db: Session, backend: str) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        drop_balance_guards(db, backend)
        broken = seal_by_hand(db, (books.isf, -300), (books.payable, 200))
        found = {violation.rule: violation for violation in problems(db)}
        assert set(found) == {"postings must sum to 0 (L1)", "all postings sum to 0 (L2)"}
        unbalanced = found["postings must sum to 0 (L1)"]
        assert unbalanced.subject == f"ledger transaction {broken}"
        assert unbalanced.found == "2 postings summing to -100p"

    def test_postings_without_a_transaction_are_named(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        orphan = uuid.uuid4()
        # Uncommitted here (COMMIT would refuse them); what a check inside such a
        # transaction, or a database with foreign keys off, would see.
        db.execute(
            insert(LedgerPosting),
            [{"transaction_id": orphan, "account_id": books.isf.id, "amount_pence": -10}],
        )
        [found] = problems(db)
        assert found.found == "no such transaction"
        assert found.expected == f"ledger transaction {orphan} to exist"

    def test_an_account_below_its_floor_is_named(self, db: Session, backend: str) -> None:
        books = make_isf_books(db, funded_pence=100)
        if backend == "postgresql":
            db.execute(
                text("ALTER TABLE ledger_account DROP CONSTRAINT ck_ledger_account_above_floor")
            )
        else:
            db.execute(text("PRAGMA ignore_check_constraints = ON"))
        try:
            seal_by_hand(db, (books.isf, -150), (books.payable, 150))
        finally:
            if backend == "sqlite":
                db.execute(text("PRAGMA ignore_check_constraints = OFF"))
        [found] = problems(db)
        assert found.subject == f"ledger account {books.isf.id} ({books.isf.name})"
        assert (found.expected, found.found) == ("a balance of 0p or more", "-50p")

    def test_a_transaction_changed_after_it_was_posted_is_named(
        self, db: Session, backend: str
    ) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        posted = spend(db, books, 700, "delivery-check-2")
        if backend == "postgresql":
            db.execute(
                text("ALTER TABLE ledger_transaction DISABLE TRIGGER ledger_transaction_immutable")
            )
        else:
            db.execute(text("DROP TRIGGER ledger_transaction_no_update"))
        db.execute(
            update(LedgerTransaction)
            .where(LedgerTransaction.id == posted.id)
            .values(reason="Something else entirely")
        )
        [found] = problems(db)
        assert found.subject == f"ledger transaction {posted.id}"
        assert "idempotency key" in found.rule

    def test_a_reversal_that_does_not_mirror_is_named(self, db: Session, backend: str) -> None:
        books = make_isf_books(db, funded_pence=5_000)
        posted = spend(db, books, 700, "delivery-check-3")
        drop_balance_guards(db, backend)
        half = seal_by_hand(db, (books.isf, 350), (books.payable, -350), reverses_id=posted.id)
        found = problems(db)
        assert [v.subject for v in found] == [
            f"ledger transaction {half} on ledger account {books.isf.id}",
            f"ledger transaction {half} on ledger account {books.payable.id}",
        ]
        assert {v.found for v in found} == {
            "2 postings netting to -350p",
            "2 postings netting to 350p",
        }

    def test_two_reversals_and_a_key_used_twice_are_named(self, db: Session, backend: str) -> None:
        if backend != "postgresql":
            pytest.skip("SQLite cannot drop a UNIQUE constraint without rebuilding the table")
        books = make_isf_books(db, funded_pence=5_000)
        posted = spend(db, books, 700, "delivery-check-4")
        db.execute(
            text("ALTER TABLE ledger_transaction DROP CONSTRAINT uq_ledger_transaction_reverses_id")
        )
        db.execute(
            text(
                "ALTER TABLE ledger_transaction DROP CONSTRAINT uq_ledger_transaction_idempotency_key"
            )
        )
        seal_by_hand(db, (books.isf, 700), (books.payable, -700), reverses_id=posted.id)
        seal_by_hand(db, (books.funding, -700), (books.payable, 700))
        seal_by_hand(
            db,
            (books.isf, 700),
            (books.payable, -700),
            reverses_id=posted.id,
            key="delivery-check-4",
        )
        found = {(v.rule, v.subject, v.found) for v in problems(db)}
        assert (
            "reversed at most once (L5)",
            f"ledger transaction {posted.id}",
            "2 reversals",
        ) in found
        assert (
            "one effect per idempotency key (L6)",
            "idempotency key 'delivery-check-4'",
            "2",
        ) in found


class TestCommand:
    def test_exits_0_with_a_summary_then_1_naming_what_is_wrong(
        self, cli_database: str, backend: str
    ) -> None:
        assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
        engine = make_engine(cli_database)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as db:
            books = make_isf_books(db, funded_pence=5_000)
            spend(db, books, 1_000, "delivery-cli-1")

        sound = runner.invoke(cli_app, ["ledger", "check"])
        assert sound.exit_code == 0, sound.output
        assert sound.output.strip() == (
            "The ledger is sound: 4 accounts, 2 transactions and 4 postings checked; "
            "every invariant holds."
        )

        with session_scope(factory) as db:
            drop_balance_guards(db, backend)
            broken = seal_by_hand(db, (books.isf, -300), (books.payable, 200))
            db.execute(
                update(LedgerAccount)
                .where(LedgerAccount.id == books.fees.id)
                .values(balance_pence=999)
            )
        engine.dispose()

        found = runner.invoke(cli_app, ["ledger", "check"])
        assert found.exit_code == 1, found.output
        lines = found.output.splitlines()
        assert lines[0] == (
            "The ledger has 3 problems (4 accounts, 3 transactions and 6 postings checked):"
        )
        assert (
            f"- ledger transaction {broken}: postings must sum to 0 (L1): expected the 2 "
            "postings it was sealed with (2 or more) summing to 0p, found 2 postings summing "
            "to -100p"
        ) in lines
        assert "- the whole ledger: all postings sum to 0 (L2): expected 0p, found -100p" in lines
        assert (
            f"- ledger account {books.fees.id} ({books.fees.name}): cached balance equals the "
            "sum of postings (L3): expected 0p (the sum of its postings), found 999p cached"
        ) in lines
