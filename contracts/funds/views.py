"""What the fund pages show, worked out from a fund and who is looking: the holder's
management fee in words and figures, the agreement's sums and acceptances, the actions the
viewer's side may take in the fund's status, and whether the viewer may see the person's
name. Plain reads: no HTTP, nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.models import (
    AgreementParty,
    BudgetLineKind,
    FundingSchedule,
    FundStatus,
    IndividualServiceFund,
)
from contracts.funds.plan import PlanCosts, last_day_of_year_from, plan_costs
from contracts.spending import period_end
from marketplace import audit
from marketplace.accounts.models import Role, User
from marketplace.money import format_pence, pence_to_pounds_text
from providers.enquiries import describe_availability
from providers.models import FeePeriod, Offer, OfferPrice
from providers.pricing import describe_minutes, fee_percent, format_basis_points, weekly_cost

STATUS_COLOURS = {
    FundStatus.REQUESTED: "blue",
    FundStatus.AGREEING: "orange",
    FundStatus.ACTIVE: "green",
    FundStatus.DECLINED: "red",
    FundStatus.WITHDRAWN: "grey",
    FundStatus.CLOSED: "grey",
}
NAMES_SEEN_BY = (Role.BUDGET_HOLDER, Role.PANEL_MEMBER)
"""Council staff who decide about the person's support and so see who it is for; finance
staff reconcile money and see the fund by its number only."""


def fee_terms(price: OfferPrice) -> str:
    """The holder's management fee as agreed: '10% of the support it pays for', '£30.00 a
    month', both, or no fee."""
    parts = []
    if price.management_fee_bp:
        parts.append(f"{format_basis_points(price.management_fee_bp)} of the support it pays for")
    if price.management_fee_fixed_pence:
        period = price.management_fee_period or FeePeriod.WEEK
        parts.append(f"{format_pence(price.management_fee_fixed_pence)} a {period.value}")
    return " plus ".join(parts) if parts else "No management fee"


@dataclass(frozen=True)
class FeeExample:
    """The fee on a typical week of support, as an amount and a share of that support."""

    support_pence: int
    fee_pence: int
    percent: str


def fee_example(offer: Offer) -> FeeExample | None:
    """What the fee comes to on the holder offer's own typical week, or None for a price
    with no weekly figure (a one-off price) or no fee."""
    price = offer.price
    if price is None:
        return None
    week = weekly_cost(
        price,
        minutes_per_week=offer.typical_week_hours * 60,
        when=0,
        typical_week_hours=offer.typical_week_hours,
    )
    share = (
        None
        if week is None
        else fee_percent(fee_pence=week.fee_pence, support_pence=week.support_pence)
    )
    if week is None or share is None:
        return None
    return FeeExample(support_pence=week.support_pence, fee_pence=week.fee_pence, percent=share)


def may_see_person(session: Session, fund: IndividualServiceFund, viewer: User) -> bool:
    """The person's side, the holder's staff and the council staff who decide see who the
    fund is for and what the person wrote; others who may see the fund (finance) see its
    number and its money only."""
    if funds_service.party_of(session, fund, viewer) is not None:
        return True
    return viewer.role in NAMES_SEEN_BY and viewer.council_id == fund.council_id


def record_view(session: Session, *, viewer: User, fund: IndividualServiceFund) -> None:
    """Funds are about a person's care and money: every view is in the audit log."""
    audit.record_read(session, actor=viewer, subject_type=funds_service.SUBJECT, subject_id=fund.id)


@dataclass(frozen=True)
class Acceptance:
    party: AgreementParty
    accepted_at: datetime | None
    accepted_by: str | None


@dataclass(frozen=True)
class Actions:
    """What the viewer's side may do to the fund now."""

    set_budget: bool
    edit_plan: bool
    accept: bool
    withdraw: bool
    decline: bool
    renew: bool

    @property
    def any(self) -> bool:
        return (
            self.set_budget
            or self.edit_plan
            or self.accept
            or self.withdraw
            or self.decline
            or self.renew
        )


def actions_for(
    fund: IndividualServiceFund,
    party: AgreementParty | None,
    *,
    renewal: IndividualServiceFund | None = None,
) -> Actions:
    """The forms to show: each to the side the service lets take it, in the status it
    allows (the service checks again whatever is posted)."""
    before_agreed = fund.status in (FundStatus.REQUESTED, FundStatus.AGREEING)
    agreeing = fund.status == FundStatus.AGREEING
    return Actions(
        set_budget=party == AgreementParty.COUNCIL and before_agreed,
        edit_plan=party in (AgreementParty.PERSON, AgreementParty.HOLDER) and agreeing,
        accept=party is not None and agreeing and fund.accepted_at(party) is None,
        withdraw=party == AgreementParty.PERSON and before_agreed,
        decline=party in (AgreementParty.COUNCIL, AgreementParty.HOLDER) and before_agreed,
        renew=party == AgreementParty.COUNCIL
        and fund.status == FundStatus.CLOSED
        and renewal is None,
    )


def when_text(mask: int) -> str:
    """'Monday morning; Tuesday afternoon, evening', or '' when no times were said."""
    return "; ".join(f"{day} {', '.join(periods)}" for day, periods in describe_availability(mask))


def form_defaults(fund: IndividualServiceFund) -> dict[str, str]:
    """What the fund's forms start with: the budget as set, and lines running for the whole
    period, which is what most lines do."""
    schedule = fund.funding_schedule or FundingSchedule.MONTHLY
    values = {"funding_schedule": schedule.value}
    if fund.annual_budget_pence is not None:
        values["annual_budget"] = pence_to_pounds_text(fund.annual_budget_pence)
    if fund.status == FundStatus.CLOSED and fund.period_ends_on is not None:
        # The renewal form: the next period, a year from the day after this one ended.
        next_start = fund.period_ends_on + timedelta(days=1)
        values |= {
            "period_starts_on": next_start.isoformat(),
            "period_ends_on": last_day_of_year_from(next_start).isoformat(),
        }
    elif fund.period_starts_on is not None and fund.period_ends_on is not None:
        starts_on, ends_on = fund.period_starts_on.isoformat(), fund.period_ends_on.isoformat()
        values |= {
            "period_starts_on": starts_on,
            "period_ends_on": ends_on,
            "line_starts_on": starts_on,
            "line_ends_on": ends_on,
            "described_starts_on": starts_on,
            "described_ends_on": ends_on,
        }
    contingency = sum(
        line.amount_pence or 0 for line in fund.lines if line.kind == BudgetLineKind.CONTINGENCY
    )
    values["amount"] = pence_to_pounds_text(contingency)
    return values


def fund_page(session: Session, fund: IndividualServiceFund, viewer: User) -> dict[str, object]:
    """Everything the fund's page shows, read now, so the page can be shown again with a
    form's errors after the failed change has been rolled back."""
    party = funds_service.party_of(session, fund, viewer)
    renewal = period_end.renewal_of(session, fund) if fund.status == FundStatus.CLOSED else None
    costs: PlanCosts | None = None
    if fund.annual_budget_pence is not None and fund.period_starts_on is not None:
        costs = plan_costs(fund)
    problems = funds_service.agreement_problems(fund)
    acceptances = []
    for side in AgreementParty:
        by_id = getattr(fund, f"{side.value}_accepted_by_id")
        by = session.get(User, by_id) if by_id is not None else None
        acceptances.append(
            Acceptance(
                party=side,
                accepted_at=fund.accepted_at(side),
                accepted_by=None if by is None else by.name,
            )
        )
    lines = [
        {
            "id": cost.line.id,
            "kind": cost.line.kind,
            "title": cost.line.title,
            "delivered_by": (
                cost.line.provider.name
                if cost.line.provider is not None
                else ("Set aside" if cost.line.kind == BudgetLineKind.CONTINGENCY else "")
            ),
            "offer_id": cost.line.offer_id,
            "hours": None
            if cost.line.minutes_per_week is None
            else describe_minutes(cost.line.minutes_per_week),
            "when": when_text(cost.line.when),
            "weekly_pence": cost.line.weekly_pence,
            "period_pence": cost.period_pence,
            "starts_on": cost.line.starts_on,
            "ends_on": cost.line.ends_on,
            "costing": [row for row in cost.line.costing.split("\n") if row.strip()],
            "outcomes": [outcome.own_words for outcome in cost.line.outcomes],
            "moved_pence": cost.line.moved_pence or 0,
            "paused_on": cost.line.paused_on,
            "replaces_id": cost.line.replaces_id,
        }
        for cost in (costs.lines if costs is not None else ())
    ]
    return {
        "fund": fund,
        "party": party,
        "shows_person": may_see_person(session, fund, viewer),
        "person_name": fund.person.name,
        "holder_name": fund.holder.name,
        "council_name": fund.council.name,
        "fee_terms": fee_terms(fund.holder_price),
        "costs": costs,
        "lines": lines,
        "outcomes": [
            {
                "id": outcome.id,
                "own_words": outcome.own_words,
                "term": None if outcome.term is None else outcome.term.name,
            }
            for outcome in fund.outcomes
        ],
        "outcome_options": [(str(outcome.id), outcome.own_words) for outcome in fund.outcomes],
        "problems": problems,
        "acceptances": acceptances,
        "actions": actions_for(fund, party, renewal=renewal),
        "renewal": renewal,
        "underspend_rule": period_end.underspend_rule(session, fund.council),
        "closing": period_end.closing_of(session, fund)
        if fund.status == FundStatus.CLOSED
        else None,
        "status_colour": STATUS_COLOURS[fund.status],
    }
