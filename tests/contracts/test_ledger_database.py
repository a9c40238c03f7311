"""The database keeps the ledger's rules by itself, with the service bypassed by statements
written by hand: a transaction that does not balance is not written, nothing is added to
one already written, nothing is changed or removed, no account goes below its floor, and
postings left without their transaction cannot be committed; and on PostgreSQL the app's
role, as the README sets it up, cannot rewrite the ledger at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from contracts import ledger
from contracts.ledger_check import check_invariants
from contracts.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction
from marketplace.db import make_engine, make_sessionmaker, session_scope
from tests.factories import IsfBooks, make_isf_books
from tests.marketplace.test_audit import readme_role_sql


@contextmanager
def refused(db: Session, match: str) -> Iterator[None]:
    """The statements in the block are refused by the database; only they are undone."""
    with pytest.raises(IntegrityError, match=match), db.begin_nested():
        yield


def write_postings(
    db: Session, transaction_id: uuid.UUID, *legs: tuple[LedgerAccount, int]
) -> None:
    db.execute(
        insert(LedgerPosting),
        [
            {"transaction_id": transaction_id, "account_id": account.id, "amount_pence": pence}
            for account, pence in legs
        ],
    )


def write_transaction(
    db: Session,
    transaction_id: uuid.UUID,
    *,
    posting_count: int = 2,
    reverses_id: uuid.UUID | None = None,
) -> None:
    """The row sealing a transaction's postings, with the fingerprint the ledger would
    have given it, so that `ledger check` finds nothing else wrong with it."""
    written = db.execute(
        select(LedgerPosting.account_id, LedgerPosting.amount_pence).where(
            LedgerPosting.transaction_id == transaction_id
        )
    )
    fields = {
        "actor_id": None,
        "actor_role": "system",
        "reason": "Written by hand",
        "reference_kind": "correction",
        "reference_id": None,
        "reverses_id": reverses_id,
    }
    request_hash = ledger.transaction_fingerprint(
        **fields,  # type: ignore[arg-type]
        postings=[(account_id, pence) for account_id, pence in written],
    )
    db.execute(
        insert(LedgerTransaction),
        [
            {
                "id": transaction_id,
                "idempotency_key": f"by-hand-{transaction_id}",
                "request_hash": request_hash,
                "posting_count": posting_count,
                **fields,
            }
        ],
    )


def balances(db: Session, books: IsfBooks) -> list[int]:
    found = ledger.balances_pence(db, [books.funding, books.isf, books.payable])
    return [found[books.funding.id], found[books.isf.id], found[books.payable.id]]


class TestBalanced:
    def test_a_balanced_transaction_written_by_hand_moves_the_cached_balances(
        self, db: Session
    ) -> None:
        books = make_isf_books(db)
        transaction_id = uuid.uuid4()
        write_postings(db, transaction_id, (books.funding, -700), (books.isf, 700))
        write_transaction(db, transaction_id)
        assert balances(db, books) == [-700, 700, 0]
        assert check_invariants(db).sound

    def test_postings_that_do_not_sum_to_zero_are_not_sealed(self, db: Session) -> None:
        books = make_isf_books(db)
        transaction_id = uuid.uuid4()
        with refused(db, "summing to 0"):
            write_postings(db, transaction_id, (books.funding, -700), (books.isf, 600))
            write_transaction(db, transaction_id)
        assert balances(db, books) == [0, 0, 0]

    def test_one_posting_is_not_a_transaction(self, db: Session) -> None:
        books = make_isf_books(db)
        transaction_id = uuid.uuid4()
        with refused(db, "summing to 0"):
            write_postings(db, transaction_id, (books.isf, 700))
            write_transaction(db, transaction_id, posting_count=1)

    def test_a_transaction_without_postings_is_not_written(self, db: Session) -> None:
        with refused(db, "summing to 0"):
            write_transaction(db, uuid.uuid4())
        with refused(db, "two_or_more_postings"):
            write_transaction(db, uuid.uuid4(), posting_count=0)

    def test_a_seal_must_count_every_posting(self, db: Session) -> None:
        books = make_isf_books(db)
        transaction_id = uuid.uuid4()
        with refused(db, "summing to 0"):
            write_postings(
                db, transaction_id, (books.funding, -700), (books.isf, 600), (books.payable, 100)
            )
            write_transaction(db, transaction_id, posting_count=2)

    def test_nothing_is_added_to_a_transaction_once_written(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=1_000)
        posted = ledger.transfer(
            db,
            source=books.isf,
            destination=books.payable,
            amount_pence=400,
            idempotency_key="delivery-41-approval",
            actor=books.actor,
            reason="Support delivered",
            reference=ledger.Reference(ledger.ReferenceKind.DELIVERY, "41"),
        )
        # Even a pair that balances by itself.
        with refused(db, "already written"):
            write_postings(db, posted.id, (books.fees, 50))
        with refused(db, "already written"):
            write_postings(db, posted.id, (books.funding, -50), (books.fees, 50))


class TestImmutable:
    @pytest.fixture
    def posted(self, db: Session) -> LedgerTransaction:
        books = make_isf_books(db)
        transaction_id = uuid.uuid4()
        write_postings(db, transaction_id, (books.funding, -700), (books.isf, 700))
        write_transaction(db, transaction_id)
        return db.get_one(LedgerTransaction, transaction_id)

    def test_postings_are_never_changed_or_removed(
        self, db: Session, posted: LedgerTransaction
    ) -> None:
        postings = LedgerPosting.transaction_id == posted.id
        with refused(db, "never changed or removed"):
            db.execute(
                update(LedgerPosting)
                .where(postings)
                .values(amount_pence=LedgerPosting.amount_pence * 2)
            )
        with refused(db, "never changed or removed"):
            db.execute(delete(LedgerPosting).where(postings))

    def test_transactions_are_never_changed_or_removed(
        self, db: Session, posted: LedgerTransaction
    ) -> None:
        this = LedgerTransaction.id == posted.id
        with refused(db, "never changed or removed"):
            db.execute(update(LedgerTransaction).where(this).values(reason="Something else"))
        with refused(db, "never changed or removed"):
            db.execute(delete(LedgerTransaction).where(this))

    def test_an_upsert_cannot_rewrite_them(
        self, db: Session, backend: str, posted: LedgerTransaction
    ) -> None:
        """SQLite's REPLACE would delete the row it collides with without its DELETE
        trigger; PostgreSQL's ON CONFLICT DO UPDATE is an UPDATE, refused as one."""
        ids = {"txn": posted.postings[0].transaction_id, "posting": posted.postings[0].id}
        if backend == "sqlite":
            ids["txn"] = posted.id.hex  # how SQLite stores a UUID
            statements = {
                "REPLACE INTO ledger_transaction SELECT * FROM ledger_transaction "
                "WHERE id = :txn": "never changed",
                "REPLACE INTO ledger_posting SELECT id, 'a0000000000000000000000000000000', "
                "account_id, -amount_pence FROM ledger_posting WHERE id = :posting": "never changed",
                "REPLACE INTO ledger_account SELECT * FROM ledger_account "
                "WHERE balance_pence = 0 LIMIT 1": "never removed",
            }
        else:
            statements = {
                "INSERT INTO ledger_transaction SELECT * FROM ledger_transaction WHERE id = :txn "
                "ON CONFLICT (id) DO UPDATE SET reason = 'Something else'": "never changed",
                # Refused before the conflict is even looked for: its transaction is written.
                "INSERT INTO ledger_posting SELECT * FROM ledger_posting WHERE id = :posting "
                "ON CONFLICT (id) DO UPDATE SET amount_pence = 1": "already written",
            }
        for statement, refusal in statements.items():
            with refused(db, refusal):
                db.execute(text(statement), ids)
        assert check_invariants(db).sound

    def test_postgresql_refuses_truncating_them(self, db: Session, backend: str) -> None:
        if backend != "postgresql":
            pytest.skip("SQLite has no TRUNCATE")
        for table in ("ledger_posting", "ledger_transaction", "ledger_account"):
            with refused(db, "never"):
                db.execute(text(f"TRUNCATE {table} CASCADE"))

    def test_an_account_keeps_its_kind_currency_and_owner(self, db: Session) -> None:
        books = make_isf_books(db)
        statements = [
            "UPDATE ledger_account SET kind = 'management_fees' WHERE id = :id",
            "UPDATE ledger_account SET provider_id = NULL, council_id = 1 WHERE id = :id",
        ]
        for statement in statements:
            with refused(db, "never change"):
                db.execute(text(statement), {"id": books.isf.id})
        with refused(db, "never removed"):
            db.execute(text("DELETE FROM ledger_account WHERE id = :id"), {"id": books.isf.id})
        # What a recorded decision may change: how far below zero it may go.
        db.execute(
            text("UPDATE ledger_account SET floor_pence = -500 WHERE id = :id"),
            {"id": books.isf.id},
        )

    def test_an_account_opens_at_zero(self, db: Session) -> None:
        books = make_isf_books(db)
        with refused(db, "opens with a balance of 0"):
            db.execute(
                insert(LedgerAccount),
                [
                    {
                        "kind": AccountKind.ISF_FUNDS,
                        "name": "Money from nowhere",
                        "provider_id": books.isf.provider_id,
                        "balance_pence": 10_000,
                    }
                ],
            )


class TestFloor:
    def test_an_overdraft_written_by_hand_is_refused_by_the_balance_check(
        self, db: Session
    ) -> None:
        books = make_isf_books(db, funded_pence=300)
        transaction_id = uuid.uuid4()
        with refused(db, "above_floor"):
            write_postings(db, transaction_id, (books.isf, -301), (books.payable, 301))
            write_transaction(db, transaction_id)
        assert balances(db, books) == [-300, 300, 0]


class TestReversalByHand:
    @pytest.fixture
    def original(self, db: Session) -> tuple[IsfBooks, LedgerTransaction]:
        books = make_isf_books(db, funded_pence=1_000)
        transaction_id = uuid.uuid4()
        write_postings(db, transaction_id, (books.isf, -400), (books.payable, 400))
        write_transaction(db, transaction_id)
        return books, db.get_one(LedgerTransaction, transaction_id)

    def test_a_reversal_must_mirror_its_original(
        self, db: Session, original: tuple[IsfBooks, LedgerTransaction]
    ) -> None:
        books, posted = original
        reversal = uuid.uuid4()
        with refused(db, "exactly the opposite"):
            write_postings(db, reversal, (books.isf, 300), (books.payable, -300))
            write_transaction(db, reversal, reverses_id=posted.id)
        with refused(db, "exactly the opposite"):
            write_postings(db, reversal, (books.isf, 400), (books.fees, -400))
            write_transaction(db, reversal, reverses_id=posted.id)

    def test_a_transaction_is_reversed_once(
        self, db: Session, original: tuple[IsfBooks, LedgerTransaction]
    ) -> None:
        books, posted = original
        first = uuid.uuid4()
        write_postings(db, first, (books.isf, 400), (books.payable, -400))
        write_transaction(db, first, reverses_id=posted.id)
        again = uuid.uuid4()
        with refused(db, "reverses_id"):
            write_postings(db, again, (books.isf, 400), (books.payable, -400))
            write_transaction(db, again, reverses_id=posted.id)

    def test_a_reversal_is_not_reversed(
        self, db: Session, original: tuple[IsfBooks, LedgerTransaction]
    ) -> None:
        books, posted = original
        reversal = uuid.uuid4()
        write_postings(db, reversal, (books.isf, 400), (books.payable, -400))
        write_transaction(db, reversal, reverses_id=posted.id)
        undo = uuid.uuid4()
        with refused(db, "exactly the opposite"):
            write_postings(db, undo, (books.isf, -400), (books.payable, 400))
            write_transaction(db, undo, reverses_id=reversal)


class TestAtCommit:
    """What only COMMIT can catch, in a database of this module's own that really commits."""

    @pytest.fixture
    def committed_books(self, shared_database: str) -> Iterator[tuple[Session, IsfBooks]]:
        engine = make_engine(shared_database)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as setup:
            books = make_isf_books(setup, funded_pence=1_000)
        session = factory()
        yield session, books
        session.close()
        engine.dispose()

    def test_postings_left_without_their_transaction_cannot_be_committed(
        self, committed_books: tuple[Session, IsfBooks]
    ) -> None:
        session, books = committed_books
        orphan = uuid.uuid4()
        write_postings(session, orphan, (books.isf, -1_000), (books.payable, 1_000))
        with pytest.raises(IntegrityError, match=r"(?i)foreign key|sealed over"):
            session.commit()
        session.rollback()
        payable_postings = select(func.count()).where(LedgerPosting.account_id == books.payable.id)
        assert session.scalar(payable_postings) == 0
        assert check_invariants(session).sound

    def test_a_pair_slipped_into_another_sessions_transaction_fails_at_its_commit(
        self, committed_books: tuple[Session, IsfBooks], shared_database: str
    ) -> None:
        session, books = committed_books
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time: no other session's transaction to join")
        sealing = uuid.uuid4()
        write_postings(session, sealing, (books.isf, -100), (books.payable, 100))
        write_transaction(session, sealing)  # sealed, not yet committed

        engine = make_engine(shared_database)
        intruder = make_sessionmaker(engine)()
        try:
            # The trigger cannot see the uncommitted seal, so the pair is written...
            write_postings(intruder, sealing, (books.funding, -5), (books.fees, 5))
            session.commit()
            # ...but its own COMMIT checks the transaction again, now sealed with 2 postings.
            with pytest.raises(IntegrityError, match="sealed over 2 postings"):
                intruder.commit()
            intruder.rollback()
        finally:
            intruder.close()
            engine.dispose()
        assert check_invariants(session).sound


def test_the_readme_role_posts_but_cannot_rewrite_the_ledger(engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = f"sds_app_{uuid.uuid4().hex[:8]}"
    sql = (
        readme_role_sql()
        .replace("sds_app", role)
        .replace("DATABASE sds ", f'DATABASE "{engine.url.database}" ')
    )
    with engine.connect() as owner:
        for statement in filter(None, (s.strip() for s in sql.split(";"))):
            owner.execute(text(statement))
        owner.commit()
    try:
        with engine.connect() as connection, Session(connection) as db:
            db.execute(text(f"SET LOCAL ROLE {role}"))
            books = make_isf_books(db, funded_pence=1_000)  # posts, locks, moves balances
            assert ledger.balance_pence(db, books.isf) == 1_000
            isf = LedgerAccount.id == books.isf.id
            db.execute(update(LedgerAccount).where(isf).values(floor_pence=-200))
            for statement in (
                update(LedgerAccount).where(isf).values(balance_pence=1_000_000),
                update(LedgerPosting).values(amount_pence=1),
                delete(LedgerPosting),
                update(LedgerTransaction).values(reason="Something else"),
                delete(LedgerTransaction),
                text("TRUNCATE ledger_posting, ledger_transaction, ledger_account"),
            ):
                with pytest.raises(DBAPIError, match="permission denied"), db.begin_nested():
                    db.execute(statement)
            db.rollback()
    finally:
        with engine.connect() as owner:
            owner.execute(text(f"DROP OWNED BY {role}"))
            owner.execute(text(f"DROP ROLE {role}"))
            owner.commit()
