"""Comparing up to three offers side by side: each one's price for the person's hours, fee,
what it helps with, checks, availability, space and distance, worked out the same ways as
the search (providers.enquiries.quote for the price, the geodesic for the distance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from marketplace.errors import RuleBroken
from marketplace.forms import FieldError, parse_hours
from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km
from marketplace.geography.service import Location
from marketplace.parsing import record_id
from matching.schemas import DEFAULT_MINUTES_PER_WEEK
from matching.search.service import Trust, load_offers, trust_of
from providers import enquiries as enquiries_service
from providers import offers as offers_service
from providers.enquiries import Quote
from providers.models import AreaType, Offer, OfferStatus, Taxonomy
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
    problems: list[FieldError]
    """Everything asked for that could not be used, each by its field."""


def measured_from(offer: Offer) -> tuple[float, float] | None:
    """Where the matcher measures an offer's distance from: the centre of its radius, or
    else its provider's base."""
    if offer.area_type == AreaType.RADIUS and offer.centre_latitude is not None and offer.centre_longitude is not None:
        return offer.centre_latitude, offer.centre_longitude
    provider = offer.provider
    if provider.base_latitude is not None and provider.base_longitude is not None:
        return provider.base_latitude, provider.base_longitude
    return None


def _offer_ids(values: list[str], problems: list[FieldError]) -> list[int]:
    ids: list[int] = []
    for value in values:
        number = record_id(value)
        if number is None:
            problems.append(FieldError(None, f"{value[:20]!r} is not an offer number. Choose offers from your shortlist"))
        elif number not in ids:
            ids.append(number)
    return ids


def compare_offers(
    session: Session, *, offer_values: list[str], location_text: str, hours_text: str, today: date
) -> Comparison:
    """The offers asked for, side by side, for the person's place and hours if given."""
    problems: list[FieldError] = []
    location = None
    if location_text.strip():
        try:
            location = geography_service.resolve_location(session, text=location_text, field="location")
        except RuleBroken as error:
            problems.append(FieldError("location", error.message))
    minutes = DEFAULT_MINUTES_PER_WEEK
    if hours_text.strip():
        try:
            minutes = parse_hours(hours_text)
        except ValueError as error:
            problems.append(FieldError("hours", str(error)))
    offer_ids = _offer_ids(offer_values, problems)
    if not offer_ids and not problems:
        problems.append(FieldError(None, "Choose at least one offer to compare, and up to three"))
    if len(offer_ids) > MAX_OFFERS:
        problems.append(FieldError(None, f"You can compare up to {MAX_OFFERS} offers at a time. You chose {len(offer_ids)}"))
        return Comparison(offers=[], location=location, minutes_per_week=minutes, problems=problems)
    offers = load_offers(session, offer_ids=offer_ids)
    compared = []
    for offer_id in offer_ids:
        offer = offers.get(offer_id)
        if offer is None or offer.status != OfferStatus.PUBLISHED:
            problems.append(FieldError(None, f"Offer {offer_id} is not available any more, so it cannot be compared"))
            continue
        compared.append(_compared(offer, location=location, minutes=minutes, today=today))
    return Comparison(offers=compared, location=location, minutes_per_week=minutes, problems=problems)


def _compared(offer: Offer, *, location: Location | None, minutes: int, today: date) -> Compared:
    price = offer.price
    quote = None if price is None else enquiries_service.quote(
        price, minutes_per_week=minutes, typical_week_hours=offer.typical_week_hours
    )
    point = measured_from(offer)
    distance = None
    if location is not None and point is not None:
        distance = geodesic_km(location.latitude, location.longitude, *point)
    return Compared(
        offer=offer,
        quote=quote,
        fee_percent=None if quote is None else fee_percent(fee_pence=quote.fee_pence, support_pence=quote.support_pence),
        distance_km=distance,
        trust=trust_of(offer.provider, today=today),
        capacity_stale=offers_service.capacity_is_stale(offer),
        availability=enquiries_service.describe_availability(offer.availability),
        kinds=[term.name for term in offer.terms_of(Taxonomy.KIND_OF_SUPPORT)],
        outcomes=[term.name for term in offer.terms_of(Taxonomy.PERSONAL_OUTCOME)],
    )
