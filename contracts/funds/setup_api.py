"""Setting up an individual service fund through /api/v1, as on its pages and authorised
the same way (the services decide who does what; a fund someone may not see is a 404):
asking for one, the council setting its budget, the support plan's outcomes and lines, the
three acceptances, and withdrawing or declining it before it is agreed. Each answers
with the fund as the caller may read it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.access import PEOPLE, ActedFund
from contracts.funds.api import fund_out
from contracts.funds.models import FundingSchedule, IndividualServiceFund
from contracts.funds.schemas import FundOut
from marketplace.accounts.models import User
from marketplace.accounts.policy import SignedInUser, roles
from marketplace.api import API_ERRORS
from marketplace.deps import DbSession
from marketplace.errors import NotFound, RuleBroken
from marketplace.geography.models import CouncilArea
from marketplace.parsing import MAX_RECORD_ID, RecordId
from providers.models import Offer, OfferStatus
from providers.schemas import Availability

router = APIRouter(prefix="/api/v1", tags=["funds"])

PersonUser = Annotated[User, Depends(roles(*PEOPLE))]
Id = Annotated[int, Field(gt=0, le=MAX_RECORD_ID)]
Words = Annotated[str, Field(max_length=2_000)]
"""Plain words a person writes: the service checks them (not blank, no control characters)."""
Pence = Annotated[int, Field(ge=0, le=10**12)]


class FundRequestIn(BaseModel):
    holder_offer_id: Id
    """The offer of a provider that holds funds that the person chose it by."""
    council_id: Id
    person_id: Id | None = None
    """For a representative: the person the fund is for."""
    note: Words
    """What the person would like, in their own words, to their council."""


class BudgetIn(BaseModel):
    annual_budget_pence: Pence
    period_starts_on: date
    period_ends_on: date
    """The period's last day: a year at most."""
    funding_schedule: FundingSchedule


class OutcomeIn(BaseModel):
    own_words: Words
    outcome_code: Annotated[str, Field(max_length=100)] | None = None
    """The personal-outcome term's code, where one fits."""


class OfferLineIn(BaseModel):
    offer_id: Id
    minutes_per_week: Annotated[int, Field(gt=0, le=168 * 60)]
    when: Availability
    """The days and times it is at, each as 'day-time': day 0 (Monday) to 6 (Sunday), time
    0 (morning), 1 (afternoon), 2 (evening) or 3 (night). For example ["0-0", "3-1"]."""
    starts_on: date
    ends_on: date
    outcome_ids: Annotated[list[Id], Field(max_length=50)]


class DescribedLineIn(BaseModel):
    title: Annotated[str, Field(max_length=200)]
    weekly_pence: Pence
    starts_on: date
    ends_on: date
    outcome_ids: Annotated[list[Id], Field(max_length=50)]


class ContingencyIn(BaseModel):
    amount_pence: Pence
    """For the whole period; 0 for none."""


class ReasonIn(BaseModel):
    reason: Words


def _answer(db: Session, fund: IndividualServiceFund, user: User) -> FundOut:
    db.flush()
    db.refresh(fund)
    return fund_out(db, fund, user)


@router.post("/isfs", response_model=FundOut, status_code=201, responses=API_ERRORS)
def request_fund(body: FundRequestIn, db: DbSession, user: PersonUser) -> FundOut:
    """The person, or a representative for them, asks their council for a fund held by the
    provider of a published offer."""
    offer = db.get(Offer, body.holder_offer_id)
    if offer is None or offer.status != OfferStatus.PUBLISHED:
        raise NotFound("No published offer has this number")
    council = db.get(CouncilArea, body.council_id)
    if council is None:
        raise RuleBroken("Choose a council area by its number", field="council_id")
    person = db.get(User, body.person_id) if body.person_id is not None else None
    if body.person_id is not None and person is None:
        raise RuleBroken("Choose a person you act for", field="person_id")
    fund = funds_service.request_fund(
        db, requester=user, person=person, council=council, holder_offer=offer, note=body.note
    )
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/budget", response_model=FundOut, responses=API_ERRORS)
def set_budget(fund: ActedFund, body: BudgetIn, db: DbSession, user: SignedInUser) -> FundOut:
    """The council's budget holder sets the yearly budget, the period and how it is paid in."""
    funds_service.set_budget(
        db,
        fund=fund,
        budget_holder=user,
        annual_budget_pence=body.annual_budget_pence,
        period_starts_on=body.period_starts_on,
        period_ends_on=body.period_ends_on,
        schedule=body.funding_schedule,
    )
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/outcomes", response_model=FundOut, responses=API_ERRORS)
def add_outcome(fund: ActedFund, body: OutcomeIn, db: DbSession, user: SignedInUser) -> FundOut:
    """What matters to the person, in their own words, for the plan's lines to serve."""
    funds_service.add_outcome(
        db, fund=fund, by=user, own_words=body.own_words, term_code=body.outcome_code or None
    )
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/lines/offer", response_model=FundOut, responses=API_ERRORS)
def add_offer_line(
    fund: ActedFund, body: OfferLineIn, db: DbSession, user: SignedInUser
) -> FundOut:
    """A line for a marketplace offer at its current price, with uplifts and travel."""
    offer = db.get(Offer, body.offer_id)
    if offer is None:
        raise RuleBroken("Choose a published offer by its number", field="offer_id")
    funds_service.add_offer_line(
        db,
        fund=fund,
        by=user,
        offer=offer,
        minutes_per_week=body.minutes_per_week,
        when=body.when,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        outcome_ids=body.outcome_ids,
    )
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/lines/other", response_model=FundOut, responses=API_ERRORS)
def add_described_line(
    fund: ActedFund, body: DescribedLineIn, db: DbSession, user: SignedInUser
) -> FundOut:
    """A line for support that is not a marketplace offer, at an agreed weekly cost."""
    funds_service.add_described_line(
        db,
        fund=fund,
        by=user,
        title=body.title,
        weekly_pence=body.weekly_pence,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        outcome_ids=body.outcome_ids,
    )
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/contingency", response_model=FundOut, responses=API_ERRORS)
def set_contingency(
    fund: ActedFund, body: ContingencyIn, db: DbSession, user: SignedInUser
) -> FundOut:
    """An amount of the period's budget set aside for the unexpected."""
    funds_service.set_contingency(db, fund=fund, by=user, amount_pence=body.amount_pence)
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/lines/{line_id}/remove", response_model=FundOut, responses=API_ERRORS)
def remove_line(fund: ActedFund, line_id: RecordId, db: DbSession, user: SignedInUser) -> FundOut:
    """A line taken out of the plan while it is being agreed."""
    funds_service.remove_line(db, fund=fund, by=user, line_id=line_id)
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/accept", response_model=FundOut, responses=API_ERRORS)
def accept_agreement(fund: ActedFund, db: DbSession, user: SignedInUser) -> FundOut:
    """The caller's side (the person, the holder or the council) accepts the agreement; the
    fund is active once all three have."""
    funds_service.accept_agreement(db, fund=fund, by=user)
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/withdraw", response_model=FundOut, responses=API_ERRORS)
def withdraw_request(fund: ActedFund, body: ReasonIn, db: DbSession, user: SignedInUser) -> FundOut:
    """The person withdraws their request before it is agreed, saying why."""
    funds_service.withdraw_request(db, fund=fund, by=user, reason=body.reason)
    return _answer(db, fund, user)


@router.post("/isfs/{fund_id}/decline", response_model=FundOut, responses=API_ERRORS)
def decline_fund(fund: ActedFund, body: ReasonIn, db: DbSession, user: SignedInUser) -> FundOut:
    """The council or the holder declines the fund before it is agreed, saying why."""
    funds_service.decline_fund(db, fund=fund, by=user, reason=body.reason)
    return _answer(db, fund, user)
