"""Prices both ways. Out: an offer's current price in plain words (fees_description) and as
HSDS cost options in pounds, one for the weekday daytime rate and one per uplift. In: the
unit a cost option is for, read from its words, and cost options back into a price with
its uplifts."""

from __future__ import annotations

import re
from decimal import Decimal

from marketplace.money import format_pence
from providers.hsds.fields import JsonObject, Problem, Rejection, normalise, sentence
from providers.hsds.ids import HsdsIds, RecordKind
from providers.hsds.money import CURRENCY, amount_to_pence, pence_to_amount
from providers.models import FeePeriod, Offer, OfferPrice, PriceUnit, TravelCharge
from providers.offers import PriceDetails
from providers.pricing import BASIS_POINTS, divide_rounding, format_basis_points

# Out ---------------------------------------------------------------------------------------------

UNIT_WORDS = {
    PriceUnit.HOUR: "per hour",
    PriceUnit.SESSION: "per session",
    PriceUnit.DAY: "per day",
    PriceUnit.NIGHT: "per night",
    PriceUnit.WEEK: "per week",
    PriceUnit.ONE_OFF: "one-off",
}
UPLIFTS = (
    ("evening_uplift_bp", "Evenings"),
    ("weekend_uplift_bp", "Weekends"),
    ("night_uplift_bp", "Nights"),
    ("public_holiday_uplift_bp", "Public holidays"),
)
FEE_PERIOD_WORDS = {FeePeriod.WEEK: "a week", FeePeriod.MONTH: "a month", FeePeriod.YEAR: "a year"}


def _hours(minutes: int) -> str:
    hours = Decimal(minutes) / 60
    text = format(hours.quantize(Decimal("0.01")).normalize(), "f")
    return f"{text} hour" + ("" if hours == 1 else "s")


def unit_phrase(price: OfferPrice) -> str:
    """'per hour', 'per session of 3 hours': the unit, with the length it needs."""
    words = UNIT_WORDS[price.unit]
    if price.unit.needs_length and price.unit_minutes:
        words += f" of {_hours(price.unit_minutes)}"
    return words


def price_summary(offer: Offer) -> str:
    """Everything about the current price in plain words: rate, uplifts, travel, fee and
    what it includes. Used for fees_description and each cost option's description."""
    price = offer.price
    assert price is not None
    parts = [f"{format_pence(price.rate_pence)} {unit_phrase(price)}, on weekday days."]
    uplifts = [
        f"{label.lower()} {format_basis_points(getattr(price, name))} more"
        for name, label in UPLIFTS
        if getattr(price, name)
    ]
    if uplifts:
        parts.append(sentence(", ".join(uplifts)) + ".")
    if price.travel_charge == TravelCharge.PER_MILE:
        parts.append(f"Travel is charged at {format_pence(price.travel_charge_pence)} a mile.")
    elif price.travel_charge == TravelCharge.PER_VISIT:
        parts.append(f"Travel is charged at {format_pence(price.travel_charge_pence)} a visit.")
    else:
        parts.append("No charge for travel.")
    fee = fee_summary(price)
    if fee:
        parts.append(fee)
    if price.included:
        parts.append(f"Includes: {price.included.rstrip('.')}.")
    return " ".join(parts)


def fee_summary(price: OfferPrice) -> str:
    pieces = []
    if price.management_fee_bp:
        pieces.append(f"{format_basis_points(price.management_fee_bp)} of what is spent")
    if price.management_fee_fixed_pence and price.management_fee_period:
        pieces.append(
            f"{format_pence(price.management_fee_fixed_pence)} "
            f"{FEE_PERIOD_WORDS[price.management_fee_period]}"
        )
    if not pieces:
        return ""
    return "Management fee for holding an individual service fund: " + " plus ".join(pieces) + "."


def cost_option_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """The current price: the weekday daytime rate, then one option per uplift, each in
    pounds. Everything else about the price is in words in amount_description."""
    price = offer.price
    if price is None:
        return []
    service_id = ids.of(RecordKind.SERVICE, offer.id)
    summary = price_summary(offer)
    valid_from = price.created_at.date().isoformat()
    records = [
        {
            "id": ids.child("cost_option", price.id),
            "service_id": service_id,
            "valid_from": valid_from,
            "option": "Weekday days",
            "currency": CURRENCY,
            "amount": pence_to_amount(price.rate_pence),
            "amount_description": summary,
        }
    ]
    for name, label in UPLIFTS:
        uplift = getattr(price, name)
        if uplift:
            rate = divide_rounding(price.rate_pence * (BASIS_POINTS + uplift), BASIS_POINTS)
            records.append(
                {
                    "id": ids.child("cost_option", price.id, name),
                    "service_id": service_id,
                    "valid_from": valid_from,
                    "option": label,
                    "currency": CURRENCY,
                    "amount": pence_to_amount(rate),
                    "amount_description": (
                        f"{sentence(unit_phrase(price))}: the weekday rate and "
                        f"{format_basis_points(uplift)} more."
                    ),
                }
            )
    return records


# In ----------------------------------------------------------------------------------------------

_UNIT_NAMES = {
    "hour": PriceUnit.HOUR,
    "hr": PriceUnit.HOUR,
    "session": PriceUnit.SESSION,
    "visit": PriceUnit.SESSION,
    "day": PriceUnit.DAY,
    "night": PriceUnit.NIGHT,
    "week": PriceUnit.WEEK,
}
_LENGTH = r"(?P<{name}>\d+(?:\.\d+)?)\s*-?\s*(?P<{name}_unit>hours?|hrs?|minutes?|mins?)"
_UNIT_PATTERN = re.compile(
    r"(?:\b(?:per|an?|each|every)\s+|/\s*)(?:" + _LENGTH.format(name="before") + r"\s+)?"
    r"(?P<unit>hour|hr|session|visit|day|night|week)\b"
    r"(?:\s+(?:of|lasting)\s+(?:up\s+to\s+)?" + _LENGTH.format(name="after") + r")?",
    re.IGNORECASE,
)
_BARE_LENGTH = re.compile(_LENGTH.format(name="bare"), re.IGNORECASE)
_ONE_OFF = re.compile(r"\bone[\s-]?off\b|\bsingle payment\b|\bone payment\b", re.IGNORECASE)
_HOURLY_WORDS = re.compile(r"\b(hourly|weekly)\b", re.IGNORECASE)


def _minutes(number: str, unit: str) -> int:
    value = Decimal(number) * (60 if unit.lower().startswith("h") else 1)
    return int(value.to_integral_value())


def parse_price_unit(text: str) -> tuple[PriceUnit, int | None] | None:
    """The unit a cost option is for, read from its words ('per hour', 'per 1 hour
    session', 'per night of 10 hours', 'one-off'), with the length in minutes that
    sessions, days and nights need; None when the words do not say."""
    if _ONE_OFF.search(text):
        return PriceUnit.ONE_OFF, None
    match = _UNIT_PATTERN.search(text)
    if match is None:
        word = _HOURLY_WORDS.search(text)
        if word is None:
            return None
        return (PriceUnit.HOUR if word.group(1).lower() == "hourly" else PriceUnit.WEEK), None
    unit = _UNIT_NAMES[match.group("unit").lower()]
    if not unit.needs_length:
        return unit, None
    for name in ("before", "after"):
        if match.group(name):
            return unit, _minutes(match.group(name), match.group(f"{name}_unit"))
    bare = _BARE_LENGTH.search(text)
    if bare:
        return unit, _minutes(bare.group("bare"), bare.group("bare_unit"))
    return unit, None


UPLIFT_WORDS = {
    "evening_uplift_bp": re.compile(r"\bevening", re.IGNORECASE),
    "weekend_uplift_bp": re.compile(r"\bweekend|\bsaturday|\bsunday", re.IGNORECASE),
    # Strictly: "per night" or "overnight support" names a unit or a service, not an uplift.
    "night_uplift_bp": re.compile(r"^\s*nights?\s*$|\bat night\b|\bnight[- ]?time", re.IGNORECASE),
    "public_holiday_uplift_bp": re.compile(r"\b(public|bank) holiday", re.IGNORECASE),
}


def uplift_field(option: str) -> str | None:
    """Which uplift a cost option's condition names, if any."""
    return next((field for field, words in UPLIFT_WORDS.items() if words.search(option)), None)


def uplift_basis_points(*, rate_pence: int, uplifted_pence: int) -> int:
    """The uplift that turns the weekday rate into the uplifted one, to the basis point."""
    if rate_pence <= 0 or uplifted_pence < rate_pence:
        raise Problem("an uplifted rate is lower than the weekday rate")
    return divide_rounding((uplifted_pence - rate_pence) * BASIS_POINTS, rate_pence)


_INCLUDES = re.compile(r"\bIncludes?:\s*(?P<what>[^\n]+?)\.?\s*$", re.IGNORECASE)


def included_from(description: str) -> str:
    match = _INCLUDES.search(description)
    return match.group("what").strip() if match else ""


def price_option_label(service: JsonObject, label: str) -> str:
    options = service.get("cost_options") or []
    main = next((o for o in options if not uplift_field(str(o.get("option") or ""))), None)
    return f"cost option {main.get('id') if main else ''} of {label}"


def price_details(
    service: JsonObject, *, label: str
) -> tuple[PriceDetails | None, list[Rejection], list[str]]:
    """The first cost option in pounds with a unit we understand is the rate; options for
    evenings, weekends, nights or public holidays become uplifts on it."""
    rejected: list[Rejection] = []
    notes: list[str] = []
    rate: tuple[PriceUnit, int | None, int, JsonObject] | None = None
    uplifted: dict[str, int] = {}
    for option in service.get("cost_options") or []:
        where = f"cost option {option.get('id') or ''} of {label}"
        currency = normalise(option.get("currency")) or "gbp"
        if currency != "gbp":
            rejected.append(Rejection(where, f"is in {currency.upper()}, not pounds"))
            continue
        try:
            pence = amount_to_pence(option.get("amount"))
        except Problem as problem:
            rejected.append(Rejection(where, str(problem)))
            continue
        condition = str(option.get("option") or "")
        uplift = uplift_field(condition)
        if uplift is not None:
            uplifted[uplift] = pence
            continue
        if rate is not None:
            notes.append(
                f"only the first price is kept; {where} ({condition or 'no condition'}) left out"
            )
            continue
        words = " ".join(str(option.get(k) or "") for k in ("amount_description", "option"))
        parsed = parse_price_unit(words)
        if parsed is None:
            rejected.append(
                Rejection(
                    where,
                    "does not say what the amount is for (per hour, session, day, "
                    "night or week, or one-off)",
                )
            )
            continue
        if parsed[0].needs_length and not parsed[1]:
            rejected.append(Rejection(where, f"does not say how long a {parsed[0].label} is"))
            continue
        rate = (parsed[0], parsed[1], pence, option)
    if rate is None:
        return None, rejected, notes
    unit, minutes, pence, option = rate
    uplifts: dict[str, int] = {}
    for name, amount in uplifted.items():
        try:
            uplifts[name] = uplift_basis_points(rate_pence=pence, uplifted_pence=amount)
        except Problem as problem:
            rejected.append(
                Rejection(
                    f"{name.removesuffix('_uplift_bp').replace('_', ' ')} cost option of {label}",
                    str(problem),
                )
            )
    details = PriceDetails(
        unit=unit,
        rate_pence=pence,
        unit_minutes=minutes,
        included=included_from(str(option.get("amount_description") or "")),
        evening_uplift_bp=uplifts.get("evening_uplift_bp", 0),
        weekend_uplift_bp=uplifts.get("weekend_uplift_bp", 0),
        public_holiday_uplift_bp=uplifts.get("public_holiday_uplift_bp", 0),
    )
    return details, rejected, notes
