"""The matcher: which published offers reach a person, fit what they asked for, and in what
order, each with the reasons for its place; and the record of searches that found nothing."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import today as scottish_today
from marketplace.db import utcnow
from marketplace.errors import FieldError, RuleBroken, Rules
from marketplace.forms import FormInvalid
from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km_many
from marketplace.geography.gazetteer import Place
from marketplace.geography.models import Settlement
from marketplace.geography.service import Location
from matching import ranking
from matching.index import OfferIndex, Reach
from matching.models import UnmetDemand, UnmetDemandSource
from matching.offer_columns import Area
from matching.schemas import (
    DEFAULT_MINUTES_PER_WEEK,
    MatchResult,
    MatchSort,
    RankedOffer,
    SupportWanted,
)
from providers.enquiries import ALL_TIMES, MAX_MINUTES_PER_WEEK
from providers.models import Taxonomy, TaxonomyTerm
from providers.pricing import describe_minutes

PAGE_SIZE = 20
PARTIAL_SORT_FROM = 2_000
"""With more candidates than this (and many times a page), sort only those that can be on
the pages up to the one asked for."""


def check_wanted(index: OfferIndex, wanted: SupportWanted) -> None:
    """Refuse a request the matcher cannot answer, naming the field at fault."""
    terms = index.terms
    with Rules() as rules:
        for field, ids, taxonomy in (
            ("kinds", wanted.kinds, Taxonomy.KIND_OF_SUPPORT),
            ("outcomes", wanted.outcomes, Taxonomy.PERSONAL_OUTCOME),
            ("client_groups", wanted.client_groups, Taxonomy.CLIENT_GROUP),
        ):
            if any(terms.taxonomy.get(term_id) != taxonomy for term_id in ids):
                rules.broken("Choose from the lists given", field=field)
        if not 0 < wanted.minutes_per_week <= MAX_MINUTES_PER_WEEK:
            rules.broken("Enter from more than 0 to 168 hours a week", field="hours")
        if wanted.when < 0 or wanted.when & ~ALL_TIMES:
            rules.broken("Choose days and times from the table", field="when")
        if wanted.max_hourly_pence is not None and wanted.max_hourly_pence <= 0:
            rules.broken("Enter a highest price of more than £0 an hour", field="max_price")


TAXONOMY_OF_FIELD = {
    "kinds_of_support": Taxonomy.KIND_OF_SUPPORT,
    "outcomes": Taxonomy.PERSONAL_OUTCOME,
    "client_groups": Taxonomy.CLIENT_GROUP,
}
"""The form fields that carry each taxonomy's codes, as on providers' offer forms."""


def support_wanted(
    session: Session,
    index: OfferIndex,
    *,
    location: str,
    kinds_of_support: Iterable[str] = (),
    outcomes: Iterable[str] = (),
    client_groups: Iterable[str] = (),
    when: int = 0,
    minutes_per_week: int | None = None,
    language: str | None = None,
    max_hourly_pence: int | None = None,
    isf_holders_only: bool = False,
    verified_only: bool = False,
) -> SupportWanted:
    """A request from what a form or an address gave (a place as typed, taxonomy codes),
    or FormInvalid listing every answer that cannot be used, each by its field."""
    index.refresh(session)
    errors: list[FieldError] = []
    found: Location | None = None
    try:
        found = geography_service.resolve_location(session, text=location, field="location")
    except RuleBroken as error:
        errors.append(FieldError("location", error.message))
    ids: dict[str, frozenset[int]] = {}
    for field, codes in (
        ("kinds_of_support", kinds_of_support),
        ("outcomes", outcomes),
        ("client_groups", client_groups),
    ):
        taxonomy = TAXONOMY_OF_FIELD[field]
        known = [index.terms.by_code.get((taxonomy, code)) for code in codes]
        if any(term_id is None for term_id in known):
            errors.append(FieldError(field, "Choose from the list given"))
        ids[field] = frozenset(term_id for term_id in known if term_id is not None)
    if errors:
        raise FormInvalid(errors)
    assert found is not None
    wanted = SupportWanted(
        location=found,
        kinds=ids["kinds_of_support"],
        outcomes=ids["outcomes"],
        client_groups=ids["client_groups"],
        when=when,
        language=(language or "").strip() or None,
        max_hourly_pence=max_hourly_pence,
        isf_holders_only=isf_holders_only,
        verified_only=verified_only,
        minutes_per_week=DEFAULT_MINUTES_PER_WEEK if minutes_per_week is None else minutes_per_week,
    )
    check_wanted(index, wanted)
    return wanted


def fitting(
    index: OfferIndex, rows: NDArray[np.int64], wanted: SupportWanted, today: date
) -> NDArray[np.bool_]:
    """Which of the offers in `rows` give what the person asked for, wherever they reach."""
    terms = index.terms
    # Each test reads only the offers that passed the ones before, cheapest first: a kind of
    # support alone leaves about one offer in five.
    at = np.arange(rows.size)

    def narrow(test: Callable[[NDArray[np.int64]], NDArray[np.bool_]]) -> None:
        nonlocal at
        at = at[test(rows[at])]

    if wanted.kinds:
        kinds = np.uint64(terms.mask(wanted.kinds))
        narrow(lambda some: (index.column("kinds", some) & kinds) != 0)
    if wanted.client_groups:
        groups = np.uint64(terms.mask(wanted.client_groups))
        narrow(lambda some: (index.column("groups", some) & groups) == groups)
    if wanted.when:
        narrow(lambda some: (index.column("availability", some) & wanted.when) != 0)
    if wanted.language:
        language = wanted.language
        narrow(lambda some: index.speaks(language, some))
    if wanted.isf_holders_only:
        narrow(lambda some: index.column("holds_isf", some))
    if wanted.verified_only:
        narrow(lambda some: ranking.verified_on(index, some, today))
    if wanted.max_hourly_pence is not None:
        highest = wanted.max_hourly_pence * wanted.minutes_per_week

        def affordable(some: NDArray[np.int64]) -> NDArray[np.bool_]:
            # Against the price an hour of the week shown (uplifts, travel and fee
            # included), so a filtered list never shows a total above the highest asked.
            support, fee = ranking.week_costs(index, some, wanted)
            return (support >= 0) & ((support + fee) * 60 <= highest)

        narrow(affordable)
    keep = np.zeros(rows.size, dtype=np.bool_)
    keep[at] = True
    return keep


def _reach(
    index: OfferIndex,
    location: Location,
    fits: Callable[[NDArray[np.int64]], NDArray[np.bool_]] | None = None,
) -> Reach:
    return index.reaching(
        latitude=location.latitude,
        longitude=location.longitude,
        council_id=location.council.id,
        settlement_id=location.settlement.id,
        fits=fits,
    )


def _candidates(
    index: OfferIndex, wanted: SupportWanted, today: date, now: datetime
) -> ranking.Scores:
    reach = _reach(index, wanted.location, lambda rows: fitting(index, rows, wanted, today))
    return ranking.score(index, reach.rows, reach.distances_km, wanted, today=today, now=now)


def _order(
    index: OfferIndex, scores: ranking.Scores, sort: MatchSort, needed: int
) -> NDArray[np.int64]:
    """Candidate positions in result order, at least the first `needed` of them."""
    total = scores.total
    distance = np.where(np.isnan(scores.distance_km), np.inf, scores.distance_km)
    week = scores.week_total_pence.astype(np.float64)
    week = np.where(week < 0, np.inf, week)
    if sort == MatchSort.NEAREST:
        primary, secondary = distance, -total
    elif sort == MatchSort.CHEAPEST:
        primary, secondary = week, -total
    else:
        primary, secondary = -total, distance
    offer_ids = index.column("offer_id", scores.rows)
    count = primary.size
    if count > PARTIAL_SORT_FROM and count > 4 * needed:
        # Everything tied with the last place needed comes too, so ties still break right.
        kth = np.partition(primary, needed - 1)[needed - 1]
        positions = np.flatnonzero(primary <= kth)
    else:
        positions = np.arange(count)
    return positions[np.lexsort((offer_ids[positions], secondary[positions], primary[positions]))]


def match(
    session: Session,
    index: OfferIndex,
    wanted: SupportWanted,
    *,
    sort: MatchSort = MatchSort.BEST,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    today: date | None = None,
    now: datetime | None = None,
    with_reasons: bool = True,
    count_reached: bool = True,
) -> MatchResult:
    """One page of the offers that reach the person and fit the request, in order, each
    with its score out of 100, its distance and the reasons for its place (left empty
    without `with_reasons`: the results page links to them rather than drawing them).
    Without `count_reached`, the offers that reach the person whatever they asked for are
    counted only when none fits (the results page says how many then, and only then)."""
    today, now = today or scottish_today(), now or utcnow()
    index.refresh(session)
    with index.lock:
        check_wanted(index, wanted)
        scores = _candidates(index, wanted, today, now)
        total = scores.rows.size
        reached = _reach(index, wanted.location).rows.size if count_reached or not total else None
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        order = (
            _order(index, scores, sort, page * page_size) if total else np.empty(0, dtype=np.int64)
        )
        chosen = order[(page - 1) * page_size : page * page_size]
        week = scores.week_total_pence
        cheapest = int(week[week > 0].min()) if (week > 0).any() else None
        context = ranking.Context(
            wanted=wanted,
            place=wanted.location.label,
            cheapest_week_pence=cheapest,
            hours_text=describe_minutes(wanted.minutes_per_week),
            today=today,
        )
        results = _ranked(
            index,
            scores,
            chosen,
            start_rank=(page - 1) * page_size + 1,
            total=total,
            context=context,
            with_reasons=with_reasons,
        )
    return MatchResult(
        wanted=wanted,
        sort=sort,
        reached=reached,
        total=total,
        page=page,
        page_size=page_size,
        results=results,
        cheapest_week_pence=cheapest,
    )


def _ranked(
    index: OfferIndex,
    scores: ranking.Scores,
    chosen: NDArray[np.int64],
    *,
    start_rank: int,
    total: int,
    context: ranking.Context,
    with_reasons: bool,
) -> list[RankedOffer]:
    location = context.wanted.location
    rows = scores.rows[chosen]
    lats, lons = index.column("lat", rows), index.column("lon", rows)
    known = ~np.isnan(lats)
    exact = np.full(rows.size, np.nan)
    exact[known] = geodesic_km_many(location.latitude, location.longitude, lats[known], lons[known])
    # Each column read once for the page's rows, as Python numbers: reading numpy's one
    # element at a time costs more than the rest of a result.
    a = index.arrays
    areas, radii = a["area"][rows].tolist(), a["radius_km"][rows].tolist()
    hourlies, offer_ids = a["hourly_pence"][rows].tolist(), a["offer_id"][rows].tolist()
    provider_ids = a["provider_id"][rows].tolist()
    totals = scores.total[chosen].tolist()
    supports = scores.week_support_pence[chosen].tolist()
    fees = scores.week_fee_pence[chosen].tolist()
    distances = [None if math.isnan(km) else km for km in exact.tolist()]
    results = []
    for place, i in enumerate(chosen.tolist()):
        distance = distances[place]
        rank = start_rank + place
        support, hourly = supports[place], hourlies[place]
        results.append(
            RankedOffer(
                offer_id=offer_ids[place],
                provider_id=provider_ids[place],
                rank=rank,
                score=totals[place],
                distance_km=distance,
                covers_by=ranking.covers_by(Area(areas[place]), radii[place], distance, context),
                hourly_pence=None if hourly < 0 else hourly,
                week_support_pence=None if support < 0 else support,
                week_fee_pence=fees[place],
                reasons=ranking.reasons_for(
                    index.terms, ranking.facts_of(index, scores, i), distance, context
                )
                if with_reasons
                else [],
                summary=ranking.summary(rank, total, totals[place]),
            )
        )
    return results


def best_offer_of_each_provider(
    session: Session,
    index: OfferIndex,
    wanted: SupportWanted,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> dict[int, int]:
    """Every provider with an offer that reaches the person and fits the request, with its
    best-ranked such offer: {provider id: offer id}."""
    today, now = today or scottish_today(), now or utcnow()
    index.refresh(session)
    with index.lock:
        check_wanted(index, wanted)
        scores = _candidates(index, wanted, today, now)
        order = _order(index, scores, MatchSort.BEST, max(1, scores.rows.size))
        best: dict[int, int] = {}
        for i in order:
            row = int(scores.rows[i])
            best.setdefault(
                int(index.arrays["provider_id"][row]), int(index.arrays["offer_id"][row])
            )
    return best


def record_unmet_demand(
    session: Session,
    *,
    source: UnmetDemandSource,
    settlement: Place | Settlement,
    term_ids: Iterable[int],
    on: date,
) -> UnmetDemand:
    """Note, for the gap analysis, support asked for that nothing met: the settlement, the
    kinds of support and outcomes, the date. Nothing about who asked."""
    wanted_terms = sorted(set(term_ids))
    record = UnmetDemand(
        source=source,
        settlement_id=settlement.id,
        council_id=settlement.council_id,
        recorded_on=on,
        terms=list(session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.id.in_(wanted_terms))))
        if wanted_terms
        else [],
    )
    session.add(record)
    session.flush()
    return record


def record_unmet_search(
    session: Session, *, wanted: SupportWanted, on: date | None = None
) -> UnmetDemand:
    """A search that found nothing: its place, kinds of support and outcomes."""
    return record_unmet_demand(
        session,
        source=UnmetDemandSource.SEARCH,
        settlement=wanted.location.settlement,
        term_ids=wanted.kinds | wanted.outcomes,
        on=on or scottish_today(),
    )
