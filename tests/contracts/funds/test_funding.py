"""A council pays a fund in by its schedule: all at the start, monthly or every four
weeks, each tranche paying for its days, and the tranches always add up to the budget."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from contracts.funds.funding import due_dates, months_on, tranches
from contracts.funds.models import FundingSchedule, IndividualServiceFund
from contracts.funds.plan import days_between, last_day_of_year_from, period_budget_pence


def fund_of(
    schedule: FundingSchedule, starts_on: date, ends_on: date, annual_pence: int
) -> IndividualServiceFund:
    """A fund's budget and schedule, as set by its council (not stored: sums only)."""
    return IndividualServiceFund(
        funding_schedule=schedule,
        period_starts_on=starts_on,
        period_ends_on=ends_on,
        annual_budget_pence=annual_pence,
    )


def test_upfront_is_the_whole_budget_on_the_first_day() -> None:
    fund = fund_of(FundingSchedule.UPFRONT, date(2027, 4, 1), date(2028, 3, 31), 1_040_000)
    [only] = tranches(fund)
    assert (only.due_on, only.covers_to, only.amount_pence) == (
        date(2027, 4, 1),
        date(2028, 3, 31),
        1_040_000,
    )


def test_monthly_over_a_year_is_twelve_tranches_paying_for_their_days() -> None:
    fund = fund_of(FundingSchedule.MONTHLY, date(2027, 4, 1), date(2028, 3, 31), 3_660_000)
    found = tranches(fund)
    assert [t.due_on for t in found] == [months_on(date(2027, 4, 1), k) for k in range(12)]
    # The year has 366 days, so £36,600 is £100 a day: April's 30 days are £3,000,
    # February 2028's 29 days £2,900.
    assert found[0].amount_pence == 300_000
    assert found[10].due_on == date(2028, 2, 1) and found[10].amount_pence == 290_000
    assert sum(t.amount_pence for t in found) == 3_660_000


def test_a_month_on_from_the_31st_is_the_last_day_of_a_shorter_month() -> None:
    assert months_on(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert months_on(date(2027, 1, 31), 2) == date(2027, 3, 31)
    assert months_on(date(2027, 12, 15), 1) == date(2028, 1, 15)


def test_four_weekly_tranches_are_28_days_apart_and_the_last_pays_for_what_is_left() -> None:
    dates = due_dates(FundingSchedule.FOUR_WEEKLY, date(2027, 4, 1), date(2028, 3, 30))
    assert all(later - earlier == timedelta(days=28) for earlier, later in pairwise(dates))
    assert len(dates) == 14  # 365 days: thirteen whole four-weeks and one day more


@given(
    schedule=st.sampled_from(list(FundingSchedule)),
    starts_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2040, 12, 31)),
    extra_days=st.integers(min_value=1, max_value=365),
    annual_pence=st.integers(min_value=1, max_value=100_000_000),
)
def test_tranches_always_add_up_to_the_budget_and_cover_every_day_once(
    schedule: FundingSchedule, starts_on: date, extra_days: int, annual_pence: int
) -> None:
    longest = days_between(starts_on, last_day_of_year_from(starts_on))
    # A period of two days up to a whole year (365 or 366 days) from its start.
    ends_on = starts_on + timedelta(days=min(extra_days, longest - 1))
    fund = fund_of(schedule, starts_on, ends_on, annual_pence)
    found = tranches(fund)
    assert sum(t.amount_pence for t in found) == period_budget_pence(fund)
    assert all(t.amount_pence >= 0 for t in found)
    assert found[0].due_on == starts_on and found[-1].covers_to == ends_on
    assert all(a.covers_to + timedelta(days=1) == b.due_on for a, b in pairwise(found))
