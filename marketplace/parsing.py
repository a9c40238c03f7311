"""Bounded parsers for what arrives in a path, a query or a form: record ids, page numbers,
dates, whole numbers and text, each refusing what it cannot hold with a message for a person.

Routes use the Annotated types declaratively (`offer_id: RecordId`, `page: PageNumber = 1`);
a path value that does not parse answers 404 (marketplace.web), a query value 400, and a
form value a message beside its field. Nothing a browser can send reaches the database
unbounded (a 40-digit id, an Arabic-Indic digit, the year 99999)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

MAX_RECORD_ID = 2**31 - 1
"""Every table's ids fit PostgreSQL's integer; a larger id names no record."""
MAX_PAGE = 10_000
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_QUERY_TEXT = 200
MAX_ONE_LINE = 200
MAX_FREE_TEXT = 5_000

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
CONTROL_CHARACTERS = _CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters that have no place in text at all (tab, newline and carriage return
are allowed in free text; one-line text refuses them too)."""
_LINE_BREAKS = re.compile(r"[\t\n\r]")
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
"""For FastAPI's Query(pattern=...), where an API documents its parameters: one line, no
control characters."""


def ascii_whole_number(value: Any, *, low: int, high: int) -> int | None:
    """ASCII digits only (Python's int() would take '١٢' or '１２'), within [low, high];
    None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if low <= value <= high else None
    text = str(value).strip() if value is not None else ""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def record_id(value: Any) -> int | None:
    """An id as a page or a form names it; None when it cannot name any record."""
    return ascii_whole_number(value, low=1, high=MAX_RECORD_ID)


def _record_id(value: Any) -> int:
    number = record_id(value)
    if number is None:
        raise ValueError("No such record")
    return number


def _page_number(value: Any) -> int:
    number = ascii_whole_number(value, low=1, high=MAX_PAGE)
    if number is None:
        raise ValueError(f"Enter a page number from 1 to {MAX_PAGE:,}")
    return number


def parse_date(text: str) -> date:
    """YYYY-MM-DD with a year this service can mean; ValueError with a message otherwise."""
    text = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError("Enter a date like 2026-03-31")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError("Enter a real date, like 2026-03-31") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Enter a date between {MIN_YEAR} and {MAX_YEAR}")
    return value


def _datetime_in_range(value: datetime | None) -> datetime | None:
    # Well inside the calendar, so moving it to UTC from any offset cannot overflow.
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"Enter a date and time between {MIN_YEAR} and {MAX_YEAR}")
    return value


InRangeDateTime = AfterValidator(_datetime_in_range)
"""Annotated[datetime | None, ..., InRangeDateTime]: a date and time between 1900 and 2200."""


def _optional_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    return parse_date(text) if text else None


def clean_query_text(value: Any) -> str:
    """A value from an address as one line with no control characters (a NUL, which
    PostgreSQL cannot store or compare, included), cut to 200 characters."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(value or ""))).strip()[: MAX_QUERY_TEXT + 1]


def _query_text(value: Any) -> str:
    text = clean_query_text(value)
    if len(text) > MAX_QUERY_TEXT:
        raise ValueError(f"Enter {MAX_QUERY_TEXT} characters or fewer")
    return text


RecordId = Annotated[int, BeforeValidator(_record_id)]
"""A record's id in a path (404 when it cannot be one) or a query (400)."""
OptionalRecordId = Annotated[
    int | None, BeforeValidator(lambda v: None if v in (None, "") else _record_id(v))
]
PageNumber = Annotated[int, BeforeValidator(_page_number)]
"""Which page of a list, 1 to 10,000."""
OptionalDate = Annotated[date | None, BeforeValidator(_optional_date)]
"""YYYY-MM-DD between 1900 and 2200; blank is no date."""
QueryText = Annotated[str, BeforeValidator(_query_text)]
"""A search or filter term from the address: one line, at most 200 characters."""


def bounded_int(low: int, high: int, message: str) -> Any:
    """A whole number in [low, high] as ASCII digits, e.g. `Annotated[int, bounded_int(0, 500,
    "Enter a distance from 0 to 500 km")]`."""

    def check(value: Any) -> int:
        number = ascii_whole_number(value, low=low, high=high)
        if number is None:
            raise ValueError(message)
        return number

    return BeforeValidator(check)


def _text_checks(what: str, max_len: int, *, one_line: bool) -> Any:
    """One validator that trims the answer and refuses what the field cannot hold, with
    messages that name the field; anything not text is left to the field's type."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if one_line and _LINE_BREAKS.search(value):
            raise ValueError(f"Write {what} on one line")
        if _CONTROL.search(value):
            raise ValueError(f"Remove the special characters from {what}")
        if len(value) > max_len:
            raise ValueError(f"Shorten {what} to {max_len:,} characters or fewer")
        return value

    return BeforeValidator(check)


def one_line(what: str, max_len: int = MAX_ONE_LINE) -> Any:
    """A name, a title, a place: one line with no control characters, at most max_len, as
    `Annotated[str, one_line("the title")]`. `what` names the field in its messages."""
    return _text_checks(what, max_len, one_line=True)


def free_text(what: str, max_len: int = MAX_FREE_TEXT) -> Any:
    """A description or a message, as `Annotated[str, free_text("your message")]`: several
    lines allowed, no other control characters, at most max_len. '<' and '>' are kept
    (templates escape them)."""
    return _text_checks(what, max_len, one_line=False)
