"""Comparing up to three offers side by side: each one's price for the person's hours and
times (with its breakdown), fee, what it helps with, checks, availability, space, distance
and whether it reaches them, worked out the same ways as the search and the offer page
(providers.enquiries.quote for the price, providers.areas for distance and reach)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.errors import FieldError
from marketplace.geography.service import Location
from marketplace.parsing import record_id
from matching.listed import Trust, trust_of
from matching.schemas import DEFAULT_MINUTES_PER_WEEK
from providers import enquiries as enquiries_service
from providers import offers as offers_service
from providers.areas import Reach, distance_to_km, reach
from providers.asked import Asked
from providers.enquiries import Quote
from providers.models import Offer, OfferStatus, Provider, Taxonomy
from providers.pricing import fee_percent

MAX_OFFERS = 3


@dataclass(frozen=True)
class Compared:
    offer: Offer
    quote: Quote | None
    """None when no price is set."""
    fee_percent: str | None
    distance_km: float | None
    """From the person, when they said where they are and the offer's base is known."""
    reach: Reach | None
    """Whether it reaches the person's place, when they said where they are."""
    trust: Trust
    capacity_stale: bool
    availability: list[tuple[str, list[str]]]
    kinds: list[str]
    outcomes: list[str]


@dataclass(frozen=True)
class Comparison:
    offers: list[Compared]
    location: Location | None
    minutes_per_week: int
    when: int
    """The days and times asked, as an availability mask (0: not said)."""
    problems: list[FieldError]
    """Everything asked for that could not be used, each by its field."""


def _offer_ids(values: list[str], problems: list[FieldError]) -> list[int]:
    ids: list[int] = []
    for value in values:
        number = record_id(value)
        if number is None:
            problems.append(
                FieldError(
                    None,
                    f"{value[:20]!r} is not an offer number. Choose offers from your shortlist",
                )
            )
        elif number not in ids:
            ids.append(number)
    return ids


def compare_offers(
    session: Session, *, offer_values: list[str], asked: Asked, today: date
) -> Comparison:
    """The offers asked for, side by side, for the person's place, hours and times if given
    (carried from their search: providers.asked)."""
    problems: list[FieldError] = list(asked.problems)
    location = asked.location
    minutes = asked.minutes_per_week or DEFAULT_MINUTES_PER_WEEK
    offer_ids = _offer_ids(offer_values, problems)
    if not offer_ids and not problems:
        problems.append(FieldError(None, "Choose at least one offer to compare, and up to three"))
    if len(offer_ids) > MAX_OFFERS:
        problems.append(
            FieldError(
                None,
                f"You can compare up to {MAX_OFFERS} offers at a time. You chose {len(offer_ids)}",
            )
        )
        return Comparison(
            offers=[],
            location=location,
            minutes_per_week=minutes,
            when=asked.when,
            problems=problems,
        )
    offers = compared_offers(session, offer_ids=offer_ids)
    compared = []
    for offer_id in offer_ids:
        offer = offers.get(offer_id)
        if offer is None or offer.status != OfferStatus.PUBLISHED:
            problems.append(
                FieldError(
                    None, f"Offer {offer_id} is not available any more, so it cannot be compared"
                )
            )
            continue
        compared.append(
            _compared(offer, location=location, minutes=minutes, when=asked.when, today=today)
        )
    return Comparison(
        offers=compared,
        location=location,
        minutes_per_week=minutes,
        when=asked.when,
        problems=problems,
    )


def _compared(
    offer: Offer, *, location: Location | None, minutes: int, when: int, today: date
) -> Compared:
    price = offer.price
    distance = distance_to_km(offer, location)
    quote = (
        None
        if price is None
        else enquiries_service.quote(
            price,
            minutes_per_week=minutes,
            typical_week_hours=offer.typical_week_hours,
            when=when,
            distance_km=distance,
        )
    )
    return Compared(
        offer=offer,
        quote=quote,
        fee_percent=None
        if quote is None
        else fee_percent(fee_pence=quote.fee_pence, support_pence=quote.support_pence),
        distance_km=distance,
        reach=None if location is None else reach(offer, location),
        trust=trust_of(offer.provider.checks, today=today),
        capacity_stale=offers_service.capacity_is_stale(offer),
        availability=enquiries_service.describe_availability(offer.availability),
        kinds=[term.name for term in offer.terms_of(Taxonomy.KIND_OF_SUPPORT)],
        outcomes=[term.name for term in offer.terms_of(Taxonomy.PERSONAL_OUTCOME)],
    )


def compared_offers(session: Session, *, offer_ids: Iterable[int]) -> dict[int, Offer]:
    """The offers side by side, with what the comparison shows of them (their terms, areas
    and their providers' checks), in a fixed number of queries however many."""
    offers = session.scalars(
        select(Offer)
        .where(Offer.id.in_(sorted(set(offer_ids))))
        .options(selectinload(Offer.provider).selectinload(Provider.checks))
    ).unique()
    return {offer.id: offer for offer in offers}
