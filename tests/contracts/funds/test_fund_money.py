"""A fund's money: once all three sides accept, the fund has its own account; the council
pays each tranche in on its date (running the daily work again pays nothing twice); and the
statement reads what was received, spent and charged from the ledger and what is committed
from the plan, its figures always agreeing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts import ledger
from contracts.funds.accounts import (
    council_funding_account,
    management_fees_account,
    payable_account,
)
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import FundingSchedule, IndividualServiceFund
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.models import AccountKind, LedgerTransaction, ReferenceKind
from marketplace.accounts.models import Role
from providers.models import Provider
from tests.contracts.funds.fund_builders import (
    A_POUND_A_DAY_FOR_366_DAYS,
    PERIOD_END,
    PERIOD_START,
    active_fund,
    adds_up,
    requested,
)
from tests.factories import make_user


def tranche_count(db: Session) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.reference_kind == ReferenceKind.FUNDING_TRANCHE)
        )
        or 0
    )


class TestAccounts:
    def test_an_active_fund_has_its_own_account_held_by_its_holder(self, db: Session) -> None:
        fund = active_fund(db)
        assert fund.account is not None
        assert fund.account.kind == AccountKind.ISF_FUNDS
        assert fund.account.provider_id == fund.holder_id
        assert fund.account.balance_pence == 0 and not fund.account.allow_overdraft

    def test_two_funds_of_one_council_are_paid_from_one_funding_source(self, db: Session) -> None:
        first, second = active_fund(db), active_fund(db)
        assert (
            council_funding_account(db, first.council).id
            == council_funding_account(db, second.council).id
        )


class TestFunding:
    def test_each_tranche_is_paid_in_on_its_date_and_once(self, db: Session) -> None:
        fund = active_fund(db)
        assert post_due_tranches(db, today=date(2027, 3, 31)) == []
        [april] = post_due_tranches(db, today=PERIOD_START)
        assert april.reason.startswith("Funding from Highland Council: tranche 1 of 12")
        # £100 a day: April's 30 days.
        assert statement_of(db, fund, on=PERIOD_START).received_pence == 30 * 100 * 100
        may_and_june = post_due_tranches(db, today=date(2027, 6, 15))
        assert len(may_and_june) == 2
        assert post_due_tranches(db, today=date(2027, 6, 15)) == []
        assert tranche_count(db) == 3
        received = (30 + 31 + 30) * 100 * 100
        assert statement_of(db, fund, on=date(2027, 6, 15)).received_pence == received
        assert council_funding_account(db, fund.council).balance_pence == -received
        assert check_invariants(db).sound

    def test_upfront_pays_the_whole_budget_on_the_first_day(self, db: Session) -> None:
        fund = active_fund(db, schedule=FundingSchedule.UPFRONT)
        post_due_tranches(db, today=date(2027, 12, 1))
        assert fund.account is not None
        assert fund.account.balance_pence == A_POUND_A_DAY_FOR_366_DAYS * 100

    def test_a_fund_not_yet_agreed_is_paid_nothing(self, db: Session) -> None:
        requested(db)
        assert post_due_tranches(db, today=date(2027, 12, 1)) == []


class TestStatement:
    def test_committed_is_the_plan_from_today_and_the_figures_agree(self, db: Session) -> None:
        fund = active_fund(db)
        on = date(2027, 6, 15)
        post_due_tranches(db, today=on)
        statement = statement_of(db, fund, on=on)
        days_left = (PERIOD_END - on).days + 1
        assert statement.committed_pence == round(8000 * days_left / 7)
        assert statement.fees_to_come_pence == round(statement.committed_pence / 10)
        assert adds_up(statement)
        assert statement.days_elapsed == (on - PERIOD_START).days + 1
        assert [entry.caused_by for entry in statement.entries] == ["Scheduled"] * 3

    def test_spending_and_fees_are_read_from_where_the_money_went(self, db: Session) -> None:
        fund = active_fund(db)
        post_due_tranches(db, today=PERIOD_START)
        assert fund.account is not None
        provider = support_line_provider(fund)
        payable = payable_account(db, provider, fund.council)
        fees = management_fees_account(db, fund.holder)
        finance = make_user(db, role=Role.FINANCE, council="Highland")
        # One approval that pays the provider £80 and the holder's £8 fee together.
        ledger.post_transaction(
            db,
            idempotency_key="approval-test-1",
            actor=ledger.Actor.of(finance),
            reason="Support on 5 April 2027, approved",
            reference=ledger.Reference(ReferenceKind.DELIVERY, "1"),
            legs=[
                ledger.Leg(fund.account, -8_800),
                ledger.Leg(payable, 8_000),
                ledger.Leg(fees, 800),
            ],
        )
        statement = statement_of(db, fund, on=date(2027, 4, 6))
        assert (statement.spent_pence, statement.fees_charged_pence) == (8_000, 800)
        assert statement.available_pence == 30 * 100 * 100 - 8_800
        assert statement.entries[-1].amount_pence == -8_800
        assert statement.entries[-1].balance_pence == statement.available_pence
        assert statement.entries[-1].caused_by == f"{finance.name} (finance)"

    def test_the_statement_warns_at_85_percent_spent_and_when_the_plan_will_overspend(
        self, db: Session
    ) -> None:
        fund = active_fund(db, schedule=FundingSchedule.UPFRONT)
        post_due_tranches(db, today=PERIOD_START)
        assert fund.account is not None
        payable = payable_account(db, support_line_provider(fund), fund.council)
        budget = A_POUND_A_DAY_FOR_366_DAYS * 100
        finance = ledger.Actor.of(make_user(db, role=Role.FINANCE, council="Highland"))

        def spend(share_percent: int, key: str) -> list[str]:
            assert fund.account is not None
            ledger.transfer(
                db,
                source=fund.account,
                destination=payable,
                amount_pence=budget * share_percent // 100,
                idempotency_key=key,
                actor=finance,
                reason="A large purchase",
                reference=ledger.Reference(ReferenceKind.DELIVERY, key),
            )
            return statement_of(db, fund, on=PERIOD_START).alerts

        # 85% spent leaves £5,490, more than the year's plan (£4,182.86) and its fee (£418.29).
        assert spend(85, "big-spend-1") == ["85% of the budget has been spent"]
        # 10% more leaves £1,830: the plan would overspend.
        assert spend(10, "big-spend-2") == [
            "95% of the budget has been spent",
            "At the planned rate, the plan will cost more than the budget",
        ]


def support_line_provider(fund: IndividualServiceFund) -> Provider:
    """The provider of the fund's line for a marketplace offer."""
    provider = next(line.provider for line in fund.lines if line.provider is not None)
    assert provider is not None
    return provider
