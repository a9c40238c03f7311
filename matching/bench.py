"""`sds-market bench match`: the matcher at national scale. It builds a synthetic market of
offers around Scotland's settlements in a temporary database (written in bulk, as an import
would, not through the services), loads the offer index from it, and times whole matches
(reach, filters, ranking, the top 20 with their scores and reasons) from places across
Scotland. Two baselines are measured in the same run, because the machine is shared and
noisy: a naive loop calling geopy for every offer (on a smaller market), and a bare
vectorised distance scan of all offers, the floor any in-memory method pays."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import numpy as np
import typer
from geopy.distance import geodesic
from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.geography.classify import UrbanRural8
from marketplace.geography.distance import haversine_km_many
from marketplace.geography.models import Settlement, SettlementKind
from marketplace.geography.service import Location, LocationKind
from marketplace.migrate import upgrade
from marketplace.models import import_all_models
from matching import service as matching_service
from matching.index import OfferIndex
from matching.offer_columns import Area
from matching.schemas import SupportWanted
from providers.models import (
    DAYS,
    PERIODS,
    AreaType,
    Check,
    CheckKind,
    CheckStatus,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    ProviderLanguage,
    Taxonomy,
    TaxonomyTerm,
    availability_bit,
    offer_council,
    offer_settlement,
    offer_term,
)

bench_app = typer.Typer(help="Benchmarks that print one JSON line each.", no_args_is_help=True)

SEED = 20261201
OFFERS_PER_PROVIDER = 2.5
PA_SHARE = 0.65
BATCH = 20_000
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@dataclass(frozen=True)
class Places:
    ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    council: np.ndarray
    class6: np.ndarray


def _places(session: Session) -> Places:
    rows = session.execute(
        select(
            Settlement.id,
            Settlement.latitude,
            Settlement.longitude,
            Settlement.population,
            Settlement.council_id,
            Settlement.urban_rural_8,
        )
        .where(Settlement.kind == SettlementKind.SETTLEMENT)
        .order_by(Settlement.id)
    ).all()
    return Places(
        ids=np.array([r.id for r in rows]),
        lat=np.array([r.latitude for r in rows]),
        lon=np.array([r.longitude for r in rows]),
        population=np.array([r.population for r in rows], dtype=np.float64),
        council=np.array([r.council_id for r in rows]),
        class6=np.array([int(UrbanRural8(r.urban_rural_8).six_fold) for r in rows]),
    )


BENCH_BASE_LABEL = "bench"
"""Where the bench's providers say they are based: what tells its offers from others."""


def build_market(session: Session, *, offers: int, seed: int = SEED) -> None:
    """Write `offers` published offers (and 5 % paused ones on top) with their providers,
    prices, terms, languages and checks, placed by population: most in the central belt,
    few on the islands, as the real market is. Radii follow the place: 5-15 km in towns,
    10-25 km in accessible places, 20-40 km in remote ones; 5 % cover council areas and
    5 % list towns by name."""
    rng = np.random.default_rng([seed, offers])
    places = _places(session)
    terms = {
        taxonomy: session.scalars(
            select(TaxonomyTerm.id)
            .where(TaxonomyTerm.taxonomy == taxonomy)
            .order_by(TaxonomyTerm.position)
        ).all()
        for taxonomy in Taxonomy
    }
    total = offers + offers // 20
    providers = max(1, int(total / OFFERS_PER_PROVIDER))
    home = rng.choice(
        places.ids.size, size=providers, p=places.population / places.population.sum()
    )
    spread = 1.5 + 4 * np.sqrt(places.population[home] / 600_000)
    base_lat = places.lat[home] + rng.normal(0, spread / 111.2, providers)
    base_lon = places.lon[home] + rng.normal(
        0, spread / (111.2 * np.cos(np.radians(places.lat[home]))), providers
    )
    is_pa = rng.random(providers) < PA_SHARE
    first_provider = (
        session.scalar(select(Provider.id).order_by(Provider.id.desc()).limit(1)) or 0
    ) + 1
    provider_ids = np.arange(first_provider, first_provider + providers)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    _insert(
        session,
        Provider,
        [
            {
                "id": int(provider_ids[i]),
                "kind": ProviderKind.PERSONAL_ASSISTANT
                if is_pa[i]
                else ProviderKind.MICRO_PROVIDER,
                "name": f"Bench provider {i}",
                "about": "",
                "holds_isf": bool(not is_pa[i] and i % 3 == 0),
                "base_label": BENCH_BASE_LABEL,
                "base_latitude": float(base_lat[i]),
                "base_longitude": float(base_lon[i]),
                "base_council_id": int(places.council[home[i]]),
                "base_settlement_id": int(places.ids[home[i]]),
                "created_at": created,
            }
            for i in range(providers)
        ],
    )
    _insert(
        session,
        ProviderLanguage,
        [{"provider_id": int(p), "language": "English"} for p in provider_ids]
        + [
            {"provider_id": int(p), "language": "Gaelic"}
            for p in provider_ids[rng.random(providers) < 0.05]
        ],
    )
    verified = rng.random(providers) < 0.6
    _insert(
        session,
        Check,
        [
            {
                "provider_id": int(provider_ids[i]),
                "kind": CheckKind.PVG if is_pa[i] else CheckKind.CARE_INSPECTORATE,
                "reference": "1234567890123456" if is_pa[i] else "CS2020000001",
                "status": CheckStatus.VERIFIED,
                "expires_on": None
                if i % 4
                else TODAY + timedelta(days=int(rng.integers(-30, 700))),
                "verified_at": created,
                "created_at": created,
            }
            for i in np.flatnonzero(verified)
        ],
    )

    owner = rng.integers(0, providers, total)
    cls = places.class6[home[owner]]
    radius = np.where(
        cls <= 2,
        rng.uniform(5, 15, total),
        np.where((cls == 3) | (cls == 5), rng.uniform(10, 25, total), rng.uniform(20, 40, total)),
    )
    area_draw = rng.random(total)
    area = np.where(
        area_draw < 0.9, Area.RADIUS, np.where(area_draw < 0.95, Area.COUNCILS, Area.SETTLEMENTS)
    )
    first_offer = (session.scalar(select(Offer.id).order_by(Offer.id.desc()).limit(1)) or 0) + 1
    offer_ids = np.arange(first_offer, first_offer + total)
    slots = [availability_bit(d, p) for d in range(len(DAYS)) for p in range(len(PERIODS))]
    offer_rows, price_rows, term_rows, council_rows, place_rows = [], [], [], [], []
    for i in range(total):
        p = owner[i]
        mask = 0
        for slot in rng.choice(len(slots), size=int(rng.integers(4, 20)), replace=False):
            mask |= slots[slot]
        kind_of_area = {
            Area.RADIUS: AreaType.RADIUS,
            Area.COUNCILS: AreaType.COUNCILS,
            Area.SETTLEMENTS: AreaType.SETTLEMENTS,
        }[Area(int(area[i]))]
        offer_rows.append(
            {
                "id": int(offer_ids[i]),
                "provider_id": int(provider_ids[p]),
                "title": f"Bench offer {i}",
                "description": "",
                "status": OfferStatus.PUBLISHED if i < offers else OfferStatus.PAUSED,
                "area_type": kind_of_area,
                "centre_label": "bench" if area[i] == Area.RADIUS else None,
                "centre_latitude": float(base_lat[p]) if area[i] == Area.RADIUS else None,
                "centre_longitude": float(base_lon[p]) if area[i] == Area.RADIUS else None,
                "radius_km": float(round(radius[i], 1)) if area[i] == Area.RADIUS else None,
                "availability": mask,
                "capacity_unit": "hours_per_week",
                "capacity_amount": int(rng.integers(0, 40)),
                "capacity_updated_at": NOW - timedelta(days=float(rng.uniform(0, 120))),
                "typical_week_hours": 10,
                "published_at": created,
                "updated_at": created,
                "created_at": created,
            }
        )
        unit_draw = rng.random()
        hourly = int(rng.integers(1600, 2400) if is_pa[p] else rng.integers(2200, 3200))
        unit, rate, minutes = (
            (PriceUnit.HOUR, hourly, None)
            if unit_draw < 0.85
            else (
                (PriceUnit.SESSION, hourly * 3, 180)
                if unit_draw < 0.95
                else (PriceUnit.WEEK, hourly * 10, None)
            )
        )
        holds = bool(not is_pa[p] and p % 3 == 0)
        price_rows.append(
            {
                "offer_id": int(offer_ids[i]),
                "version": 1,
                "unit": unit,
                "rate_pence": rate,
                "unit_minutes": minutes,
                "evening_uplift_bp": 0,
                "weekend_uplift_bp": 0,
                "night_uplift_bp": 0,
                "public_holiday_uplift_bp": 0,
                "travel_charge": "none",
                "travel_charge_pence": 0,
                "included": "",
                "management_fee_bp": 1000 if holds else None,
                "management_fee_fixed_pence": None,
                "management_fee_period": None,
                "created_at": created,
            }
        )
        chosen = list(
            rng.choice(terms[Taxonomy.KIND_OF_SUPPORT], size=int(rng.integers(1, 4)), replace=False)
        )
        chosen += list(
            rng.choice(
                terms[Taxonomy.PERSONAL_OUTCOME], size=int(rng.integers(1, 5)), replace=False
            )
        )
        chosen += list(
            rng.choice(terms[Taxonomy.CLIENT_GROUP], size=int(rng.integers(0, 3)), replace=False)
        )
        term_rows += [{"offer_id": int(offer_ids[i]), "term_id": int(t)} for t in chosen]
        if area[i] == Area.COUNCILS:
            council_rows.append(
                {"offer_id": int(offer_ids[i]), "council_id": int(places.council[home[p]])}
            )
        elif area[i] == Area.SETTLEMENTS:
            near = np.argsort(
                haversine_km_many(float(base_lat[p]), float(base_lon[p]), places.lat, places.lon)
            )[:4]
            place_rows += [
                {"offer_id": int(offer_ids[i]), "settlement_id": int(places.ids[s])} for s in near
            ]
    _insert(session, Offer, offer_rows)
    _insert(session, OfferPrice, price_rows)
    _insert(session, offer_term, term_rows)
    _insert(session, offer_council, council_rows)
    _insert(session, offer_settlement, place_rows)
    _move_counters_past(session, Provider, Offer)


def _move_counters_past(session: Session, *tables: type[Any]) -> None:
    """The rows above chose their own ids. PostgreSQL's counters must move past them, or the
    next provider or offer made the ordinary way (the demo's, beside the bench's market)
    takes an id already used; SQLite's go on from the largest id by themselves."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        name = table.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            )
        )


def _insert(
    session: Session, table: type[Any] | Table, rows: Sequence[Mapping[str, object]]
) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start : start + BATCH])


def query_places(session: Session, count: int, seed: int = SEED) -> list[Location]:
    """Where people search from: half weighted by population, half one per settlement
    drawn evenly (so rural places count), each moved up to about 2 km."""
    rng = np.random.default_rng([seed, count])
    settlements = list(
        session.scalars(
            select(Settlement)
            .where(Settlement.kind == SettlementKind.SETTLEMENT)
            .order_by(Settlement.id)
        )
    )
    weights = np.array([s.population for s in settlements], dtype=np.float64)
    picks = list(rng.choice(len(settlements), size=count // 2, p=weights / weights.sum()))
    picks += list(rng.choice(len(settlements), size=count - count // 2))
    located = []
    for pick in picks:
        s = settlements[pick]
        lat = round(s.latitude + rng.normal(0, 0.01), 2)
        lon = round(s.longitude + rng.normal(0, 0.015), 2)
        located.append(
            Location(
                kind=LocationKind.COORDINATES,
                label=f"near {s.name}",
                latitude=lat,
                longitude=lon,
                council=s.council,
                settlement=s,
            )
        )
    return located


def requests(session: Session, places: list[Location], seed: int = SEED) -> list[SupportWanted]:
    """A mix of what people ask for: most choose a kind of support, many some outcomes,
    half a few days and times."""
    rng = np.random.default_rng([seed, len(places), 7])
    kinds = session.scalars(
        select(TaxonomyTerm.id).where(TaxonomyTerm.taxonomy == Taxonomy.KIND_OF_SUPPORT)
    ).all()
    outcomes = session.scalars(
        select(TaxonomyTerm.id).where(TaxonomyTerm.taxonomy == Taxonomy.PERSONAL_OUTCOME)
    ).all()
    weekday_mornings = sum(availability_bit(d, 0) for d in range(5))
    wanted = []
    for place in places:
        wanted.append(
            SupportWanted(
                location=place,
                kinds=frozenset([int(rng.choice(kinds))]) if rng.random() < 0.7 else frozenset(),
                outcomes=frozenset(
                    int(o)
                    for o in rng.choice(outcomes, size=int(rng.integers(0, 4)), replace=False)
                ),
                when=weekday_mornings if rng.random() < 0.5 else 0,
                minutes_per_week=int(rng.choice([120, 360, 600, 900])),
            )
        )
    return wanted


T = TypeVar("T")


def _timed(function: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


class PlainOffer(TypedDict):
    """One offer as the naive loop sees it."""

    offer_id: int
    lat: float
    lon: float
    area: int
    radius_km: float
    councils: set[int]
    settlements: set[int]
    kinds: frozenset[int]
    outcomes: frozenset[int]
    availability: int


def naive_match(offers: list[PlainOffer], wanted: SupportWanted) -> list[int]:
    """The obvious way: for every offer, geopy's geodesic to the person, then the area and
    the filters, then the score, then sort. Returns the ids of the offers that fit."""
    here = (wanted.location.latitude, wanted.location.longitude)
    fitting = []
    for offer in offers:
        distance = (
            geodesic(here, (offer["lat"], offer["lon"])).km
            if offer["lat"] == offer["lat"]
            else None
        )
        if offer["area"] == Area.RADIUS:
            reaches = distance is not None and distance <= offer["radius_km"]
        elif offer["area"] == Area.COUNCILS:
            reaches = wanted.location.council.id in offer["councils"]
        else:
            reaches = wanted.location.settlement.id in offer["settlements"]
        if (
            not reaches
            or (wanted.kinds and not wanted.kinds & offer["kinds"])
            or (wanted.when and not wanted.when & offer["availability"])
        ):
            continue
        met = len(wanted.outcomes & offer["outcomes"])
        score = 30 * (met / len(wanted.outcomes) if wanted.outcomes else 1) + 20 * 10 / (
            10 + (distance or 10)
        )
        fitting.append((-score, distance or 0, offer["offer_id"]))
    fitting.sort()
    return [offer_id for _, _, offer_id in fitting]


def _plain_offers(session: Session, index: OfferIndex) -> list[PlainOffer]:
    """The index's offers as plain records, for the naive loop."""
    councils: dict[int, set[int]] = {}
    for offer_id, council_id in session.execute(
        select(offer_council.c.offer_id, offer_council.c.council_id)
    ):
        councils.setdefault(offer_id, set()).add(council_id)
    places: dict[int, set[int]] = {}
    for offer_id, settlement_id in session.execute(
        select(offer_settlement.c.offer_id, offer_settlement.c.settlement_id)
    ):
        places.setdefault(offer_id, set()).add(settlement_id)
    terms = index.terms
    plain: list[PlainOffer] = []
    for row in index.live_rows():
        offer_id = int(index.arrays["offer_id"][row])
        plain.append(
            {
                "offer_id": offer_id,
                "lat": float(index.arrays["lat"][row]),
                "lon": float(index.arrays["lon"][row]),
                "area": int(index.arrays["area"][row]),
                "radius_km": float(index.arrays["radius_km"][row]),
                "councils": councils.get(offer_id, set()),
                "settlements": places.get(offer_id, set()),
                "kinds": frozenset(
                    terms.ids_in(Taxonomy.KIND_OF_SUPPORT, int(index.arrays["kinds"][row]))
                ),
                "outcomes": frozenset(
                    terms.ids_in(Taxonomy.PERSONAL_OUTCOME, int(index.arrays["outcomes"][row]))
                ),
                "availability": int(index.arrays["availability"][row]),
            }
        )
    return plain


def _market(directory: Path, name: str, offers: int) -> tuple[Session, OfferIndex, float]:
    url = f"sqlite:///{directory / name}"
    upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    with session_scope(factory) as session:
        build_market(session, offers=offers)
    session = factory()
    index = OfferIndex()
    load_ms, _ = _timed(lambda: index.refresh(session))
    return session, index, load_ms


def _percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100))


@bench_app.command("match")
def bench_match(
    offers: int = typer.Option(100_000, help="Published offers in the big market."),
    naive_offers: int = typer.Option(
        10_000, help="Published offers in the market the naive loop runs on."
    ),
    queries: int = typer.Option(200, help="Matches timed on each market."),
    naive_queries: int = typer.Option(
        10, help="Of those, how many the naive loop also answers (about 1 s each at 10,000)."
    ),
) -> None:
    """Time whole matches at national scale against a naive geopy loop and a bare scan."""
    import_all_models()
    with tempfile.TemporaryDirectory(prefix="sds-bench-") as folder:
        directory = Path(folder)
        typer.echo(
            f"Building {offers:,} offers and {naive_offers:,} offers in temporary databases",
            err=True,
        )
        big, big_index, load_ms = _market(directory, "big.sqlite3", offers)
        small, small_index, _ = _market(directory, "small.sqlite3", naive_offers)
        wanted = requests(big, query_places(big, queries))

        def run(session: Session, index: OfferIndex, request: SupportWanted) -> float:
            elapsed, _ = _timed(
                lambda: matching_service.match(session, index, request, today=TODAY, now=NOW)
            )
            return elapsed

        for request in wanted[:10]:  # warm the caches
            run(big, big_index, request)
        big_ms = [run(big, big_index, request) for request in wanted]
        small_wanted = requests(small, query_places(small, queries))
        small_ms = [run(small, small_index, request) for request in small_wanted]

        plain = _plain_offers(small, small_index)
        naive_ms, same_reach = [], True
        for request in small_wanted[:naive_queries]:
            elapsed, naive_ids = _timed(partial(naive_match, plain, request))
            naive_ms.append(elapsed)
            ours = matching_service.match(
                small, small_index, request, today=TODAY, now=NOW, page_size=max(1, len(plain))
            )
            same_reach &= sorted(naive_ids) == sorted(r.offer_id for r in ours.results)

        lat, lon = (
            big_index.arrays["lat"][: big_index.size],
            big_index.arrays["lon"][: big_index.size],
        )
        scan_ms = [
            _timed(partial(haversine_km_many, r.location.latitude, r.location.longitude, lat, lon))[
                0
            ]
            for r in wanted
        ]
        big.close()
        small.close()
    ours_at_naive_scale = statistics.median(small_ms[:naive_queries])
    print(
        json.dumps(
            {
                "bench": "match",
                "offers": offers,
                "p50_ms": round(_percentile(big_ms, 0.5), 3),
                "p95_ms": round(_percentile(big_ms, 0.95), 3),
                "naive_offers": naive_offers,
                "speedup_vs_naive": round(statistics.median(naive_ms) / ours_at_naive_scale, 1),
                "scan_p95_ms": round(_percentile(scan_ms, 0.95), 3),
                "queries": len(big_ms),
                "index_load_s": round(load_ms / 1000, 2),
                "naive_ms": round(statistics.median(naive_ms), 1),
                "ours_at_naive_scale_ms": round(ours_at_naive_scale, 3),
                "same_reach_as_naive": same_reach,
            }
        )
    )
