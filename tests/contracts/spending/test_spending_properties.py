"""Spending against a model of itself in plain Python: Hypothesis lets days pass (tranches
paid in, fixed fees charged), records support, confirms, disputes, puts disputes right,
withdraws, refuses and approves it, tops funds up and claws money back, pays providers and
retries what was sent before, and closes funds' periods under the council's underspend
rule, in any order; after every step the fund, what each provider is owed, the holder's
fees and the underspend returned must be what the model says, every statement must add
up, and every ledger invariant must hold."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from contracts.funds.accounts import management_fees_account, payable_account
from contracts.funds.funding import FundingAdjustment, adjust_funding, post_due_tranches, tranches
from contracts.funds.models import IndividualServiceFund
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.models import AccountKind, LedgerAccount
from contracts.spending import payments, period_end
from contracts.spending import service as spending
from contracts.spending.fees import charge_due_fees, fee_months
from contracts.spending.models import Delivery, DeliveryStatus
from marketplace.accounts.models import Role
from marketplace.errors import Conflict, DomainError, NotFound, RuleBroken
from providers.pricing import divide_rounding
from tests.contracts.funds.fund_builders import (
    PERIOD_END,
    PERIOD_START,
    active_fund,
    adds_up,
    holder_staff,
)
from tests.contracts.spending.test_deliveries import line_staff, offer_line
from tests.factories import make_user

WEEKLY_PENCE, MINUTES_PER_WEEK = 8_000, 240
"""Every fund's line: 4 hours a week at £20 an hour."""
FEE_SHARE_BP = 1_000
FIXED_FEE_PENCE = 1_500
A_SMALL_BUDGET_PENCE = 500_000
"""£5,000 a year, monthly: a fund that runs short if support is approved freely."""
CARRY_OVER_PENCE = 20_000
"""The council's rule: up to £200 of a fund's underspend is carried over."""

OPEN = (DeliveryStatus.RECORDED, DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED)


@dataclass
class Modelled:
    """What the model knows of one delivery."""

    delivery_id: int
    fund: int
    status: DeliveryStatus
    amount_pence: int


class SpendingMachine(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.connection = engine.connect()
        self.outer = self.connection.begin()
        self.db = Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        # Two funds held by one holder would share its fees account; two holders keep
        # each fund's fee in the model simple. One with a share-of-spending fee, one with a
        # fixed monthly fee as well.
        self.funds: list[IndividualServiceFund] = [
            active_fund(self.db, annual_budget_pence=A_SMALL_BUDGET_PENCE),
            active_fund(
                self.db,
                annual_budget_pence=A_SMALL_BUDGET_PENCE,
                fee_bp=FEE_SHARE_BP,
                fixed_pence=FIXED_FEE_PENCE,
            ),
        ]
        self.finance = make_user(self.db, role=Role.FINANCE, council="Highland")
        period_end.set_underspend_rule(
            self.db,
            council=self.funds[0].council,
            by=self.finance,
            carry_over_max_pence=CARRY_OVER_PENCE,
        )
        self.closed = [False, False]
        self.returned = 0
        self.day = PERIOD_START - timedelta(days=1)
        self.balance = [0, 0]
        self.fees = [0, 0]
        self.owed = [0, 0]
        self.tranches_paid = [0, 0]
        self.months_charged = [0, 0]
        self.deliveries: list[Modelled] = []
        self.approvals: dict[int, int] = {}
        self.keys = itertools.count()
        self.payments: list[tuple[str, int, int]] = []

    def teardown(self) -> None:
        self.db.close()
        self.outer.rollback()
        self.connection.close()

    # Helpers -----------------------------------------------------------------------------

    def attempt(self, act: object) -> DomainError | None:
        """Run a request in its own savepoint, rolled back if it is refused."""
        try:
            with self.db.begin_nested():
                act()  # type: ignore[operator]
        except DomainError as refusal:
            return refusal
        return None

    def pick(self, data: st.DataObject, preferring: tuple[DeliveryStatus, ...]) -> Modelled:
        """A delivery: as often as not one the step may be taken on, so that runs go far
        along the way to being paid, and otherwise any (to be refused)."""
        ready = [m for m in self.deliveries if m.status in preferring]
        if ready and data.draw(st.booleans()):
            return data.draw(st.sampled_from(ready))
        return data.draw(st.sampled_from(self.deliveries))

    def delivery(self, modelled: Modelled) -> Delivery:
        return self.db.get_one(Delivery, modelled.delivery_id)

    def fee_on(self, index: int, pence: int) -> int:
        return divide_rounding(pence * FEE_SHARE_BP, 10_000)

    def provider_of(self, index: int) -> int:
        provider_id = offer_line(self.funds[index]).provider_id
        assert provider_id is not None
        return provider_id

    # Time passes -----------------------------------------------------------------------

    # Now and then a season at once, so that runs reach the period's end and close it.
    @rule(days=st.integers(min_value=1, max_value=40) | st.just(150))
    def days_pass(self, days: int) -> None:
        self.day += timedelta(days=days)
        post_due_tranches(self.db, today=self.day)
        charge_due_fees(self.db, today=self.day)
        for index, fund in enumerate(self.funds):
            if self.closed[index]:
                continue
            due = [t for t in tranches(fund) if t.due_on <= self.day]
            for tranche in due[self.tranches_paid[index] :]:
                self.balance[index] += tranche.amount_pence
            self.tranches_paid[index] = len(due)
            self.charge_fixed_fees(index)

    def charge_fixed_fees(self, index: int) -> None:
        """Fixed fees of the months that have ended, in order, while the fund can pay."""
        fund = self.funds[index]
        months = [m for m in fee_months(fund) if m.ends_on < self.day and m.fixed_pence]
        for month in months[self.months_charged[index] :]:
            if self.balance[index] < month.fixed_pence:
                break
            self.balance[index] -= month.fixed_pence
            self.fees[index] += month.fixed_pence
            self.months_charged[index] += 1

    # Support ---------------------------------------------------------------------------

    @precondition(lambda self: self.day >= PERIOD_START)
    @rule(index=st.integers(0, 1), minutes=st.integers(min_value=15, max_value=600))
    def record(self, index: int, minutes: int) -> None:
        fund = self.funds[index]

        def act() -> Delivery:
            return spending.record_support(
                self.db,
                fund=fund,
                line_id=offer_line(fund).id,
                by=line_staff(fund),
                delivered_on=min(self.day, PERIOD_END),
                minutes=minutes,
                description="Support at home",
                today=self.day,
            )

        if self.closed[index]:
            # A closed fund's pages are gone for the provider: nothing more is recorded.
            assert isinstance(self.attempt(act), NotFound)
            return
        made = act()
        amount = divide_rounding(WEEKLY_PENCE * minutes, MINUTES_PER_WEEK)
        assert made.amount_pence == amount
        self.deliveries.append(Modelled(made.id, index, DeliveryStatus.RECORDED, amount))

    def step(
        self,
        data: st.DataObject,
        allowed: tuple[DeliveryStatus, ...],
        then: DeliveryStatus,
        act: object,
    ) -> Modelled | None:
        """Draw a delivery and take a step on it; the delivery, if the step was taken."""
        modelled = self.pick(data, allowed)
        refusal = self.attempt(lambda: act(self.delivery(modelled)))  # type: ignore[operator]
        if modelled.status not in allowed:
            assert isinstance(refusal, Conflict), refusal
            return None
        assert refusal is None, refusal
        modelled.status = then
        return modelled

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        self.step(
            data,
            (DeliveryStatus.RECORDED, DeliveryStatus.DISPUTED),
            DeliveryStatus.CONFIRMED,
            lambda d: spending.confirm_delivery(self.db, delivery=d, by=d.fund.person),
        )

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data())
    def dispute(self, data: st.DataObject) -> None:
        self.step(
            data,
            (DeliveryStatus.RECORDED,),
            DeliveryStatus.DISPUTED,
            lambda d: spending.dispute_delivery(
                self.db, delivery=d, by=d.fund.person, reason="Shorter than that"
            ),
        )

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data(), minutes=st.none() | st.integers(min_value=15, max_value=600))
    def resolve(self, data: st.DataObject, minutes: int | None) -> None:
        modelled = self.step(
            data,
            (DeliveryStatus.DISPUTED,),
            DeliveryStatus.RECORDED,
            lambda d: spending.resolve_dispute(
                self.db,
                delivery=d,
                by=line_staff(d.fund),
                resolution="Put right",
                minutes=minutes,
            ),
        )
        if modelled is not None and minutes is not None:
            modelled.amount_pence = divide_rounding(WEEKLY_PENCE * minutes, MINUTES_PER_WEEK)

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        self.step(
            data,
            OPEN,
            DeliveryStatus.WITHDRAWN,
            lambda d: spending.withdraw_delivery(
                self.db, delivery=d, by=line_staff(d.fund), reason="Recorded twice"
            ),
        )

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data())
    def refuse(self, data: st.DataObject) -> None:
        self.step(
            data,
            OPEN,
            DeliveryStatus.REFUSED,
            lambda d: spending.refuse_delivery(
                self.db, delivery=d, by=holder_staff(d.fund), reason="Not in the plan"
            ),
        )

    @precondition(lambda self: self.deliveries)
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        modelled = self.pick(data, (DeliveryStatus.CONFIRMED,))
        index = modelled.fund
        refusal = self.attempt(
            lambda: spending.approve_delivery(
                self.db,
                delivery=self.delivery(modelled),
                by=holder_staff(self.funds[index]),
            )
        )
        cost = modelled.amount_pence + self.fee_on(index, modelled.amount_pence)
        event(f"approve a {modelled.status.value} delivery" + (": refused" if refusal else ""))
        if modelled.status == DeliveryStatus.APPROVED:
            assert refusal is None, refusal  # approving again does nothing more
        elif modelled.status != DeliveryStatus.CONFIRMED:
            assert isinstance(refusal, Conflict), refusal
        elif self.balance[index] < cost:
            assert isinstance(refusal, RuleBroken) and "The fund holds" in refusal.message
        else:
            assert refusal is None, refusal
            modelled.status = DeliveryStatus.APPROVED
            self.balance[index] -= cost
            self.fees[index] += cost - modelled.amount_pence
            self.owed[index] += modelled.amount_pence

    # Money from the council and to providers -------------------------------------------

    @precondition(lambda self: self.day >= PERIOD_START)
    @rule(
        index=st.integers(0, 1),
        adjustment=st.sampled_from(list(FundingAdjustment)),
        amount=st.integers(min_value=1, max_value=60_000),
    )
    def adjust(self, index: int, adjustment: FundingAdjustment, amount: int) -> None:
        refusal = self.attempt(
            lambda: adjust_funding(
                self.db,
                fund=self.funds[index],
                by=self.finance,
                adjustment=adjustment,
                amount_pence=amount,
                reason="A change in the person's needs",
                idempotency_key=f"adjust-{next(self.keys):06d}",
            )
        )
        if self.closed[index]:
            assert isinstance(refusal, Conflict), refusal
        elif adjustment == FundingAdjustment.TOP_UP:
            assert refusal is None, refusal
            self.balance[index] += amount
        elif amount > self.balance[index]:
            assert isinstance(refusal, RuleBroken), refusal
        else:
            assert refusal is None, refusal
            self.balance[index] -= amount

    @precondition(lambda self: any(self.owed))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from([i for i in (0, 1) if self.owed[i]]))
        amount = data.draw(st.integers(min_value=1, max_value=self.owed[index]))
        key = f"payment-{next(self.keys):06d}"
        refusal = self.attempt(lambda: self.send_payment(index, amount, key))
        assert refusal is None, refusal
        self.owed[index] -= amount
        self.payments.append((key, index, amount))

    def send_payment(self, index: int, amount: int, key: str) -> None:
        payments.record_payment(
            self.db,
            by=self.finance,
            provider_id=self.provider_of(index),
            amount_pence=amount,
            reference="SDS",
            paid_on=self.day,
            idempotency_key=key,
            today=self.day,
        )

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def pay_again(self, data: st.DataObject) -> None:
        key, index, amount = data.draw(st.sampled_from(self.payments))
        assert self.attempt(lambda: self.send_payment(index, amount, key)) is None

    # The period's end -------------------------------------------------------------------

    # Refusals before the end are the unit tests' (test_period_end); steps go further here.
    @precondition(lambda self: self.day > PERIOD_END)
    @rule(index=st.integers(0, 1))
    def close(self, index: int) -> None:
        refusal = self.attempt(
            lambda: period_end.close_period(
                self.db, fund=self.funds[index], by=self.finance, today=self.day
            )
        )
        waiting = any(m.fund == index and m.status in OPEN for m in self.deliveries)
        event("close" + (": refused" if refusal else ""))
        if self.closed[index]:
            assert isinstance(refusal, Conflict), refusal
        elif waiting:
            assert isinstance(refusal, RuleBroken), refusal
        else:
            assert refusal is None, refusal
            self.charge_fixed_fees(index)
            carried = min(self.balance[index], CARRY_OVER_PENCE)
            self.returned += self.balance[index] - carried
            self.balance[index] = carried
            self.closed[index] = True

    # After every step ------------------------------------------------------------------

    @invariant()
    def the_books_agree_with_the_model(self) -> None:
        for index, fund in enumerate(self.funds):
            assert fund.account is not None
            self.db.refresh(fund.account)
            assert fund.account.balance_pence == self.balance[index] >= 0
            statement = statement_of(self.db, fund, on=max(self.day, PERIOD_START))
            assert statement.available_pence == self.balance[index]
            assert adds_up(statement)
            provider = offer_line(fund).provider
            assert provider is not None
            assert (
                payable_account(self.db, provider, fund.council).balance_pence == (self.owed[index])
            )
            assert management_fees_account(self.db, fund.holder).balance_pence == self.fees[index]
        returned = self.db.scalar(
            select(LedgerAccount.balance_pence).where(
                LedgerAccount.kind == AccountKind.RETURNED_UNDERSPEND,
                LedgerAccount.council_id == self.funds[0].council_id,
            )
        )
        assert (returned or 0) == self.returned
        for modelled in self.deliveries:
            assert self.delivery(modelled).status == modelled.status
            assert self.delivery(modelled).amount_pence == modelled.amount_pence
        report = check_invariants(self.db)
        assert report.sound, report.violations


def run_machine(engine: Engine, *, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: SpendingMachine(engine),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_spending_behaves_like_its_model(engine: Engine) -> None:
    run_machine(engine, examples=8, steps=25)


@pytest.mark.proof
@pytest.mark.timeout(3_600)  # 10,000 steps: a quarter of an hour or more on a database
def test_spending_behaves_like_its_model_at_length(engine: Engine) -> None:
    run_machine(engine, examples=200, steps=50)
