"""The gap analysis: how much support reaches each settlement, by kind of support, worked
out from the worker's offer index with the enhanced two-step floating catchment area
method (E2SFCA; Luo and Qi 2009), and how many providers reach it.

For settlements i (population P_i) and offers j (S_j hours a week they can take on), with
W(d) the distance-decay weight of the distance between them and the sums over the
(settlement, offer) pairs where the offer reaches the settlement (matching.gaps.catchments):

    step 1, each offer's share:  R_j = S_j / sum_i W(d_ij) P_i
    step 2, each settlement:     A_i = sum_j W(d_ij) R_j

A_i is hours a week per resident; the pages show 1,000 A_i, "hours a week per 1,000
residents". For one kind of support, step 2 sums only the offers of that kind; step 1 is
the same for every kind (an offer's catchment population does not depend on what it
offers), so it is worked out once. An offer listing several kinds counts its whole free
capacity towards each, since its hours could go to any of them.

The figures for every kind are worked out together, in one vectorised pass, and kept per
index generation: the first view after any offer changes works them out again."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from matching.gaps.catchments import Pairs, Places, reach_pairs, read_places
from matching.index import OfferIndex
from providers.models import Taxonomy


@dataclass(frozen=True)
class Decay:
    """A stepped distance-decay: weights[k] applies up to and including bands_km[k]."""

    bands_km: tuple[float, ...] = (10.0, 20.0, 30.0)
    weights: tuple[float, ...] = (1.0, 0.68, 0.22)

    def weight(self, km: NDArray[np.float64]) -> NDArray[np.float64]:
        """The weight for each distance. Beyond the last band (an offer that says it travels
        farther) and where the distance is unknown (NaN: a council-wide offer from a
        provider with no base), the last band's weight: the provider has said it goes
        there, but it is far."""
        band = np.searchsorted(np.asarray(self.bands_km), km, side="left")
        return np.asarray(self.weights)[np.minimum(band, len(self.weights) - 1)]


DECAY = Decay()
"""Luo and Qi's weights for 10-minute zones (1, 0.68, 0.22; a Gaussian's values at the
zones' near edges), with zones of 10 km: about 10 minutes' drive at rural road speeds."""
PER_RESIDENTS = 1000


def weighted_count(
    index: NDArray[np.integer[Any]], weights: NDArray[np.float64] | None, minlength: int
) -> NDArray[np.float64]:
    """np.bincount as float64 sums of `weights` (or counts): numpy's stubs type every
    bincount as integers, and the weighted one is float64 already (so no copy)."""
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)


def e2sfca(
    *,
    place: NDArray[np.integer[Any]],
    offer: NDArray[np.integer[Any]],
    weight: NDArray[np.float64],
    population: NDArray[np.float64],
    capacity: NDArray[np.float64],
) -> NDArray[np.float64]:
    """A_i for every place (hours a week per resident) from pairs (place[k], offer[k]) with
    weight[k]: the module docstring's two steps, as two weighted counts."""
    ratio = offer_ratios(
        place=place, offer=offer, weight=weight, population=population, capacity=capacity
    )
    return weighted_count(place, weight * ratio[offer], population.size)


def offer_ratios(
    *,
    place: NDArray[np.integer[Any]],
    offer: NDArray[np.integer[Any]],
    weight: NDArray[np.float64],
    population: NDArray[np.float64],
    capacity: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Step 1: R_j for every offer; 0 for an offer that reaches nobody counted."""
    demand = weighted_count(offer, weight * population[place], capacity.size)
    return np.divide(capacity, demand, out=np.zeros(capacity.size), where=demand > 0)


@dataclass(frozen=True)
class Measure:
    """One filter's figures for every place, in Places order."""

    hours_per_1000: NDArray[np.float64]
    providers: NDArray[np.int64]
    """Distinct providers and personal assistants with
    an offer of this kind that reaches the place."""


@dataclass
class GapFigures:
    """Every kind's figures for one state of the index."""

    generation: int
    computed_at: datetime
    offers: int
    """Live offers counted."""
    places: Places
    pairs: Pairs
    kind_ids: tuple[int, ...]
    by_kind: dict[int | None, Measure]
    """Kind-of-support term id (None: any kind) -> figures."""
    kind_bit: dict[int, int]
    outcome_bit: dict[int, int]
    term_names: dict[int, str]
    term_codes: dict[int, str]
    term_taxonomy: dict[int, Taxonomy]
    term_order: dict[int, int]
    """Each term's place in its taxonomy's list."""
    # The offers' columns the pairs refer to, copied so that figures outlive index changes.
    offer_kinds: NDArray[np.uint64]
    offer_outcomes: NDArray[np.uint64]
    offer_provider: NDArray[np.int64]
    offer_ids: NDArray[np.int64]
    free_hours: NDArray[np.float64]
    offer_lat: NDArray[np.float64]
    offer_lon: NDArray[np.float64]
    offer_radius_km: NDArray[np.float64]
    offer_area: NDArray[np.int8]
    offer_live: NDArray[np.bool_]
    offer_ratio: NDArray[np.float64]
    """R_j for each offer's row; a pair adds W(d) R_j to its place's A_i (pair_shares).
    Kept per offer rather than per pair: a national market has millions of pairs."""
    decay: Decay
    derived: dict[str, object] = field(default_factory=dict)
    """What views build once on these figures (matching.gaps.report's groupings)."""
    _filtered: dict[tuple[int | None, int | None], Measure] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def term_named(self, taxonomy: Taxonomy, text: str) -> int | None:
        """The term of `taxonomy` with this code or name (any case), if there is one."""
        folded = text.strip().lower()
        return next(
            (
                t
                for t, code in self.term_codes.items()
                if self.term_taxonomy[t] == taxonomy
                and folded in (code, self.term_names[t].lower())
            ),
            None,
        )

    def measure(self, *, kind_id: int | None = None, outcome_id: int | None = None) -> Measure:
        """The figures for offers of a kind (None: any) that support an outcome (None: any)."""
        if outcome_id is None and kind_id in self.by_kind:
            return self.by_kind[kind_id]
        key = (kind_id, outcome_id)
        with self._lock:
            if key not in self._filtered:
                self._filtered[key] = self._measure(
                    self.pair_mask(kind_id=kind_id, outcome_id=outcome_id)
                )
            return self._filtered[key]

    def pair_mask(self, *, kind_id: int | None, outcome_id: int | None) -> NDArray[np.bool_]:
        wanted = np.ones(len(self.pairs), dtype=np.bool_)
        if kind_id is not None:
            wanted &= (
                self.offer_kinds[self.pairs.row] & np.uint64(1 << self.kind_bit[kind_id])
            ) != 0
        if outcome_id is not None:
            wanted &= (
                self.offer_outcomes[self.pairs.row] & np.uint64(1 << self.outcome_bit[outcome_id])
            ) != 0
        return wanted

    def pair_shares(self, wanted: NDArray[np.bool_]) -> NDArray[np.float64]:
        """W(d) R_j for the wanted pairs: what each offer adds to its place's A_i."""
        return self.decay.weight(self.pairs.km[wanted]) * self.offer_ratio[self.pairs.row[wanted]]

    def _measure(self, wanted: NDArray[np.bool_]) -> Measure:
        place = self.pairs.place[wanted]
        hours = weighted_count(place, self.pair_shares(wanted), len(self.places)) * PER_RESIDENTS
        return Measure(
            hours_per_1000=hours,
            providers=_distinct_providers(
                place, self.offer_provider[self.pairs.row[wanted]], len(self.places)
            ),
        )


def _distinct_providers(
    place: NDArray[np.integer[Any]], provider: NDArray[np.int64], places: int
) -> NDArray[np.int64]:
    if place.size == 0:
        return np.zeros(places, dtype=np.int64)
    codes = np.unique(place.astype(np.int64) * (int(provider.max()) + 1) + provider)
    return np.bincount(codes // (int(provider.max()) + 1), minlength=places).astype(np.int64)


def compute_gap_figures(
    index: OfferIndex, places: Places, *, decay: Decay = DECAY, now: datetime | None = None
) -> GapFigures:
    """Every kind's figures from the index as it is now. Takes the index's lock while it
    copies what it needs, not while it computes."""
    with index.lock:
        n, a = index.size, index.arrays
        pairs = reach_pairs(index, places)
        offer_kinds = a["kinds"][:n].copy()
        offer_outcomes = a["outcomes"][:n].copy()
        offer_provider = a["provider_id"][:n].copy()
        offer_ids = a["offer_id"][:n].copy()
        free_hours = np.where(a["live"][:n], a["free_hours"][:n], 0).astype(np.float64)
        where = {name: a[name][:n].copy() for name in ("lat", "lon", "radius_km", "area", "live")}
        live = int(a["live"][:n].sum()) if n else 0
        terms = index.terms
        generation = index.generation
    kind_ids = tuple(
        sorted(
            (t for t, tax in terms.taxonomy.items() if tax == Taxonomy.KIND_OF_SUPPORT),
            key=lambda t: terms.bit[t],
        )
    )
    outcome_ids = [t for t, tax in terms.taxonomy.items() if tax == Taxonomy.PERSONAL_OUTCOME]
    weight = decay.weight(pairs.km)
    ratio = offer_ratios(
        place=pairs.place,
        offer=pairs.row,
        weight=weight,
        population=places.population,
        capacity=free_hours,
    )
    share = weight * ratio[pairs.row]
    by_kind = _every_kind(
        pairs, share, offer_kinds, offer_provider, {t: terms.bit[t] for t in kind_ids}, len(places)
    )
    return GapFigures(
        generation=generation,
        computed_at=now or utcnow(),
        offers=live,
        places=places,
        pairs=pairs,
        kind_ids=kind_ids,
        by_kind=by_kind,
        kind_bit={t: terms.bit[t] for t in kind_ids},
        outcome_bit={t: terms.bit[t] for t in outcome_ids},
        term_names=dict(terms.name),
        term_codes=dict(terms.code),
        term_taxonomy=dict(terms.taxonomy),
        term_order=dict(terms.bit),
        offer_kinds=offer_kinds,
        offer_outcomes=offer_outcomes,
        offer_provider=offer_provider,
        offer_ids=offer_ids,
        free_hours=free_hours,
        offer_lat=where["lat"],
        offer_lon=where["lon"],
        offer_radius_km=where["radius_km"],
        offer_area=where["area"],
        offer_live=where["live"],
        offer_ratio=ratio,
        decay=decay,
    )


def _every_kind(
    pairs: Pairs,
    share: NDArray[np.float64],
    offer_kinds: NDArray[np.uint64],
    offer_provider: NDArray[np.int64],
    kind_bit: dict[int, int],
    places: int,
) -> dict[int | None, Measure]:
    pair_kinds = offer_kinds[pairs.row]
    hours = _sum_by_bit(pairs.place, pair_kinds, share, kind_bit, places)
    # Providers: one entry per (place, provider) with the kinds of all its offers reaching
    # there, so that each kind's count is a sum over those entries.
    if len(pairs):
        stride = int(offer_provider.max()) + 1
        codes = pairs.place.astype(np.int64) * stride + offer_provider[pairs.row]
        order = np.argsort(codes)
        codes = codes[order]
        starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
        group_place = codes[starts] // stride
        group_kinds = np.bitwise_or.reduceat(pair_kinds[order], starts)
    else:
        group_place = np.empty(0, dtype=np.int64)
        group_kinds = np.empty(0, dtype=np.uint64)
    providers = _sum_by_bit(group_place, group_kinds, None, kind_bit, places)
    by_kind: dict[int | None, Measure] = {
        None: Measure(
            hours_per_1000=weighted_count(pairs.place, share, places) * PER_RESIDENTS,
            providers=np.bincount(group_place, minlength=places).astype(np.int64),
        )
    }
    for kind_id in kind_bit:
        by_kind[kind_id] = Measure(
            hours_per_1000=hours[kind_id] * PER_RESIDENTS,
            providers=np.rint(providers[kind_id]).astype(np.int64),
        )
    return by_kind


def _sum_by_bit(
    place: NDArray[np.integer[Any]],
    masks: NDArray[np.uint64],
    weights: NDArray[np.float64] | None,
    bits: dict[int, int],
    places: int,
) -> dict[int, NDArray[np.float64]]:
    """For each term, the sum of `weights` (or the count) per place over the entries whose
    mask has the term's bit. One weighted count per byte of the masks, into (place, byte
    value) cells, then a small product picks each bit out: far quicker than a pass over
    every entry for every term."""
    sums: dict[int, NDArray[np.float64]] = {}
    for byte in sorted({bit // 8 for bit in bits.values()}):
        values = ((masks >> np.uint64(8 * byte)) & np.uint64(0xFF)).astype(np.int64)
        cells = weighted_count(place * 256 + values, weights, places * 256).reshape(places, 256)
        for term_id, bit in bits.items():
            if bit // 8 == byte:
                sums[term_id] = cells @ ((np.arange(256) >> (bit % 8)) & 1).astype(np.float64)
    return sums


_cache: weakref.WeakKeyDictionary[OfferIndex, GapFigures] = weakref.WeakKeyDictionary()
_places_cache: weakref.WeakKeyDictionary[OfferIndex, Places] = weakref.WeakKeyDictionary()
_computing = threading.Lock()


def gap_figures(session: Session, *, index: OfferIndex) -> GapFigures:
    """The figures for the index as it is now (refresh it first), worked out once per
    change of the index and kept until the next."""
    cached = _cache.get(index)
    if cached is not None and cached.generation == index.generation:
        return cached
    with _computing:
        cached = _cache.get(index)
        if cached is not None and cached.generation == index.generation:
            return cached
        places = _places_cache.get(index)
        if places is None:
            places = _places_cache[index] = read_places(session)
        figures = compute_gap_figures(index, places)
        _cache[index] = figures
        return figures
