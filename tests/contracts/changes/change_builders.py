"""Builders for change-of-use tests: an active fund whose plan has lines to move money
between, a council's budget holders with delegated authority, and requests sent through the
same services the pages use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.models import ChangeKind, ChangeRequest
from contracts.funds import service as funds
from contracts.funds.models import BudgetLine, FundingSchedule, FundStatus, IndividualServiceFund
from contracts.funds.plan import plan_costs
from marketplace.accounts.models import Role, User
from marketplace.outbox import QueuedMail
from tests.contracts.funds.fund_builders import (
    MONDAY_MORNING,
    PERIOD_END,
    PERIOD_START,
    holder_staff,
    requested,
    support_offer,
)
from tests.factories import make_user

HEADROOM_PENCE = 20_000
"""What the budget leaves beyond the plan (its contingency apart): £200."""
CONTINGENCY_PENCE = 50_000
TUESDAY = date(2027, 6, 1)
"""A working day in the fund's period, with no public holiday near."""


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class Plan:
    fund: IndividualServiceFund
    swimming: BudgetLine
    """4 hours a week with a PA at £20 an hour, for keeping fit."""
    gym: BudgetLine
    """A gym membership, £10 a week, for keeping fit."""
    lunch_club: BudgetLine
    """A lunch club, £15 a week, for seeing people."""
    contingency: BudgetLine
    council_side: User
    """The budget holder who set the budget (no delegated authority of their own)."""

    @property
    def person(self) -> User:
        return self.fund.person

    @property
    def holder(self) -> User:
        return holder_staff(self.fund)


def active_plan(db: Session, *, period: tuple[date, date] = (PERIOD_START, PERIOD_END)) -> Plan:
    """An active fund in Highland for 1 April 2027 to 31 March 2028 (or `period`) whose
    budget is its plan (three lines, a £500 contingency and the holder's 10% fee) and £200
    more."""
    fund = requested(db)
    starts_on, ends_on = period
    council_side = make_user(db, role=Role.BUDGET_HOLDER, council="Highland")
    budget = {
        "fund": fund,
        "budget_holder": council_side,
        "period_starts_on": starts_on,
        "period_ends_on": ends_on,
        "schedule": FundingSchedule.MONTHLY,
    }
    funds.set_budget(db, annual_budget_pence=5_000_000, **budget)  # type: ignore[arg-type]
    fit = funds.add_outcome(db, fund=fund, by=fund.person, own_words="Keeping fit")
    people = funds.add_outcome(db, fund=fund, by=fund.person, own_words="Seeing my friends")
    lines = {"by": fund.person, "fund": fund, "starts_on": starts_on, "ends_on": ends_on}
    swimming = funds.add_offer_line(
        db,
        offer=support_offer(db, rate_pence=2000),
        minutes_per_week=240,
        when=MONDAY_MORNING,
        outcome_ids=[fit.id],
        **lines,  # type: ignore[arg-type]
    )
    gym = funds.add_described_line(
        db,
        title="Gym membership",
        weekly_pence=1000,
        outcome_ids=[fit.id],
        **lines,  # type: ignore[arg-type]
    )
    lunch = funds.add_described_line(
        db,
        title="Lunch club",
        weekly_pence=1500,
        outcome_ids=[people.id],
        **lines,  # type: ignore[arg-type]
    )
    contingency = funds.set_contingency(
        db, fund=fund, by=fund.person, amount_pence=CONTINGENCY_PENCE
    )
    assert contingency is not None
    funds.set_budget(
        db,
        annual_budget_pence=plan_costs(fund).total_pence + HEADROOM_PENCE,
        **budget,  # type: ignore[arg-type]
    )
    for side in (fund.person, holder_staff(fund), council_side):
        funds.accept_agreement(db, fund=fund, by=side)
    assert fund.status == FundStatus.ACTIVE
    return Plan(fund, swimming, gym, lunch, contingency, council_side)


def budget_holder_with(
    db: Session,
    *,
    per_request_pence: int,
    per_fund_year_pence: int | None = None,
    council: str = "Highland",
) -> User:
    """A budget holder of `council` with delegated authority set by an administrator."""
    holder = make_user(db, role=Role.BUDGET_HOLDER, council=council)
    change_rules.set_authority(
        db,
        holder=holder,
        by=administrator(db),
        per_request_pence=per_request_pence,
        per_fund_year_pence=per_fund_year_pence or per_request_pence * 4,
        note="Set for the team's new budget holder",
    )
    return holder


def administrator(db: Session) -> User:
    return make_user(db, role=Role.ADMIN)


def panel_member(db: Session, council: str = "Highland") -> User:
    return make_user(db, role=Role.PANEL_MEMBER, council=council)


def ask(
    db: Session,
    plan: Plan,
    *,
    kind: ChangeKind = ChangeKind.MOVE,
    by: User | None = None,
    on: date = TUESDAY,
    **fields: Any,
) -> ChangeRequest:
    """A request sent by the person on `on`, for the outcome 'Keeping fit' unless told."""
    fields.setdefault("outcome_ids", (plan.swimming.outcomes[0].id,))
    fields.setdefault("reason", "I would rather swim less in winter and go to the gym more.")
    fields.setdefault("starts_on", on)
    return changes.send_request(
        db,
        fund=plan.fund,
        by=by or plan.person,
        asked=changes.ChangeAsked(kind=kind, **fields),
        now=at(on),
    )


def mails_to(db: Session, user: User) -> list[str]:
    """The subjects of the mail queued for `user`, oldest first."""
    return list(
        db.scalars(
            select(QueuedMail.subject)
            .where(QueuedMail.to_address == user.email)
            .order_by(QueuedMail.id)
        )
    )
