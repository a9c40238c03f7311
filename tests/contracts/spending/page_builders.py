"""A fund whose period runs today, for the spending pages: the pages record and approve
support on the real today, so the builders of tests/contracts/funds (a period in 2027)
cannot serve them."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import (
    BudgetLine,
    BudgetLineKind,
    FundingSchedule,
    FundStatus,
    IndividualServiceFund,
)
from contracts.spending import service as spending
from contracts.spending.models import Delivery
from marketplace.accounts.models import User
from marketplace.db import today
from tests.contracts.funds.fund_builders import (
    MONDAY_MORNING,
    budget_holder,
    holder_staff,
    requested,
    support_offer,
)

DAYS_INTO_THE_PERIOD = 60


def running_fund(
    db: Session,
    *,
    annual_budget_pence: int = 3_660_000,
    funded: bool = True,
    shared_line: bool = False,
) -> IndividualServiceFund:
    """A fund agreed by all three sides whose year began 60 days ago, paying for 4 hours a
    week at £20 an hour from another provider, held for a 10% fee, with the monthly
    tranches due so far paid in (unless `funded` is False). With `shared_line`, the plan
    also has a second outcome, a line of £10.01 a week described in words serving both
    outcomes, and a contingency of £100."""
    starts_on = today() - timedelta(days=DAYS_INTO_THE_PERIOD)
    ends_on = starts_on + timedelta(days=364)
    fund = requested(db)
    council_side = budget_holder(db)
    funds.set_budget(
        db,
        fund=fund,
        budget_holder=council_side,
        annual_budget_pence=annual_budget_pence,
        period_starts_on=starts_on,
        period_ends_on=ends_on,
        schedule=FundingSchedule.MONTHLY,
    )
    outcome = funds.add_outcome(
        db, fund=fund, by=fund.person, own_words="Keeping fit", term_code="staying-well"
    )
    funds.add_offer_line(
        db,
        fund=fund,
        by=fund.person,
        offer=support_offer(db, rate_pence=2000),
        minutes_per_week=240,
        when=MONDAY_MORNING,
        starts_on=starts_on,
        ends_on=ends_on,
        outcome_ids=[outcome.id],
    )
    if shared_line:
        other = funds.add_outcome(db, fund=fund, by=fund.person, own_words="Seeing my friends")
        funds.add_described_line(
            db,
            fund=fund,
            by=fund.person,
            title="Taxi to the lunch club",
            weekly_pence=1001,
            starts_on=starts_on,
            ends_on=ends_on,
            outcome_ids=[outcome.id, other.id],
        )
        funds.set_contingency(db, fund=fund, by=fund.person, amount_pence=10_000)
    for side in (fund.person, holder_staff(fund), council_side):
        funds.accept_agreement(db, fund=fund, by=side)
    assert fund.status == FundStatus.ACTIVE
    if funded:
        post_due_tranches(db, today=today())
    return fund


def offer_line(fund: IndividualServiceFund) -> BudgetLine:
    return next(line for line in fund.lines if line.kind == BudgetLineKind.OFFER)


def line_staff(fund: IndividualServiceFund) -> User:
    provider = offer_line(fund).provider
    assert provider is not None
    return provider.members[0].user


def recorded(db: Session, fund: IndividualServiceFund, *, minutes: int = 90) -> Delivery:
    return spending.record_support(
        db,
        fund=fund,
        line_id=offer_line(fund).id,
        by=line_staff(fund),
        delivered_on=today() - timedelta(days=1),
        minutes=minutes,
        description="Swimming at the leisure centre",
        today=today(),
    )


def confirmed(db: Session, fund: IndividualServiceFund, *, minutes: int = 90) -> Delivery:
    return spending.confirm_delivery(
        db, delivery=recorded(db, fund, minutes=minutes), by=fund.person
    )


def a_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, "PNG")
    return out.getvalue()
