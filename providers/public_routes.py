"""The public pages people choose from: an offer (plain description, prices per hour and for
a typical week, fee, area map and places, availability, capacity, checks and reviews) and a
provider's page with its offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace.accounts.policy import MaybeUser, Public
from marketplace.db import today
from marketplace.deps import DbSession
from marketplace.errors import NotFound
from marketplace.parsing import PageNumber, RecordId
from marketplace.web import render
from providers import offers as offers_service
from providers import reviews as reviews_service
from providers.access import public_offer
from providers.areas import area_map, distance_to_km, places_in_area, reach
from providers.asked import Asked, read_asked
from providers.models import (
    DAYS,
    PERIODS,
    Offer,
    OfferStatus,
    Provider,
    Review,
    Taxonomy,
    availability_bit,
)
from providers.pricing import (
    describe_minutes,
    fee_percent,
    format_basis_points,
    hourly_equivalent_pence,
    price_text,
    weekly_cost,
)
from providers.reviews import ReviewSummary

router = APIRouter(include_in_schema=False)
PLACES_LISTED = 30


@dataclass(frozen=True)
class PageSection:
    """A part of a page another package adds: its template and what that template needs,
    which it reads as `section.context`."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


OfferSection = Callable[[Request, Session, Offer], PageSection | None]
"""Given the request, its session and the offer, a section to show, or None for nothing."""
_cost_sections: list[OfferSection] = []


def add_offer_cost_section(section: OfferSection) -> None:
    """Show `section` under "What it costs" on the offer page, after those added before it.
    Packages above providers (matching's fair prices) add theirs this way, because providers
    may not import them."""
    if section not in _cost_sections:
        _cost_sections.append(section)


def _offer_cost_sections(request: Request, db: Session, offer: Offer) -> list[PageSection]:
    return [
        found for section in _cost_sections if (found := section(request, db, offer)) is not None
    ]


def price_summary(offer: Offer, asked: Asked | None = None) -> dict[str, object] | None:
    """The numbers people care about, for the offer page and for lists of offers: the week
    the person asked for (hours, times and place carried from their search) when known,
    else the offer's typical week, priced by pricing.weekly_cost."""
    price = offer.price
    if price is None:
        return None
    asked = asked or Asked()
    minutes = asked.minutes_per_week or offer.typical_week_hours * 60
    week = weekly_cost(
        price,
        minutes_per_week=minutes,
        when=asked.when,
        typical_week_hours=offer.typical_week_hours,
        distance_km=distance_to_km(offer, asked.location),
    )
    return {
        "price": price,
        "price_text": price_text(price),
        "hourly_pence": hourly_equivalent_pence(price, typical_week_hours=offer.typical_week_hours),
        "week": week,
        "week_asked": asked.minutes_per_week is not None,
        "hours_text": describe_minutes(minutes),
        "fee_percent": fee_percent(fee_pence=week.fee_pence, support_pence=week.support_pence)
        if week
        else None,
        "uplifts": [
            (label, format_basis_points(bp))
            for label, bp in (
                ("evenings", price.evening_uplift_bp),
                ("weekends", price.weekend_uplift_bp),
                ("nights", price.night_uplift_bp),
                ("public holidays", price.public_holiday_uplift_bp),
            )
            if bp
        ],
    }


def availability_rows(mask: int) -> list[tuple[str, list[bool]]]:
    return [
        (day, [bool(mask & availability_bit(d, p)) for p in range(len(PERIODS))])
        for d, day in enumerate(DAYS)
    ]


@router.get("/offers/{offer_id}", dependencies=[Public])
def offer_page(request: Request, offer_id: RecordId, db: DbSession, user: MaybeUser) -> Response:
    offer = public_offer(db, offer_id=offer_id, viewer=user)
    places = places_in_area(db, offer)
    # The search's answers come along in the address, so the price is for the person's
    # week and the page can say whether the offer reaches them.
    asked = read_asked(db, request.query_params.multi_items())
    review_summary, reviews = _reviews_shown(db, offer.provider_id)
    return render(
        request,
        "providers/offer.html",
        {
            "offer": offer,
            "provider": offer.provider,
            "summary": price_summary(offer, asked),
            "asked": asked,
            "carried": asked.query(),
            "reach": None if asked.location is None else reach(offer, asked.location),
            "cost_sections": _offer_cost_sections(request, db, offer),
            "kinds": offer.terms_of(Taxonomy.KIND_OF_SUPPORT),
            "outcomes": offer.terms_of(Taxonomy.PERSONAL_OUTCOME),
            "client_groups": offer.terms_of(Taxonomy.CLIENT_GROUP),
            "places": places[:PLACES_LISTED],
            "more_places": max(0, len(places) - PLACES_LISTED),
            "map": area_map(db, offer, places),
            "availability": availability_rows(offer.availability),
            "periods": PERIODS,
            "stale": offers_service.capacity_is_stale(offer),
            "today": today(),
            "reviews": reviews,
            "review_summary": review_summary,
        },
    )


def _reviews_shown(db: Session, provider_id: int) -> tuple[ReviewSummary | None, list[Review]]:
    """The summary of all a provider's reviews and the newest few (none read when there
    are none to read)."""
    summary = reviews_service.review_summary(db, provider_id=provider_id)
    if summary is None:
        return None, []
    return summary, reviews_service.newest_reviews(db, provider_id=provider_id)


def _provider(db: Session, provider_id: int) -> Provider:
    provider = db.get(Provider, provider_id)
    if provider is None:
        raise NotFound("Page not found")
    return provider


@router.get("/providers/{provider_id}", dependencies=[Public])
def provider_page(request: Request, provider_id: RecordId, db: DbSession) -> Response:
    provider = _provider(db, provider_id)
    offers = [o for o in provider.offers if o.status == OfferStatus.PUBLISHED]
    review_summary, reviews = _reviews_shown(db, provider.id)
    return render(
        request,
        "providers/provider.html",
        {
            "provider": provider,
            "offers": offers,
            "summaries": {o.id: price_summary(o) for o in offers},
            "today": today(),
            "reviews": reviews,
            "review_summary": review_summary,
        },
    )


@router.get("/providers/{provider_id}/reviews", dependencies=[Public])
def provider_reviews(
    request: Request, provider_id: RecordId, db: DbSession, page: PageNumber = 1
) -> Response:
    provider = _provider(db, provider_id)
    found = reviews_service.published_reviews_page(db, provider_id=provider.id, page=page)
    if page > found.pages:
        raise NotFound("Page not found")
    return render(
        request,
        "providers/reviews/all.html",
        {
            "provider": provider,
            "result": found,
            "reviews": found.items,
            "review_summary": reviews_service.review_summary(db, provider_id=provider.id),
        },
    )


@router.get("/providers/{provider_id}/photo", dependencies=[Public])
def provider_photo(provider_id: RecordId, db: DbSession) -> Response:
    provider = _provider(db, provider_id)
    if provider.photo is None or provider.photo_type is None:
        raise NotFound("Page not found")
    # The type was recognised from the content when it was uploaded; nosniff keeps it so.
    return Response(
        provider.photo,
        media_type=provider.photo_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )
