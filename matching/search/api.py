"""The matcher as JSON, under /api/v1: the same search as /find-support, with the same
parameters and the same messages for bad ones. Searches through the API that find
nothing are not recorded as unmet demand: only people's searches on the pages count."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from marketplace.accounts.policy import Public
from marketplace.api import API_ERRORS, ApiError
from marketplace.deps import DbSession
from marketplace.forms import FormInvalid
from matching import service as matching_service
from matching.deps import OfferIndexDep
from matching.listed import listed_offers
from matching.schemas import (
    CostLineOut,
    MatchedOfferOut,
    MatchOut,
    PlaceOut,
    ReasonOut,
    ShortOfReachOut,
)
from matching.search import service as search
from providers.asked import CARRIED

router = APIRouter(prefix="/api/v1", tags=["matching"])

Codes = Annotated[list[str], Query()]


@router.get(
    "/match",
    response_model=MatchOut,
    dependencies=[Public],
    responses=API_ERRORS
    | {
        422: {
            "model": ApiError,
            "description": "Some parameters cannot be used: each is named with its message",
        }
    },
)
def match(
    db: DbSession,
    index: OfferIndexDep,
    location: str = "",
    kinds_of_support: Codes = [],  # noqa: B006 - FastAPI copies defaults per request
    outcomes: Codes = [],  # noqa: B006
    client_groups: Codes = [],  # noqa: B006
    when: Codes = [],  # noqa: B006
    hours: str = "",
    language: str = "",
    max_price: str = "",
    isf: str = "",
    verified: str = "",
    sort: str = "",
    page: str = "",
) -> Response | MatchOut:
    """Published offers that reach a place and fit the request, ranked, one page at a time.

    `location` is a place name, a postcode (whole, its sector or its district) or
    "latitude, longitude"; taxonomy
    terms are given by code; `when` by "day-period" (0-0 is Monday morning); `hours` a
    week, like 2.5; `max_price` in pounds an hour; `isf` and `verified` as "yes"; `sort`
    one of best, nearest, cheapest."""
    answers: search.Answers = {
        "location": location,
        "kinds_of_support": kinds_of_support,
        "outcomes": outcomes,
        "client_groups": client_groups,
        "when": when,
        "hours": hours,
        "language": language,
        "max_price": max_price,
        "isf": isf,
        "verified": verified,
        "sort": sort,
        "page": page,
    }
    try:
        asked = search.read_search(db, index, answers)
    except FormInvalid as invalid:
        return JSONResponse(
            {
                "error": "FormInvalid",
                "detail": [{"field": e.field, "message": e.message} for e in invalid.problems],
            },
            status_code=422,
        )
    result = matching_service.match(db, index, asked.wanted, sort=asked.sort, page=asked.page)
    offers = listed_offers(db, offer_ids=[r.offer_id for r in result.results], index=index)
    wanted = result.wanted
    costs = search.week_costs_of(offers.values(), wanted)
    carried = urlencode(search.query_pairs(answers, CARRIED))
    return MatchOut(
        location=PlaceOut(
            label=wanted.location.label,
            council=wanted.location.council.name,
            settlement=wanted.location.settlement.label,
        ),
        minutes_per_week=wanted.minutes_per_week,
        sort=result.sort,
        page=result.page,
        pages=result.pages,
        page_size=result.page_size,
        total=result.total,
        reached=result.reached,
        cheapest_week_pence=result.cheapest_week_pence,
        results=[
            MatchedOfferOut(
                offer_id=ranked.offer_id,
                provider_id=ranked.provider_id,
                title=offers[ranked.offer_id].title,
                provider_name=offers[ranked.offer_id].provider.name,
                url=f"/offers/{ranked.offer_id}",
                rank=ranked.rank,
                score=round(ranked.score, 2),
                summary=ranked.summary,
                distance_km=None if ranked.distance_km is None else round(ranked.distance_km, 3),
                covers_by=ranked.covers_by,
                hourly_pence=ranked.hourly_pence,
                week_support_pence=ranked.week_support_pence,
                week_fee_pence=ranked.week_fee_pence,
                week_total_pence=ranked.week_total_pence,
                week_lines=[CostLineOut(label=line.label, pence=line.pence) for line in cost.lines]
                if cost
                else [],
                week_notes=list(cost.notes) if cost else [],
                url_for_week=f"/offers/{ranked.offer_id}?{carried}"
                if carried
                else f"/offers/{ranked.offer_id}",
                reasons=[
                    ReasonOut(
                        factor=r.factor, text=r.text, points=round(r.points, 2), out_of=r.out_of
                    )
                    for r in ranked.reasons
                ],
            )
            for ranked in result.results
            if ranked.offer_id in offers
            for cost in [costs.get(ranked.offer_id)]
        ],
        short_of_reach=[
            ShortOfReachOut(
                offer_id=item.offer.id,
                provider_id=item.offer.provider_id,
                title=item.offer.title,
                provider_name=item.offer.provider.name,
                url=f"/offers/{item.offer.id}?{carried}" if carried else f"/offers/{item.offer.id}",
                radius_km=item.short.radius_km,
                short_by_km=round(item.short.short_by_km, 3),
            )
            for item in search.short_of_reach_to_show(db, index, result)
        ],
    )
