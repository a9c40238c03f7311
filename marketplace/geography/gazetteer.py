"""The reference geography held in memory: council areas, settlements, postcode districts
and land cells as plain frozen records, read once per process for each database. They
change only with a deploy or an import, and every search, need and offer page asks them
where a person is, so asking the database each time would be most of a page's work.

A Place and a Council carry the same names as the Settlement and CouncilArea rows they
copy, so pages read them alike; code that writes a row's relationship takes the row by
its id (`session.get`)."""

from __future__ import annotations

import difflib
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography.build import cell_of
from marketplace.geography.classify import TOWN_REACH_KM_PER_ROOT_PERSON, UrbanRuralClassed
from marketplace.geography.distance import haversine_km_many
from marketplace.geography.models import (
    NAMED,
    CouncilArea,
    LandCell,
    PostcodeDistrict,
    Settlement,
    SettlementKind,
)
from marketplace.geography.reference import search_key

NEARBY_CELLS = 2
"""How far (in grid cells, about 20 km) coordinates may fall from the nearest postcode
and still count as land: remote glens have few postcodes."""


@dataclass(frozen=True)
class Council:
    id: int
    gss_code: str
    name: str


@dataclass(frozen=True)
class Place(UrbanRuralClassed):
    """A settlement, as its row says."""

    id: int
    name: str
    label: str
    search_key: str
    other_search_key: str | None
    """Its second name's key (marketplace.geography.names), when it has one."""
    latitude: float
    longitude: float
    population: int
    council: Council
    kind: SettlementKind
    island: str | None
    urban_rural_8: int
    nearest_urban_name: str
    nearest_urban_km: float
    drive_minutes: float

    @property
    def council_id(self) -> int:
        return self.council.id


@dataclass(frozen=True)
class District:
    code: str
    latitude: float
    longitude: float
    council: Council
    postcodes: int
    scottish_share: float


@dataclass(frozen=True)
class SettlementPoints:
    """Every counted settlement (not the duplicates of shared names) as columns."""

    ids: NDArray[np.int64]
    latitude: NDArray[np.float64]
    longitude: NDArray[np.float64]
    reach_km: NDArray[np.float64]

    def around(self, latitude: float, longitude: float) -> int:
        """The id of the settlement the point is in or nearest to, counting a town's size:
        a postcode district on the edge of Glasgow belongs to Glasgow, not to the village
        nearest its centre."""
        distances = haversine_km_many(latitude, longitude, self.latitude, self.longitude)
        return int(self.ids[np.argmin(distances - self.reach_km)])


class Gazetteer:
    def __init__(
        self,
        councils: list[Council],
        places: list[Place],
        districts: list[District],
        land: dict[tuple[int, int], tuple[int, int]],
    ) -> None:
        self.councils = {c.id: c for c in councils}
        self.councils_by_gss = {c.gss_code: c for c in councils}
        self.councils_by_name = sorted(councils, key=lambda c: c.name)
        self.places = {p.id: p for p in places}
        self.by_label = {p.label.lower(): p for p in places}
        self.by_key: dict[str, list[Place]] = defaultdict(list)
        for place in sorted(places, key=lambda p: (-p.population, p.name)):
            self.by_key[place.search_key].append(place)
            if place.other_search_key and place.other_search_key != place.search_key:
                self.by_key[place.other_search_key].append(place)
        self.biggest_first = sorted(places, key=lambda p: (-p.population, p.name))
        self.districts = {d.code: d for d in districts}
        self.land = land
        counted = [p for p in places if p.kind != SettlementKind.DUPLICATE]
        self.points = SettlementPoints(
            ids=np.array([p.id for p in counted], dtype=np.int64),
            latitude=np.array([p.latitude for p in counted], dtype=np.float64),
            longitude=np.array([p.longitude for p in counted], dtype=np.float64),
            reach_km=np.array(
                [TOWN_REACH_KM_PER_ROOT_PERSON * np.sqrt(p.population) for p in counted],
                dtype=np.float64,
            ),
        )

    def around(self, latitude: float, longitude: float) -> Place:
        return self.places[self.points.around(latitude, longitude)]

    def suggest(self, text: str, limit: int = 8) -> list[Place]:
        """Places whose name starts with what was typed (then contains it), biggest first."""
        key = search_key(text)
        if len(key) < 2:
            return []
        found = [p for p in self.biggest_first if _names_start(p, key)][:limit]
        if len(found) < limit:
            found += [
                p for p in self.biggest_first if key in p.search_key and not _names_start(p, key)
            ][: limit - len(found)]
        return found

    def similar(self, text: str, limit: int = 3) -> list[Place]:
        """Places whose names are spelt nearly like `text`, for "did you mean"."""
        keys = difflib.get_close_matches(search_key(text), list(self.by_key), n=limit, cutoff=0.75)
        return [self.by_key[key][0] for key in keys]

    def on_land_in_scotland(self, latitude: float, longitude: float) -> bool:
        """Whether a point is on land in Scotland: its grid cell (or, where postcodes are
        sparse, the nearest cells around it) holds mostly Scottish postcodes."""
        row, col = cell_of(latitude, longitude)
        rings: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for dr in range(-NEARBY_CELLS, NEARBY_CELLS + 1):
            for dc in range(-NEARBY_CELLS, NEARBY_CELLS + 1):
                counts = self.land.get((row + dr, col + dc))
                if counts is not None:
                    rings[max(abs(dr), abs(dc))].append(counts)
        if not rings:
            return False
        nearest = rings[min(rings)]
        return sum(s for s, _ in nearest) > sum(o for _, o in nearest)


def _names_start(place: Place, key: str) -> bool:
    return place.search_key.startswith(key) or bool(
        place.other_search_key and place.other_search_key.startswith(key)
    )


def read_gazetteer(session: Session) -> Gazetteer:
    councils = [
        Council(id=c.id, gss_code=c.gss_code, name=c.name)
        for c in session.execute(select(CouncilArea.id, CouncilArea.gss_code, CouncilArea.name))
    ]
    council = {c.id: c for c in councils}
    places = [
        Place(
            id=s.id,
            name=s.name,
            label=s.label,
            search_key=s.search_key,
            other_search_key=s.other_search_key,
            latitude=s.latitude,
            longitude=s.longitude,
            population=s.population,
            council=council[s.council_id],
            kind=s.kind,
            island=s.island,
            urban_rural_8=s.urban_rural_8,
            nearest_urban_name=s.nearest_urban_name,
            nearest_urban_km=s.nearest_urban_km,
            drive_minutes=s.drive_minutes,
        )
        for s in session.execute(
            select(*Settlement.__table__.c)
            .where(Settlement.kind.in_(NAMED))
            .order_by(Settlement.id)
        )
    ]
    districts = [
        District(
            code=d.code,
            latitude=d.latitude,
            longitude=d.longitude,
            council=council[d.council_id],
            postcodes=d.postcodes,
            scottish_share=d.scottish_share,
        )
        for d in session.execute(select(*PostcodeDistrict.__table__.c))
    ]
    land = {
        (cell.row, cell.col): (cell.scottish_postcodes, cell.other_postcodes)
        for cell in session.execute(select(*LandCell.__table__.c))
    }
    return Gazetteer(councils, places, districts, land)


_lock = threading.Lock()
_read: dict[str, Gazetteer] = {}


def gazetteer(session: Session) -> Gazetteer:
    """This process's copy for the session's database, read on first use."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    found = _read.get(key)
    if found is None:
        with _lock:
            found = _read.get(key)
            if found is None:
                found = _read[key] = read_gazetteer(session)
    return found


def forget() -> None:
    """After the reference geography itself changes (an import): read it again."""
    with _lock:
        _read.clear()
