"""What every HSDS record shares, whichever way it goes: the JSON object type; how field
values are written (timestamps, empty fields left out, a capital letter) and compared
(ignoring case and spacing); and, coming in, the Problem a record we cannot take raises
and the Rejection that names it, with the reason, in the import's report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

JsonObject = dict[str, Any]


class Problem(ValueError):
    """A record, or part of one, we cannot take; the message says why, for the report."""


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def timestamp(value: datetime) -> str:
    """RFC 3339 with milliseconds, as HSDS asks for last_modified."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compact(record: JsonObject) -> JsonObject:
    """Leave out empty optional fields rather than sending nulls (as Open Referral UK asks)."""
    return {k: v for k, v in record.items() if v is not None and v != [] and v != ""}


def clean(text: object) -> str:
    """Text as a person reads it: trimmed, and any run of white space one space."""
    return " ".join(str(text or "").split())


def normalise(text: object) -> str:
    """Text to compare: cleaned, and in one case."""
    return clean(text).casefold()


@dataclass(frozen=True)
class Rejection:
    record: str
    """Which record, in words: its kind, name and HSDS id."""
    reason: str


def describe(kind: str, record: JsonObject | None) -> str:
    record = record or {}
    name = record.get("name")
    return (
        f"{kind} {name!r} ({record.get('id') or 'no id'})"
        if name
        else f"{kind} {record.get('id') or 'with no id'}"
    )
