"""Places both ways: where an offer reaches people and where its support starts from.

Out: an offer's area as HSDS `service_area`s (a radius as a GeoJSON circle, or council
areas and towns by their URIs); the place support starts from (a radius's centre, or the
provider's base) as a `location`, joined to the service by a `service_at_location`. A
location is the place a provider gave (a town or postcode district), never more.

In: a service area whose name (or URI) is a council area or a town here becomes a council
or settlement area; one written as this feed writes a radius (a GeoJSON extent with a
centre and radius) becomes that radius. Otherwise the service's first location in
Scotland, or else the organization's, is the centre of a DEFAULT_RADIUS_KM radius.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import DomainError
from marketplace.geography import service as geography_service
from marketplace.geography.models import NAMED, CouncilArea, Settlement, SettlementKind
from marketplace.geography.reference import search_key
from marketplace.geography.service import Location
from providers.hsds.fields import JsonObject, Problem, clean, compact, normalise
from providers.hsds.ids import HsdsIds, RecordKind
from providers.models import AreaType, Offer, Provider
from providers.offers import MAX_RADIUS_KM, Centre

# Out ---------------------------------------------------------------------------------------------

COUNCIL_URI = "http://statistics.gov.scot/id/statistical-geography/{code}"
SETTLEMENT_URI = "https://sws.geonames.org/{id}/"


def _km(value: float) -> str:
    return f"{value:g}"


def circle_geojson(latitude: float, longitude: float, radius_km: float, *, points: int = 32) -> str:
    """A GeoJSON Feature: the radius as a polygon of `points` corners that maps can draw and
    point-in-polygon tests can use, with the centre and radius kept as properties so a
    reader can work with the exact circle."""
    angular = radius_km / 6371.0088
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    ring = []
    for step in range(points):
        bearing = 2 * math.pi * step / points
        lat2 = math.asin(
            math.sin(lat1) * math.cos(angular)
            + math.cos(lat1) * math.sin(angular) * math.cos(bearing)
        )
        lon2 = lon1 + math.atan2(
            math.sin(bearing) * math.sin(angular) * math.cos(lat1),
            math.cos(angular) - math.sin(lat1) * math.sin(lat2),
        )
        ring.append([round(math.degrees(lon2), 5), round(math.degrees(lat2), 5)])
    ring.append(ring[0])
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"centre": [longitude, latitude], "radius_km": radius_km},
    }
    return json.dumps(feature, separators=(",", ":"))


def service_area_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    service_id = ids.of(RecordKind.SERVICE, offer.id)
    if offer.area_type == AreaType.RADIUS and offer.radius_km and offer.centre_latitude is not None:
        assert offer.centre_longitude is not None
        label = offer.centre_label or f"{offer.centre_latitude:.2f}, {offer.centre_longitude:.2f}"
        return [
            {
                "id": ids.child("service_area", offer.id, "radius"),
                "service_id": service_id,
                "name": f"Within {_km(offer.radius_km)} km of {label}",
                "description": (
                    f"Anywhere within {_km(offer.radius_km)} km in a straight line of {label} "
                    f"(latitude {offer.centre_latitude:.4f}, "
                    f"longitude {offer.centre_longitude:.4f})."
                ),
                "extent": circle_geojson(
                    offer.centre_latitude, offer.centre_longitude, offer.radius_km
                ),
                "extent_type": "geojson",
            }
        ]
    if offer.area_type == AreaType.COUNCILS:
        named = [
            (
                "council",
                c.id,
                c.name,
                f"Anywhere in the {c.name} council area.",
                COUNCIL_URI.format(code=c.gss_code),
            )
            for c in offer.area_councils
        ]
    else:
        named = [
            (
                "settlement",
                s.id,
                s.label,
                f"{s.name}, in the {s.council.name} council area.",
                SETTLEMENT_URI.format(id=s.id),
            )
            for s in offer.area_settlements
        ]
    return [
        {
            "id": ids.child("service_area", offer.id, kind, number),
            "service_id": service_id,
            "name": name,
            "description": description,
            "uri": uri,
        }
        for kind, number, name, description, uri in named
    ]


def base_location_record(provider: Provider, *, ids: HsdsIds) -> JsonObject | None:
    if provider.base_latitude is None or provider.base_longitude is None:
        return None
    return _physical_location(
        id=ids.child("base", provider.id),
        organization_id=ids.of(RecordKind.ORGANIZATION, provider.id),
        name=provider.base_label,
        description="Where the provider is based, to the nearest town or postcode district.",
        latitude=provider.base_latitude,
        longitude=provider.base_longitude,
    )


def offer_location(offer: Offer) -> tuple[str, float, float, str] | None:
    """Where the support starts from: a radius offer's centre, otherwise the provider's
    base; with a sentence saying which."""
    if (
        offer.area_type == AreaType.RADIUS
        and offer.centre_latitude is not None
        and offer.centre_longitude is not None
    ):
        return (
            offer.centre_label or "",
            offer.centre_latitude,
            offer.centre_longitude,
            "Where the support starts from: it comes to people within the service area.",
        )
    provider = offer.provider
    if provider.base_latitude is not None and provider.base_longitude is not None:
        return (
            provider.base_label or "",
            provider.base_latitude,
            provider.base_longitude,
            "Where the provider is based: it comes to people within the service area.",
        )
    return None


def location_record(offer: Offer, *, ids: HsdsIds) -> JsonObject | None:
    found = offer_location(offer)
    if found is None:
        return None
    label, latitude, longitude, description = found
    return _physical_location(
        id=ids.of(RecordKind.LOCATION, offer.id),
        organization_id=ids.of(RecordKind.ORGANIZATION, offer.provider_id),
        name=label,
        description=description,
        latitude=latitude,
        longitude=longitude,
    )


def _physical_location(
    *,
    id: str,
    organization_id: str,
    name: str | None,
    description: str,
    latitude: float,
    longitude: float,
) -> JsonObject:
    """A physical location, its coordinates to four decimal places (about 10 m)."""
    return compact(
        {
            "id": id,
            "location_type": "physical",
            "organization_id": organization_id,
            "name": name,
            "description": description,
            "latitude": round(latitude, 4),
            "longitude": round(longitude, 4),
        }
    )


def service_at_location_record(
    offer: Offer,
    *,
    ids: HsdsIds,
    location: JsonObject | None = None,
    service: JsonObject | None = None,
) -> JsonObject:
    location = location or location_record(offer, ids=ids)
    assert location is not None, "only offers with a location have a service at location"
    record: JsonObject = {
        "id": ids.of(RecordKind.SERVICE_AT_LOCATION, offer.id),
        "service_id": ids.of(RecordKind.SERVICE, offer.id),
        "location_id": location["id"],
        "description": f"{offer.title}, from {location.get('name') or 'the provider’s base'}.",
        "location": location,
    }
    if service is not None:
        record["service"] = service
    return record


# In ----------------------------------------------------------------------------------------------


def radius_from_extent(area: JsonObject) -> tuple[float, float, float] | None:
    """(latitude, longitude, radius_km) from a GeoJSON extent carrying a centre and radius,
    as this feed writes them."""
    if normalise(area.get("extent_type")) != "geojson" or not area.get("extent"):
        return None
    try:
        feature = json.loads(str(area["extent"]))
        properties = feature.get("properties") or {}
        longitude, latitude = (float(v) for v in properties["centre"])
        return latitude, longitude, float(properties["radius_km"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


DEFAULT_RADIUS_KM = 10.0
"""A service given only as a place (no area) is taken to reach people within 10 km of it:
roughly a quarter of an hour's drive in rural Scotland. The listing's provider can widen
it once they claim it."""


def council_names(session: Session) -> dict[str, CouncilArea]:
    """Council areas by the names people write them in: 'Highland', 'The Highland
    Council', 'Edinburgh', 'Western Isles', 'Perth & Kinross'."""
    names = {}
    for council in session.scalars(select(CouncilArea)):
        key = _council_key(council.name)
        names[key] = council
        names[key.removeprefix("city of ")] = council
        names[key.removesuffix(" city")] = council
        names[council.gss_code.casefold()] = council
    for alias, official in (
        ("western isles", "na h-eileanan siar"),
        ("eilean siar", "na h-eileanan siar"),
        ("orkney", "orkney islands"),
        ("shetland", "shetland islands"),
        ("borders", "scottish borders"),
    ):
        if official in names:
            names[alias] = names[official]
    return names


def _council_key(text: str) -> str:
    key = normalise(text).replace("&", "and")
    key = re.sub(r"^(the|comhairle nan)\s+", "", key)
    return re.sub(r"\s+(council area|council|area)$", "", key)


_RADIUS_NAME = re.compile(r"^within [\d.]+ km of (?P<label>.+)$", re.IGNORECASE)


def area_fields(
    session: Session, service: JsonObject, *, provider: Provider, councils: dict[str, CouncilArea]
) -> tuple[dict[str, Any], list[str]]:
    """The offer's area fields, and notes on what was assumed or left out; `councils` is
    council_names(), worked out once for a whole import."""
    council_ids: list[int] = []
    settlements: list[int] = []
    radius: tuple[Centre, float] | None = None
    unmatched = []
    for area in service.get("service_areas") or []:
        name = clean(area.get("name"))
        circle = radius_from_extent(area)
        if circle is not None:
            place = _place(session, f"{circle[0]}, {circle[1]}")
            if place is not None:
                named = _RADIUS_NAME.match(name)
                label = named.group("label") if named else place.label
                radius = (Centre(label, place.latitude, place.longitude), circle[2])
                continue
        gss = re.search(r"S12\d{6}", str(area.get("uri") or ""))
        council = councils.get(gss.group(0).casefold()) if gss else councils.get(_council_key(name))
        if council is not None:
            council_ids.append(council.id)
            continue
        found = _settlements(session, area, name)
        if found:
            settlements += [s.id for s in found]
            continue
        unmatched.append(name or str(area.get("id")))
    notes = [
        f"service area {name!r} matches no council area or town here; left out"
        for name in unmatched
    ]
    if council_ids:
        return {
            "area_type": AreaType.COUNCILS,
            "council_ids": list(dict.fromkeys(council_ids)),
        }, notes
    if settlements:
        return {
            "area_type": AreaType.SETTLEMENTS,
            "settlement_ids": list(dict.fromkeys(settlements)),
        }, notes
    if radius is not None:
        centre, km = radius
        if km > MAX_RADIUS_KM:
            notes.append(
                f"a radius of {km:g} km is more than the {MAX_RADIUS_KM} "
                f"km allowed here; cut to {MAX_RADIUS_KM} km"
            )
            km = MAX_RADIUS_KM
        return {"area_type": AreaType.RADIUS, "centre": centre, "radius_km": km}, notes
    locations = [s.get("location") or {} for s in service.get("service_at_locations") or []]
    place = first_place(session, locations)
    if place is not None:
        notes.append(
            f"no service area here: taken as within {DEFAULT_RADIUS_KM:g} km of {place.label}"
        )
        return {
            "area_type": AreaType.RADIUS,
            "centre": Centre.of(place),
            "radius_km": DEFAULT_RADIUS_KM,
        }, notes
    if provider.base_latitude is not None:
        notes.append(
            f"no service area or location here: taken as within {DEFAULT_RADIUS_KM:g} km of the "
            f"organization's base, {provider.base_label}"
        )
        return {"area_type": AreaType.RADIUS, "centre": None, "radius_km": DEFAULT_RADIUS_KM}, notes
    unplaced = (
        "; its service areas name no council area or town here: "
        + ", ".join(repr(name if len(name) <= 60 else name[:57] + "...") for name in unmatched)
        if unmatched
        else ""
    )
    raise Problem(
        "has no service area, location or organization "
        f"address that we can place in Scotland{unplaced}"
    )


def _settlements(session: Session, area: JsonObject, name: str) -> list[Settlement]:
    """The towns a service area names: by its GeoNames URI, its whole name, or each of a
    list ('Portree, Broadford and Kyle of Lochalsh'); all of a list must be found."""
    geonames = re.search(r"geonames\.org/(\d+)", str(area.get("uri") or ""))
    if geonames:
        found = session.get(Settlement, int(geonames.group(1)))
        if found is not None:
            return [found]
    parts = [name] + (
        [p for p in re.split(r"\s*,\s*|\s+and\s+", name) if p]
        if re.search(r",| and ", name)
        else []
    )
    whole = _settlement(session, parts[0])
    if whole is not None:
        return [whole]
    found_all = [_settlement(session, part) for part in parts[1:]]
    return [s for s in found_all if s is not None] if found_all and all(found_all) else []


def _settlement(session: Session, name: str) -> Settlement | None:
    if not name or len(name) > 100:
        return None
    matches = list(
        session.scalars(
            select(Settlement).where(
                (func.lower(Settlement.label) == name.lower())
                | (Settlement.search_key == search_key(name)),
                Settlement.kind.in_(NAMED - {SettlementKind.DUPLICATE}),
            )
        )
    )
    return matches[0] if len(matches) == 1 else None


def _place(session: Session, text: str) -> Location | None:
    try:
        return geography_service.resolve_location(session, text=text)
    except DomainError:
        return None


def first_place(session: Session, locations: Iterable[JsonObject]) -> Location | None:
    """The first location that is a place in Scotland: by its coordinates, else its
    postcode, else its town."""
    for location in locations:
        if not location:
            continue
        latitude, longitude = location.get("latitude"), location.get("longitude")
        if latitude not in (None, "") and longitude not in (None, ""):
            found = _place(session, f"{latitude}, {longitude}")
            if found is not None:
                return found
        for address in location.get("addresses") or []:
            for text in (address.get("postal_code"), address.get("city")):
                found = _place(session, clean(text)) if clean(text) else None
                if found is not None:
                    return found
    return None
