"""Which published offers reach which settlements, as one list of (settlement, offer) pairs
with the distance between them: the input the gap analysis (matching.gaps.service) works from.

An offer reaches a settlement by the matcher's own rules, with the settlement's centre
standing for its people: inside the travel radius (the geodesic decides at the edge), in
one of the council areas the offer covers, or among the towns it names. At national scale
(100,000 offers, about 700 settlements) the radius pairs are found with a grid: each
settlement is filed under a cell of CELL_LAT_DEGREES by CELL_LON_DEGREES, each offer looks
only in the cells its circle's bounding box touches, and the candidates are then measured."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography.build import DUPLICATES
from marketplace.geography.classify import UrbanRural8
from marketplace.geography.distance import (
    EARTH_RADIUS_KM,
    haversine_km_many,
    haversine_km_pairs,
    within_km_pairs,
)
from marketplace.geography.models import COUNTED, CouncilArea, Settlement
from matching.index import OfferIndex
from matching.offer_columns import Area

CELL_LAT_DEGREES = 0.1
CELL_LON_DEGREES = 0.18
"""About 11 km square in Scotland: a town's radius touches a dozen cells of a few places."""
KM_PER_DEGREE = 2 * math.pi * EARTH_RADIUS_KM / 360
BOX_MARGIN = 1.02
"""The bounding box is grown a little, so rounding never leaves a place just inside out."""
FLAT_MARGIN = 1.03
"""Candidates are first measured on a flat map (cheap), keeping those within 1.03 times the
radius: within 40 km in Scotland the flat distance is off by under 1 %."""


@dataclass(frozen=True)
class Places:
    """The places people are counted in (the listed settlements and the rural areas: see
    geography.models.COUNTED), in one order every array of the gap analysis shares."""

    ids: NDArray[np.int64]
    names: tuple[str, ...]
    labels: tuple[str, ...]
    council_ids: NDArray[np.int64]
    council_names: dict[int, str]
    class8: NDArray[np.int8]
    class6: NDArray[np.int8]
    population: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    twins: dict[int, int] = field(default_factory=dict)
    """A second entry's (or a named place's) settlement id -> the position of the town it
    repeats or lies nearest: searches and offers naming either count there."""

    def __len__(self) -> int:
        return int(self.ids.size)

    def position(self) -> dict[int, int]:
        """Settlement id -> position, second entries included."""
        return {int(settlement_id): i for i, settlement_id in enumerate(self.ids)} | self.twins


def read_places(session: Session) -> Places:
    every = session.execute(
        select(
            Settlement.id,
            Settlement.name,
            Settlement.label,
            Settlement.council_id,
            Settlement.urban_rural_8,
            Settlement.residents,
            Settlement.latitude,
            Settlement.longitude,
            Settlement.kind,
        ).order_by(Settlement.id)
    ).all()
    # Named places (OS Open Names), second entries and islands' entries hold nobody of their
    # own: searches and offers naming them count at the counted place they lie nearest.
    rows = [r for r in every if r.kind in COUNTED]
    class8 = np.array([r.urban_rural_8 for r in rows], dtype=np.int8)
    lats = np.array([r.latitude for r in rows], dtype=np.float64)
    lons = np.array([r.longitude for r in rows], dtype=np.float64)
    twins = {
        r.id: _repeated_town(r, rows, lats, lons) for r in every if r.kind not in COUNTED and rows
    }
    return Places(
        ids=np.array([r.id for r in rows], dtype=np.int64),
        names=tuple(r.name for r in rows),
        labels=tuple(r.label for r in rows),
        council_ids=np.array([r.council_id for r in rows], dtype=np.int64),
        council_names=dict(session.execute(select(CouncilArea.id, CouncilArea.name)).all()),
        class8=class8,
        class6=np.array([int(UrbanRural8(int(c)).six_fold) for c in class8], dtype=np.int8),
        population=np.array([r.residents for r in rows], dtype=np.float64),
        lat=lats,
        lon=lons,
        twins=twins,
    )


def _repeated_town(
    entry: Any, rows: list[Any], lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> int:
    """The position of the town a second entry repeats (by the name the reference data's
    build gives it, the nearest of that name), or of the nearest counted place."""
    distances = haversine_km_many(entry.latitude, entry.longitude, lats, lons)
    repeats = DUPLICATES.get(entry.name)
    same = [i for i, r in enumerate(rows) if r.name == repeats] if repeats else []
    return min(same, key=lambda i: distances[i]) if same else int(np.argmin(distances))


@dataclass(frozen=True)
class Pairs:
    """One entry per (settlement, offer) where the offer reaches the settlement. Positions
    are 32-bit: a national market has millions of pairs, and they are kept with the figures."""

    place: NDArray[np.int32]
    """Position in Places."""
    row: NDArray[np.int32]
    """The offer's row in the index."""
    km: NDArray[np.float64]
    """Great-circle distance from the offer's centre (or its provider's base) to the
    settlement's centre; NaN when the offer has neither."""

    def __len__(self) -> int:
        return int(self.place.size)


def _expand(counts: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For counts c0, c1, ...: the owner of each of the sum(c) items and its place 0..c-1
    among its owner's items."""
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]


def radius_pairs(
    place_lat: NDArray[np.float64],
    place_lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    radius_km: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """For points (place_lat, place_lon) and circles (lat, lon, radius_km): (circle, point,
    km) for every point inside a circle."""
    if place_lat.size == 0 or lat.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    lat0, lon0 = float(place_lat.min()) - 1, float(place_lon.min()) - 1
    width = int((float(place_lon.max()) + 1 - lon0) / CELL_LON_DEGREES) + 2
    place_keys = np.floor((place_lat - lat0) / CELL_LAT_DEGREES).astype(
        np.int64
    ) * width + np.floor((place_lon - lon0) / CELL_LON_DEGREES).astype(np.int64)
    order = np.argsort(place_keys, kind="stable")
    sorted_keys = place_keys[order]

    dlat = radius_km / KM_PER_DEGREE * BOX_MARGIN
    far_lat = np.minimum(np.abs(lat) + dlat, 89.0)
    dlon = radius_km / (KM_PER_DEGREE * np.cos(np.radians(far_lat))) * BOX_MARGIN
    y0 = np.floor((lat - dlat - lat0) / CELL_LAT_DEGREES).astype(np.int64)
    y1 = np.floor((lat + dlat - lat0) / CELL_LAT_DEGREES).astype(np.int64)
    x0 = np.clip(np.floor((lon - dlon - lon0) / CELL_LON_DEGREES).astype(np.int64), 0, width - 1)
    x1 = np.clip(np.floor((lon + dlon - lon0) / CELL_LON_DEGREES).astype(np.int64), 0, width - 1)
    across = x1 - x0 + 1
    circle, k = _expand((y1 - y0 + 1) * across)
    keys = (y0[circle] + k // across[circle]) * width + x0[circle] + k % across[circle]

    low = np.searchsorted(sorted_keys, keys, side="left")
    high = np.searchsorted(sorted_keys, keys, side="right")
    hit, j = _expand(high - low)
    circle = circle[hit]
    place = order[low[hit] + j]
    dy = place_lat[place] - lat[circle]
    dx = (place_lon[place] - lon[circle]) * np.cos(np.radians(lat))[circle]
    near = dx * dx + dy * dy <= (radius_km[circle] * FLAT_MARGIN / KM_PER_DEGREE) ** 2
    circle, place = circle[near], place[near]
    inside, km = within_km_pairs(
        lat[circle], lon[circle], place_lat[place], place_lon[place], radius_km[circle]
    )
    return circle[inside], place[inside], km[inside]


def reach_pairs(index: OfferIndex, places: Places) -> Pairs:
    """Every (settlement, live offer) pair where the offer reaches the settlement. Read it
    under the index's lock."""
    a, n = index.arrays, index.size
    if n == 0 or len(places) == 0:
        empty = np.empty(0, dtype=np.int32)
        return Pairs(place=empty, row=empty, km=np.empty(0))
    live = a["live"][:n]
    area = a["area"][:n]
    found_rows, found_places = [], []

    circles = np.flatnonzero(
        live & (area == Area.RADIUS) & np.isfinite(a["lat"][:n]) & (a["radius_km"][:n] > 0)
    )
    circle, place, km_radius = radius_pairs(
        places.lat, places.lon, a["lat"][circles], a["lon"][circles], a["radius_km"][circles]
    )
    found_rows.append(circles[circle])
    found_places.append(place)

    assert index.ref is not None
    by_council = [
        np.flatnonzero(places.council_ids == council_id) for council_id in index.ref.council_bit
    ]
    council_offers = np.flatnonzero(live & (area == Area.COUNCILS))
    masks = a["councils"][council_offers]
    for bit, council_places in zip(index.ref.council_bit.values(), by_council, strict=True):
        rows = council_offers[(masks & np.uint64(1 << bit)) != 0]
        if rows.size and council_places.size:
            found_rows.append(np.repeat(rows, council_places.size))
            found_places.append(np.tile(council_places, rows.size))

    position = places.position()
    # A set: an offer naming a town and its second entry reaches the town once.
    named = sorted(
        {
            (row, position[settlement_id])
            for row, settlements in index.row_settlements.items()
            if row < n and live[row]
            for settlement_id in settlements
            if settlement_id in position
        }
    )
    if named:
        found_rows.append(np.array([row for row, _ in named], dtype=np.int64))
        found_places.append(np.array([p for _, p in named], dtype=np.int64))

    pair_rows = np.concatenate(found_rows).astype(np.int32)
    pair_places = np.concatenate(found_places).astype(np.int32)
    km = np.empty(pair_rows.size)
    km[: circle.size] = km_radius
    others = slice(circle.size, None)
    km[others] = haversine_km_pairs(
        a["lat"][pair_rows[others]],
        a["lon"][pair_rows[others]],
        places.lat[pair_places[others]],
        places.lon[pair_places[others]],
    )
    return Pairs(place=pair_places, row=pair_rows, km=km)
