"""Fair-price context: what other offers of the same kind of support charge an hour, so a
person can see whether a price is usual, low or high; and the warning for a rate below the
least adult social care workers in Scotland must be paid.

The figures come from the worker's offer index (matching.index), never from the database
row by row: for each kind of support, the hourly equivalents of live offers (one-off prices
have none and are left out) grouped by where their provider works from, the council area
and the 6-fold urban-rural class together, and for all of Scotland. Each group has its
number of offers and three figures: lower quartile, median and upper quartile.

Quantile method: linear interpolation between the sorted values (Hyndman and Fan's type 7,
the default of numpy, R and spreadsheets' QUARTILE.INC). For n sorted hourly prices
v[0] <= ... <= v[n-1], the p-quantile lies at position h = (n - 1) * p, and is
v[j] + (h - j) * (v[j+1] - v[j]) with j = floor(h). For the quartiles p is 1/4, 1/2 or
3/4, so h - j is a whole number of quarters r / 4 and the figure is
(4 * v[j] + r * (v[j+1] - v[j])) / 4, worked out in integers and rounded half up to whole
pence. The same method is used for every group and every figure.

An offer is compared with its own kind in its provider's council area and class when that
group has at least MIN_GROUP_OFFERS offers; else with its kind across Scotland if that has
as many; else with nothing (the figures are hidden, because a median of two or three prices
says more about those providers than about the market).

The figures for every group are worked out in one vectorised pass over the index's columns
and cached per index, keyed by `index.generation`, so a page view only looks them up."""

from __future__ import annotations

import enum
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography.classify import UrbanRural6
from marketplace.geography.models import CouncilArea
from marketplace.money import format_pence
from matching.index import OfferIndex
from providers.models import Taxonomy

MIN_GROUP_OFFERS = 5
"""The fewest offers a group may have for its figures to be shown."""
QUARTERS = (1, 2, 3)
"""The lower quartile, the median and the upper quartile, in quarters of the way along."""
_COUNCIL_SHIFT = 3
"""A group key packs (kind position, council id, class): the class takes the low 3 bits."""
_KIND_SHIFT = 24
"""...the council id (at most 16 bits in the index) the next 21, the kind position the rest."""
_VALUE_BITS = 32
"""Sorting packs a group key (under 31 bits) above a price in the low 32 bits."""
_VALUE_LIMIT = (1 << _VALUE_BITS) - 1
"""No hourly price comes near it: providers refuse more than £10,000 for any unit."""


@dataclass(frozen=True)
class GroupFigures:
    """One group's hourly prices, in pence."""

    offers: int
    lower_quartile_pence: int
    median_pence: int
    upper_quartile_pence: int


@dataclass(frozen=True)
class PriceGroups:
    """Every group's figures for one state of the index."""

    generation: int
    local: dict[tuple[int, int, int], GroupFigures]
    """(kind-of-support term id, council area id, 6-fold class) -> figures."""
    scotland: dict[int, GroupFigures]
    """Kind-of-support term id -> figures for all of Scotland."""
    council_names: dict[int, str]
    results: dict[tuple[int, tuple[int, ...]], FairPrice | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    """(offer id, kinds asked) -> what fair_prices_for_results found, at most
    RESULTS_REMEMBERED: searches near one place show the same offers over and over."""
    names: dict[tuple[int, int, int], tuple[str, str]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """(kind, council area id, class; 0, 0 for Scotland) -> the kind's and the group's names,
    shared by every comparison in the group rather than written out for each."""


RESULTS_REMEMBERED = 10_000


class Position(enum.StrEnum):
    """Where a price sits against the middle half (lower to upper quartile) of its group."""

    BELOW = "below"
    MIDDLE = "middle"
    ABOVE = "above"

    @property
    def label(self) -> str:
        return {
            Position.BELOW: "below the middle half",
            Position.MIDDLE: "in the middle half",
            Position.ABOVE: "above the middle half",
        }[self]


@dataclass(frozen=True, slots=True)
class FairPrice:
    """An offer's hourly price against the offers it is compared with, for one kind."""

    kind_id: int
    kind_name: str
    group: str
    """Who it is compared with, in plain words: "personal care from providers in Highland's
    remote rural areas" or "personal care across Scotland"."""
    local: bool
    """True when compared within the council area and class, False across Scotland."""
    offers: int
    lower_quartile_pence: int
    median_pence: int
    upper_quartile_pence: int
    hourly_pence: int
    """The offer's own hourly equivalent."""
    position: Position

    @property
    def from_median_pence(self) -> int:
        """How far the offer's price is from the median: negative when less."""
        return self.hourly_pence - self.median_pence

    @property
    def where(self) -> str:
        return self.position.label

    @property
    def compared_with(self) -> str:
        """The first sentence shown: the group and its figures."""
        return (
            f"Compared with {self.offers} offers of {self.group}: the middle half charge "
            f"{format_pence(self.lower_quartile_pence)} to "
            f"{format_pence(self.upper_quartile_pence)} an hour, and the median is "
            f"{format_pence(self.median_pence)}."
        )

    @property
    def this_price(self) -> str:
        """The second: where this price sits."""
        return (
            f"At {format_pence(self.hourly_pence)} an hour, this is {self.where}, "
            f"{self.against_median}."
        )

    @property
    def against_median(self) -> str:
        difference = self.from_median_pence
        if difference == 0:
            return "the same as the median"
        return (
            f"{format_pence(abs(difference))} "
            f"{'less' if difference < 0 else 'more'} than the median"
        )


@dataclass(frozen=True)
class PayWarning:
    """An hourly rate below the minimum pay for adult social care workers."""

    hourly_pence: int
    minimum_pence: int

    @property
    def message(self) -> str:
        return (
            f"This is less than {format_pence(self.minimum_pence)} "
            "an hour, the least adult social care "
            "workers in Scotland must be paid. Ask how the people who would support you are paid."
        )


def pay_warning(*, hourly_pence: int | None, minimum_pence: int) -> PayWarning | None:
    """A warning when an hourly rate is below `minimum_pence` (settings.matching), else None;
    a one-off price (no hourly equivalent) gets none."""
    if hourly_pence is None or hourly_pence < 0 or hourly_pence >= minimum_pence:
        return None
    return PayWarning(hourly_pence=hourly_pence, minimum_pence=minimum_pence)


# Working out the figures ------------------------------------------------------------------


def quartiles_by_group(
    entries: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """For entries of (group key << _VALUE_BITS | hourly pence): each distinct group key, its
    number of prices, and its three quartiles (one row a quartile, by the module docstring's
    method), all as integer arrays."""
    if entries.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty((len(QUARTERS), 0), dtype=np.int64)
    # Sorting one packed integer orders by group, then by price, many times faster than lexsort.
    entries = np.sort(entries)
    keys, values = entries >> _VALUE_BITS, entries & _VALUE_LIMIT
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, keys.size))
    figures = np.empty((len(QUARTERS), starts.size), dtype=np.int64)
    for i, quarters in enumerate(QUARTERS):
        position = (counts - 1) * quarters
        below, rest = position // 4, position % 4
        low = values[starts + below]
        # Where rest is 0 the value above is multiplied by 0; the minimum keeps it in range.
        high = values[starts + np.minimum(below + 1, counts - 1)]
        quarter_pence = 4 * low + rest * (high - low)
        figures[i] = (2 * quarter_pence + 4) // 8  # quarter_pence / 4, rounded half up
    return keys[starts], counts, figures


def compute_price_groups(
    *,
    live: NDArray[np.bool_],
    kinds: NDArray[np.uint64],
    hourly_pence: NDArray[np.int64],
    home_council: NDArray[np.integer],
    home_class6: NDArray[np.integer],
    kind_bits: dict[int, int],
    generation: int = 0,
    council_names: dict[int, str] | None = None,
) -> PriceGroups:
    """Every group's figures from the index's columns (one row per offer). `kind_bits` maps
    each kind-of-support term id to its bit in `kinds`."""
    usable = np.flatnonzero(live & (hourly_pence >= 0))
    offer_kinds = kinds[usable]
    price = np.minimum(hourly_pence[usable].astype(np.int64), _VALUE_LIMIT)
    council = home_council[usable].astype(np.int64)
    class6 = home_class6[usable].astype(np.int64)
    known_home = (council >= 0) & (class6 > 0)
    at_home = np.where(
        known_home, ((council << _COUNCIL_SHIFT | class6) << _VALUE_BITS) | price, -1
    )
    kind_ids = sorted(kind_bits)
    # One entry per (kind, offer giving it): an offer of two kinds counts in both kinds' groups.
    shifts = np.array([kind_bits[kind_id] for kind_id in kind_ids], dtype=np.uint64)
    gives = ((offer_kinds[np.newaxis, :] >> shifts[:, np.newaxis]) & np.uint64(1)).astype(np.bool_)
    position, offer = np.nonzero(gives)
    position = position.astype(np.int64)
    nationally = (position << _VALUE_BITS) | price[offer]
    home = at_home[offer]
    has_home = home >= 0
    locally = (position[has_home] << (_KIND_SHIFT + _VALUE_BITS)) | home[has_home]
    scotland_keys, scotland_counts, scotland_figures = quartiles_by_group(nationally)
    keys, counts, figures = quartiles_by_group(locally)
    council_mask = (1 << (_KIND_SHIFT - _COUNCIL_SHIFT)) - 1
    local = {
        (
            kind_ids[key >> _KIND_SHIFT],
            (key >> _COUNCIL_SHIFT) & council_mask,
            key & 7,
        ): GroupFigures(n, q1, q2, q3)
        for key, n, q1, q2, q3 in zip(
            keys.tolist(), counts.tolist(), *figures.tolist(), strict=True
        )
    }
    scotland = {
        kind_ids[key]: GroupFigures(n, q1, q2, q3)
        for key, n, q1, q2, q3 in zip(
            scotland_keys.tolist(),
            scotland_counts.tolist(),
            *scotland_figures.tolist(),
            strict=True,
        )
    }
    return PriceGroups(
        generation=generation, local=local, scotland=scotland, council_names=council_names or {}
    )


_cache: weakref.WeakKeyDictionary[OfferIndex, PriceGroups] = weakref.WeakKeyDictionary()
"""Each index's figures, for the generation they were worked out from."""


def price_groups(session: Session, *, index: OfferIndex) -> PriceGroups:
    """The figures for the index as it is now (refresh it first), worked out once per change
    of the index and kept until the next."""
    with index.lock:
        cached = _cache.get(index)
        if cached is not None and cached.generation == index.generation:
            return cached
        n, a = index.size, index.arrays
        terms = index.terms
        kind_bits = {
            t: terms.bit[t]
            for t, taxonomy in terms.taxonomy.items()
            if taxonomy == Taxonomy.KIND_OF_SUPPORT
        }
        names = (
            cached.council_names
            if cached is not None
            else dict(session.execute(select(CouncilArea.id, CouncilArea.name)).all())
        )
        groups = compute_price_groups(
            live=a["live"][:n],
            kinds=a["kinds"][:n],
            hourly_pence=a["hourly_pence"][:n],
            home_council=a["home_council"][:n],
            home_class6=a["home_class6"][:n],
            kind_bits=kind_bits,
            generation=index.generation,
            council_names=names,
        )
        _cache[index] = groups
        return groups


# Comparing one offer ----------------------------------------------------------------------


def _possessive(name: str) -> str:
    # Council names that are plurals ("Orkney Islands", "Scottish Borders") take only an
    # apostrophe; every other name, Kinross included, takes 's.
    return f"{name}'" if name.endswith(("Islands", "Borders")) else f"{name}'s"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _compare(index: OfferIndex, groups: PriceGroups, *, row: int, kind_id: int) -> FairPrice | None:
    a = index.arrays
    hourly = int(a["hourly_pence"][row])
    if not a["live"][row] or hourly < 0:
        return None
    council, class6 = int(a["home_council"][row]), int(a["home_class6"][row])
    figures = groups.local.get((kind_id, council, class6))
    local = figures is not None and figures.offers >= MIN_GROUP_OFFERS
    if not local:
        figures = groups.scotland.get(kind_id)
        if figures is None or figures.offers < MIN_GROUP_OFFERS:
            return None
    assert figures is not None
    key = (kind_id, council, class6) if local else (kind_id, 0, 0)
    names = groups.names.get(key)
    if names is None:
        kind_name = _lower_first(index.terms.name[kind_id])
        where = (
            f"from providers in {_possessive(groups.council_names[council])} "
            f"{UrbanRural6(class6).label.lower()}s"
            if local
            else "across Scotland"
        )
        names = groups.names[key] = (kind_name, f"{kind_name} {where}")
    kind_name, group = names
    if hourly < figures.lower_quartile_pence:
        position = Position.BELOW
    elif hourly > figures.upper_quartile_pence:
        position = Position.ABOVE
    else:
        position = Position.MIDDLE
    return FairPrice(
        kind_id=kind_id,
        kind_name=kind_name,
        group=group,
        local=local,
        offers=figures.offers,
        lower_quartile_pence=figures.lower_quartile_pence,
        median_pence=figures.median_pence,
        upper_quartile_pence=figures.upper_quartile_pence,
        hourly_pence=hourly,
        position=position,
    )


def _gives(index: OfferIndex, row: int, kind_id: int) -> bool:
    bit = index.terms.bit.get(kind_id)
    return (
        bit is not None
        and index.terms.taxonomy[kind_id] == Taxonomy.KIND_OF_SUPPORT
        and bool(int(index.arrays["kinds"][row]) >> bit & 1)
    )


def fair_price(
    session: Session, *, index: OfferIndex, offer_id: int, kind_id: int
) -> FairPrice | None:
    """One published offer's hourly price against the same kind of support, or None when the
    offer is not live, has a one-off price, does not give that kind, or the group is too small."""
    index.refresh(session)
    with index.lock:
        row = index.row_of.get(offer_id)
        if row is None or not _gives(index, row, kind_id):
            return None
        return _compare(index, price_groups(session, index=index), row=row, kind_id=kind_id)


def fair_prices_of_offer(
    session: Session, *, index: OfferIndex, offer_id: int
) -> dict[int, FairPrice | None]:
    """For each kind of support the offer gives (term id, in the taxonomy's order), its
    comparison or None; empty when the offer is not live in the index."""
    index.refresh(session)
    with index.lock:
        row = index.row_of.get(offer_id)
        if row is None:
            return {}
        groups = price_groups(session, index=index)
        kind_ids = index.terms.ids_in(Taxonomy.KIND_OF_SUPPORT, int(index.arrays["kinds"][row]))
        return {kind_id: _compare(index, groups, row=row, kind_id=kind_id) for kind_id in kind_ids}


def fair_prices_for_results(
    session: Session, *, index: OfferIndex, offer_ids: Iterable[int], kind_ids: Iterable[int] = ()
) -> dict[int, FairPrice | None]:
    """A page of results: each offer against the first of `kind_ids` (the kinds the person
    searched for) that it gives, or, when they chose none it gives, against the first of its
    own kinds in the taxonomy's order."""
    index.refresh(session)
    found: dict[int, FairPrice | None] = {}
    with index.lock:
        asked = tuple(
            _in_order(index, [kind_id for kind_id in kind_ids if kind_id in index.terms.bit])
        )
        groups = price_groups(session, index=index)
        for offer_id in offer_ids:
            key = (offer_id, asked)
            if key in groups.results:
                found[offer_id] = groups.results[key]
                continue
            row = index.row_of.get(offer_id)
            if row is None:
                found[offer_id] = None
                continue
            own = index.terms.ids_in(Taxonomy.KIND_OF_SUPPORT, int(index.arrays["kinds"][row]))
            chosen = next((kind_id for kind_id in asked if kind_id in own), own[0] if own else None)
            found[offer_id] = groups.results[key] = (
                None if chosen is None else _compare(index, groups, row=row, kind_id=chosen)
            )
            if len(groups.results) > RESULTS_REMEMBERED:
                del groups.results[next(iter(groups.results))]
    return found


def _in_order(index: OfferIndex, kind_ids: list[int]) -> list[int]:
    return sorted(kind_ids, key=lambda kind_id: index.terms.bit[kind_id])
