"""Every named place in Scotland, from Ordnance Survey's OS Open Names (Open Government
Licence): the villages and hamlets the settlement list of 500+ people leaves out, such as
Lochinver, Tongue, Durness and Castlebay, imported as named places that search, suggestions,
needs and offers take like any other. `sds-market places import PATH` reads the CSV files as
OS ships them (no header, 34 columns, British National Grid); importing again changes only
what changed.

A named place has no population of its own: its people are counted where they live by the
gap figures, and its urban-rural class is that of the town it lies in, or else worked out
as any small place's is, from the drive to the nearest town of 10,000 or more."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography import build
from marketplace.geography.classify import (
    TOWN_REACH_KM_PER_ROOT_PERSON,
    URBAN_POPULATION,
    Place,
    classify,
)
from marketplace.geography.distance import haversine_km_many
from marketplace.geography.models import NAMED, CouncilArea, Settlement, SettlementKind
from marketplace.geography.postcodes import postcode_book
from marketplace.geography.reference import search_key

COLUMNS = 34
"""OS Open Names' columns (the list is in the product's documentation)."""
ID, NAME1, NAME2, TYPE, LOCAL_TYPE, X, Y, POSTCODE_DISTRICT, COUNTY_UNITARY, COUNTRY = (
    0,
    2,
    4,
    6,
    7,
    8,
    9,
    16,
    24,
    29,
)
KEPT_TYPES = frozenset({"City", "Town", "Village", "Hamlet", "Other Settlement", "Suburban Area"})
FIRST_ID = 1_000_000_000
"""Named places' ids start here, clear of the GeoNames ids of the settlement list."""
SAME_PLACE_KM = 5.0
"""A name in the settlement list within this distance is the same place, listed already."""
COUNCIL_NAMES = {"na h-eileanan an iar": "Na h-Eileanan Siar"}
"""Where OS names a council area otherwise than the council list does."""


@dataclass(frozen=True)
class NamedPlace:
    os_id: str
    name: str
    other_name: str
    """NAME2: the name in a second language (Gaelic or Scots), or empty."""
    local_type: str
    easting: float
    northing: float
    postcode_district: str
    council_name: str


@dataclass
class Imported:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    second_names: int = 0
    """Places of the settlement list given the second name OS knows them by."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Why rows were left out, and how many for each reason."""


def csv_files(path: Path) -> list[Path]:
    """The file, or every CSV file in the folder (OS ships one per 10 km square)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() == ".csv")
    return [path]


def read_rows(files: Iterable[Path], skipped: Counter[str]) -> Iterator[NamedPlace]:
    """The populated places in Scotland of these files; the rest counted in `skipped`."""
    for path in files:
        with path.open(newline="", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if len(row) != COLUMNS:
                    skipped[f"not a row of {COLUMNS} columns (a header, or another file)"] += 1
                elif row[TYPE] != "populatedPlace":
                    skipped["not a populated place (a road, hill, water or other feature)"] += 1
                elif row[LOCAL_TYPE] not in KEPT_TYPES:
                    skipped[f"a populated place of another kind ({row[LOCAL_TYPE]})"] += 1
                elif row[COUNTRY] != "Scotland":
                    skipped["outside Scotland"] += 1
                else:
                    try:
                        easting, northing = float(row[X]), float(row[Y])
                    except ValueError:
                        skipped["no coordinates"] += 1
                        continue
                    yield NamedPlace(
                        os_id=row[ID].strip(),
                        name=" ".join(row[NAME1].split()),
                        other_name=" ".join(row[NAME2].split()),
                        local_type=row[LOCAL_TYPE],
                        easting=easting,
                        northing=northing,
                        postcode_district=row[POSTCODE_DISTRICT].strip(),
                        council_name=row[COUNTY_UNITARY].strip(),
                    )


def import_named_places(
    session: Session, path: Path, *, progress: Callable[[int, int], None] | None = None
) -> Imported:
    """Load the populated places of OS Open Names at `path` (a file or a folder of them).
    `progress(done, total)` is told of each file read."""
    done = Imported()
    files = csv_files(path)
    found: list[NamedPlace] = []
    for number, file in enumerate(files, start=1):
        found += read_rows([file], done.skipped)
        if progress is not None:
            progress(number, len(files))
    listed = _listed(session)
    imported = {
        s.os_names_id: s
        for s in session.scalars(select(Settlement).where(Settlement.os_names_id.is_not(None)))
    }
    councils = {search_key(c.name): c for c in session.scalars(select(CouncilArea))}
    latitudes, longitudes = build.to_wgs84([p.easting for p in found], [p.northing for p in found])
    towns = _Towns(listed)
    new: list[tuple[NamedPlace, float, float]] = []
    seen: set[str] = set()
    for place, latitude, longitude in zip(found, latitudes, longitudes, strict=True):
        if place.os_id in seen:
            done.skipped["listed twice in the files"] += 1
            continue
        seen.add(place.os_id)
        listed_as = towns.listed_as(place.name, latitude, longitude)
        if listed_as is not None:
            done.skipped["in the settlement list already"] += 1
            if place.other_name and listed_as.other_name != place.other_name:
                listed_as.other_name = place.other_name
                listed_as.other_search_key = search_key(place.other_name)
                done.second_names += 1
            continue
        new.append((place, latitude, longitude))
    classes = towns.classes([(lat, lon) for _, lat, lon in new])
    names = Counter(s.name for s in listed) + Counter(p.name for p, _, _ in new)
    next_id = max([FIRST_ID - 1, *(s.id for s in imported.values())]) + 1
    labels = {s.label for s in listed}
    for (place, latitude, longitude), measured in zip(new, classes, strict=True):
        named = COUNCIL_NAMES.get(place.council_name.lower(), place.council_name)
        council = councils.get(search_key(named))
        if council is None:
            council = councils[search_key(_council_near(session, latitude, longitude))]
        label = place.name
        if names[place.name] > 1:
            label = f"{place.name} ({council.name}, {place.postcode_district or place.local_type})"
        if label in labels and imported.get(place.os_id) is None:
            done.skipped["a second place of the same name in the same postcode district"] += 1
            continue
        labels.add(label)
        values = {
            "name": place.name,
            "label": label,
            "search_key": search_key(place.name),
            "other_name": place.other_name or None,
            "other_search_key": search_key(place.other_name) if place.other_name else None,
            "latitude": round(latitude, 5),
            "longitude": round(longitude, 5),
            "population": 0,
            "council_id": council.id,
            "kind": SettlementKind.NAMED_PLACE,
            "island": measured.island,
            "urban_rural_8": measured.urban_rural_8,
            "nearest_urban_name": measured.nearest_urban_name,
            "nearest_urban_km": round(measured.nearest_urban_km, 2),
            "drive_minutes": round(measured.drive_minutes, 1),
        }
        current = imported.get(place.os_id)
        if current is None:
            session.add(Settlement(id=next_id, os_names_id=place.os_id, **values))
            next_id += 1
            done.added += 1
        elif any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            done.updated += 1
        else:
            done.unchanged += 1
    session.flush()
    return done


def _council_near(session: Session, latitude: float, longitude: float) -> str:
    """The council area of the nearest postcode sector, for a place whose council OS
    names in a way the council list does not."""
    sectors = list(postcode_book().sectors.values())
    distances = haversine_km_many(
        latitude,
        longitude,
        np.array([s.latitude for s in sectors]),
        np.array([s.longitude for s in sectors]),
    )
    gss = sectors[int(np.argmin(distances))].council_gss
    return str(session.scalar(select(CouncilArea.name).where(CouncilArea.gss_code == gss)))


@dataclass(frozen=True)
class Measured:
    urban_rural_8: int
    nearest_urban_name: str
    nearest_urban_km: float
    drive_minutes: float
    island: str | None


def _listed(session: Session) -> list[Settlement]:
    """The settlement list's entries (not named places, nor rural areas)."""
    return list(
        session.scalars(
            select(Settlement).where(
                Settlement.kind.in_(NAMED), Settlement.kind != SettlementKind.NAMED_PLACE
            )
        )
    )


def classes_of(session: Session, points: list[tuple[float, float]]) -> list[Measured]:
    """The class of each point (latitude, longitude) that the list does not name, as a
    named place's is found: a town's if it lies in the town's built-up reach, else by the
    drive to the nearest town of 10,000+."""
    return _Towns(_listed(session)).classes(points)


class _Towns:
    """The settlement list, to tell whether a name is listed already and to class the
    places it does not list."""

    def __init__(self, listed: list[Settlement]) -> None:
        counted = [s for s in listed if s.kind != SettlementKind.DUPLICATE]
        self.listed = counted
        self.by_key: dict[str, list[Settlement]] = {}
        for settlement in listed:
            self.by_key.setdefault(settlement.search_key, []).append(settlement)
        self.lat = np.array([s.latitude for s in counted])
        self.lon = np.array([s.longitude for s in counted])
        self.reach_km = TOWN_REACH_KM_PER_ROOT_PERSON * np.sqrt(
            np.array([s.population for s in counted], dtype=np.float64)
        )

    def listed_as(self, name: str, latitude: float, longitude: float) -> Settlement | None:
        """The listed settlement of this name within SAME_PLACE_KM, if there is one."""
        same = self.by_key.get(search_key(name), [])
        if not same:
            return None
        distances = haversine_km_many(
            latitude,
            longitude,
            np.array([s.latitude for s in same]),
            np.array([s.longitude for s in same]),
        )
        nearest = int(np.argmin(distances))
        return same[nearest] if distances[nearest] <= SAME_PLACE_KM else None

    def classes(self, points: list[tuple[float, float]]) -> list[Measured]:
        """A place inside a town's built-up reach is part of it and takes its class; any
        other is classed as a small place is, by the drive to the nearest town of 10,000+,
        on the island of the nearest listed place when that is an island."""
        origins = _urban_origins(self.listed)
        result = []
        for latitude, longitude in points:
            distances = haversine_km_many(latitude, longitude, self.lat, self.lon)
            inside = distances - self.reach_km
            nearest = self.listed[int(np.argmin(inside))]
            if inside.min() <= 0:
                result.append(
                    Measured(
                        nearest.urban_rural_8,
                        nearest.nearest_urban_name,
                        nearest.nearest_urban_km,
                        nearest.drive_minutes,
                        nearest.island,
                    )
                )
                continue
            island = self.listed[int(np.argmin(distances))].island
            here = Place(
                key=-1,
                latitude=latitude,
                longitude=longitude,
                population=0,
                island=island or "",
                is_settlement=True,
            )
            measured = classify([here], outside_origins=origins)[here.key]
            origin = next(o for o in origins if o.key == measured.nearest_urban_key)
            result.append(
                Measured(
                    int(measured.urban_rural_8),
                    origin.name,
                    measured.nearest_urban_km,
                    measured.drive_minutes,
                    island,
                )
            )
        return result


@dataclass(frozen=True)
class _Origin(Place):
    name: str = ""


def _urban_origins(listed: list[Settlement]) -> list[_Origin]:
    """The towns of 10,000+ that classes are measured from: the listed ones, and the
    English border towns the shipped files hold."""
    towns = [
        _Origin(
            key=s.id,
            latitude=s.latitude,
            longitude=s.longitude,
            population=s.population,
            island=s.island or "",
            is_settlement=True,
            name=s.name,
        )
        for s in listed
        if s.kind == SettlementKind.SETTLEMENT and s.population >= URBAN_POPULATION
    ]
    with build.URBAN_ORIGINS_CSV.open(newline="") as f:
        towns += [
            _Origin(
                key=int(row["geonameid"]),
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                population=int(row["population"]),
                island="",
                is_settlement=True,
                name=row["name"],
            )
            for row in csv.DictReader(f)
        ]
    return towns
