"""What a person asked in a search (their place, hours a week and days and times), carried
from page to page as query parameters or hidden fields so nobody types them twice: read
back here, bounded, for the offer page, compare, the enquiry and a posted need."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from marketplace.errors import FieldError, RuleBroken
from marketplace.forms import parse_hours
from marketplace.geography import service as geography_service
from marketplace.geography.service import Location
from providers.schemas import availability_mask, availability_values

CARRIED = ("location", "hours", "when")
"""The answers carried, as the search names them."""
MAX_LOCATION_CHARACTERS = 120
MAX_TIMES = 28
"""There are 28 days and times in a week; more values than that are not a real form's."""


@dataclass(frozen=True)
class Asked:
    location: Location | None = None
    minutes_per_week: int | None = None
    when: int = 0
    problems: list[FieldError] = field(default_factory=list)
    """What was carried but could not be read, each by its field."""
    location_text: str = ""
    hours_text: str = ""
    """The place and hours as the person typed them, to show and carry on unchanged."""

    def query(self) -> str:
        """The answers as an address's query, to carry them on."""
        return carried_query_of(self)

    @property
    def form_values(self) -> dict[str, object]:
        """As a form shows them: the place, the hours typed, the ticked times."""
        values: dict[str, object] = {}
        if self.location is not None:
            values["location"] = self.location_text
        if self.minutes_per_week is not None:
            values["hours"] = self.hours_text
        if self.when:
            values["when"] = availability_values(self.when)
        return values


def read_asked(session: Session, pairs: Iterable[tuple[str, str]]) -> Asked:
    """The carried answers among `pairs` (a query or a form), each read only if given;
    what cannot be read is left out and named in `problems`, never an error page."""
    location_text, hours_text = "", ""
    times: list[str] = []
    for key, value in pairs:
        if key == "location" and not location_text:
            location_text = value.strip()
        elif key == "hours" and not hours_text:
            hours_text = value.strip()
        elif key == "when" and value and len(times) <= MAX_TIMES:
            times.append(value)
    problems: list[FieldError] = []
    location = None
    if location_text:
        if len(location_text) > MAX_LOCATION_CHARACTERS:
            problems.append(FieldError("location", "Enter a place name, a postcode or coordinates"))
        else:
            try:
                location = geography_service.resolve_location(
                    session, text=location_text, field="location"
                )
            except RuleBroken as error:
                problems.append(FieldError("location", error.message))
    minutes = None
    if hours_text:
        try:
            minutes = parse_hours(hours_text[:20])
        except ValueError as error:
            problems.append(FieldError("hours", str(error)))
    when = 0
    if times:
        try:
            when = availability_mask(times[:MAX_TIMES])
        except ValueError as error:
            problems.append(FieldError("when", str(error)))
    return Asked(
        location=location,
        minutes_per_week=minutes,
        when=when,
        problems=problems,
        location_text=location_text,
        hours_text=hours_text,
    )


def pairs_of(values: dict[str, object]) -> list[tuple[str, str]]:
    """A posted form's carried fields (marketplace.forms.form_values) as pairs for read_asked."""
    pairs: list[tuple[str, str]] = []
    for key in CARRIED:
        value = values.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                pairs.append((key, item))
    return pairs


def carried_query_of(asked: Asked) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in asked.form_values.items():
        pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, str(value))]
    return urlencode(pairs)


def carried_query(pairs: Iterable[tuple[str, str]]) -> str:
    """The carried answers among `pairs`, as they were given (blank ones left out), as a query
    string: for links that pass them on without reading them."""
    kept = [(key, value.strip()) for key, value in pairs if key in CARRIED and value.strip()]
    return urlencode(kept[: len(CARRIED) + MAX_TIMES])
