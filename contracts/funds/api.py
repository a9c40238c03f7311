"""Individual service funds as JSON under /api/v1, authorised exactly as the pages are: a
list of the funds the user may see, a fund with its plan, and its statement. Every read of
a fund is in the audit log."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds import views as fund_views
from contracts.funds.access import FundListUser, SeenFund
from contracts.funds.models import FundStatus, IndividualServiceFund
from contracts.funds.plan import plan_costs
from contracts.funds.schemas import (
    BudgetLineOut,
    FundOut,
    FundSummaryOut,
    PlanOut,
    SplitOut,
    StatementOut,
)
from contracts.funds.statement import Split, by_line, by_outcome, outcome_names, statement_of
from marketplace.accounts.models import User
from marketplace.accounts.policy import SignedInUser
from marketplace.api import API_ERRORS
from marketplace.db import today
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["funds"])


def _summary(db: Session, fund: IndividualServiceFund, viewer: User) -> FundSummaryOut:
    return FundSummaryOut(
        id=fund.id,
        status=fund.status,
        person=fund.person.name if fund_views.may_see_person(db, fund, viewer) else None,
        holder=fund.holder.name,
        council=fund.council.name,
        annual_budget_pence=fund.annual_budget_pence,
        period_starts_on=fund.period_starts_on,
        period_ends_on=fund.period_ends_on,
        renews_id=fund.renews_id,
        carried_in_pence=fund.carried_in_pence,
    )


@router.get("/isfs", response_model=list[FundSummaryOut], responses=API_ERRORS)
@audited
def list_funds(db: DbSession, user: FundListUser) -> list[FundSummaryOut]:
    """The individual service funds you may see, newest first."""
    shown = funds_service.funds_for(db, user=user)
    for fund in shown:
        fund_views.record_view(db, viewer=user, fund=fund)
    return [_summary(db, fund, user) for fund in shown]


@router.get("/isfs/{fund_id}", response_model=FundOut, responses=API_ERRORS)
@audited
def get_fund(fund: SeenFund, db: DbSession, user: SignedInUser) -> FundOut:
    """A fund, with its support plan's lines and sums once the budget is set."""
    return fund_out(db, fund, user)


def fund_out(db: Session, fund: IndividualServiceFund, user: User) -> FundOut:
    """The fund as `user` may read it: its plan's lines and sums once the budget is set."""
    plan = None
    if fund.annual_budget_pence is not None:
        costs = plan_costs(fund)
        plan = PlanOut(
            budget_pence=costs.budget_pence,
            support_pence=costs.support_pence,
            contingency_pence=costs.contingency_pence,
            fee_pence=costs.fee_pence,
            total_pence=costs.total_pence,
            headroom_pence=costs.headroom_pence,
            lines=[
                BudgetLineOut(
                    id=cost.line.id,
                    kind=cost.line.kind,
                    title=cost.line.title,
                    provider_id=cost.line.provider_id,
                    offer_id=cost.line.offer_id,
                    minutes_per_week=cost.line.minutes_per_week,
                    weekly_pence=cost.line.weekly_pence,
                    period_pence=cost.period_pence,
                    starts_on=cost.line.starts_on,
                    ends_on=cost.line.ends_on,
                )
                for cost in costs.lines
            ],
        )
    return FundOut(
        **_summary(db, fund, user).model_dump(),
        funding_schedule=fund.funding_schedule,
        plan=plan,
        person_accepted_at=fund.person_accepted_at,
        holder_accepted_at=fund.holder_accepted_at,
        council_accepted_at=fund.council_accepted_at,
    )


@router.get("/isfs/{fund_id}/statement", response_model=StatementOut, responses=API_ERRORS)
@audited
def get_statement(fund: SeenFund, db: DbSession, user: SignedInUser) -> StatementOut:
    """The fund's statement today: received, spent and fees from the ledger; committed and
    fees to come from the plan. Only an active fund has one."""
    if fund.status not in (FundStatus.ACTIVE, FundStatus.CLOSED):
        raise NotFound("A fund has a statement once all three sides have accepted it")
    s = statement_of(db, fund, on=today())
    lines = by_line(db, fund, s)
    in_own_words = fund_views.may_see_person(db, fund, user)
    outcomes = by_outcome(fund, lines, names=outcome_names(fund, in_own_words=in_own_words))
    return StatementOut(
        fund_id=fund.id,
        on=s.on,
        budget_pence=s.budget_pence,
        received_pence=s.received_pence,
        spent_pence=s.spent_pence,
        fees_charged_pence=s.fees_charged_pence,
        fees_to_come_pence=s.fees_to_come_pence,
        contingency_pence=s.contingency_pence,
        available_pence=s.available_pence,
        committed_pence=s.committed_pence,
        projected_end_pence=s.projected_end_pence,
        alerts=s.alerts,
        by_line=[_split(row) for row in lines],
        by_outcome=[_split(row) for row in outcomes],
    )


def _split(row: Split) -> SplitOut:
    return SplitOut(
        name=row.name,
        planned_pence=row.planned_pence,
        spent_pence=row.spent_pence,
        committed_pence=row.committed_pence,
        left_pence=row.left_pence,
    )
