"""Setting up an individual service fund: the person asks their council for one with the
holder they chose, the council's budget holder sets the budget, the person and the holder
draw up the support plan, and the person, the holder and the council each accept the
agreement. Who may see a fund, and who acts for which side of it, is decided here too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.accounts import open_fund_accounts
from contracts.funds.models import (
    AgreementParty,
    BudgetLine,
    BudgetLineKind,
    FundingSchedule,
    FundStatus,
    IndividualServiceFund,
    PlanOutcome,
)
from contracts.funds.plan import PlanCosts, last_day_of_year_from, plan_costs
from marketplace import audit
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import on_persons_side, on_persons_side_filter, visibility_rule
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken, Rules
from marketplace.geography.models import CouncilArea
from marketplace.money import format_pence
from providers import service as providers_service
from providers.access import is_member
from providers.enquiries import ALL_TIMES, MAX_MINUTES_PER_WEEK, check_text, quote
from providers.models import Offer, OfferStatus, Taxonomy, TaxonomyTerm

SUBJECT = "individual_service_fund"
MAX_ANNUAL_BUDGET_PENCE = 100_000_000
"""£1,000,000 a year: more than any one person's care costs, so a slip of the keyboard
(an extra nought or two) is caught rather than agreed."""
FUND_ROLES = (Role.BUDGET_HOLDER, Role.PANEL_MEMBER, Role.FINANCE)
"""Council staff who see the funds of their own council."""


# Who is who ------------------------------------------------------------------------------


def party_of(session: Session, fund: IndividualServiceFund, user: User) -> AgreementParty | None:
    """Which of the agreement's three sides `user` acts for, if any: the person (or a
    representative acting for them now), the holder's staff, or the council's budget
    holders."""
    if on_persons_side(session, user, fund.person_id):
        return AgreementParty.PERSON
    if user.role in (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT) and is_member(
        session, user, fund.holder_id
    ):
        return AgreementParty.HOLDER
    if user.role == Role.BUDGET_HOLDER and user.council_id == fund.council_id:
        return AgreementParty.COUNCIL
    return None


@visibility_rule(IndividualServiceFund)
def may_see_fund(session: Session, viewer: User, fund: IndividualServiceFund) -> bool:
    """The person and their representatives, the holder's staff, and the staff of the
    fund's council who work with funds; nobody else (commissioners see aggregates only)."""
    if party_of(session, fund, viewer) is not None:
        return True
    return viewer.role in FUND_ROLES and viewer.council_id == fund.council_id


def must_act_as(
    session: Session, fund: IndividualServiceFund, user: User, *allowed: AgreementParty
) -> AgreementParty:
    party = party_of(session, fund, user)
    if party is None:
        if may_see_fund(session, user, fund):
            raise NotAllowed("Your account does not let you do this for this fund")
        raise NotFound("Page not found")
    if party not in allowed:
        raise NotAllowed("Your account does not let you do this for this fund")
    return party


# Asking for a fund ----------------------------------------------------------------------


def holder_offer_problem(offer: Offer) -> str | None:
    """Why a person cannot ask for a fund with this offer's provider, or None."""
    if offer.status != OfferStatus.PUBLISHED:
        return "This offer is not published, so it cannot be chosen to hold a fund"
    if not offer.provider.holds_isf:
        return f"{offer.provider.name} does not hold individual service funds"
    if offer.price is None:
        return "This offer has no price yet, so its management fee is not known"
    return None


def request_fund(
    session: Session,
    *,
    requester: User,
    person: User | None,
    council: CouncilArea,
    holder_offer: Offer,
    note: str,
    now: datetime | None = None,
) -> IndividualServiceFund:
    """A supported person asks their council to set up an ISF held by the provider of
    `holder_offer`, for themself, or a representative for someone they act for (`person`).
    The offer's current price fixes the management fee the fund is agreed at."""
    if requester.role == Role.SUPPORTED_PERSON:
        person = requester
    elif requester.role == Role.REPRESENTATIVE:
        if person is None or not on_persons_side(session, requester, person.id):
            raise RuleBroken("Choose a person you act for", field="person")
    else:
        raise NotAllowed("Only supported people and their representatives ask for funds")
    problem = holder_offer_problem(holder_offer)
    if problem is not None:
        raise RuleBroken(problem, field="holder_offer")
    refuse_second_open_fund(session, person.id)
    words = check_text(note, field="note", missing="Tell your council what you would like")
    assert holder_offer.price is not None
    fund = IndividualServiceFund(
        person=person,
        council=council,
        holder=holder_offer.provider,
        holder_offer=holder_offer,
        holder_price=holder_offer.price,
        status=FundStatus.REQUESTED,
        requested_by_id=requester.id,
        request_note=words,
        created_at=now or utcnow(),
    )
    session.add(fund)
    session.flush()
    record_fund_change(session, actor=requester, fund=fund, fields=["requested"])
    return fund


def refuse_second_open_fund(session: Session, person_id: int) -> None:
    """A person has one fund asked for, being agreed or held at a time."""
    open_fund = session.scalar(
        select(IndividualServiceFund.id).where(
            IndividualServiceFund.person_id == person_id,
            IndividualServiceFund.status.in_([s for s in FundStatus if s.is_open]),
        )
    )
    if open_fund is not None:
        raise Conflict(
            "There is already an individual service fund asked for or held for this person"
        )


def withdraw_request(
    session: Session, *, fund: IndividualServiceFund, by: User, reason: str
) -> None:
    """The person withdraws their request, before the fund is agreed."""
    must_act_as(session, fund, by, AgreementParty.PERSON)
    _end_before_agreed(session, fund, by, reason, FundStatus.WITHDRAWN)


def decline_fund(session: Session, *, fund: IndividualServiceFund, by: User, reason: str) -> None:
    """The council or the holder says no, with reasons in plain words, before it is agreed."""
    must_act_as(session, fund, by, AgreementParty.COUNCIL, AgreementParty.HOLDER)
    _end_before_agreed(session, fund, by, reason, FundStatus.DECLINED)


def _end_before_agreed(
    session: Session, fund: IndividualServiceFund, by: User, reason: str, status: FundStatus
) -> None:
    if fund.status not in (FundStatus.REQUESTED, FundStatus.AGREEING):
        raise Conflict(f"This fund is {fund.status.label.lower()}, so it cannot be changed now")
    fund.end_reason = check_text(reason, field="reason", missing="Give the reason, in plain words")
    fund.status = status
    fund.ended_by_id = by.id
    fund.ended_at = utcnow()
    record_fund_change(session, actor=by, fund=fund, fields=["status", "end_reason"])


# The budget ------------------------------------------------------------------------------


def set_budget(
    session: Session,
    *,
    fund: IndividualServiceFund,
    budget_holder: User,
    annual_budget_pence: int,
    period_starts_on: date,
    period_ends_on: date,
    schedule: FundingSchedule,
    now: datetime | None = None,
) -> PlanCosts:
    """The council's budget holder sets the budget: an annual amount, the period (a year
    at most) and how the council pays it in. Setting it again while the fund is being
    agreed changes the agreement, so every acceptance is asked for again."""
    must_act_as(session, fund, budget_holder, AgreementParty.COUNCIL)
    if fund.status not in (FundStatus.REQUESTED, FundStatus.AGREEING):
        raise Conflict("The budget of an agreed fund changes by a change-of-use request, not here")
    check_budget(annual_budget_pence, period_starts_on, period_ends_on)
    for line in fund.lines:
        if line.starts_on < period_starts_on or line.ends_on > period_ends_on:
            raise RuleBroken(
                f"“{line.title}” runs outside this period: change the plan first",
                field="period_starts_on",
            )
    before = (fund.annual_budget_pence, fund.period_starts_on, fund.period_ends_on)
    fund.annual_budget_pence = annual_budget_pence
    fund.period_starts_on, fund.period_ends_on = period_starts_on, period_ends_on
    try:
        costs = _refuse_overspend(plan_costs(fund), field="annual_budget")
    except RuleBroken:
        fund.annual_budget_pence, fund.period_starts_on, fund.period_ends_on = before
        raise
    fund.funding_schedule = schedule
    fund.budget_set_by_id = budget_holder.id
    fund.budget_set_at = now or utcnow()
    fund.status = FundStatus.AGREEING
    _agreement_changed(fund)
    record_fund_change(session, actor=budget_holder, fund=fund, fields=["budget"])
    return costs


def check_budget(annual_budget_pence: int, period_starts_on: date, period_ends_on: date) -> None:
    """A yearly budget within bounds, and a period of a year at most that runs forwards."""
    with Rules() as rules:
        if not 0 < annual_budget_pence <= MAX_ANNUAL_BUDGET_PENCE:
            rules.broken(
                f"Enter a yearly budget from £0.01 to {format_pence(MAX_ANNUAL_BUDGET_PENCE)}",
                field="annual_budget",
            )
        if period_ends_on <= period_starts_on:
            rules.broken("The period must end after it starts", field="period_ends_on")
        elif period_ends_on > last_day_of_year_from(period_starts_on):
            rules.broken("A period can be a year at most", field="period_ends_on")


def _refuse_overspend(costs: PlanCosts, *, field: str) -> PlanCosts:
    """The plan's sums, or a RuleBroken saying by how much it goes over the budget."""
    if costs.headroom_pence < 0:
        raise RuleBroken(
            f"The plan would come to {format_pence(costs.total_pence)}, "
            f"{format_pence(-costs.headroom_pence)} more than the budget of "
            f"{format_pence(costs.budget_pence)} for the period",
            field=field,
        )
    return costs


def _agreement_changed(fund: IndividualServiceFund) -> None:
    """What was accepted is not what is agreed any more: every side accepts again."""
    for party in AgreementParty:
        setattr(fund, f"{party.value}_accepted_at", None)
        setattr(fund, f"{party.value}_accepted_by_id", None)


# The support plan ------------------------------------------------------------------------


def _plan_being_agreed(session: Session, fund: IndividualServiceFund, by: User) -> None:
    must_act_as(session, fund, by, AgreementParty.PERSON, AgreementParty.HOLDER)
    if fund.status == FundStatus.REQUESTED:
        raise Conflict("The plan is drawn up once the council has set the budget")
    if fund.status != FundStatus.AGREEING:
        raise Conflict(
            "An agreed plan changes by a change-of-use request"
            if fund.status == FundStatus.ACTIVE
            else f"This fund is {fund.status.label.lower()}"
        )


def add_outcome(
    session: Session,
    *,
    fund: IndividualServiceFund,
    by: User,
    own_words: str,
    term_code: str | None = None,
) -> PlanOutcome:
    """Something that matters to the person, in their own words, with the personal
    outcome it is (when one fits)."""
    _plan_being_agreed(session, fund, by)
    term = None
    if term_code:
        term = session.scalar(
            select(TaxonomyTerm).where(
                TaxonomyTerm.taxonomy == Taxonomy.PERSONAL_OUTCOME, TaxonomyTerm.code == term_code
            )
        )
        if term is None:
            raise RuleBroken("Choose one of the outcomes listed", field="outcome")
    words = check_text(own_words, field="own_words", missing="Say what matters, in your words")
    outcome = PlanOutcome(fund=fund, term=term, own_words=words, added_by_id=by.id)
    session.add(outcome)
    _agreement_changed(fund)
    session.flush()
    record_fund_change(session, actor=by, fund=fund, fields=["plan_outcome"])
    return outcome


def outcomes_chosen(
    fund: IndividualServiceFund,
    outcome_ids: Iterable[int],
    *,
    missing: str = "Tick the outcomes this line serves",
) -> list[PlanOutcome]:
    """The plan's outcomes ticked (RuleBroken for none, or for one of another plan)."""
    by_id = {outcome.id: outcome for outcome in fund.outcomes}
    wanted = list(dict.fromkeys(outcome_ids))
    if not wanted:
        raise RuleBroken(missing, field="outcomes")
    if any(outcome_id not in by_id for outcome_id in wanted):
        raise RuleBroken("Tick outcomes from this plan", field="outcomes")
    return [by_id[outcome_id] for outcome_id in wanted]


def check_hours(minutes_per_week: int | None, when: int) -> int:
    """Hours a week (as minutes) and the days and times they are at, both within bounds."""
    with Rules() as rules:
        if minutes_per_week is None or not 0 < minutes_per_week <= MAX_MINUTES_PER_WEEK:
            rules.broken("Enter from more than 0 to 168 hours a week", field="hours")
        if when <= 0 or when & ~ALL_TIMES:
            rules.broken("Tick the days and times it is at", field="when")
    assert minutes_per_week is not None
    return minutes_per_week


def _check_line_dates(fund: IndividualServiceFund, starts_on: date, ends_on: date) -> None:
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    with Rules() as rules:
        if ends_on < starts_on:
            rules.broken("The line must end on or after its start", field="ends_on")
        if starts_on < fund.period_starts_on or ends_on > fund.period_ends_on:
            rules.broken(
                "The line must run within the fund's period, "
                f"{fund.period_starts_on:%-d %B %Y} to {fund.period_ends_on:%-d %B %Y}",
                field="starts_on",
            )


def _change_lines(
    session: Session,
    fund: IndividualServiceFund,
    by: User,
    *,
    adding: BudgetLine | None,
    removing: list[BudgetLine],
    field: str,
) -> None:
    """The plan with `adding` in place of `removing`, if it still fits the budget; else the
    plan as it was and a RuleBroken saying by how much it would go over."""
    planned = [line for line in fund.lines if line not in removing]
    _refuse_overspend(plan_costs(fund, lines=planned + ([adding] if adding else [])), field=field)
    for line in removing:
        fund.lines.remove(line)
    if adding is not None:
        fund.lines.append(adding)
    _agreement_changed(fund)
    session.flush()
    record_fund_change(session, actor=by, fund=fund, fields=["budget_line"])


def add_offer_line(
    session: Session,
    *,
    fund: IndividualServiceFund,
    by: User,
    offer: Offer,
    minutes_per_week: int,
    when: int,
    starts_on: date,
    ends_on: date,
    outcome_ids: Iterable[int],
    distance_km: float | None = None,
) -> BudgetLine:
    """A line paying for a marketplace offer: its current price, for these hours at these
    days and times, with its uplifts and travel (by the mile over `distance_km`, when the
    person's place is known), costed now and kept as agreed."""
    _plan_being_agreed(session, fund, by)
    if offer.status != OfferStatus.PUBLISHED or offer.price is None:
        raise RuleBroken("Choose a published offer with a price", field="offer")
    check_hours(minutes_per_week, when)
    _check_line_dates(fund, starts_on, ends_on)
    outcomes = outcomes_chosen(fund, outcome_ids)
    quoted = quote(
        offer.price,
        minutes_per_week=minutes_per_week,
        typical_week_hours=offer.typical_week_hours,
        when=when,
        distance_km=distance_km,
    )
    if quoted.cost is None:
        raise RuleBroken("This offer has a one-off price: add it as other support", field="offer")
    cost = quoted.cost
    costing = [f"{line.label}: {format_pence(line.pence)}" for line in cost.support_lines]
    line = BudgetLine(
        kind=BudgetLineKind.OFFER,
        title=f"{offer.title}, {offer.provider.name}",
        offer=offer,
        offer_price_id=offer.price.id,
        provider=offer.provider,
        minutes_per_week=minutes_per_week,
        when=when,
        weekly_pence=cost.support_pence,
        starts_on=starts_on,
        ends_on=ends_on,
        costing="\n".join(costing + list(cost.notes)),
        added_by_id=by.id,
        outcomes=outcomes,
    )
    _change_lines(session, fund, by, adding=line, removing=[], field="hours")
    return line


def add_described_line(
    session: Session,
    *,
    fund: IndividualServiceFund,
    by: User,
    title: str,
    weekly_pence: int,
    starts_on: date,
    ends_on: date,
    outcome_ids: Iterable[int],
) -> BudgetLine:
    """A line for support that is not a marketplace offer, at an agreed weekly cost."""
    _plan_being_agreed(session, fund, by)
    words = check_text(title, field="title", missing="Describe the support")[:200]
    if weekly_pence <= 0:
        raise RuleBroken("Enter what it costs a week", field="weekly")
    _check_line_dates(fund, starts_on, ends_on)
    line = BudgetLine(
        kind=BudgetLineKind.DESCRIBED,
        title=words,
        weekly_pence=weekly_pence,
        starts_on=starts_on,
        ends_on=ends_on,
        added_by_id=by.id,
        outcomes=outcomes_chosen(fund, outcome_ids),
    )
    _change_lines(session, fund, by, adding=line, removing=[], field="weekly")
    return line


def set_contingency(
    session: Session, *, fund: IndividualServiceFund, by: User, amount_pence: int
) -> BudgetLine | None:
    """Set aside an amount of the period's budget for the unexpected (0: none)."""
    _plan_being_agreed(session, fund, by)
    if amount_pence < 0:
        raise RuleBroken("Enter an amount of £0 or more", field="amount")
    existing = [line for line in fund.lines if line.kind == BudgetLineKind.CONTINGENCY]
    line = None
    if amount_pence:
        assert fund.period_starts_on is not None and fund.period_ends_on is not None
        line = BudgetLine(
            kind=BudgetLineKind.CONTINGENCY,
            title="Contingency",
            amount_pence=amount_pence,
            starts_on=fund.period_starts_on,
            ends_on=fund.period_ends_on,
            added_by_id=by.id,
        )
    _change_lines(session, fund, by, adding=line, removing=existing, field="amount")
    return line


def remove_line(session: Session, *, fund: IndividualServiceFund, by: User, line_id: int) -> None:
    _plan_being_agreed(session, fund, by)
    line = next((ln for ln in fund.lines if ln.id == line_id), None)
    if line is None:
        raise NotFound("Page not found")
    _change_lines(session, fund, by, adding=None, removing=[line], field="line")


# The agreement ---------------------------------------------------------------------------


def agreement_problems(fund: IndividualServiceFund) -> list[str]:
    """What must be in place before anyone can accept the agreement."""
    problems = []
    if fund.status != FundStatus.AGREEING:
        problems.append("The council has not set the budget yet")
        return problems
    if not fund.outcomes:
        problems.append("The plan says what matters to the person")
    if not any(line.kind != BudgetLineKind.CONTINGENCY for line in fund.lines):
        problems.append("The plan has at least one line of support")
    return problems


def accept_agreement(
    session: Session, *, fund: IndividualServiceFund, by: User, now: datetime | None = None
) -> AgreementParty:
    """One side accepts the agreement as it stands. Once all three have, the fund is
    active: the holder holds the money for the person, spent only on the plan."""
    party = must_act_as(
        session, fund, by, AgreementParty.PERSON, AgreementParty.HOLDER, AgreementParty.COUNCIL
    )
    problems = agreement_problems(fund)
    if problems:
        raise Conflict("The agreement is not ready to accept: " + "; ".join(problems).lower())
    if fund.accepted_at(party) is not None:
        raise Conflict("You have already accepted this agreement")
    _refuse_overspend(plan_costs(fund), field="plan")
    moment = now or utcnow()
    setattr(fund, f"{party.value}_accepted_at", moment)
    setattr(fund, f"{party.value}_accepted_by_id", by.id)
    if all(fund.accepted_at(side) is not None for side in AgreementParty):
        open_fund_accounts(session, fund, by=by)
        fund.status = FundStatus.ACTIVE
    session.flush()
    record_fund_change(session, actor=by, fund=fund, fields=[f"{party.value}_accepted"])
    return party


# Lists -----------------------------------------------------------------------------------


def funds_for(session: Session, *, user: User) -> list[IndividualServiceFund]:
    """The funds `user` may see, newest first."""
    query = select(IndividualServiceFund).order_by(IndividualServiceFund.id.desc())
    if user.role in (Role.SUPPORTED_PERSON, Role.REPRESENTATIVE):
        query = query.where(on_persons_side_filter(user, IndividualServiceFund.person_id))
    elif user.role in (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT):
        held = [provider.id for provider in providers_service.providers_of(session, user=user)]
        query = query.where(IndividualServiceFund.holder_id.in_(held))
    elif user.role in FUND_ROLES and user.council_id is not None:
        query = query.where(IndividualServiceFund.council_id == user.council_id)
    else:
        return []
    return list(session.scalars(query))


def record_fund_change(
    session: Session, *, actor: User, fund: IndividualServiceFund, fields: list[str]
) -> None:
    """A change to the fund, its plan or its money, in the audit log as the fund's."""
    audit.record_change(
        session, actor=actor, subject_type=SUBJECT, subject_id=fund.id, fields=fields
    )
