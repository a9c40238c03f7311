"""Look-ups over the reference geography: council areas, places by name, postcode
districts and coordinates, each understood or refused with a plain message."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import FieldError, NotFound, RuleBroken
from marketplace.geography import build
from marketplace.geography.gazetteer import Council, Gazetteer, Place, gazetteer
from marketplace.geography.models import (
    CouncilArea,
)
from marketplace.geography.postcodes import postcode_book
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
POSTCODE_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])$")
FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])([A-Z]{2})$")
LOOKS_LIKE_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9]")
COORDINATES = re.compile(
    # A note in brackets after them is how kept coordinates are labelled ("(near Lairg)").
    r"^(-?\d{1,2}(?:\.\d+)?)\s*[, ]\s*(-?\d{1,3}(?:\.\d+)?)(?:\s*\([^()]{0,160}\))?$"
)
ASK_FOR_A_PLACE = "Enter a town or village, or a postcode like IV27 4JB"


class LocationKind(enum.StrEnum):
    PLACE = "place"
    POSTCODE_DISTRICT = "postcode_district"
    POSTCODE_SECTOR = "postcode_sector"
    POSTCODE = "postcode"
    COORDINATES = "coordinates"


@dataclass(frozen=True)
class Location:
    """Where a person is, to no more precision than matching needs."""

    kind: LocationKind
    label: str
    latitude: float
    longitude: float
    council: Council
    settlement: Place
    """The place itself, or the nearest settlement: its urban-rural class describes the area."""

    @property
    def kept_label(self) -> str:
        """The label to store and show to others: a full postcode says where someone lives
        to a few doors, so what is kept is its point to 0.01 degree (which reads back as
        the same point) and its sector."""
        if self.kind == LocationKind.POSTCODE:
            sector = build.postcode_sector(self.label)
            return f"{self.latitude:.2f}, {self.longitude:.2f} (in {sector})"
        return self.label


def suggest_places(session: Session, *, text: str, limit: int = 8) -> list[Place]:
    """Places whose name starts with what was typed (then contains it), biggest first."""
    return gazetteer(session).suggest(text, limit)


def similar_places(session: Session, *, text: str, limit: int = 3) -> list[Place]:
    """Places whose names are spelt nearly like `text`, for "did you mean"."""
    return gazetteer(session).similar(text, limit)


def settlement_around(session: Session, *, latitude: float, longitude: float) -> Place:
    """The settlement a point is in or nearest to, counting a town's size."""
    return gazetteer(session).around(latitude, longitude)


def resolve_location(session: Session, *, text: str, field: str = "location") -> Location:
    """A place name, a postcode (full, its sector or its district) or coordinates, understood;
    anything else is refused with a message saying what to enter. Asks nothing of the
    database once this process has read the reference geography."""
    places = gazetteer(session)
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_ONE_LINE or CONTROL_CHARACTERS.search(cleaned):
        # Also what no place is called: 10,000 characters, or a NUL PostgreSQL cannot hold.
        raise RuleBroken(ASK_FOR_A_PLACE, field=field)
    upper = cleaned.upper()
    coordinates = COORDINATES.match(cleaned)
    if coordinates:
        return _from_coordinates(
            places, float(coordinates.group(1)), float(coordinates.group(2)), field
        )
    full = FULL_POSTCODE.match(upper)
    if full:
        return _from_postcode(places, *full.groups(), field=field)
    sector = POSTCODE_SECTOR.match(upper)
    if sector:
        return _from_sector(places, sector.group(1), sector.group(2), field)
    district = POSTCODE_DISTRICT.match(upper)
    if district:
        return _from_district(places, district.group(1), field)
    if LOOKS_LIKE_POSTCODE.match(upper) and " " not in cleaned.strip():
        raise RuleBroken(
            f"{cleaned} is not a postcode we know the form of. Enter a postcode like "
            "IV27 4JB, or its first part, like IV27",
            field=field,
        )
    return _from_place_name(places, cleaned, field)


def _from_place_name(places: Gazetteer, text: str, field: str) -> Location:
    # "Bridgend (Perth and Kinross)" is how a shared name is shown and may be typed back.
    wanted = text.strip()
    by_label = places.by_label.get(wanted.lower())
    if by_label is not None:
        return _at_settlement(by_label)
    matches = places.by_key.get(search_key(wanted), [])
    if len(matches) == 1:
        return _at_settlement(matches[0])
    if len(matches) > 1:
        choices = " or ".join(m.label for m in matches)
        raise RuleBroken(f"There is more than one {matches[0].name}. Enter {choices}", field=field)
    suggestions = places.suggest(wanted, limit=3) or places.similar(wanted)
    hint = f" Did you mean {' or '.join(s.label for s in suggestions)}?" if suggestions else ""
    raise RuleBroken(
        f"We cannot find a place called {wanted} in Scotland.{hint} Enter your postcode "
        "instead, like IV27 4JB: we know every postcode in Scotland",
        field=field,
    )


def _at_settlement(settlement: Place) -> Location:
    return Location(
        kind=LocationKind.PLACE,
        label=settlement.label,
        latitude=settlement.latitude,
        longitude=settlement.longitude,
        council=settlement.council,
        settlement=settlement,
    )


def _from_postcode(
    places: Gazetteer, outward: str, digit: str, unit: str, *, field: str
) -> Location:
    """A full postcode, at its own point (to 0.01 degree); one we do not know (new, or
    mistyped in its last letters) is taken at the centre of its sector."""
    point = postcode_book().point(f"{outward} {digit}{unit}")
    if point is None:
        return _from_sector(places, outward, digit, field)
    return Location(
        kind=LocationKind.POSTCODE,
        label=point.code,
        latitude=point.latitude,
        longitude=point.longitude,
        council=places.councils_by_gss[point.council_gss],
        settlement=places.around(point.latitude, point.longitude),
    )


def _from_sector(places: Gazetteer, outward: str, digit: str, field: str) -> Location:
    code = f"{outward} {digit}"
    sector = postcode_book().sector(code)
    if sector is None:
        if outward not in places.districts:
            return _from_district(places, outward, field)  # which says what is wrong
        raise RuleBroken(
            f"We do not know the postcode sector {code} in Scotland. Check it, or enter "
            f"the first part of your postcode, {outward}",
            field=field,
        )
    return _postcode_area(
        places,
        LocationKind.POSTCODE_SECTOR,
        code,
        sector.latitude,
        sector.longitude,
        places.councils_by_gss[sector.council_gss],
        scottish_share=sector.scottish_share,
        field=field,
    )


def _from_district(places: Gazetteer, code: str, field: str) -> Location:
    district = places.districts.get(code)
    if district is None:
        raise RuleBroken(
            f"We do not know the postcode district {code} in Scotland. Check it, or enter "
            "the name of your town or village",
            field=field,
        )
    return _postcode_area(
        places,
        LocationKind.POSTCODE_DISTRICT,
        code,
        district.latitude,
        district.longitude,
        district.council,
        scottish_share=district.scottish_share,
        field=field,
    )


def _postcode_area(
    places: Gazetteer,
    kind: LocationKind,
    code: str,
    latitude: float,
    longitude: float,
    council: Council,
    *,
    scottish_share: float,
    field: str,
) -> Location:
    """A sector or district at the centre of its postcodes, unless most are in England."""
    if scottish_share < 0.5:
        raise RuleBroken(
            f"Most of {code} is in England. This service covers Scotland: enter a Scottish "
            "town, village or postcode",
            field=field,
        )
    return Location(
        kind=kind,
        label=code,
        latitude=latitude,
        longitude=longitude,
        council=council,
        settlement=places.around(latitude, longitude),
    )


def _from_coordinates(places: Gazetteer, latitude: float, longitude: float, field: str) -> Location:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise RuleBroken("Enter coordinates as latitude, longitude, like 57.41, -6.19", field=field)
    if not places.on_land_in_scotland(latitude, longitude):
        raise RuleBroken(
            f"{latitude:.4f}, {longitude:.4f} is not on land in Scotland. This service covers "
            "Scotland: check the coordinates are latitude first, then longitude",
            field=field,
        )
    settlement = places.around(latitude, longitude)
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
    """Whether a point is on land in Scotland (see Gazetteer.on_land_in_scotland)."""
    return gazetteer(session).on_land_in_scotland(latitude, longitude)


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
