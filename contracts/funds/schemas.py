"""The JSON shapes of individual service funds under /api/v1: amounts in pence, dates as
ISO dates, and the person's name only for those who may see it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from contracts.funds.models import BudgetLineKind, FundingSchedule, FundStatus


class FundSummaryOut(BaseModel):
    id: int
    status: FundStatus
    person: str | None
    """The supported person's name, for those who may see it (not finance staff)."""
    holder: str
    council: str
    annual_budget_pence: int | None
    period_starts_on: date | None
    period_ends_on: date | None
    renews_id: int | None
    """The closed fund of the person's last period that this one follows."""
    carried_in_pence: int
    """What that period carried over into this one's budget."""


class BudgetLineOut(BaseModel):
    id: int
    kind: BudgetLineKind
    title: str
    provider_id: int | None
    offer_id: int | None
    minutes_per_week: int | None
    weekly_pence: int | None
    """A week's support with any uplifts and travel; none for the contingency."""
    period_pence: int
    """What it costs within the fund's period."""
    starts_on: date
    ends_on: date


class PlanOut(BaseModel):
    budget_pence: int
    support_pence: int
    contingency_pence: int
    fee_pence: int
    total_pence: int
    headroom_pence: int
    lines: list[BudgetLineOut]


class FundOut(FundSummaryOut):
    funding_schedule: FundingSchedule | None
    plan: PlanOut | None
    """None until the council has set the budget."""
    person_accepted_at: datetime | None
    holder_accepted_at: datetime | None
    council_accepted_at: datetime | None


class SplitOut(BaseModel):
    """One budget line's, or one outcome's, share of the money."""

    name: str
    planned_pence: int
    """What the plan gives it for the whole period."""
    spent_pence: int
    """Approved support on it so far, before the holder's fee."""
    committed_pence: int
    """Its planned cost from today to the end of the period."""
    left_pence: int


class StatementOut(BaseModel):
    """A fund's statement. Always: available = received - spent - fees charged, and
    projected end = budget - spent - fees charged - committed - fees to come."""

    fund_id: int
    on: date
    budget_pence: int
    received_pence: int
    spent_pence: int
    fees_charged_pence: int
    fees_to_come_pence: int
    contingency_pence: int
    available_pence: int
    committed_pence: int
    projected_end_pence: int
    alerts: list[str]
    by_line: list[SplitOut]
    """Each budget line, in the plan's order (and any money paid out not through one)."""
    by_outcome: list[SplitOut]
    """Each outcome the plan serves: a line serving several is shared equally between
    them, to the penny. Named in the person's words for those who may read them."""
