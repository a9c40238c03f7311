"""The bank test, on PostgreSQL where writers really run side by side: sixteen holders'
staff approve confirmed support at once against funds that can afford only some of it,
each approval its own committed transaction. No fund goes below its floor, no posting is
lost or made twice, every refusal is a fund that could not pay, and all postings sum to
zero; and one request sent a hundred times at once (an approval, a payment with one key)
has exactly one effect."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.funds.funding import post_due_tranches
from contracts.funds.models import IndividualServiceFund
from contracts.ledger_check import check_invariants
from contracts.models import LedgerPosting, LedgerTransaction, ReferenceKind
from contracts.spending import payments
from contracts.spending import service as spending
from contracts.spending.bench import SUPPORT_PENCE, confirmed_support
from contracts.spending.models import Delivery, DeliveryStatus, ProviderPayment
from marketplace.accounts.models import Role, User
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.errors import RuleBroken
from tests.contracts.concurrency import all_at_once
from tests.contracts.funds.fund_builders import PERIOD_START, active_fund, holder_staff
from tests.contracts.spending.test_deliveries import offer_line
from tests.factories import make_user

FUNDS = 8
COST_PENCE = 1_100
"""A delivery and the holder's 10%."""
HELD_PENCE = 300_000
"""April's tranche of every fund: £100 a day for 30 days."""


CONNECTIONS = 24
"""At most this many at once: a hundred requests share them as an app's workers would
(PostgreSQL allows a hundred connections in all, to every client)."""


@pytest.fixture
def writers(backend: str, shared_database: str) -> Iterator[sessionmaker[Session]]:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs side by side to race")
    engine: Engine = make_engine(
        shared_database, pool_size=CONNECTIONS, max_overflow=0, pool_timeout=300
    )
    yield make_sessionmaker(engine)
    engine.dispose()


@dataclass(frozen=True)
class Bank:
    funds: list[int]
    holders: dict[int, int]
    """Fund id to the id of its holder's staff member who approves."""
    deliveries: list[int]
    """Confirmed, interleaved across the funds so that every fund is raced for."""


def open_bank(factory: sessionmaker[Session], *, per_fund: int) -> Bank:
    with session_scope(factory) as db:
        funds = [active_fund(db) for _ in range(FUNDS)]
        post_due_tranches(db, today=PERIOD_START)
        rows = [
            row
            for _ in range(per_fund)
            for fund in funds
            for row in confirmed_support(fund, offer_line(fund), count=1, on=date(2027, 4, 5))
        ]
        ids = list(db.scalars(insert(Delivery).returning(Delivery.id), rows))
        return Bank(
            funds=[fund.id for fund in funds],
            holders={fund.id: holder_staff(fund).id for fund in funds},
            deliveries=ids,
        )


def approve(factory: sessionmaker[Session], bank: Bank, delivery_id: int) -> str:
    try:
        with session_scope(factory) as db:
            delivery = db.get_one(Delivery, delivery_id)
            holder = db.get_one(User, bank.holders[delivery.fund_id])
            spending.approve_delivery(db, delivery=delivery, by=holder)
            return "approved"
    except RuleBroken as refusal:
        return "refused" if "The fund holds" in refusal.message else refusal.message


def race(factory: sessionmaker[Session], *, writers: int, each: int) -> None:
    bank = open_bank(factory, per_fund=writers * each // FUNDS)
    shares = [bank.deliveries[n::writers] for n in range(writers)]
    outcomes = all_at_once(
        writers, lambda n: Counter(approve(factory, bank, d) for d in shares[n]).most_common()
    )
    assert all("Error" not in outcome for outcome in outcomes), outcomes
    affordable = HELD_PENCE // COST_PENCE
    with session_scope(factory, write=False) as db:
        for fund_id in bank.funds:
            fund = db.get_one(IndividualServiceFund, fund_id)
            assert fund.account is not None
            approved = db.scalar(
                select(func.count()).where(
                    Delivery.fund_id == fund_id, Delivery.status == DeliveryStatus.APPROVED
                )
            )
            expected = min(affordable, len(bank.deliveries) // FUNDS)
            # Every approval that the fund could afford happened, and no more.
            assert approved == expected
            assert fund.account.balance_pence == HELD_PENCE - approved * COST_PENCE >= 0
        paid = db.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(
                LedgerTransaction.reference_kind == ReferenceKind.DELIVERY,
                LedgerTransaction.reference_id.in_([str(d) for d in bank.deliveries]),
            )
        )
        assert paid == FUNDS * min(affordable, len(bank.deliveries) // FUNDS)
        assert db.scalar(select(func.sum(LedgerPosting.amount_pence))) == 0
        report = check_invariants(db)
        assert report.sound, report.violations


def test_sixteen_holders_approve_at_once_and_no_fund_is_overspent(
    writers: sessionmaker[Session],
) -> None:
    race(writers, writers=16, each=40)


@pytest.mark.proof
def test_sixteen_holders_approve_five_hundred_each(writers: sessionmaker[Session]) -> None:
    race(writers, writers=16, each=500)


def test_one_approval_sent_a_hundred_times_at_once_pays_once(
    writers: sessionmaker[Session],
) -> None:
    bank = open_bank(writers, per_fund=1)
    delivery_id = bank.deliveries[0]
    outcomes = all_at_once(100, lambda _: approve(writers, bank, delivery_id))
    assert outcomes == Counter({"approved": 100})
    with session_scope(writers, write=False) as db:
        assert db.get_one(Delivery, delivery_id).status == DeliveryStatus.APPROVED
        assert (
            db.scalar(
                select(func.count()).where(LedgerTransaction.reference_id == str(delivery_id))
            )
            == 1
        )


def test_one_payment_key_sent_a_hundred_times_at_once_pays_once(
    writers: sessionmaker[Session],
) -> None:
    bank = open_bank(writers, per_fund=1)
    approve(writers, bank, bank.deliveries[0])
    with session_scope(writers) as db:
        finance = make_user(db, role=Role.FINANCE, council="Highland")
        finance_id = finance.id
        provider_id = db.get_one(Delivery, bank.deliveries[0]).provider_id
    key = f"payment-storm-{provider_id}"

    def pay(_: int) -> int:
        with session_scope(writers) as db:
            return payments.record_payment(
                db,
                by=db.get_one(User, finance_id),
                provider_id=provider_id,
                amount_pence=SUPPORT_PENCE,
                reference="SDS STORM",
                paid_on=date(2027, 4, 9),
                idempotency_key=key,
                today=date(2027, 4, 9),
            ).id

    outcomes = all_at_once(100, pay)
    assert len(outcomes) == 1 and sum(outcomes.values()) == 100, outcomes
    with session_scope(writers, write=False) as db:
        assert (
            db.scalar(select(func.count()).where(ProviderPayment.provider_id == provider_id)) == 1
        )
