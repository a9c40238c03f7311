"""The person's next period: once a fund's period is closed, the council's budget holder
sets up the fund that renews it, with the plan still running and what the close carried
over as part of its budget; the money moves across, in one entry, when all three sides
have agreed it. A fund is renewed once, only after it is closed, and by its own council."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.funding import post_due_tranches, tranches
from contracts.funds.models import FundingSchedule, FundStatus, IndividualServiceFund
from contracts.funds.plan import funded_pence, plan_costs, share_of_year
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.spending import period_end
from contracts.spending import service as spending
from marketplace.accounts.models import User
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from tests.contracts.funds.fund_builders import (
    PERIOD_END,
    active_fund,
    adds_up,
    budget_holder,
    holder_staff,
    requested,
)
from tests.contracts.spending.test_deliveries import confirmed
from tests.contracts.spending.test_period_end import AFTER, finance

NEXT_START, NEXT_END = date(2028, 4, 1), date(2029, 3, 31)
NEXT_YEAR_PENCE = 4_000_000
CARRY_OVER_MAX_PENCE = 50_000


def closed_fund(db: Session, *, carry_over_max_pence: int = CARRY_OVER_MAX_PENCE):
    """A fund paid in full, with one approved delivery, closed under a rule that carries
    over up to `carry_over_max_pence` (the fund has more left than £500)."""
    fund = active_fund(db)
    post_due_tranches(db, today=AFTER)
    spending.approve_delivery(db, delivery=confirmed(db, fund), by=holder_staff(fund))
    staff = finance(db)
    period_end.set_underspend_rule(
        db, council=fund.council, by=staff, carry_over_max_pence=carry_over_max_pence
    )
    period_end.close_period(db, fund=fund, by=staff, today=AFTER)
    return fund


def renew(db: Session, fund: IndividualServiceFund, by: User | None = None, **fields: object):
    chosen: dict[str, object] = {
        "annual_budget_pence": NEXT_YEAR_PENCE,
        "period_starts_on": NEXT_START,
        "period_ends_on": NEXT_END,
        "schedule": FundingSchedule.MONTHLY,
    }
    chosen.update(fields)
    return period_end.renew_fund(
        db, fund=fund, budget_holder=by or budget_holder(db), **chosen  # type: ignore[arg-type]
    )


def test_the_next_period_brings_the_plan_and_the_carried_over_money(db: Session) -> None:
    fund = closed_fund(db)
    renewed = renew(db, fund)
    assert renewed.status == FundStatus.AGREEING and renewed.renews_id == fund.id
    assert (renewed.person_id, renewed.holder_id) == (fund.person_id, fund.holder_id)
    assert renewed.carried_in_pence == CARRY_OVER_MAX_PENCE
    assert [o.own_words for o in renewed.outcomes] == [o.own_words for o in fund.outcomes]
    [line] = renewed.lines
    [last_line] = fund.lines
    assert (line.weekly_pence, line.offer_price_id) == (
        last_line.weekly_pence,
        last_line.offer_price_id,
    )
    assert (line.starts_on, line.ends_on) == (NEXT_START, NEXT_END)
    assert [o.id for o in line.outcomes] == [o.id for o in renewed.outcomes]
    # The council pays in the new year's share; the carried-over money is the rest of
    # the period's budget, and the plan may spend it.
    funded = share_of_year(NEXT_YEAR_PENCE, NEXT_START, NEXT_END)
    assert funded_pence(renewed) == funded
    assert sum(t.amount_pence for t in tranches(renewed)) == funded
    assert plan_costs(renewed).budget_pence == funded + CARRY_OVER_MAX_PENCE
    assert funds.agreement_problems(renewed) == []
    # Agreed by all three, as any fund: the money moves across as it becomes active.
    for side in (renewed.person, holder_staff(renewed), budget_holder(db)):
        funds.accept_agreement(db, fund=renewed, by=side)
    assert renewed.status == FundStatus.ACTIVE
    assert fund.account is not None and renewed.account is not None
    assert (fund.account.balance_pence, renewed.account.balance_pence) == (
        0,
        CARRY_OVER_MAX_PENCE,
    )
    now = statement_of(db, renewed, on=NEXT_START)
    assert now.received_pence == now.available_pence == CARRY_OVER_MAX_PENCE
    assert now.budget_pence == funded + CARRY_OVER_MAX_PENCE and adds_up(now)
    assert "Carried over from the last period" in now.entries[0].reason
    last = statement_of(db, fund, on=AFTER)
    assert last.available_pence == 0 and adds_up(last)
    assert check_invariants(db).sound


def test_nothing_carried_over_moves_nothing(db: Session) -> None:
    fund = closed_fund(db, carry_over_max_pence=0)
    renewed = renew(db, fund)
    assert renewed.carried_in_pence == 0
    for side in (renewed.person, holder_staff(renewed), budget_holder(db)):
        funds.accept_agreement(db, fund=renewed, by=side)
    assert renewed.account is not None and renewed.account.balance_pence == 0
    assert statement_of(db, renewed, on=NEXT_START).entries == ()


def test_support_that_ended_before_the_period_did_does_not_come_with_it(db: Session) -> None:
    fund = closed_fund(db)
    [line] = fund.lines
    line.ends_on = date(2027, 12, 31)
    db.flush()
    renewed = renew(db, fund)
    assert renewed.lines == [] and funds.agreement_problems(renewed) == [
        "The plan has at least one line of support"
    ]


def test_a_fund_is_renewed_once_after_it_closes_by_its_councils_budget_holder(
    db: Session,
) -> None:
    still_active = active_fund(db)
    with pytest.raises(Conflict, match="once its period has been closed"):
        renew(db, still_active)
    fund = closed_fund(db)
    with pytest.raises(NotAllowed):
        renew(db, fund, by=finance(db))
    with pytest.raises(NotFound):
        renew(db, fund, by=budget_holder(db, "Fife"))
    with pytest.raises(RuleBroken, match="start the next one after that day"):
        renew(db, fund, period_starts_on=PERIOD_END, period_ends_on=date(2029, 3, 30))
    with pytest.raises(RuleBroken, match="A period can be a year at most"):
        renew(db, fund, period_ends_on=date(2029, 4, 1))
    renewed = renew(db, fund)
    with pytest.raises(Conflict, match=f"renewed already, by fund {renewed.id}"):
        renew(db, fund)


def test_a_person_who_has_asked_for_another_fund_is_not_given_a_second(db: Session) -> None:
    fund = closed_fund(db)
    requested(db, person=fund.person)
    with pytest.raises(Conflict, match="already an individual service fund"):
        renew(db, fund)
