"""Schedules both ways: the availability grid (days by periods of the day, no clock times)
as HSDS weekly schedules with the clock times each period stands for, and HSDS weekly
schedules back into the grid by the periods their opening hours overlap."""

from __future__ import annotations

import re
from collections.abc import Iterable

from providers.hsds.fields import JsonObject
from providers.hsds.ids import HsdsIds, RecordKind
from providers.models import DAYS, PERIODS, Offer, availability_bit

PERIOD_HOURS = {
    "morning": ("08:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "22:00"),
    "night": ("22:00", "08:00"),
}
"""The clock times each period of the availability grid stands for, in UK time. The grid
itself has no times; these are the ones the offer form's words suggest."""

ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def schedule_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """One weekly schedule per period of the day, on the days the offer is available then."""
    records = []
    for period_index, period in enumerate(PERIODS):
        days = [
            d for d in range(len(DAYS)) if offer.availability & availability_bit(d, period_index)
        ]
        if not days:
            continue
        opens, closes = PERIOD_HOURS[period]
        records.append(
            {
                "id": ids.child("schedule", offer.id, period),
                "service_id": ids.of(RecordKind.SERVICE, offer.id),
                "freq": "WEEKLY",
                "wkst": "MO",
                "byday": ",".join(ICAL_DAYS[d] for d in days),
                "opens_at": opens,
                "closes_at": closes,
                "description": f"{period.capitalize()}s ({opens} to {closes}, UK time): "
                + ", ".join(DAYS[d] for d in days),
            }
        )
    return records


def _clock_minutes(text: str | None) -> int | None:
    if not text:
        return None
    match = re.match(r"^\s*(\d{1,2}):(\d{2})", str(text))
    if match is None:
        return None
    return (int(match.group(1)) % 24) * 60 + int(match.group(2))


def _periods_between(opens: int | None, closes: int | None) -> list[int]:
    """The availability periods that overlap opening hours (minutes since midnight); no
    times given is taken as the daytime (morning and afternoon)."""
    if opens is None or closes is None:
        return [0, 1]
    spans = [(opens, closes)] if closes > opens else [(opens, 24 * 60), (0, closes)]
    found = []
    for index, period in enumerate(PERIODS):
        start, end = (_clock_minutes(t) for t in PERIOD_HOURS[period])
        assert start is not None and end is not None
        windows = [(start, end)] if end > start else [(start, 24 * 60), (0, end)]
        if any(a < d and c < b for a, b in spans for c, d in windows):
            found.append(index)
    return found


def availability_from_schedules(schedules: Iterable[JsonObject]) -> tuple[int, list[str]]:
    """An availability mask from HSDS weekly schedules, and notes on what could not be read
    (monthly patterns have no place in a weekly grid)."""
    mask, notes = 0, []
    for schedule in schedules:
        freq = str(schedule.get("freq") or "WEEKLY").upper()
        if freq != "WEEKLY":
            notes.append(
                f"schedule {schedule.get('id', '')}: only "
                f"weekly schedules are read, not {freq.lower()}"
            )
            continue
        byday = [
            d.strip().upper()[-2:] for d in str(schedule.get("byday") or "").split(",") if d.strip()
        ]
        days = [ICAL_DAYS.index(d) for d in byday if d in ICAL_DAYS] or (
            list(range(5)) if not byday else []
        )
        periods = _periods_between(
            _clock_minutes(schedule.get("opens_at")), _clock_minutes(schedule.get("closes_at"))
        )
        for day in days:
            for period in periods:
                mask |= availability_bit(day, period)
    return mask, notes
