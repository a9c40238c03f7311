"""What a support plan costs over its fund's period: each budget line's share of the
period, the contingency, the holder's management fee, and what is left of the budget. The
one way the plan editor, the agreement, the statement and the API add it up, in integer
pence rounded half up (providers.pricing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from contracts.funds.models import BudgetLine, BudgetLineKind, IndividualServiceFund
from providers.models import FeePeriod
from providers.pricing import (
    BASIS_POINTS,
    MONTHS_PER_YEAR,
    divide_rounding,
    fee_percent,
)

DAYS_PER_WEEK = 7
DAYS_PER_YEAR = 365


def days_between(starts_on: date, ends_on: date) -> int:
    """Days from one date to another, both counted."""
    return max(0, (ends_on - starts_on).days + 1)


def is_whole_year(starts_on: date, ends_on: date) -> bool:
    """Whether the period runs one calendar year to the day (1 April to 31 March, say), so
    that it is worth a whole year's budget whether or not it holds a 29 February."""
    try:
        year_on = starts_on.replace(year=starts_on.year + 1)
    except ValueError:  # from 29 February: a year on is 1 March
        year_on = date(starts_on.year + 1, 3, 1)
    return ends_on == year_on - timedelta(days=1)


def share_of_year(annual_pence: int, starts_on: date, ends_on: date) -> int:
    """An annual amount's share of a period: all of it for a whole year, else by days."""
    if is_whole_year(starts_on, ends_on):
        return annual_pence
    return divide_rounding(annual_pence * days_between(starts_on, ends_on), DAYS_PER_YEAR)


def last_day_of_year_from(starts_on: date) -> date:
    """The last day of a period of one year starting on `starts_on`: the longest allowed."""
    try:
        return starts_on.replace(year=starts_on.year + 1) - timedelta(days=1)
    except ValueError:
        return date(starts_on.year + 1, 2, 28)


@dataclass(frozen=True)
class LineCost:
    line: BudgetLine
    period_pence: int
    """What the line costs within the fund's period."""
    days: int
    """Its days within the period."""


@dataclass(frozen=True)
class PlanCosts:
    """A support plan's sums for its fund's period."""

    budget_pence: int
    lines: tuple[LineCost, ...]
    support_pence: int
    """The weekly lines over the period."""
    contingency_pence: int
    fee_pence: int
    """The holder's management fee on the planned support, for the period."""

    @property
    def total_pence(self) -> int:
        return self.support_pence + self.contingency_pence + self.fee_pence

    @property
    def headroom_pence(self) -> int:
        """What the budget leaves unplanned; negative when the plan allocates too much."""
        return self.budget_pence - self.total_pence

    @property
    def fee_percent(self) -> str | None:
        return fee_percent(fee_pence=self.fee_pence, support_pence=self.support_pence)

    @property
    def weekly_pence(self) -> int:
        """A week of every weekly line together, as agreed."""
        return sum(cost.line.weekly_pence or 0 for cost in self.lines)


class LineTerms(Protocol):
    """What a line's money is worked out from: a budget line, or one as a change of use
    would leave it (contracts.changes)."""

    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> BudgetLineKind: ...
    @property
    def weekly_pence(self) -> int | None: ...
    @property
    def amount_pence(self) -> int | None: ...
    @property
    def moved_pence(self) -> int | None: ...
    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...


def line_period_pence(line: LineTerms, starts_on: date, ends_on: date) -> tuple[int, int]:
    """(pence, days): a line's allocation within a period. A weekly line costs its week's
    price for each seven of its days in the period (a part week pro rata); a contingency or
    a purchase its amount; each with what changes of use moved into or out of it."""
    moved = line.moved_pence or 0
    if not line.kind.is_weekly:
        return (line.amount_pence or 0) + moved, days_between(starts_on, ends_on)
    days = days_between(max(line.starts_on, starts_on), min(line.ends_on, ends_on))
    return divide_rounding((line.weekly_pence or 0) * days, DAYS_PER_WEEK) + moved, days


def line_committed_pence(
    line: LineTerms, from_day: date, ends_on: date, *, spent_pence: int = 0
) -> int:
    """What the plan will still spend on a line from `from_day` to the period's end
    (`ends_on`): a weekly line's weeks still to come, with what was moved into or out of
    it (money moved out is not planned to be spent; once its weeks to come are worth less
    than that, nothing more is); a purchase not yet paid for (less `spent_pence` on it),
    until its day; nothing for the contingency, which is set aside, not planned."""
    if line.kind == BudgetLineKind.CONTINGENCY or from_day > min(line.ends_on, ends_on):
        return 0
    moved = line.moved_pence or 0
    if line.kind == BudgetLineKind.PURCHASE:
        return max(0, (line.amount_pence or 0) + moved - spent_pence)
    days = days_between(max(line.starts_on, from_day), min(line.ends_on, ends_on))
    return max(0, divide_rounding((line.weekly_pence or 0) * days, DAYS_PER_WEEK) + moved)


def fee_pence(
    fund: IndividualServiceFund, *, support_pence: int, starts_on: date, ends_on: date
) -> int:
    """The holder's management fee for the days from `starts_on` to `ends_on` on
    `support_pence` of support in them: its share of what is spent plus its fixed charge for
    each week, month or year of those days, at the fee agreed when the fund was asked for."""
    price = fund.holder_price
    fee = 0
    if price.management_fee_bp:
        fee += divide_rounding(support_pence * price.management_fee_bp, BASIS_POINTS)
    if price.management_fee_fixed_pence and ends_on >= starts_on:
        fixed = price.management_fee_fixed_pence
        if price.management_fee_period == FeePeriod.YEAR:
            fee += share_of_year(fixed, starts_on, ends_on)
        elif price.management_fee_period == FeePeriod.MONTH:
            fee += share_of_year(fixed * MONTHS_PER_YEAR, starts_on, ends_on)
        else:
            fee += divide_rounding(fixed * days_between(starts_on, ends_on), DAYS_PER_WEEK)
    return fee


def period_fee_pence(fund: IndividualServiceFund, *, support_pence: int) -> int:
    """The holder's management fee for the fund's whole period."""
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    return fee_pence(
        fund,
        support_pence=support_pence,
        starts_on=fund.period_starts_on,
        ends_on=fund.period_ends_on,
    )


def funded_pence(fund: IndividualServiceFund) -> int:
    """What the council pays in for the period: the annual budget's share of it."""
    assert fund.annual_budget_pence is not None
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    return share_of_year(fund.annual_budget_pence, fund.period_starts_on, fund.period_ends_on)


def period_budget_pence(fund: IndividualServiceFund) -> int:
    """The period's budget: what the council pays in, and what the last period carried
    over into it."""
    return funded_pence(fund) + (fund.carried_in_pence or 0)


def plan_costs(fund: IndividualServiceFund, *, lines: list[BudgetLine] | None = None) -> PlanCosts:
    """The plan's sums: of the fund's lines, or of `lines` (a plan being changed)."""
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    costs = []
    for line in fund.lines if lines is None else lines:
        pence, days = line_period_pence(line, fund.period_starts_on, fund.period_ends_on)
        costs.append(LineCost(line=line, period_pence=pence, days=days))
    support = sum(c.period_pence for c in costs if c.line.kind != BudgetLineKind.CONTINGENCY)
    contingency = sum(c.period_pence for c in costs if c.line.kind == BudgetLineKind.CONTINGENCY)
    return PlanCosts(
        budget_pence=period_budget_pence(fund),
        lines=tuple(costs),
        support_pence=support,
        contingency_pence=contingency,
        fee_pence=period_fee_pence(fund, support_pence=support),
    )
