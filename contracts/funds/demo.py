"""Demo individual service funds, made through the same services people use: Morag
Lindsay's, asked for by her son and held by Glen Care Co-operative since the start of this
financial year, paid in monthly up to today; and funds of other people in Highland in every
state, so that the budget holder has requests to decide, holders have plans to agree, and
finance has money to follow."""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import FundingSchedule, IndividualServiceFund
from contracts.funds.plan import last_day_of_year_from, plan_costs
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.db import SCOTTISH_TIME
from marketplace.geography import service as geography_service
from providers import offers as offers_service
from providers.models import DAYS, Offer, OfferStatus, Provider, availability_bit

SEED = 20_260_401
GLEN_CARE_OFFER = "Care at home around Loch Ness"
FIRST_NAMES = (
    "Agnes", "Angus", "Catriona", "Donald", "Elspeth", "Farquhar", "Flora", "Hamish",
    "Iona", "Kenneth", "Lachlan", "Mairi", "Murdo", "Niamh", "Peigi", "Rory",
    "Seonag", "Torquil", "Una", "Willie", "Ishbel", "Calum", "Effie", "Duncan",
)  # fmt: skip
SURNAMES = (
    "Macdonald", "Mackenzie", "Macleod", "Fraser", "Ross", "Munro", "Mackay", "Grant",
    "Cameron", "Matheson", "Sutherland", "Gunn",
)  # fmt: skip
STATES = (
    ("requested",) * 7
    + ("agreeing",) * 5
    + ("active",) * 9
    + ("declined",) * 2
    + ("withdrawn",)
    + ("last_year",) * 9
)
"""How many of the other people's funds are in each state; the last were agreed for the
year before this one, whose periods the demo's spending closes (so change of use has a
whole year behind it, not only this year so far)."""


def financial_year(today: date) -> tuple[date, date]:
    """The council financial year (1 April to 31 March) that `today` is in."""
    starts_on = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    return starts_on, last_day_of_year_from(starts_on)


def load_demo_funds(
    session: Session,
    *,
    today: date,
    hasher: PasswordHasher,
    person: User,
    representative: User,
    budget_holder: User,
    holder_staff: User,
) -> int:
    """Make the demo funds unless there are funds already; how many were made."""
    if session.scalar(select(IndividualServiceFund.id).limit(1)) is not None:
        return 0
    starts_on, ends_on = this_year = financial_year(today)
    last_year = financial_year(starts_on - timedelta(days=1))
    holders = _holder_offers(session)
    glen_care = next(
        offer
        for offer in holders
        if offer.title == GLEN_CARE_OFFER
        and any(member.user_id == holder_staff.id for member in offer.provider.members)
    )
    morags = _morags_fund(
        session,
        person=person,
        representative=representative,
        budget_holder=budget_holder,
        holder_offer=glen_care,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    made = [morags]
    rng = random.Random(SEED)
    hourly = [
        offer
        for offer in offers_service.published_offers(session)
        if offer.price is not None and offer.price.unit.value == "hour"
    ]
    # Support from providers someone signs in for, who record what they deliver.
    support = [offer for offer in hourly if offer.provider.members] or hourly
    highland = geography_service.find_council_area(session, name_or_code="Highland")
    for number, state in enumerate(STATES, start=1):
        someone = accounts_service.create_user(
            session,
            hasher=hasher,
            email=f"isf-person-{number}@example.org",
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            role=Role.SUPPORTED_PERSON,
            # Nobody signs in as them: a password no one knows.
            password=secrets.token_urlsafe(24),
            confirmed=True,
        )
        fund = funds.request_fund(
            session,
            requester=someone,
            person=None,
            council=highland,
            holder_offer=rng.choice(holders),
            note=rng.choice(REQUEST_NOTES),
        )
        made.append(fund)
        if state in ("declined", "withdrawn"):
            _end(session, fund, state, budget_holder)
            continue
        if state == "requested":
            continue
        offer = rng.choice(support)
        hours = rng.randint(3, 12)
        schedule = rng.choice(list(FundingSchedule))
        starts_on, ends_on = this_year if state != "last_year" else last_year
        # Enough to draw the plan up in; set to what the plan needs once it is.
        _set_budget(session, fund, budget_holder, schedule, starts_on, ends_on, 10_000_000)
        outcome = funds.add_outcome(
            session,
            fund=fund,
            by=fund.person,
            own_words=rng.choice(OWN_WORDS),
            term_code=rng.choice(("feeling-safe", "having-things-to-do", "seeing-people")),
        )
        funds.add_offer_line(
            session,
            fund=fund,
            by=fund.person,
            offer=offer,
            minutes_per_week=hours * 60,
            when=_mornings(rng, hours),
            starts_on=starts_on,
            ends_on=ends_on,
            outcome_ids=[outcome.id],
        )
        # The council's budget: the plan with its fee and a tenth more, to the £100 up.
        needed = -(-plan_costs(fund).total_pence * 110 // 100 // 10_000) * 10_000
        _set_budget(session, fund, budget_holder, schedule, starts_on, ends_on, needed)
        sides = [fund.person, fund.holder.members[0].user, budget_holder]
        agreed = sides if state in ("active", "last_year") else sides[: rng.randint(0, 2)]
        for side in agreed:
            funds.accept_agreement(session, fund=fund, by=side, now=_before(starts_on, 10))
    post_due_tranches(session, today=today)
    return len(made)


def _morags_fund(
    session: Session,
    *,
    person: User,
    representative: User,
    budget_holder: User,
    holder_offer: Offer,
    starts_on: date,
    ends_on: date,
) -> IndividualServiceFund:
    council = budget_holder.council
    assert council is not None
    fund = funds.request_fund(
        session,
        requester=representative,
        person=person,
        council=council,
        holder_offer=holder_offer,
        note=(
            "Mum wants Glen Care to hold her budget: they already know her, and she would "
            "rather they sorted the paperwork than us."
        ),
        now=_before(starts_on, 40),
    )
    funds.set_budget(
        session,
        fund=fund,
        budget_holder=budget_holder,
        annual_budget_pence=1_400_000,
        period_starts_on=starts_on,
        period_ends_on=ends_on,
        schedule=FundingSchedule.MONTHLY,
        now=_before(starts_on, 30),
    )
    safe = funds.add_outcome(
        session,
        fund=fund,
        by=representative,
        own_words="Being safe getting up and going to bed, in my own home",
        term_code="feeling-safe",
    )
    company = funds.add_outcome(
        session,
        fund=fund,
        by=person,
        own_words="Getting to the lunch club in Drumnadrochit on Thursdays",
        term_code="seeing-people",
    )
    mornings = sum(availability_bit(day, 0) for day in range(len(DAYS)))
    funds.add_offer_line(
        session,
        fund=fund,
        by=holder_offer.provider.members[0].user,
        offer=holder_offer,
        minutes_per_week=7 * 60,
        when=mornings,
        starts_on=starts_on,
        ends_on=ends_on,
        outcome_ids=[safe.id],
    )
    funds.add_described_line(
        session,
        fund=fund,
        by=representative,
        title="Lunch club membership and the community minibus",
        weekly_pence=900,
        starts_on=starts_on,
        ends_on=ends_on,
        outcome_ids=[company.id],
    )
    funds.set_contingency(session, fund=fund, by=representative, amount_pence=50_000)
    for side in (representative, holder_offer.provider.members[0].user, budget_holder):
        funds.accept_agreement(session, fund=fund, by=side, now=_before(starts_on, 10))
    return fund


def _set_budget(
    session: Session,
    fund: IndividualServiceFund,
    budget_holder: User,
    schedule: FundingSchedule,
    starts_on: date,
    ends_on: date,
    annual_pence: int,
) -> None:
    funds.set_budget(
        session,
        fund=fund,
        budget_holder=budget_holder,
        annual_budget_pence=annual_pence,
        period_starts_on=starts_on,
        period_ends_on=ends_on,
        schedule=schedule,
    )


def _holder_offers(session: Session) -> list[Offer]:
    """Published offers of providers that hold funds, with a price: what a person chooses
    a holder by. Only holders someone signs in for, who can agree a plan (the generated
    providers have no sign-in)."""
    offers = session.scalars(
        select(Offer)
        .join(Provider)
        .where(Provider.holds_isf, Offer.status == OfferStatus.PUBLISHED)
        .order_by(Offer.id)
    )
    return [offer for offer in offers if offer.provider.members and offer.price is not None]


def _mornings(rng: random.Random, hours: int) -> int:
    """Some weekday mornings, one a visit of at most four hours."""
    days = rng.sample(range(5), k=min(5, max(1, -(-hours // 4))))
    return sum(availability_bit(day, 0) for day in days)


def _end(session: Session, fund: IndividualServiceFund, state: str, budget_holder: User) -> None:
    if state == "withdrawn":
        funds.withdraw_request(
            session, fund=fund, by=fund.person, reason="My family will arrange it for now"
        )
    else:
        funds.decline_fund(
            session,
            fund=fund,
            by=budget_holder,
            reason="Option 2 is not right yet: we will review your assessment with you first",
        )


def _before(day: date, days: int) -> datetime:
    """Ten in the morning, Scottish time, some days before `day`."""
    return datetime.combine(day - timedelta(days=days), time(10), tzinfo=SCOTTISH_TIME)


REQUEST_NOTES = (
    "I would like my support arranged around my work.",
    "My daughter helps me with the forms, but I would like someone to hold the money.",
    "I want to choose who comes, and when.",
    "The agency I have now cannot do evenings. I would like to use someone local.",
)
OWN_WORDS = (
    "Getting out to see my friends",
    "Feeling safe when I am on my own",
    "Keeping up my garden",
    "Going swimming again",
    "Staying in my own home",
)
