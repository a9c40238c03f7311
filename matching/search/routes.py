"""Pages for supported people and representatives: finding support (the search, with htmx
updating only the results and the address always shareable) and how results are ranked.
The shortlist's pages and the side-by-side comparison are in matching.shortlist.routes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace import web
from marketplace.accounts.policy import Public
from marketplace.db import today
from marketplace.deps import AppSettings, DbSession, client_address, own_write_transaction
from marketplace.forms import FormInvalid, FormPage
from marketplace.geography import distance
from marketplace.parsing import RecordId
from marketplace.web import render
from matching import ranking
from matching import service as matching_service
from matching.deps import OfferIndexDep
from matching.index import OfferIndex
from matching.listed import listed_offers
from matching.schemas import DEFAULT_MINUTES_PER_WEEK, MatchResult, MatchSort
from matching.search import service as search
from matching.search import unmet
from matching.shortlist.routes import KeptShortlist
from providers.asked import CARRIED
from providers.models import DAYS, PERIODS
from providers.pricing import describe_minutes

router = APIRouter(include_in_schema=False)
web.add_navigation("Find support", "/find-support", order=5, public=True)

search_page = FormPage("matching/search.html", block="search")
NARROWING = ("outcomes", "client_groups", "when", "language", "max_price", "isf", "verified")
"""The questions kept under "More ways to narrow the results", opened when one is answered."""


def _search_context(
    db: Session, index: OfferIndex, answers: search.Answers, kept: KeptShortlist
) -> dict[str, Any]:
    index.refresh(db)
    return {
        "choices": search.taxonomy_choices(index),
        "languages": search.language_options(db, index),
        "sorts": list(MatchSort),
        "days": DAYS,
        "periods": PERIODS,
        "narrowing": NARROWING,
        "narrowing_answered": bool(search.query_pairs(answers, NARROWING)),
        "saved": kept.offer_ids,
        "default_hours": describe_minutes(DEFAULT_MINUTES_PER_WEEK),
    }


def _page_query(answers: search.Answers) -> str:
    """The search's address without its page number, for the page links."""
    pairs = search.query_pairs(answers, [field for field in search.FIELDS if field != "page"])
    return urlencode(pairs) + "&" if pairs else ""


def _record_if_unmet(request: Request, result: MatchResult, settings: AppSettings) -> None:
    """A search that found nothing counts once a day per address for the same place and kind
    of support, however often it is reloaded, updated or scripted (the rule on /about/gaps)."""
    if result.total or unmet.embedded_elsewhere(dict(request.headers)):
        return
    on = today()
    assert settings.secret_key is not None
    key = unmet.address_key(
        settings.secret_key.get_secret_value().encode(), client_address(request), on
    )
    with own_write_transaction(request) as db:
        unmet.count_unmet_search(db, wanted=result.wanted, address_key=key, on=on)


@router.get("/find-support", dependencies=[Public])
def find_support(
    request: Request,
    db: DbSession,
    index: OfferIndexDep,
    kept: KeptShortlist,
    settings: AppSettings,
) -> Response:
    answers = search.answers_from(request.query_params.multi_items())
    context = _search_context(db, index, answers, kept)
    if not search.asks_anything(answers):
        return kept.finish(search_page.render(request, values=answers, result=None, **context))
    search_page.remember(request, values=answers, result=None, **context)
    asked = search.read_search(db, index, answers)
    result = matching_service.match(
        db,
        index,
        asked.wanted,
        sort=asked.sort,
        page=asked.page,
        with_reasons=False,
        count_reached=False,
    )
    response = search_page.render(
        request,
        values=answers,
        result=result,
        shown=search.results_to_show(
            db,
            index,
            result,
            today=today(),
            minimum_pay_pence=settings.matching.minimum_care_pay_pence,
        ),
        page_query=_page_query(answers),
        hours_text=describe_minutes(result.wanted.minutes_per_week),
        search_query=urlencode(search.query_pairs(answers, search.FIELDS)),
        back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        carried=urlencode(search.query_pairs(answers, CARRIED)),
        need_query=urlencode(
            search.query_pairs(
                answers,
                ["location", "kinds_of_support", "outcomes", "client_groups", "when", "hours"],
            )
        ),
        short_of_reach=search.short_of_reach_to_show(db, index, result),
        **context,
    )
    _record_if_unmet(request, result, settings)
    return kept.finish(response)


@router.get("/find-support/why/{offer_id}", dependencies=[Public])
def why_ranked_here(
    request: Request, offer_id: RecordId, db: DbSession, index: OfferIndexDep
) -> Response:
    """One result's points for each part of its score, with the reasons in words: a page of
    its own, linked from the result, so a page of results does not draw twenty tables.
    The address carries the search, which is asked again as it was."""
    answers = search.answers_from(request.query_params.multi_items())
    query = urlencode(search.query_pairs(answers, search.FIELDS))
    results = f"/find-support?{query}" if query else "/find-support"
    if not search.asks_anything(answers):
        return web.redirect(request, results)
    try:
        asked = search.read_search(db, index, answers)
    except FormInvalid:
        return web.redirect(request, results)  # the search page names what is wrong
    result = matching_service.match(db, index, asked.wanted, sort=asked.sort, page=asked.page)
    ranked = next((r for r in result.results if r.offer_id == offer_id), None)
    offer = listed_offers(db, offer_ids=[offer_id], index=index).get(offer_id)
    if ranked is None or offer is None:
        return render(request, "matching/why_gone.html", {"back": results}, status_code=404)
    return render(
        request,
        "matching/why.html",
        {
            "offer": offer,
            "ranked": ranked,
            "result": result,
            "carried": urlencode(search.query_pairs(answers, CARRIED)),
            "back": f"{results}#offer-{offer_id}",
        },
    )


@router.get("/about/ranking", dependencies=[Public])
def how_we_rank(request: Request) -> Response:
    return render(
        request,
        "matching/ranking.html",
        {
            "factors": ranking.FACTORS,
            "total_points": sum(ranking.WEIGHTS.values()),
            "half_points_km": ranking.DISTANCE_HALF_POINTS_KM,
            "fresh_days": ranking.SPACE_FRESH_DAYS,
            "stale_days": ranking.SPACE_STALE_DAYS,
            "sphere_margin_percent": distance.SPHERE_MARGIN * 100,
            "sorts": list(MatchSort),
            "page_size": matching_service.PAGE_SIZE,
        },
    )
