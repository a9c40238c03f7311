"""Builders for individual service fund tests, through the same services the pages use."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.models import FundingSchedule, FundStatus, IndividualServiceFund
from marketplace.accounts.models import Role, User
from marketplace.geography import service as geography_service
from providers import offers as offers_service
from providers.models import FeePeriod, Offer, PriceUnit, availability_bit
from tests.factories import make_offer, make_provider, make_user

PERIOD_START = date(2027, 4, 1)
PERIOD_END = date(2028, 3, 31)
"""A council's financial year: a whole year, whatever its days."""
MONDAY_MORNING = availability_bit(0, 0)
TUESDAY_MORNING = availability_bit(1, 0)


def holder_offer(
    db: Session, *, fee_bp: int | None = 1000, fixed_pence: int | None = None, **fields: Any
) -> Offer:
    """A published offer of a provider that holds ISFs, with a management fee (10% of what
    is spent by default)."""
    provider = make_provider(db, holds_isf=True)
    offer = make_offer(db, provider=provider, title="Holding your ISF", **fields)
    assert offer.price is not None
    offers_service.set_price(
        db,
        offer=offer,
        actor=provider.members[0].user,
        details=offers_service.PriceDetails(
            unit=offer.price.unit,
            rate_pence=offer.price.rate_pence,
            management_fee_bp=fee_bp,
            management_fee_fixed_pence=fixed_pence,
            management_fee_period=FeePeriod.MONTH if fixed_pence else None,
        ),
    )
    return offer


def holder_staff(fund: IndividualServiceFund) -> User:
    return fund.holder.members[0].user


def budget_holder(db: Session, council: str = "Highland") -> User:
    return make_user(db, role=Role.BUDGET_HOLDER, council=council)


def requested(
    db: Session, *, person: User | None = None, offer: Offer | None = None, **fields: Any
) -> IndividualServiceFund:
    """A fund asked for by a new supported person in Highland, held by a new ISF holder."""
    person = person or make_user(db)
    return funds.request_fund(
        db,
        requester=person,
        person=None,
        council=geography_service.find_council_area(db, name_or_code="Highland"),
        holder_offer=offer or holder_offer(db, **fields),
        note="I would like my support to be arranged around my work.",
    )


def agreeing(
    db: Session, *, annual_budget_pence: int = 1_040_000, **fields: Any
) -> tuple[IndividualServiceFund, User]:
    """A fund whose budget the council has set (£10,400 a year by default), and the budget
    holder who set it."""
    fund = requested(db, **fields)
    council_side = budget_holder(db)
    funds.set_budget(
        db,
        fund=fund,
        budget_holder=council_side,
        annual_budget_pence=annual_budget_pence,
        period_starts_on=PERIOD_START,
        period_ends_on=PERIOD_END,
        schedule=FundingSchedule.MONTHLY,
    )
    return fund, council_side


def support_offer(db: Session, *, rate_pence: int = 2000, **fields: Any) -> Offer:
    """An hourly offer by another provider, to pay for from the plan."""
    return make_offer(
        db, title="Swimming with a PA", rate_pence=rate_pence, unit=PriceUnit.HOUR, **fields
    )


def planned(db: Session, **fields: Any) -> tuple[IndividualServiceFund, User]:
    """A fund being agreed whose plan has an outcome and a line of 4 hours a week."""
    fund, council_side = agreeing(db, **fields)
    outcome = funds.add_outcome(
        db, fund=fund, by=fund.person, own_words="Keeping fit", term_code="staying-well"
    )
    funds.add_offer_line(
        db,
        fund=fund,
        by=fund.person,
        offer=support_offer(db),
        minutes_per_week=240,
        when=MONDAY_MORNING,
        starts_on=PERIOD_START,
        ends_on=PERIOD_END,
        outcome_ids=[outcome.id],
    )
    return fund, council_side


A_POUND_A_DAY_FOR_366_DAYS = 36_600
"""The budget of 1 April 2027 to 31 March 2028 (366 days) at £100 a day, in pounds."""


def active_fund(
    db: Session,
    *,
    schedule: FundingSchedule = FundingSchedule.MONTHLY,
    annual_budget_pence: int = A_POUND_A_DAY_FOR_366_DAYS * 100,
    period: tuple[date, date] = (PERIOD_START, PERIOD_END),
    **holder_fee: Any,
) -> IndividualServiceFund:
    """A fund agreed by all three sides, whose plan pays for 4 hours a week at £20 an hour
    (£80 a week) all year, held for a 10% fee (or the fee `holder_fee` gives holder_offer)."""
    fund = requested(db, **holder_fee)
    council_side = budget_holder(db)
    funds.set_budget(
        db,
        fund=fund,
        budget_holder=council_side,
        annual_budget_pence=annual_budget_pence,
        period_starts_on=period[0],
        period_ends_on=period[1],
        schedule=schedule,
    )
    outcome = funds.add_outcome(db, fund=fund, by=fund.person, own_words="Keeping fit")
    funds.add_offer_line(
        db,
        fund=fund,
        by=fund.person,
        offer=support_offer(db, rate_pence=2000),
        minutes_per_week=240,
        when=MONDAY_MORNING,
        starts_on=period[0],
        ends_on=period[1],
        outcome_ids=[outcome.id],
    )
    for side in (fund.person, holder_staff(fund), council_side):
        funds.accept_agreement(db, fund=fund, by=side)
    assert fund.status == FundStatus.ACTIVE
    return fund
