"""Pages for setting up an individual service fund: a person asks their council for one
from the offer page of a provider that holds funds; everyone who may see a fund finds it in
their list; the fund's page is its agreement (a plain-English summary, the support plan
and the three acceptances), with the forms each side uses while it is being agreed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import AfterValidator, Field
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds import views as fund_views
from contracts.funds.access import FUND_LIST_ROLES, PEOPLE, ActedFund, FundListUser, SeenFund
from contracts.funds.models import FundingSchedule, IndividualServiceFund
from contracts.funds.plan import plan_costs
from contracts.spending import period_end
from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import parse_record_id, roles, signed_in
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound, RuleBroken
from marketplace.forms import (
    Choices,
    Day,
    Form,
    FormPage,
    Hours,
    NoFields,
    Pounds,
    Text,
    fields_named,
    required,
)
from marketplace.geography import service as geography_service
from marketplace.geography.models import CouncilArea
from marketplace.parsing import OptionalRecordId, one_line, record_id
from marketplace.web import redirect, render
from providers import enquiries as enquiries_service
from providers import taxonomy as taxonomy_service
from providers.models import DAYS, PERIODS, Offer, OfferStatus, Taxonomy
from providers.public_routes import PageSection, add_offer_cost_section
from providers.schemas import Availability

router = APIRouter(include_in_schema=False)

web.add_navigation("Individual service funds", "/funds", roles=FUND_LIST_ROLES, order=48)

PersonUser = Annotated[User, Depends(roles(*PEOPLE))]
SignedInUser = Annotated[User, Depends(signed_in)]

DONE_MESSAGES = {
    "requested": "Your request has been sent to your council. Their budget holder sets the "
    "budget next; then you and the holder draw up the support plan.",
    "budget": "The budget is set. The person and the holder can now draw up the plan, and "
    "everyone accepts the agreement again.",
    "outcome": "The outcome is added to the plan.",
    "line": "The line is added to the plan.",
    "contingency": "The contingency is set.",
    "removed": "The line is removed from the plan.",
    "accepted": "You have accepted the agreement.",
    "withdrawn": "The request is withdrawn.",
    "declined": "The fund is declined. The reason is on the record.",
    "renewed": "The next period is set up, with the plan that was running and the money "
    "carried over. The person, the holder and the council each accept it again.",
}


# Forms -----------------------------------------------------------------------------------


def _ticked(message: str) -> Any:
    def check(values: list[str]) -> list[str]:
        if not values:
            raise ValueError(message)
        return values

    return AfterValidator(check)


class NewFundForm(Form):
    person: str = ""
    """For representatives: the id of the person the fund is for."""
    council: Annotated[str, required("Choose your council area")] = ""
    note: Annotated[Text, required("Tell your council what you would like, in your own words")] = ""


class BudgetForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "annual_budget": "Enter the yearly budget in pounds, for example 10400",
        "period_starts_on": "Enter the date the period starts, like 2027-04-01",
        "period_ends_on": "Enter the last day of the period, like 2028-03-31",
        "funding_schedule": "Choose how the council pays the budget in",
    }

    annual_budget: Pounds
    period_starts_on: Day
    period_ends_on: Day
    funding_schedule: FundingSchedule


class OutcomeForm(Form):
    outcome: str = ""
    """The personal-outcome term's code; blank when none fits."""
    own_words: Annotated[Text, required("Say what matters, in the person's own words")] = ""


class OfferLineForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "when": "Tick the days and times the support is at",
        "hours": "Enter how many hours a week, for example 6 or 2.5",
        "line_starts_on": "Enter the date the line starts, like 2027-04-01",
        "line_ends_on": "Enter the date the line ends, like 2028-03-31",
    }

    offer: Annotated[
        str,
        one_line("the offer"),
        required("Enter the offer's number or the address of its page"),
    ] = ""
    hours: Hours
    when: Annotated[Availability, Field(gt=0)]
    line_starts_on: Day
    line_ends_on: Day
    line_outcomes: Annotated[Choices, _ticked("Tick the outcomes this line serves")] = Field(
        default_factory=list
    )


class DescribedLineForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "weekly": "Enter what it costs a week in pounds, for example 25.50",
        "described_starts_on": "Enter the date the line starts, like 2027-04-01",
        "described_ends_on": "Enter the date the line ends, like 2028-03-31",
    }

    title: Annotated[str, one_line("the description"), required("Describe the support")] = ""
    weekly: Pounds
    described_starts_on: Day
    described_ends_on: Day
    described_outcomes: Annotated[Choices, _ticked("Tick the outcomes this line serves")] = Field(
        default_factory=list
    )


class ContingencyForm(Form):
    messages: ClassVar[dict[str, str]] = {"amount": "Enter an amount in pounds, or 0 for none"}

    amount: Pounds


class WithdrawForm(Form):
    withdraw_reason: Annotated[Text, required("Give the reason, in plain words")] = ""


class DeclineForm(Form):
    decline_reason: Annotated[Text, required("Give the reason, in plain words")] = ""


new_fund_page = FormPage("contracts/funds/new.html")
fund_page = FormPage("contracts/funds/fund.html", block="fund", context={"days": DAYS})


OFFER_ADDRESS = re.compile(r"/offers/([0-9]{1,10})(?:[/?#]|$)")


def offer_named(db: Session, reference: str) -> Offer:
    """The offer a person named by its number or by the address of its page."""
    found = OFFER_ADDRESS.search(reference)
    offer_id = record_id(found.group(1) if found else reference)
    offer = db.get(Offer, offer_id) if offer_id is not None else None
    if offer is None:
        raise RuleBroken("Enter the number or page address of a published offer", field="offer")
    return offer


# Asking for a fund -----------------------------------------------------------------------


def ask_for_fund_section(request: Request, session: Session, offer: Offer) -> PageSection | None:
    """On the offer page of a provider that holds funds, the way for a supported person or
    a representative to ask their council for a fund it holds."""
    viewer = getattr(request.state, "user", None)
    if viewer is None or viewer.role not in PEOPLE:
        return None
    if funds_service.holder_offer_problem(offer) is not None:
        return None
    return PageSection(
        template="contracts/funds/partials/offer_ask.html",
        context={"offer_id": offer.id, "holder_name": offer.provider.name},
    )


add_offer_cost_section(ask_for_fund_section)


def _holder_offer(db: Session, offer_id: int | None) -> Offer:
    offer = db.get(Offer, offer_id) if offer_id is not None else None
    if offer is None or offer.status != OfferStatus.PUBLISHED:
        raise NotFound("Page not found")
    return offer


def _new_context(db: Session, user: User, offer: Offer) -> dict[str, Any]:
    price = offer.price
    return {
        "offer": offer,
        "holder_name": offer.provider.name,
        "problem": funds_service.holder_offer_problem(offer),
        "fee_terms": None if price is None else fund_views.fee_terms(price),
        "fee_example": fund_views.fee_example(offer),
        "councils": [(str(c.id), c.name) for c in geography_service.list_council_areas(db)],
        "people": enquiries_service.people_to_choose(db, user=user),
    }


@router.get("/funds/new")
def show_new_fund(
    request: Request, db: DbSession, user: PersonUser, offer: OptionalRecordId = None
) -> Response:
    holder_offer = _holder_offer(db, offer)
    return new_fund_page.render(request, **_new_context(db, user, holder_offer))


@router.post("/funds/new")
async def ask_for_fund(
    request: Request, db: DbSession, user: PersonUser, offer: OptionalRecordId = None
) -> Response:
    holder_offer = _holder_offer(db, offer)
    form = await new_fund_page.read(request, NewFundForm, **_new_context(db, user, holder_offer))
    council_id = record_id(form.council)
    council = db.get(CouncilArea, council_id) if council_id is not None else None
    if council is None:
        raise RuleBroken("Choose your council area", field="council")
    person: User | None = None
    if user.role == Role.REPRESENTATIVE:
        person = db.get(User, person_id) if (person_id := record_id(form.person)) else None
        if person is None:
            raise RuleBroken("Choose a person you act for", field="person")
    with fields_named({"holder_offer": None}):
        fund = funds_service.request_fund(
            db,
            requester=user,
            person=person,
            council=council,
            holder_offer=holder_offer,
            note=form.note,
        )
    return redirect(request, f"/funds/{fund.id}?done=requested")


# Lists -----------------------------------------------------------------------------------


@router.get("/funds")
@audited
def fund_list(request: Request, db: DbSession, user: FundListUser) -> Response:
    found = funds_service.funds_for(db, user=user)
    rows = []
    for fund in found:
        fund_views.record_view(db, viewer=user, fund=fund)
        budget = None
        if fund.annual_budget_pence is not None:
            budget = plan_costs(fund).budget_pence
        rows.append(
            {
                "id": fund.id,
                "status": fund.status,
                "colour": fund_views.STATUS_COLOURS[fund.status],
                "person": fund.person.name if fund_views.may_see_person(db, fund, user) else None,
                "holder": fund.holder.name,
                "council": fund.council.name,
                "budget_pence": budget,
                "period": (fund.period_starts_on, fund.period_ends_on),
            }
        )
    return render(request, "contracts/funds/list.html", {"rows": rows})


# The fund's page, its agreement ------------------------------------------------------------


FundSection = Callable[[Session, IndividualServiceFund, User], PageSection | None]
"""Given the session, a fund the viewer may see and the viewer, a section of the fund's
page to show, or None for nothing."""
_fund_sections: list[FundSection] = []


def add_fund_section(section: FundSection) -> None:
    """Show `section` on the fund's page under the agreement in brief, after those added
    before it. Change of use adds the person's recent requests this way, because funds may
    not import it (it imports funds)."""
    if section not in _fund_sections:
        _fund_sections.append(section)


def _context(db: Session, fund: IndividualServiceFund, user: User) -> dict[str, Any]:
    context = fund_views.fund_page(db, fund, user)
    context["sections"] = [
        found for section in _fund_sections if (found := section(db, fund, user)) is not None
    ]
    context["outcome_terms"] = [
        (term.code, term.name) for term in taxonomy_service.terms(db, Taxonomy.PERSONAL_OUTCOME)
    ]
    context["schedules"] = [(s.value, s.label) for s in FundingSchedule]
    context["periods"] = PERIODS
    return context


@router.get("/funds/{fund_id}")
@audited
def show_fund(
    request: Request, fund: SeenFund, db: DbSession, user: SignedInUser, done: str = ""
) -> Response:
    return fund_page.render(
        request,
        values=fund_views.form_defaults(fund),
        done=DONE_MESSAGES.get(done),
        **_context(db, fund, user),
    )


def _back_to(request: Request, fund: IndividualServiceFund, done: str) -> Response:
    return redirect(request, f"/funds/{fund.id}?done={done}")


@router.post("/funds/{fund_id}/budget")
async def set_budget(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, BudgetForm, **_context(db, fund, user))
    funds_service.set_budget(
        db,
        fund=fund,
        budget_holder=user,
        annual_budget_pence=form.annual_budget,
        period_starts_on=form.period_starts_on,
        period_ends_on=form.period_ends_on,
        schedule=form.funding_schedule,
    )
    return _back_to(request, fund, "budget")


@router.post("/funds/{fund_id}/renewal")
async def renew_fund(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    """The council's budget holder sets up the person's next period from a closed fund."""
    form = await fund_page.read(request, BudgetForm, **_context(db, fund, user))
    renewed = period_end.renew_fund(
        db,
        fund=fund,
        budget_holder=user,
        annual_budget_pence=form.annual_budget,
        period_starts_on=form.period_starts_on,
        period_ends_on=form.period_ends_on,
        schedule=form.funding_schedule,
    )
    return _back_to(request, renewed, "renewed")


@router.post("/funds/{fund_id}/outcomes")
async def add_outcome(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, OutcomeForm, **_context(db, fund, user))
    funds_service.add_outcome(
        db, fund=fund, by=user, own_words=form.own_words, term_code=form.outcome or None
    )
    return _back_to(request, fund, "outcome")


def _outcome_ids(values: list[str]) -> list[int]:
    # An id that cannot be one is left as 0, which names no outcome of any plan, so the
    # service refuses it with its message rather than the page dropping it silently.
    return [record_id(value) or 0 for value in values]


@router.post("/funds/{fund_id}/lines/offer")
async def add_offer_line(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, OfferLineForm, **_context(db, fund, user))
    offer = offer_named(db, form.offer)
    with fields_named(
        {"starts_on": "line_starts_on", "ends_on": "line_ends_on", "outcomes": "line_outcomes"}
    ):
        funds_service.add_offer_line(
            db,
            fund=fund,
            by=user,
            offer=offer,
            minutes_per_week=form.hours,
            when=form.when,
            starts_on=form.line_starts_on,
            ends_on=form.line_ends_on,
            outcome_ids=_outcome_ids(form.line_outcomes),
        )
    return _back_to(request, fund, "line")


@router.post("/funds/{fund_id}/lines/other")
async def add_described_line(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, DescribedLineForm, **_context(db, fund, user))
    with fields_named(
        {
            "starts_on": "described_starts_on",
            "ends_on": "described_ends_on",
            "outcomes": "described_outcomes",
        }
    ):
        funds_service.add_described_line(
            db,
            fund=fund,
            by=user,
            title=form.title,
            weekly_pence=form.weekly,
            starts_on=form.described_starts_on,
            ends_on=form.described_ends_on,
            outcome_ids=_outcome_ids(form.described_outcomes),
        )
    return _back_to(request, fund, "line")


@router.post("/funds/{fund_id}/contingency")
async def set_contingency(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, ContingencyForm, **_context(db, fund, user))
    funds_service.set_contingency(db, fund=fund, by=user, amount_pence=form.amount)
    return _back_to(request, fund, "contingency")


@router.post("/funds/{fund_id}/lines/{line_id}/remove")
async def remove_line(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    line_id = parse_record_id(str(request.path_params.get("line_id", "")))
    await fund_page.read(request, NoFields, **_context(db, fund, user))
    with fields_named({"line": "plan"}):
        funds_service.remove_line(db, fund=fund, by=user, line_id=line_id)
    return _back_to(request, fund, "removed")


@router.post("/funds/{fund_id}/accept")
async def accept_agreement(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    await fund_page.read(request, NoFields, **_context(db, fund, user))
    with fields_named({None: "acceptances", "plan": "acceptances"}):
        funds_service.accept_agreement(db, fund=fund, by=user)
    return _back_to(request, fund, "accepted")


@router.post("/funds/{fund_id}/withdraw")
async def withdraw_request(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, WithdrawForm, **_context(db, fund, user))
    with fields_named({"reason": "withdraw_reason"}):
        funds_service.withdraw_request(db, fund=fund, by=user, reason=form.withdraw_reason)
    return _back_to(request, fund, "withdrawn")


@router.post("/funds/{fund_id}/decline")
async def decline_fund(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await fund_page.read(request, DeclineForm, **_context(db, fund, user))
    with fields_named({"reason": "decline_reason"}):
        funds_service.decline_fund(db, fund=fund, by=user, reason=form.decline_reason)
    return _back_to(request, fund, "declined")
