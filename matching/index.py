"""The offer index: every published offer held in memory as columns (numpy arrays), so that
"which offers reach this person and fit what they asked for" looks at 100,000 offers in a
few milliseconds instead of asking the database row by row.

Each app worker keeps its own index, and the database keeps them all current: whenever a
transaction changes something the matcher reads (an offer, its price, terms or area, its
provider's profile, languages or checks), `record_changes` appends a row to `offer_change`
in that same transaction. Before every search the index asks for the newest sequence
number (one indexed look-up) and reads again only the offers that changed since. On
PostgreSQL, sequence numbers are handed out before commit, so a later number can become
visible first; a number skipped over is remembered as a gap and looked for again until it
appears or `GAP_PATIENCE` passes (a rolled-back transaction leaves a gap for ever).

Writes that bypass the ORM (bulk `update()`/`delete()` on these tables) are not seen; the
code has none, and a new one must add its own `offer_change` rows."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import and_, delete, event, func, insert, or_, select
from sqlalchemy.orm import Session

from marketplace.geography.classify import UrbanRural8
from marketplace.geography.distance import haversine_km_many, within_km
from marketplace.geography.models import CouncilArea, Settlement, SettlementKind
from matching.models import OfferChange
from providers.models import (
    AreaType,
    CapacityUnit,
    Check,
    CheckKind,
    CheckStatus,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderLanguage,
    Taxonomy,
    TaxonomyTerm,
    offer_council,
    offer_settlement,
    offer_term,
)
from providers.pricing import hourly_equivalent_pence, weekly_fee_pence

GAP_PATIENCE_SECONDS = 600.0
"""How long a skipped sequence number is waited for: longer than any transaction runs."""
KEEP_CHANGES = timedelta(days=7)
"""`prune_changes` deletes changes older than this; an index that has not refreshed for
nearly as long reads everything again rather than trust a log with pieces missing."""
RELOAD_AFTER_IDLE_SECONDS = (KEEP_CHANGES - timedelta(days=1)).total_seconds()
KEY_CHECKS = {CheckKind.PVG: "pvg_until", CheckKind.CARE_INSPECTORATE: "registration_until"}
"""The checks that make a provider "verified": safeguarding membership or registration."""
NO_EXPIRY = date.max.toordinal()
ID_CHUNK = 500
"""Ids per IN (...) list, well inside every database's parameter limit."""


NEWEST_CHANGE = select(func.max(OfferChange.__table__.c.seq))
"""Asked before every search, so through Core: the ORM's overhead would double its cost."""


class Area(enum.IntEnum):
    RADIUS = 0
    COUNCILS = 1
    SETTLEMENTS = 2


AREA_OF = {AreaType.RADIUS: Area.RADIUS, AreaType.COUNCILS: Area.COUNCILS, AreaType.SETTLEMENTS: Area.SETTLEMENTS}

# One array per column, one row per offer. Where a column needs saying:
# lat/lon: where distance is measured from, a radius's centre or else the provider's base
#   (NaN when neither is known); hourly_pence: the hourly equivalent, -1 for a one-off
#   price; week_rate_pence: for a price by the week, the week's price, else -1;
#   fee_weekly_pence: the fixed part of the management fee as a week's share;
#   pvg_until/registration_until: the last day (ordinal) the provider's PVG membership or
#   Care Inspectorate registration stays verified, 0 for none;
#   capacity_at: when capacity was last confirmed (Unix time); home_council/home_class6:
#   where the provider works from, for fair-price comparisons (-1 / 0 when unknown).
COLUMN_TYPES: dict[str, Any] = {
    "offer_id": np.int64,
    "provider_id": np.int64,
    "live": np.bool_,
    "area": np.int8,
    "lat": np.float64,
    "lon": np.float64,
    "radius_km": np.float64,
    "councils": np.uint64,
    "kinds": np.uint64,
    "outcomes": np.uint64,
    "groups": np.uint64,
    "availability": np.int64,
    "hourly_pence": np.int64,
    "week_rate_pence": np.int64,
    "fee_bp": np.int64,
    "fee_weekly_pence": np.int64,
    "holds_isf": np.bool_,
    "pvg_until": np.int32,
    "registration_until": np.int32,
    "capacity": np.int32,
    "capacity_in_places": np.bool_,
    "capacity_at": np.float64,
    "home_council": np.int16,
    "home_class6": np.int8,
}
COLUMN_NAMES = tuple(COLUMN_TYPES)


class TermBits:
    """Each taxonomy term's bit in an offer's 64-bit mask for its taxonomy."""

    def __init__(self, terms: Iterable[TaxonomyTerm]) -> None:
        self.bit: dict[int, int] = {}
        self.taxonomy: dict[int, Taxonomy] = {}
        self.name: dict[int, str] = {}
        self.code: dict[int, str] = {}
        self.by_code: dict[tuple[Taxonomy, str], int] = {}
        counts: dict[Taxonomy, int] = {}
        for term in sorted(terms, key=lambda t: (t.taxonomy, t.position, t.id)):
            position = counts.get(term.taxonomy, 0)
            if position >= 64:
                raise ValueError(f"the matcher holds at most 64 terms a taxonomy; {term.taxonomy} has more")
            counts[term.taxonomy] = position + 1
            self.bit[term.id] = position
            self.taxonomy[term.id] = term.taxonomy
            self.name[term.id] = term.name
            self.code[term.id] = term.code
            self.by_code[(term.taxonomy, term.code)] = term.id

    def mask(self, term_ids: Iterable[int]) -> int:
        mask = 0
        for term_id in term_ids:
            mask |= 1 << self.bit[term_id]
        return mask

    def ids_in(self, taxonomy: Taxonomy, mask: int) -> list[int]:
        return [t for t, tax in self.taxonomy.items() if tax == taxonomy and mask >> self.bit[t] & 1]


class _UnknownTerm(Exception):
    """An offer uses a term added since the index was built: build it again."""


@dataclass
class _Reference:
    terms: TermBits
    council_bit: dict[int, int]
    home_of_settlement: dict[int, tuple[int, int]]
    """settlement id -> (council id, 6-fold class)."""
    settlement_lat: NDArray[np.float64]
    settlement_lon: NDArray[np.float64]
    settlement_ids: NDArray[np.int64]
    settlement_reach: NDArray[np.float64]


@dataclass
class _Loaded:
    """Offers read from the database, column by column, before they go into the arrays."""

    columns: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in COLUMN_NAMES})
    settlements: list[tuple[int, ...]] = field(default_factory=list)
    languages: list[frozenset[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["offer_id"])


class OfferIndex:
    """One worker's in-memory index of published offers. `refresh(session)` brings it up to
    date; reads happen under `lock`, which refreshes take too."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ref: _Reference | None = None
        self.size = 0
        self.arrays: dict[str, NDArray[Any]] = {}
        self.row_of: dict[int, int] = {}
        self.free_rows: list[int] = []
        self.settlement_rows: dict[int, set[int]] = {}
        self.row_settlements: dict[int, tuple[int, ...]] = {}
        self.language_rows: dict[str, NDArray[np.bool_]] = {}
        self.row_languages: dict[int, frozenset[str]] = {}
        self.last_seq: int | None = None
        self.gaps: dict[int, float] = {}
        self.generation = 0
        """Bumped by every change, for caches built on the index (fair prices)."""
        self.refreshed_at = 0.0
        """time.monotonic() of the last refresh."""

    # Keeping current ---------------------------------------------------------------------

    def refresh(self, session: Session) -> None:
        """Read what changed since the last refresh (everything, the first time)."""
        newest = session.connection().execute(NEWEST_CHANGE).scalar() or 0
        with self.lock:
            idle = time.monotonic() - self.refreshed_at
            self.refreshed_at = time.monotonic()
            if self.last_seq is None or newest < self.last_seq or idle > RELOAD_AFTER_IDLE_SECONDS:
                self._load_everything(session, newest)
                return
            if newest == self.last_seq and not self.gaps:
                return
            wanted = OfferChange.seq > self.last_seq
            if self.gaps:
                wanted = or_(wanted, OfferChange.seq.in_(list(self.gaps)))
            changes = session.execute(
                select(OfferChange.seq, OfferChange.offer_id, OfferChange.provider_id).where(wanted)
            ).all()
            self._note_gaps({row.seq for row in changes})
            offer_ids = {row.offer_id for row in changes if row.offer_id is not None}
            provider_ids = {row.provider_id for row in changes if row.provider_id is not None}
            if not offer_ids and not provider_ids:
                return
            try:
                self._reload(session, offer_ids, provider_ids)
            except _UnknownTerm:
                self._load_everything(session, self.last_seq)

    def _note_gaps(self, seen: set[int]) -> None:
        assert self.last_seq is not None
        now = time.monotonic()
        for seq in seen:
            self.gaps.pop(seq, None)
        newest = max(seen | {self.last_seq})
        for seq in range(self.last_seq + 1, newest):
            if seq not in seen:
                self.gaps.setdefault(seq, now)
        self.gaps = {seq: first for seq, first in self.gaps.items() if now - first < GAP_PATIENCE_SECONDS}
        self.last_seq = newest

    def _load_everything(self, session: Session, seq: int) -> None:
        self.ref = _read_reference(session)
        loaded = _read_offers(session, self.ref, Offer.status == OfferStatus.PUBLISHED)
        count = len(loaded)
        capacity = max(1024, count * 5 // 4)
        self.arrays = {}
        for name in COLUMN_NAMES:
            column = np.zeros(capacity, dtype=COLUMN_TYPES[name])
            column[:count] = np.asarray(loaded.columns[name], dtype=COLUMN_TYPES[name])
            self.arrays[name] = column
        self.size = count
        self.row_of = {offer_id: row for row, offer_id in enumerate(loaded.columns["offer_id"])}
        self.free_rows = []
        self.settlement_rows, self.row_settlements = {}, {}
        self.language_rows, self.row_languages = {}, {}
        for row in range(count):
            self._index_lists(row, loaded.settlements[row], loaded.languages[row])
        self.last_seq = seq
        self.gaps = {}
        self.generation += 1

    def _reload(self, session: Session, offer_ids: set[int], provider_ids: set[int]) -> None:
        assert self.ref is not None
        gone = set(offer_ids)
        if provider_ids:
            n = self.size
            theirs = self.arrays["live"][:n] & np.isin(self.arrays["provider_id"][:n], sorted(provider_ids))
            gone |= {int(offer_id) for offer_id in self.arrays["offer_id"][:n][theirs]}
        for chunk in _chunks(sorted(offer_ids), ID_CHUNK):
            self._upsert(_read_offers(session, self.ref, and_(Offer.id.in_(chunk), Offer.status == OfferStatus.PUBLISHED)), gone)
        for chunk in _chunks(sorted(provider_ids), ID_CHUNK):
            self._upsert(
                _read_offers(session, self.ref, and_(Offer.provider_id.in_(chunk), Offer.status == OfferStatus.PUBLISHED)),
                gone,
            )
        for offer_id in gone:
            self._remove(offer_id)
        self.generation += 1

    def _upsert(self, loaded: _Loaded, gone: set[int]) -> None:
        for i in range(len(loaded)):
            offer_id = loaded.columns["offer_id"][i]
            gone.discard(offer_id)
            row = self.row_of.get(offer_id)
            if row is None:
                row = self._new_row()
                self.row_of[offer_id] = row
            else:
                self._unindex_lists(row)
            for name in COLUMN_NAMES:
                self.arrays[name][row] = loaded.columns[name][i]
            self._index_lists(row, loaded.settlements[i], loaded.languages[i])

    def _new_row(self) -> int:
        if self.free_rows:
            return self.free_rows.pop()
        if self.size == len(self.arrays["offer_id"]):
            grown = max(1024, self.size * 2)
            for name, column in self.arrays.items():
                bigger = np.zeros(grown, dtype=column.dtype)
                bigger[: self.size] = column[: self.size]
                self.arrays[name] = bigger
            for language, rows in self.language_rows.items():
                bigger_rows = np.zeros(grown, dtype=np.bool_)
                bigger_rows[: self.size] = rows[: self.size]
                self.language_rows[language] = bigger_rows
        self.size += 1
        return self.size - 1

    def _remove(self, offer_id: int) -> None:
        row = self.row_of.pop(offer_id, None)
        if row is None:
            return
        self._unindex_lists(row)
        self.arrays["live"][row] = False
        self.free_rows.append(row)

    def _index_lists(self, row: int, settlements: tuple[int, ...], languages: frozenset[str]) -> None:
        self.row_settlements[row] = settlements
        for settlement_id in settlements:
            self.settlement_rows.setdefault(settlement_id, set()).add(row)
        self.row_languages[row] = languages
        for language in languages:
            rows = self.language_rows.get(language)
            if rows is None:
                rows = self.language_rows[language] = np.zeros(len(self.arrays["offer_id"]), dtype=np.bool_)
            rows[row] = True

    def _unindex_lists(self, row: int) -> None:
        for settlement_id in self.row_settlements.pop(row, ()):
            self.settlement_rows.get(settlement_id, set()).discard(row)
        for language in self.row_languages.pop(row, frozenset()):
            self.language_rows[language][row] = False

    # Reading -----------------------------------------------------------------------------

    @property
    def terms(self) -> TermBits:
        assert self.ref is not None, "refresh the index first"
        return self.ref.terms

    def council_bit(self, council_id: int) -> int:
        assert self.ref is not None
        return self.ref.council_bit[council_id]

    def reaching(self, *, latitude: float, longitude: float, council_id: int, settlement_id: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The rows of live offers whose service area contains the person, and the great-
        circle distance to each (from its centre or its provider's base; NaN when neither
        is known). Radius areas are decided by geodesic at the edge (geography.distance)."""
        a, n = self.arrays, self.size
        live = a["live"][:n]
        area = a["area"][:n]
        radius = a["radius_km"][:n]
        # A latitude stripe first: a degree of latitude is at least 110.5 km anywhere.
        stripe = np.flatnonzero(live & (area == Area.RADIUS) & (np.abs(a["lat"][:n] - latitude) <= radius / 110.5 + 0.01))
        inside, _ = within_km(latitude, longitude, a["lat"][stripe], a["lon"][stripe], radius[stripe])
        by_radius = stripe[inside]
        bit = np.uint64(1 << self.council_bit(council_id))
        by_council = np.flatnonzero(live & (area == Area.COUNCILS) & ((a["councils"][:n] & bit) != 0))
        by_place = np.fromiter(
            (row for row in self.settlement_rows.get(settlement_id, ()) if a["live"][row]), dtype=np.int64
        )
        rows = np.concatenate([by_radius, by_council, by_place]).astype(np.int64)
        distances = haversine_km_many(latitude, longitude, a["lat"][rows], a["lon"][rows])
        return rows, distances

    def column(self, name: str, rows: NDArray[np.int64]) -> NDArray[Any]:
        return self.arrays[name][rows]

    def speaks(self, language: str, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        found = self.language_rows.get(language.strip().lower())
        return np.zeros(rows.size, dtype=np.bool_) if found is None else found[rows]

    def live_rows(self) -> NDArray[np.int64]:
        return np.flatnonzero(self.arrays["live"][: self.size]) if self.arrays else np.empty(0, dtype=np.int64)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Reading offers from the database ---------------------------------------------------------


def _read_reference(session: Session) -> _Reference:
    councils = session.scalars(select(CouncilArea.id).order_by(CouncilArea.id)).all()
    settlements = session.execute(
        select(Settlement.id, Settlement.council_id, Settlement.urban_rural_8, Settlement.latitude,
               Settlement.longitude, Settlement.population, Settlement.kind)
    ).all()
    counted = [s for s in settlements if s.kind != SettlementKind.DUPLICATE]
    from marketplace.geography.service import TOWN_REACH_KM_PER_ROOT_PERSON

    return _Reference(
        terms=TermBits(session.scalars(select(TaxonomyTerm))),
        council_bit={council_id: bit for bit, council_id in enumerate(councils)},
        home_of_settlement={s.id: (s.council_id, int(UrbanRural8(s.urban_rural_8).six_fold)) for s in settlements},
        settlement_lat=np.array([s.latitude for s in counted], dtype=np.float64),
        settlement_lon=np.array([s.longitude for s in counted], dtype=np.float64),
        settlement_ids=np.array([s.id for s in counted], dtype=np.int64),
        settlement_reach=np.array([TOWN_REACH_KM_PER_ROOT_PERSON * np.sqrt(s.population) for s in counted]),
    )


def _settlement_around(ref: _Reference, latitude: float, longitude: float) -> int:
    """As geography.service.settlement_around, on the arrays already in memory."""
    distances = haversine_km_many(latitude, longitude, ref.settlement_lat, ref.settlement_lon)
    return int(ref.settlement_ids[np.argmin(distances - ref.settlement_reach)])


def _read_offers(session: Session, ref: _Reference, where: Any) -> _Loaded:
    offers = session.execute(
        select(
            Offer.id, Offer.provider_id, Offer.area_type, Offer.centre_latitude, Offer.centre_longitude,
            Offer.radius_km, Offer.availability, Offer.capacity_amount, Offer.capacity_unit, Offer.capacity_updated_at,
            Offer.typical_week_hours, Provider.holds_isf, Provider.base_latitude, Provider.base_longitude,
            Provider.base_settlement_id,
        )
        .join(Provider, Provider.id == Offer.provider_id)
        .where(where)
        .order_by(Offer.id)
    ).all()
    loaded = _Loaded()
    if not offers:
        return loaded
    offer_ids = select(Offer.id).join(Provider, Provider.id == Offer.provider_id).where(where).scalar_subquery()
    provider_ids = select(Offer.provider_id).join(Provider, Provider.id == Offer.provider_id).where(where).scalar_subquery()
    latest = (
        select(OfferPrice.offer_id, func.max(OfferPrice.version).label("version"))
        .where(OfferPrice.offer_id.in_(offer_ids))
        .group_by(OfferPrice.offer_id)
        .subquery()
    )
    prices = {
        p.offer_id: p
        for p in session.execute(
            select(OfferPrice.offer_id, OfferPrice.unit, OfferPrice.rate_pence, OfferPrice.unit_minutes,
                   OfferPrice.management_fee_bp, OfferPrice.management_fee_fixed_pence,
                   OfferPrice.management_fee_period)
            .join(latest, and_(latest.c.offer_id == OfferPrice.offer_id, latest.c.version == OfferPrice.version))
        )
    }
    terms: dict[int, list[int]] = {}
    for offer_id, term_id in session.execute(
        select(offer_term.c.offer_id, offer_term.c.term_id).where(offer_term.c.offer_id.in_(offer_ids))
    ):
        terms.setdefault(offer_id, []).append(term_id)
    councils: dict[int, list[int]] = {}
    for offer_id, council_id in session.execute(
        select(offer_council.c.offer_id, offer_council.c.council_id).where(offer_council.c.offer_id.in_(offer_ids))
    ):
        councils.setdefault(offer_id, []).append(council_id)
    places: dict[int, list[int]] = {}
    for offer_id, settlement_id in session.execute(
        select(offer_settlement.c.offer_id, offer_settlement.c.settlement_id).where(offer_settlement.c.offer_id.in_(offer_ids))
    ):
        places.setdefault(offer_id, []).append(settlement_id)
    languages: dict[int, set[str]] = {}
    for provider_id, language in session.execute(
        select(ProviderLanguage.provider_id, ProviderLanguage.language).where(ProviderLanguage.provider_id.in_(provider_ids))
    ):
        languages.setdefault(provider_id, set()).add(language.strip().lower())
    verified: dict[tuple[int, str], int] = {}
    for provider_id, kind, expires_on in session.execute(
        select(Check.provider_id, Check.kind, Check.expires_on).where(
            Check.provider_id.in_(provider_ids), Check.status == CheckStatus.VERIFIED, Check.kind.in_(list(KEY_CHECKS))
        )
    ):
        key = (provider_id, KEY_CHECKS[kind])
        until = NO_EXPIRY if expires_on is None else expires_on.toordinal()
        verified[key] = max(until, verified.get(key, 0))

    columns = loaded.columns
    for offer in offers:
        price = prices.get(offer.id)
        offer_terms = terms.get(offer.id, [])
        if any(term_id not in ref.terms.bit for term_id in offer_terms):
            raise _UnknownTerm()
        masks = {taxonomy: 0 for taxonomy in Taxonomy}
        for term_id in offer_terms:
            masks[ref.terms.taxonomy[term_id]] |= 1 << ref.terms.bit[term_id]
        area = AREA_OF[offer.area_type]
        if area == Area.RADIUS:
            lat, lon, radius = offer.centre_latitude, offer.centre_longitude, offer.radius_km or 0.0
        else:
            lat, lon, radius = offer.base_latitude, offer.base_longitude, 0.0
        home = offer.base_settlement_id
        if home is None and offer.centre_latitude is not None and area == Area.RADIUS:
            home = _settlement_around(ref, offer.centre_latitude, offer.centre_longitude)
        if home is None and places.get(offer.id):
            home = places[offer.id][0]
        home_council, home_class = ref.home_of_settlement.get(home, (-1, 0)) if home is not None else (-1, 0)
        hourly = None if price is None else hourly_equivalent_pence(price, typical_week_hours=offer.typical_week_hours)  # type: ignore[arg-type]
        council_mask = 0
        for council_id in councils.get(offer.id, []):
            council_mask |= 1 << ref.council_bit[council_id]
        values = {
            "offer_id": offer.id,
            "provider_id": offer.provider_id,
            "live": price is not None,
            "area": int(area),
            "lat": np.nan if lat is None else lat,
            "lon": np.nan if lon is None else lon,
            "radius_km": radius,
            "councils": council_mask,
            "kinds": masks[Taxonomy.KIND_OF_SUPPORT],
            "outcomes": masks[Taxonomy.PERSONAL_OUTCOME],
            "groups": masks[Taxonomy.CLIENT_GROUP],
            "availability": offer.availability,
            "hourly_pence": -1 if hourly is None else hourly,
            "week_rate_pence": price.rate_pence if price is not None and price.unit == PriceUnit.WEEK else -1,
            "fee_bp": (price.management_fee_bp or 0) if price is not None else 0,
            "fee_weekly_pence": weekly_fee_pence(price, support_pence=0) if price is not None else 0,  # type: ignore[arg-type]
            "holds_isf": offer.holds_isf,
            "pvg_until": verified.get((offer.provider_id, "pvg_until"), 0),
            "registration_until": verified.get((offer.provider_id, "registration_until"), 0),
            "capacity": offer.capacity_amount,
            "capacity_in_places": offer.capacity_unit == CapacityUnit.PLACES,
            "capacity_at": _unix(offer.capacity_updated_at),
            "home_council": home_council,
            "home_class6": home_class,
        }
        for name in COLUMN_NAMES:
            columns[name].append(values[name])
        loaded.settlements.append(tuple(places.get(offer.id, ())) if area == Area.SETTLEMENTS else ())
        loaded.languages.append(frozenset(languages.get(offer.provider_id, ())))
    return loaded


def _unix(moment: datetime) -> float:
    return moment.timestamp()


# Recording changes ------------------------------------------------------------------------


def prune_changes(session: Session, *, now: datetime) -> int:
    """Delete changes older than KEEP_CHANGES, which every running index has read by now;
    run daily. The newest is always kept: an empty log would look like a database that was
    emptied, and every index would read everything again. Returns how many went."""
    newest = select(func.max(OfferChange.seq)).scalar_subquery()
    result = session.execute(
        delete(OfferChange).where(OfferChange.changed_at < now - KEEP_CHANGES, OfferChange.seq < newest)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_flush")
def record_changes(session: Session, _flush_context: Any) -> None:
    """Whatever this flush changed that the matcher reads, as offer_change rows in the same
    transaction, so every worker's index hears of it exactly when it is committed."""
    offer_ids: set[int] = set()
    provider_ids: set[int] = set()
    changed = (record for record in session.dirty if session.is_modified(record))
    for record in chain(session.new, changed, session.deleted):
        if isinstance(record, Offer):
            offer_ids.add(record.id)
        elif isinstance(record, OfferPrice):
            offer_ids.add(record.offer_id)
        elif isinstance(record, Provider):
            provider_ids.add(record.id)
        elif isinstance(record, ProviderLanguage | Check):
            provider_ids.add(record.provider_id)
    rows = [{"offer_id": i, "provider_id": None} for i in sorted(offer_ids) if i is not None]
    rows += [{"offer_id": None, "provider_id": i} for i in sorted(provider_ids) if i is not None]
    if rows:
        session.connection().execute(insert(OfferChange), rows)
