"""The demo's funds are real on first run: Morag Lindsay's fund, held by Glen Care
Co-operative, paid in monthly to today and spent on months of support, one week of it
disputed now; other people's funds in every state for the budget holder, holders and
finance; providers paid; every statement's figures agree, and the ledger is sound."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.demo import STATES, financial_year
from contracts.funds.funding import tranches
from contracts.funds.models import FundStatus, IndividualServiceFund
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.spending.models import Delivery, DeliveryStatus, ProviderPayment
from contracts.spending.period_end import closing_of
from contracts.spending.service import deliveries_of
from marketplace.db import today
from tests.conftest import DEMO_GROUP, DemoDatabase

pytestmark = DEMO_GROUP


@pytest.fixture(scope="module")
def demo(demo_database: DemoDatabase) -> Iterator[Session]:
    """The shared demo database, read in a transaction rolled back after the module."""
    connection = demo_database.engine.connect()
    outer = connection.begin()
    yield Session(bind=connection, join_transaction_mode="create_savepoint")
    outer.rollback()
    connection.close()


def all_funds(demo: Session) -> list[IndividualServiceFund]:
    return list(demo.scalars(select(IndividualServiceFund).order_by(IndividualServiceFund.id)))


def test_morags_fund_is_active_with_glen_care_and_paid_to_today(demo: Session) -> None:
    morags = next(f for f in all_funds(demo) if f.person.email == "person@example.org")
    assert morags.status == FundStatus.ACTIVE
    assert morags.holder.name == "Glen Care Co-operative"
    assert (morags.period_starts_on, morags.period_ends_on) == financial_year(today())
    statement = statement_of(demo, morags, on=today())
    due = [t for t in tranches(morags) if t.due_on <= today()]
    assert statement.received_pence == sum(t.amount_pence for t in due)
    approved = deliveries_of(demo, fund=morags, statuses=[DeliveryStatus.APPROVED])
    assert statement.spent_pence == sum(d.amount_pence for d in approved) > 0
    assert len(statement.entries) == len(due) + len(approved)


def test_morag_has_support_to_confirm_and_a_dispute_on_the_record(demo: Session) -> None:
    morags = next(f for f in all_funds(demo) if f.person.email == "person@example.org")
    deliveries = deliveries_of(demo, fund=morags)
    statuses = Counter(d.status for d in deliveries)
    assert statuses[DeliveryStatus.DISPUTED] == 1
    assert statuses[DeliveryStatus.APPROVED] > 20
    put_right = [d for d in deliveries if d.resolution]
    assert len(put_right) == 1 and put_right[0].status == DeliveryStatus.APPROVED
    # The purchases for the lunch club, each with its receipt.
    assert any(d.receipt_id is not None for d in deliveries)


def test_the_holders_and_finance_have_work_and_providers_have_been_paid(demo: Session) -> None:
    statuses = Counter(demo.scalars(select(Delivery.status)))
    assert statuses[DeliveryStatus.CONFIRMED] >= 5  # the holders' queue
    assert statuses[DeliveryStatus.RECORDED] >= 1  # people's confirmations
    paid = demo.scalars(select(ProviderPayment)).all()
    assert paid and all(p.paid_on <= today() for p in paid)


def test_every_state_has_funds_for_someone_to_work_on(demo: Session) -> None:
    states = Counter(fund.status for fund in all_funds(demo))
    assert set(states) == set(FundStatus)
    assert states[FundStatus.REQUESTED] >= 5  # the budget holder's queue
    closed = [fund for fund in all_funds(demo) if fund.status == FundStatus.CLOSED]
    assert len(closed) == STATES.count("last_year")
    for fund in closed:
        closing = closing_of(demo, fund)
        assert closing is not None and closing.carried_pence <= 50_000
        assert fund.account is not None and fund.account.balance_pence == closing.carried_pence


def test_every_statement_adds_up_and_the_ledger_is_sound(demo: Session) -> None:
    for fund in all_funds(demo):
        if fund.status not in (FundStatus.ACTIVE, FundStatus.CLOSED):
            continue
        s = statement_of(demo, fund, on=today())
        assert s.available_pence == s.received_pence - s.spent_pence - s.fees_charged_pence
        assert s.projected_end_pence == (
            s.budget_pence
            - s.spent_pence
            - s.fees_charged_pence
            - s.committed_pence
            - s.fees_to_come_pence
        )
        assert fund.account is not None and fund.account.balance_pence == s.available_pence
    report = check_invariants(demo)
    assert report.sound, report.violations
