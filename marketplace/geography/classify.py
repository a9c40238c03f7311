"""The Scottish Government's urban-rural classes, estimated for each settlement.

The official classification takes a settlement's population and whether it lies within a
30- or 60-minute drive of a settlement of 10,000 or more people, driving on the road
network and taking ferries. We have no road network offline, so drive time is estimated
from the straight-line distance to the nearest 10,000+ settlement (Carlisle and Berwick
count, as they do officially):

    minutes = kilometres x DETOUR_FACTOR / DRIVE_SPEED_KMH x 60

with a detour factor of 1.55 and 60 km/h, the medians for Scottish routes of 25-100 km
(GB road distances measured against straight lines). So "accessible" means within about
19.4 km in a straight line and "very remote" beyond about 38.7 km.

Islands: a straight line crosses water that a car cannot. A settlement on an island with
no fixed link to the mainland is never within 30 minutes of a town off its island; it is
at least "remote", and "very remote" when the estimate says over 60 minutes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from marketplace.geography.distance import haversine_km

TOWN_REACH_KM_PER_ROOT_PERSON = 0.01
"""A town's built-up area reaches out roughly with the square root of its people: about
8 km for Glasgow, 0.3 km for a village of 1,000."""

DETOUR_FACTOR = 1.55
"""Road distance over straight-line distance: the median for Scottish routes of 25-100 km."""
DRIVE_SPEED_KMH = 60.0
"""The median road speed on those routes."""
LARGE_URBAN_POPULATION = 125_000
URBAN_POPULATION = 10_000
SMALL_TOWN_POPULATION = 3_000
ACCESSIBLE_MINUTES = 30.0
VERY_REMOTE_MINUTES = 60.0


class UrbanRural8(enum.IntEnum):
    """The 8-fold classification; the 6-fold merges remote and very remote."""

    LARGE_URBAN = 1
    OTHER_URBAN = 2
    ACCESSIBLE_SMALL_TOWN = 3
    REMOTE_SMALL_TOWN = 4
    VERY_REMOTE_SMALL_TOWN = 5
    ACCESSIBLE_RURAL = 6
    REMOTE_RURAL = 7
    VERY_REMOTE_RURAL = 8

    @property
    def label(self) -> str:
        return URBAN_RURAL_8_LABELS[self]

    @property
    def six_fold(self) -> UrbanRural6:
        return UrbanRural6({1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 6: 5, 7: 6, 8: 6}[int(self)])


class UrbanRural6(enum.IntEnum):
    LARGE_URBAN = 1
    OTHER_URBAN = 2
    ACCESSIBLE_SMALL_TOWN = 3
    REMOTE_SMALL_TOWN = 4
    ACCESSIBLE_RURAL = 5
    REMOTE_RURAL = 6

    @property
    def label(self) -> str:
        return URBAN_RURAL_6_LABELS[self]


class _HoldsEightFold(Protocol):
    @property
    def urban_rural_8(self) -> int: ...


class UrbanRuralClassed:
    """The classes of a place that holds its 8-fold class as a number (the settlement's
    row and the gazetteer's record of it alike)."""

    @property
    def urban_rural(self: _HoldsEightFold) -> UrbanRural8:
        return UrbanRural8(self.urban_rural_8)

    @property
    def urban_rural_6(self: _HoldsEightFold) -> UrbanRural6:
        return UrbanRural8(self.urban_rural_8).six_fold


URBAN_RURAL_6_LABELS = {
    UrbanRural6.LARGE_URBAN: "Large urban area",
    UrbanRural6.OTHER_URBAN: "Other urban area",
    UrbanRural6.ACCESSIBLE_SMALL_TOWN: "Accessible small town",
    UrbanRural6.REMOTE_SMALL_TOWN: "Remote small town",
    UrbanRural6.ACCESSIBLE_RURAL: "Accessible rural area",
    UrbanRural6.REMOTE_RURAL: "Remote rural area",
}
URBAN_RURAL_8_LABELS = {
    UrbanRural8.LARGE_URBAN: "Large urban area",
    UrbanRural8.OTHER_URBAN: "Other urban area",
    UrbanRural8.ACCESSIBLE_SMALL_TOWN: "Accessible small town",
    UrbanRural8.REMOTE_SMALL_TOWN: "Remote small town",
    UrbanRural8.VERY_REMOTE_SMALL_TOWN: "Very remote small town",
    UrbanRural8.ACCESSIBLE_RURAL: "Accessible rural area",
    UrbanRural8.REMOTE_RURAL: "Remote rural area",
    UrbanRural8.VERY_REMOTE_RURAL: "Very remote rural area",
}


def drive_minutes(straight_line_km: float) -> float:
    return straight_line_km * DETOUR_FACTOR / DRIVE_SPEED_KMH * 60


@dataclass(frozen=True)
class Place:
    """What the classification needs to know about a place."""

    key: int
    latitude: float
    longitude: float
    population: int
    island: str = ""
    """The island it is on, if that island has no fixed link to the mainland."""
    is_settlement: bool = True
    """False for a whole island's entry, which is never an urban origin nor a town."""


@dataclass(frozen=True)
class Classified:
    urban_rural_8: UrbanRural8
    nearest_urban_key: int
    nearest_urban_km: float
    drive_minutes: float
    """The estimate the class rests on (for an island place, across the water as the crow flies)."""


def classify(
    places: list[Place], *, outside_origins: Sequence[Place] = ()
) -> dict[int, Classified]:
    """The 8-fold class of every place, keyed by place key."""
    origins = [p for p in places if p.is_settlement and p.population >= URBAN_POPULATION]
    origins += list(outside_origins)
    result: dict[int, Classified] = {}
    for place in places:
        candidates = [o for o in origins if o.key != place.key]
        nearest = min(
            candidates,
            key=lambda o: haversine_km(place.latitude, place.longitude, o.latitude, o.longitude),
        )
        km = haversine_km(place.latitude, place.longitude, nearest.latitude, nearest.longitude)
        minutes = drive_minutes(km)
        result[place.key] = Classified(_class(place, minutes, nearest), nearest.key, km, minutes)
    return result


def _class(place: Place, minutes: float, nearest: Place) -> UrbanRural8:
    if place.is_settlement and place.population >= LARGE_URBAN_POPULATION:
        return UrbanRural8.LARGE_URBAN
    if place.is_settlement and place.population >= URBAN_POPULATION:
        return UrbanRural8.OTHER_URBAN
    cut_off_by_water = bool(place.island) and nearest.island != place.island
    if minutes > VERY_REMOTE_MINUTES:
        band = 2
    elif minutes > ACCESSIBLE_MINUTES or cut_off_by_water:
        band = 1
    else:
        band = 0
    if place.is_settlement and place.population >= SMALL_TOWN_POPULATION:
        return (
            UrbanRural8.ACCESSIBLE_SMALL_TOWN,
            UrbanRural8.REMOTE_SMALL_TOWN,
            UrbanRural8.VERY_REMOTE_SMALL_TOWN,
        )[band]
    return (UrbanRural8.ACCESSIBLE_RURAL, UrbanRural8.REMOTE_RURAL, UrbanRural8.VERY_REMOTE_RURAL)[
        band
    ]
