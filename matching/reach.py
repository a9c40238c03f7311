"""Which offers with a travel radius come near a point. The live radius offers are grouped by
how far they travel, and each group is laid on a grid of cells about as large as its widest
radius, so a search looks at the few cells around the person rather than at a band of
latitude across Scotland (which, through the Central Belt, held two thirds of them)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from marketplace.geography.distance import EARTH_RADIUS_KM, SPHERE_MARGIN

GROUP_LIMITS_KM = (8.0, 12.0, 16.0, 24.0)
"""The widest radius of each group but the last, which takes the rest. Each group's cells are
as large as its widest radius, so an offer of 5 km is not looked at for a person 30 km away
because it shares cells with offers of 40 km."""
KM_PER_DEGREE_OF_LATITUDE = 110.5
"""At least this anywhere on Earth (110.57 km at the equator, more towards the poles)."""
CELL_WIDTH_PER_HEIGHT = 2.0
"""A cell spans twice as many degrees of longitude as of latitude: at Scotland's latitudes a
degree of longitude is a little over half a degree of latitude on the ground."""


@dataclass(frozen=True)
class Circles:
    """Radius offers with what the exact test of reach reads: their rows in the index,
    centres and radii."""

    rows: NDArray[np.int64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    radius_km: NDArray[np.float64]

    def take(self, at: NDArray[np.intp] | NDArray[np.int64]) -> Circles:
        return Circles(self.rows[at], self.lat[at], self.lon[at], self.radius_km[at])

    @staticmethod
    def joined(parts: Sequence[Circles]) -> Circles:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Circles(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0))
        return Circles(
            *(
                np.concatenate([getattr(part, column) for part in parts])
                for column in ("rows", "lat", "lon", "radius_km")
            )
        )


def longitude_band_degrees(latitude: float, km: float) -> float:
    """How far in longitude anything within `km` of a point at `latitude` can be, on the
    sphere, with room for the geodesic deciding at the edge (distance.within_km)."""
    widest = km * (1 + SPHERE_MARGIN) / EARTH_RADIUS_KM
    across = math.cos(math.radians(latitude))
    if widest >= math.pi / 2 or math.sin(widest) >= across:
        return 180.0
    return math.degrees(math.asin(math.sin(widest) / across)) + 0.01


def latitude_band_degrees(km: float) -> float:
    return km / KM_PER_DEGREE_OF_LATITUDE + 0.01


@dataclass(frozen=True)
class RadiusGroup:
    """Radius offers of up to `widest_km`, ordered by the grid cell they lie in."""

    widest_km: float
    cell_degrees: float
    """The height of a cell in latitude (its width in longitude is twice this)."""
    columns: int
    keys: NDArray[np.int64]
    """Each offer's cell, row by row of the grid: row * columns + column, ascending."""
    circles: Circles
    """The offers, in the order of `keys`."""

    @classmethod
    def of(cls, circles: Circles) -> RadiusGroup:
        widest = float(circles.radius_km.max())
        height = latitude_band_degrees(widest)
        columns = math.ceil(360.0 / (height * CELL_WIDTH_PER_HEIGHT)) + 1
        keys = _cells(circles.lat, circles.lon, height, columns)
        order = np.argsort(keys, kind="stable")
        return cls(
            widest_km=widest,
            cell_degrees=height,
            columns=columns,
            keys=keys[order],
            circles=circles.take(order),
        )

    def near(self, latitude: float, longitude: float, beyond_km: float) -> NDArray[np.int64]:
        """Positions of the offers whose circle, widened by `beyond_km`, may hold the point:
        those in the cells that a box of the group's widest reach around the point touches."""
        reach = self.widest_km + beyond_km
        up, across = latitude_band_degrees(reach), longitude_band_degrees(latitude, reach)
        height, width = self.cell_degrees, self.cell_degrees * CELL_WIDTH_PER_HEIGHT
        first_row = math.floor((latitude - up + 90.0) / height)
        last_row = math.floor((latitude + up + 90.0) / height)
        if across >= 180.0:  # near a pole, every longitude
            first_column, last_column = 0, self.columns - 1
        else:
            first_column = max(0, math.floor((longitude - across + 180.0) / width))
            last_column = min(self.columns - 1, math.floor((longitude + across + 180.0) / width))
        grid_rows = np.arange(first_row, last_row + 1, dtype=np.int64) * self.columns
        starts = np.searchsorted(self.keys, grid_rows + first_column, side="left")
        stops = np.searchsorted(self.keys, grid_rows + last_column, side="right")
        return np.concatenate(
            [np.arange(a, b, dtype=np.int64) for a, b in zip(starts, stops, strict=True)]
        )


def _cells(
    lat: NDArray[np.float64], lon: NDArray[np.float64], height: float, columns: int
) -> NDArray[np.int64]:
    width = height * CELL_WIDTH_PER_HEIGHT
    grid_row = np.floor((lat + 90.0) / height).astype(np.int64)
    grid_column = np.floor((lon + 180.0) / width).astype(np.int64)
    return grid_row * columns + grid_column


@dataclass(frozen=True)
class RadiusAreas:
    """The live offers whose area is a radius, in groups by how far they travel."""

    groups: tuple[RadiusGroup, ...]
    widest_km: float

    @classmethod
    def of(cls, circles: Circles) -> RadiusAreas:
        group_of = np.searchsorted(np.array(GROUP_LIMITS_KM), circles.radius_km, side="left")
        members = (np.flatnonzero(group_of == group) for group in range(len(GROUP_LIMITS_KM) + 1))
        return cls(
            groups=tuple(RadiusGroup.of(circles.take(at)) for at in members if at.size),
            widest_km=float(circles.radius_km.max()) if circles.radius_km.size else 0.0,
        )

    def near(self, latitude: float, longitude: float, beyond_km: float = 0.0) -> Circles:
        """The offers whose radius, widened by `beyond_km`, may reach the point (a superset,
        for the caller's exact test)."""
        return Circles.joined(
            [
                group.circles.take(group.near(latitude, longitude, beyond_km))
                for group in self.groups
            ]
        )
