"""An offer's service area as people see it: the towns and villages it covers, a small
map drawn on the server as SVG from the shipped outlines (no map tiles, no network),
and whether it reaches a person's place (or how far short it stops)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from markupsafe import Markup, escape
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from marketplace.geography.basemap import WIDTH, base_of, scotland_view
from marketplace.geography.distance import geodesic_km, geodesic_km_many, within_km
from marketplace.geography.gazetteer import Gazetteer, Place, gazetteer
from marketplace.geography.models import SettlementKind
from marketplace.geography.outlines import to_grid
from marketplace.geography.service import Location
from providers.models import AreaType, Offer

WIDE_RADIUS_KM = 80
"""A radius wider than this reaches across several council areas: an administrator agrees first."""
WIDE_COUNCILS = 4
"""More council areas than this in one offer (Scotland
has 32) needs an administrator's agreement."""
WIDE_SETTLEMENTS = 60
"""More listed towns and villages than this needs an administrator's agreement."""


def needs_agreement(offer: Offer) -> bool:
    """Whether the offer's area is so wide that one offer would reach much of the country:
    then an administrator must agree before it is published (providers.offers). The bounds
    are stated on /about/needs."""
    if offer.area_type == AreaType.RADIUS:
        return (offer.radius_km or 0) > WIDE_RADIUS_KM
    if offer.area_type == AreaType.COUNCILS:
        return len(offer.area_councils) > WIDE_COUNCILS
    return len(offer.area_settlements) > WIDE_SETTLEMENTS


def area_key(offer: Offer) -> tuple[object, ...]:
    """What an administrator's agreement to an offer's area was given for."""
    return (
        offer.area_type,
        offer.centre_latitude,
        offer.centre_longitude,
        offer.radius_km,
        tuple(sorted(c.id for c in offer.area_councils)),
        tuple(sorted(s.id for s in offer.area_settlements)),
    )


def places_in_area(session: Session, offer: Offer) -> list[Place]:
    """The towns and villages the offer covers, biggest first (from the gazetteer)."""
    known = gazetteer(session)
    if offer.area_type == AreaType.SETTLEMENTS:
        places = [known.places[s.id] for s in offer.area_settlements]
    elif offer.area_type == AreaType.COUNCILS:
        council_ids = {c.id for c in offer.area_councils}
        places = [p for p in _counted(known).places if p.council.id in council_ids]
    else:
        assert (
            offer.centre_latitude is not None
            and offer.centre_longitude is not None
            and offer.radius_km
        )
        counted = _counted(known)
        # The same rule the matcher reaches people by: the geodesic decides at the edge.
        inside, _ = within_km(
            offer.centre_latitude,
            offer.centre_longitude,
            counted.lat,
            counted.lon,
            np.full(len(counted.places), offer.radius_km),
        )
        places = [counted.places[i] for i in np.flatnonzero(inside)]
    return sorted(places, key=lambda s: (-s.population, s.name))


@dataclass(frozen=True)
class _Counted:
    """The gazetteer's places that count as towns and villages, with their coordinates as
    arrays and their points on the map's grid: the same for every offer, so made once."""

    places: tuple[Place, ...]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    grid: dict[int, tuple[float, float]]
    """Each place's point on the British National Grid, by id."""


@functools.lru_cache(maxsize=2)
def _counted(known: Gazetteer) -> _Counted:
    places = tuple(p for p in known.places.values() if p.kind != SettlementKind.DUPLICATE)
    lat = np.array([p.latitude for p in places], dtype=np.float64)
    lon = np.array([p.longitude for p in places], dtype=np.float64)
    points = to_grid(lat.tolist(), lon.tolist())
    return _Counted(
        places=places,
        lat=lat,
        lon=lon,
        grid={p.id: point for p, point in zip(places, points, strict=True)},
    )


@dataclass(frozen=True)
class AreaMap:
    svg: Markup
    description: str


PLACES_DRAWN = 400
"""At most this many covered places are drawn as dots, the largest first: an offer across
several council areas covers hundreds."""


@functools.lru_cache(maxsize=1)
def _scotland() -> str:
    """Scotland's land and council boundaries from the shipped outlines, simplified for the
    map's scale: the same on every offer's map, so drawn once."""
    base = base_of(scotland_view())
    land = "".join(f'<path class="app-map__land" d="{d}"/>' for d in base.councils.values())
    return land + f'<path class="app-map__boundary" d="{base.boundaries}"/>'


def area_map(session: Session, offer: Offer, places: list[Place]) -> AreaMap:
    """Scotland with its council areas, the covered places as dots, a radius as its circle
    (on the British National Grid, whose metres are true to 0.2% across Scotland)."""
    view = scotland_view()
    parts = [_scotland()]
    if (
        offer.area_type == AreaType.RADIUS
        and offer.centre_latitude is not None
        and offer.centre_longitude is not None
    ):
        cx, cy = view.xy(to_grid([offer.centre_latitude], [offer.centre_longitude])[0])
        r = (offer.radius_km or 0) * 1000 * view.units_per_metre
        parts.append(
            f'<circle class="app-map__area" cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}"/>'
            f'<circle class="app-map__centre" cx="{cx:.1f}" cy="{cy:.1f}" r="3"/>'
        )
    grid = _counted(gazetteer(session)).grid
    for place in places[:PLACES_DRAWN]:
        point = grid.get(place.id)
        if point is None:
            point = to_grid([place.latitude], [place.longitude])[0]
        x, y = view.xy(point)
        parts.append(
            f'<circle class="app-map__place" cx="{x:.1f}" cy="{y:.1f}" r="2">'
            f"<title>{escape(place.label)}</title></circle>"
        )
    description = _describe(offer, places)
    svg = Markup(
        f'<svg class="app-map" viewBox="0 0 {WIDTH} {view.height}" role="img" '
        'aria-labelledby="area-map-title area-map-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="area-map-title">Map of the area covered</title><desc '
        f'id="area-map-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
    return AreaMap(svg=svg, description=description)


def _describe(offer: Offer, places: list[Place]) -> str:
    if offer.area_type == AreaType.RADIUS:
        where = f"Up to {offer.radius_km:g} km from {offer.centre_label}"
    elif offer.area_type == AreaType.COUNCILS:
        where = "All of " + ", ".join(c.name for c in offer.area_councils)
    else:
        where = "The towns and villages listed"
    count = len(places)
    noun = "place" if count == 1 else "towns and villages"
    return f"{where}: {count} {noun} of 500 people or more."


# Reaching a person ----------------------------------------------------------------------


class Based(Protocol):
    @property
    def base_latitude(self) -> float | None: ...
    @property
    def base_longitude(self) -> float | None: ...


class Placed(Protocol):
    """What distance is measured from: an Offer, or a listed one (matching.listed)."""

    @property
    def area_type(self) -> AreaType: ...
    @property
    def centre_latitude(self) -> float | None: ...
    @property
    def centre_longitude(self) -> float | None: ...
    @property
    def provider(self) -> Based: ...


def measured_from(offer: Placed) -> tuple[float, float] | None:
    """Where an offer's distance (and travel by the mile) is measured from: the centre of its
    radius, or else its provider's base; None when neither is known."""
    if (
        offer.area_type == AreaType.RADIUS
        and offer.centre_latitude is not None
        and offer.centre_longitude is not None
    ):
        return offer.centre_latitude, offer.centre_longitude
    provider = offer.provider
    if provider.base_latitude is not None and provider.base_longitude is not None:
        return provider.base_latitude, provider.base_longitude
    return None


def distance_to_km(offer: Placed, location: Location | None) -> float | None:
    """The geodesic from where the offer is measured from to the person, when both are known."""
    point = measured_from(offer)
    if location is None or point is None:
        return None
    return geodesic_km(location.latitude, location.longitude, *point)


@dataclass(frozen=True)
class Reach:
    reaches: bool
    text: str
    """'Reaches Lochinver' or 'Stops 12 km short of Lochinver', for compare and offer pages."""
    short_km: float | None = None
    """How far beyond the offer's area the person is, when that can be measured."""


def _km(value: float) -> str:
    return "less than 1 km" if value < 1 else f"{round(value)} km"


def reach(offer: Offer, location: Location) -> Reach:
    """Whether the offer's area takes in the person's place, by the rules the matcher uses
    (the geodesic for a radius, the council or the named place otherwise), and by how much
    it falls short when it does not. The one reach line compare and offer pages show."""
    place = location.label
    if offer.area_type == AreaType.RADIUS:
        assert offer.centre_latitude is not None and offer.centre_longitude is not None
        radius = offer.radius_km or 0.0
        inside, _ = within_km(
            location.latitude,
            location.longitude,
            np.array([offer.centre_latitude]),
            np.array([offer.centre_longitude]),
            np.array([radius]),
        )
        if inside[0]:
            return Reach(True, f"Reaches {place}")
        short = (
            geodesic_km(
                location.latitude, location.longitude, offer.centre_latitude, offer.centre_longitude
            )
            - radius
        )
        return Reach(False, f"Stops {_km(short)} short of {place}", short_km=short)
    if offer.area_type == AreaType.COUNCILS:
        councils = list(offer.area_councils)
        if any(council.id == location.council.id for council in councils):
            return Reach(True, f"Reaches {place}: it covers all of {location.council.name}")
        names = ", ".join(sorted(council.name for council in councils)) or "no council areas"
        return Reach(
            False, f"Does not reach {place}, in {location.council.name}: it covers {names}"
        )
    places = list(offer.area_settlements)
    if any(settlement.id == location.settlement.id for settlement in places):
        return Reach(True, f"Reaches {place}: it covers {location.settlement.name} by name")
    if not places:
        return Reach(False, f"Does not reach {place}: it names no places")
    distances = geodesic_km_many(
        location.latitude,
        location.longitude,
        [s.latitude for s in places],
        [s.longitude for s in places],
    )
    nearest = int(np.argmin(distances))
    short = float(distances[nearest])
    return Reach(
        False,
        f"Does not reach {place}: the nearest place it covers, "
        f"{places[nearest].name}, is {_km(short)} away",
        short_km=short,
    )
