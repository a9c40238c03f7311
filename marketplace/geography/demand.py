"""Where Scotland's people live, for the gap figures: every resident counted once, at a point
near home. The 2011 census's output areas (46,351 of them, a median of 109 people each) are
each given to the listed place of their own council that lies nearest (less its built-up
reach), within NEAR_PLACE_KM or that reach; the rest (the people of farms, crofts and
glens the list of 500+ leaves out) to the rural area of their grid cell of
RURAL_CELL_DEGREES, placed where its people live and named after the listed place it lies
nearest. Each council's areas are then scaled to the council's estimate, so they add up
to Scotland's mid-2022 total.

Built by `sds-market geography build` into demand_areas.csv: the product ships the areas,
not the census."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marketplace.geography import build
from marketplace.geography.classify import TOWN_REACH_KM_PER_ROOT_PERSON
from marketplace.geography.distance import haversine_km_pairs

NEAR_PLACE_KM = 3.0
"""How far from a listed place its people are taken to live, or as far as its built-up
area reaches if that is further (7.9 km for Glasgow; classify.TOWN_REACH_KM_PER_ROOT_PERSON):
about the edge of a town of tens of thousands, and a short drive from a village. Measured
over the census: so near a listed place of their own council live 4.8 of the 5.3 million
people, in 42,260 of the output areas; the other 478,000 (4,091 output areas) are counted
in rural areas."""
RURAL_CELL_DEGREES = (0.05, 0.09)
"""A rural area's cell, latitude by longitude: about 5.5 by 5.4 km at 57 degrees north, so
its people are counted within about 4 km of home (the gap figures' distance bands are 10 km
wide). Scotland's rural people fall into about 1,300 of them."""
COMPASS = (
    "north",
    "north-north-east",
    "north-east",
    "east-north-east",
    "east",
    "east-south-east",
    "south-east",
    "south-south-east",
    "south",
    "south-south-west",
    "south-west",
    "west-south-west",
    "west",
    "west-north-west",
    "north-west",
    "north-north-west",
)
"""Sixteen points: with eight, two rural areas the same distance and way from one place
shared a name thirty times over Scotland."""
AROUND_KM = 2.0
"""A rural area whose people live closer than this to the place it is named after is
"around" it rather than some way in one direction."""


@dataclass(frozen=True)
class SmallArea:
    """A census output area, or an official small area imported in its place."""

    code: str
    council_gss: str
    latitude: float
    longitude: float
    residents: int


@dataclass(frozen=True)
class ListedPlace:
    """A settlement of the list (or an island's entry) that people can be counted in."""

    key: int
    name: str
    council_gss: str
    latitude: float
    longitude: float
    population: int
    """As the list gives it: how far its built-up area reaches (gazetteer)."""

    @property
    def built_up_km(self) -> float:
        return TOWN_REACH_KM_PER_ROOT_PERSON * math.sqrt(self.population)

    @property
    def counts_within_km(self) -> float:
        return max(NEAR_PLACE_KM, self.built_up_km)


@dataclass(frozen=True)
class DemandArea:
    """The people counted at one point: a listed place's, or a rural area's."""

    key: str
    council_gss: str
    place_key: int | None
    """The listed place these are the people of; None for a rural area."""
    named_after: int
    """The listed place it is named after: itself, or the one a rural area lies nearest."""
    name: str
    latitude: float
    longitude: float
    small_areas: int
    residents: int
    """As the small areas count them (the 2011 census, for output areas)."""
    estimate: int = 0
    """Scaled to the council's estimate (mid-2022)."""


def demand_areas(
    small_areas: Sequence[SmallArea],
    places: Sequence[ListedPlace],
    council_estimates: dict[str, int],
) -> list[DemandArea]:
    """Every small area's people in one demand area, each council's areas scaled to its
    estimate; in key order."""
    by_council: defaultdict[str, list[ListedPlace]] = defaultdict(list)
    for place in places:
        by_council[place.council_gss].append(place)
    areas: list[DemandArea] = []
    for council, own in sorted(_small_areas_by_council(small_areas).items()):
        areas += _council_areas(council, own, by_council.get(council, []), places)
    return _scaled(areas, council_estimates)


def _small_areas_by_council(small_areas: Iterable[SmallArea]) -> dict[str, list[SmallArea]]:
    grouped: defaultdict[str, list[SmallArea]] = defaultdict(list)
    for area in small_areas:
        grouped[area.council_gss].append(area)
    return grouped


def _council_areas(
    council: str,
    small: list[SmallArea],
    own: list[ListedPlace],
    everywhere: Sequence[ListedPlace],
) -> list[DemandArea]:
    lat = np.array([a.latitude for a in small])
    lon = np.array([a.longitude for a in small])
    residents = np.array([a.residents for a in small], dtype=np.int64)
    # A council with no listed place of its own (none has) counts in rural areas alone,
    # named after the nearest place anywhere.
    places = own or list(everywhere)
    place_lat = np.array([p.latitude for p in places])
    place_lon = np.array([p.longitude for p in places])
    km = haversine_km_pairs(lat[:, None], lon[:, None], place_lat[None, :], place_lon[None, :])
    within = np.array([p.counts_within_km for p in places])
    # As the gazetteer places a point: the nearest place less its built-up reach, so the
    # people between a village and a city's edge are the city's.
    score = np.where(km <= within[None, :], km - within[None, :], np.inf)
    nearest = np.argmin(score, axis=1)
    near = np.isfinite(score[np.arange(len(small)), nearest]) & bool(own)

    areas = []
    for i in np.unique(nearest[near]):
        members = near & (nearest == i)
        place = places[int(i)]
        areas.append(
            DemandArea(
                key=f"place:{place.key}",
                council_gss=council,
                place_key=place.key,
                named_after=place.key,
                name=place.name,
                latitude=place.latitude,
                longitude=place.longitude,
                small_areas=int(members.sum()),
                residents=int(residents[members].sum()),
            )
        )

    cells: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    for k in np.flatnonzero(~near):
        cells[_cell(float(lat[k]), float(lon[k]))].append(int(k))
    names: Counter[str] = Counter()
    for (row, col), members_list in sorted(cells.items()):
        members_at = np.array(members_list)
        weights = residents[members_at].astype(np.float64) + 1.0  # an empty area still counts
        at_lat = float(np.average(lat[members_at], weights=weights))
        at_lon = float(np.average(lon[members_at], weights=weights))
        from_place = haversine_km_pairs(
            np.full(place_lat.size, at_lat), np.full(place_lon.size, at_lon), place_lat, place_lon
        )
        place = places[int(np.argmin(from_place))]
        name = _rural_name(
            place,
            at_lat,
            at_lon,
            float(from_place.min()),
            urban=_built_up(everywhere, at_lat, at_lon),
        )
        names[name] += 1
        if names[name] > 1:  # two cells the same way and distance from one place: rare
            name = f"{name} ({names[name]})"
        areas.append(
            DemandArea(
                key=f"rural:{council}:{row}:{col}",
                council_gss=council,
                place_key=None,
                named_after=place.key,
                name=name,
                latitude=round(at_lat, 5),
                longitude=round(at_lon, 5),
                small_areas=len(members_list),
                residents=int(residents[members_at].sum()),
            )
        )
    return areas


def _cell(latitude: float, longitude: float) -> tuple[int, int]:
    return (
        math.floor(latitude / RURAL_CELL_DEGREES[0]),
        math.floor(longitude / RURAL_CELL_DEGREES[1]),
    )


def _built_up(places: Sequence[ListedPlace], latitude: float, longitude: float) -> bool:
    """Whether a point lies within some listed place's built-up reach (of any council)."""
    lat = np.array([p.latitude for p in places])
    lon = np.array([p.longitude for p in places])
    reach = np.array([p.built_up_km for p in places])
    km = haversine_km_pairs(np.full(lat.size, latitude), np.full(lon.size, longitude), lat, lon)
    return bool((km <= reach).any())


def _rural_name(
    place: ListedPlace, latitude: float, longitude: float, km: float, *, urban: bool
) -> str:
    """'Rural area 12 km north-west of Lochinver', 'Rural area around Tongue', or, for the
    people of a town's edge that no listed place of their own council is near (across a
    council boundary from a city), 'Area 2 km south of Bearsden'."""
    what = "Area" if urban else "Rural area"
    if km < AROUND_KM:
        return f"{what} around {place.name}"
    east = (longitude - place.longitude) * math.cos(math.radians(place.latitude))
    north = latitude - place.latitude
    bearing = math.degrees(math.atan2(east, north)) % 360
    direction = COMPASS[round(bearing / (360 / len(COMPASS))) % len(COMPASS)]
    return f"{what} {round(km)} km {direction} of {place.name}"


def _scaled(areas: list[DemandArea], council_estimates: dict[str, int]) -> list[DemandArea]:
    """Each council's areas scaled to its estimate by largest remainders, so that they add
    up to it exactly (and Scotland's to Scotland's)."""
    scaled: list[DemandArea] = []
    by_council: defaultdict[str, list[DemandArea]] = defaultdict(list)
    for area in areas:
        by_council[area.council_gss].append(area)
    for council, own in by_council.items():
        shares = build.largest_remainders(
            {a.key: a.residents for a in own}, council_estimates[council]
        )
        scaled += [DemandArea(**{**a.__dict__, "estimate": shares[a.key]}) for a in own]
    return sorted(scaled, key=lambda a: a.key)


HEADER = [
    "key",
    "council_gss",
    "geonameid",
    "named_after",
    "name",
    "latitude",
    "longitude",
    "small_areas",
    "residents_2011",
    "estimate_mid_2022",
]


def to_csv(areas: Sequence[DemandArea]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for a in areas:
        writer.writerow(
            [
                a.key,
                a.council_gss,
                "" if a.place_key is None else a.place_key,
                a.named_after,
                a.name,
                f"{a.latitude:.5f}",
                f"{a.longitude:.5f}",
                a.small_areas,
                a.residents,
                a.estimate,
            ]
        )
    return buffer.getvalue()


def read_csv(path: Path) -> list[DemandArea]:
    with path.open(newline="") as f:
        return [
            DemandArea(
                key=row["key"],
                council_gss=row["council_gss"],
                place_key=int(row["geonameid"]) if row["geonameid"] else None,
                named_after=int(row["named_after"]),
                name=row["name"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                small_areas=int(row["small_areas"]),
                residents=int(row["residents_2011"]),
                estimate=int(row["estimate_mid_2022"]),
            )
            for row in csv.DictReader(f)
        ]


def build_demand_areas(settlements_csv: str, reference_dir: Path | None = None) -> str:
    """demand_areas.csv from the census's output areas and the settlement list (the
    settlements file's text, as `geography build` has just built it). An island's own entry
    (its people outside its settlements, as GeoNames counts them) is not a place people are
    counted in here: its people are in the island's rural areas, where they live."""
    output_areas = build.read_output_areas(reference_dir or build.REFERENCE_DIR)
    latitudes, longitudes = build.to_wgs84(
        [float(row["easting"]) for row in output_areas],
        [float(row["northing"]) for row in output_areas],
    )
    small = [
        SmallArea(
            code=row["oa_code"],
            council_gss=row["council_gss"],
            latitude=latitude,
            longitude=longitude,
            residents=int(row["population_2011"]),
        )
        for row, latitude, longitude in zip(output_areas, latitudes, longitudes, strict=True)
    ]
    places = [
        ListedPlace(
            key=int(row["geonameid"]),
            name=row["name"],
            council_gss=row["council_gss"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row["population"]),
        )
        for row in csv.DictReader(io.StringIO(settlements_csv))
        if row["kind"] == "settlement"
    ]
    _, estimates = build.council_estimates(output_areas)
    return to_csv(demand_areas(small, places, estimates))
