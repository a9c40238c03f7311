"""Look-ups over the reference geography: council areas, places by name, postcode
districts and coordinates, each understood or refused with a plain message."""

from __future__ import annotations

import difflib
import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import FieldError, NotFound, RuleBroken
from marketplace.geography.build import cell_of
from marketplace.geography.distance import haversine_km
from marketplace.geography.models import (
    CouncilArea,
    LandCell,
    PostcodeDistrict,
    Settlement,
    SettlementKind,
)
from marketplace.geography.reference import search_key
from marketplace.parsing import CONTROL_CHARACTERS, MAX_ONE_LINE


def list_council_areas(session: Session) -> list[CouncilArea]:
    """All council areas in alphabetical order, for pickers and filters."""
    return list(session.scalars(select(CouncilArea).order_by(CouncilArea.name)))


def find_council_area(session: Session, *, name_or_code: str) -> CouncilArea:
    """A council area by its official name (any case) or its GSS code."""
    wanted = name_or_code.strip()
    council = session.scalar(
        select(CouncilArea).where(
            (CouncilArea.gss_code == wanted.upper())
            | (func.lower(CouncilArea.name) == wanted.lower())
        )
    )
    if council is None:
        raise NotFound(f"There is no council area called {wanted!r}", field="council")
    return council


POSTCODE_DISTRICT = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)$")
FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
LOOKS_LIKE_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9]")
COORDINATES = re.compile(r"^(-?\d{1,2}(?:\.\d+)?)\s*[, ]\s*(-?\d{1,3}(?:\.\d+)?)$")
NEARBY_CELLS = 2
"""How far (in grid cells, about 20 km) coordinates may fall from the nearest postcode
and still count as land: remote glens have few postcodes."""


class LocationKind(enum.StrEnum):
    PLACE = "place"
    POSTCODE_DISTRICT = "postcode_district"
    COORDINATES = "coordinates"


@dataclass(frozen=True)
class Location:
    """Where a person is, to no more precision than matching needs."""

    kind: LocationKind
    label: str
    latitude: float
    longitude: float
    council: CouncilArea
    settlement: Settlement
    """The place itself, or the nearest settlement: its urban-rural class describes the area."""


def suggest_places(session: Session, *, text: str, limit: int = 8) -> list[Settlement]:
    """Places whose name starts with what was typed (then contains it), biggest first."""
    key = search_key(text)
    if len(key) < 2:
        return []
    starts = list(
        session.scalars(
            select(Settlement)
            .where(Settlement.search_key.startswith(key, autoescape=True))
            .order_by(Settlement.population.desc(), Settlement.name)
            .limit(limit)
        )
    )
    if len(starts) < limit:
        seen = {s.id for s in starts}
        more = session.scalars(
            select(Settlement)
            .where(Settlement.search_key.contains(key, autoescape=True))
            .order_by(Settlement.population.desc(), Settlement.name)
            .limit(limit * 2)
        )
        starts += [s for s in more if s.id not in seen][: limit - len(starts)]
    return starts


def similar_places(session: Session, *, text: str, limit: int = 3) -> list[Settlement]:
    """Places whose names are spelt nearly like `text`, for "did you mean"."""
    settlements = {
        s.search_key: s for s in session.scalars(select(Settlement).order_by(Settlement.population))
    }
    close = difflib.get_close_matches(search_key(text), list(settlements), n=limit, cutoff=0.75)
    return [settlements[key] for key in close]


TOWN_REACH_KM_PER_ROOT_PERSON = 0.01
"""A town's built-up area reaches out roughly with the square root of its people: about
8 km for Glasgow, 0.3 km for a village of 1,000."""


def settlement_around(session: Session, *, latitude: float, longitude: float) -> Settlement:
    """The settlement a point is in or nearest to, counting a town's size: a postcode
    district on the edge of Glasgow belongs to Glasgow, not to the village nearest its
    centre. (674 rows: scanning them is quicker than indexing.)"""
    settlements = session.scalars(
        select(Settlement).where(Settlement.kind != SettlementKind.DUPLICATE)
    )
    return min(
        settlements,
        key=lambda s: (
            haversine_km(latitude, longitude, s.latitude, s.longitude)
            - TOWN_REACH_KM_PER_ROOT_PERSON * math.sqrt(s.population)
        ),
    )


def resolve_location(session: Session, *, text: str, field: str = "location") -> Location:
    """A place name, a postcode district (or full postcode) or coordinates, understood;
    anything else is refused with a message saying what to enter."""
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_ONE_LINE or CONTROL_CHARACTERS.search(cleaned):
        # Also what no place is called: 10,000 characters, or a NUL PostgreSQL cannot hold.
        raise RuleBroken(
            "Enter a town or village, a postcode district like IV51, or coordinates", field=field
        )
    upper = cleaned.upper()
    coordinates = COORDINATES.match(cleaned)
    if coordinates:
        return _from_coordinates(
            session, float(coordinates.group(1)), float(coordinates.group(2)), field
        )
    postcode = FULL_POSTCODE.match(upper) or POSTCODE_DISTRICT.match(upper)
    if postcode:
        return _from_district(session, postcode.group(1), field)
    if LOOKS_LIKE_POSTCODE.match(upper) and " " not in cleaned.strip():
        raise RuleBroken(
            f"{cleaned} is not a postcode district. Enter "
            "the first part of a postcode, like EH1 or IV51",
            field=field,
        )
    return _from_place_name(session, cleaned, field)


def _from_place_name(session: Session, text: str, field: str) -> Location:
    # "Bridgend (Perth and Kinross)" is how a shared name is shown and may be typed back.
    wanted = text.strip()
    by_label = session.scalar(
        select(Settlement).where(func.lower(Settlement.label) == wanted.lower())
    )
    if by_label is not None:
        return _at_settlement(by_label)
    matches = list(
        session.scalars(
            select(Settlement)
            .where(Settlement.search_key == search_key(wanted))
            .order_by(Settlement.population.desc())
        )
    )
    if len(matches) == 1:
        return _at_settlement(matches[0])
    if len(matches) > 1:
        choices = " or ".join(m.label for m in matches)
        raise RuleBroken(f"There is more than one {matches[0].name}. Enter {choices}", field=field)
    suggestions = suggest_places(session, text=wanted, limit=3) or similar_places(
        session, text=wanted
    )
    hint = f" Did you mean {' or '.join(s.label for s in suggestions)}?" if suggestions else ""
    raise RuleBroken(
        f"We cannot find a place called {wanted} in Scotland.{hint} You can also enter a "
        "postcode district, like IV51",
        field=field,
    )


def _at_settlement(settlement: Settlement) -> Location:
    return Location(
        kind=LocationKind.PLACE,
        label=settlement.label,
        latitude=settlement.latitude,
        longitude=settlement.longitude,
        council=settlement.council,
        settlement=settlement,
    )


def _from_district(session: Session, code: str, field: str) -> Location:
    district = session.get(PostcodeDistrict, code)
    if district is None:
        raise RuleBroken(
            f"We do not know the postcode district {code} in Scotland. Check it, or enter "
            "the name of your town or village",
            field=field,
        )
    if district.scottish_share < 0.5:
        raise RuleBroken(
            f"Most of {code} is in England. This service covers Scotland: enter a Scottish "
            "town, village or postcode district",
            field=field,
        )
    return Location(
        kind=LocationKind.POSTCODE_DISTRICT,
        label=code,
        latitude=district.latitude,
        longitude=district.longitude,
        council=district.council,
        settlement=settlement_around(
            session, latitude=district.latitude, longitude=district.longitude
        ),
    )


def _from_coordinates(session: Session, latitude: float, longitude: float, field: str) -> Location:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise RuleBroken("Enter coordinates as latitude, longitude, like 57.41, -6.19", field=field)
    if not in_scotland(session, latitude=latitude, longitude=longitude):
        raise RuleBroken(
            f"{latitude:.4f}, {longitude:.4f} is not on land in Scotland. This service covers "
            "Scotland: check the coordinates are latitude first, then longitude",
            field=field,
        )
    settlement = settlement_around(session, latitude=latitude, longitude=longitude)
    # Two decimal places (about 1 km) is all matching needs; keep no more than that.
    latitude, longitude = round(latitude, 2), round(longitude, 2)
    return Location(
        kind=LocationKind.COORDINATES,
        label=f"{latitude:.2f}, {longitude:.2f} (near {settlement.label})",
        latitude=latitude,
        longitude=longitude,
        council=settlement.council,
        settlement=settlement,
    )


def in_scotland(session: Session, *, latitude: float, longitude: float) -> bool:
    """Whether a point is on land in Scotland: its grid cell (or, where postcodes are
    sparse, the nearest cells around it) holds mostly Scottish postcodes."""
    row, col = cell_of(latitude, longitude)
    cells = session.scalars(
        select(LandCell).where(
            LandCell.row.between(row - NEARBY_CELLS, row + NEARBY_CELLS),
            LandCell.col.between(col - NEARBY_CELLS, col + NEARBY_CELLS),
        )
    ).all()
    if not cells:
        return False
    nearest_ring = min(max(abs(c.row - row), abs(c.col - col)) for c in cells)
    ring = [c for c in cells if max(abs(c.row - row), abs(c.col - col)) == nearest_ring]
    return sum(c.scottish_postcodes for c in ring) > sum(c.other_postcodes for c in ring)


def check_places(session: Session, *fields: str) -> Callable[[dict[str, object]], list[FieldError]]:
    """For FormPage.read(also=...): each named field, if filled in, must be a place we know."""

    def check(values: dict[str, object]) -> list[FieldError]:
        errors = []
        for field in fields:
            text = str(values.get(field) or "").strip()
            if text:
                try:
                    resolve_location(session, text=text, field=field)
                except RuleBroken as error:
                    errors.append(FieldError(field, error.message))
        return errors

    return check
