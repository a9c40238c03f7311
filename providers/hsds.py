"""Open Referral's Human Services Data Specification (HSDS 3.0), both ways.

Out (the /openreferral/ feed, providers.openreferral): a published offer is an HSDS
`service`; its provider an `organization` (personal assistants too, as sole traders); the
three taxonomies offers are described in (personal outcomes, kinds of support, who it
suits) are HSDS `taxonomy` records whose terms are attached to services by `attribute`s;
the current price is a `cost_option` in GBP, the service area a `service_area`, the place
support starts from a `location` joined to the service by a `service_at_location`.

In (providers.hsds_import): the parsing helpers at the end of this module turn HSDS cost
options, schedules and taxonomy terms into the shapes providers.offers takes.

Decisions, and why:

- Ids. HSDS 3.0 ids are UUIDs; ours are integers. The records the feed can be asked for
  by id (services, organizations, taxonomies, terms, service-at-locations, locations)
  get a reversible UUID (version 8, RFC 9562): 48 bits from a hash of the publisher's
  base URL, the kind of record, and our id. So ids are stable, differ between two
  deployments, and /services/{id} finds its offer without a table of ids. Records never
  asked for by id (attributes, cost options, areas...) get a name-based UUID (version 5).
- Money. Prices are integer pence; HSDS amounts are pounds, a JSON number. The only
  Decimal in the product is here: pence become Decimal pounds exactly, and dumps() writes
  that Decimal as its own digits, never through a float. Pounds read in come back through
  amount_to_pence, also in Decimal.
- Capacity. HSDS 3.0 has no capacity record (3.1 adds `service_capacity`). The 3.0
  schemas allow extra properties, so a service carries `capacities` in the 3.1 shape,
  with the date it was last confirmed as `updated`: 3.0 readers ignore it, 3.1 readers
  understand it.
- Privacy. A personal assistant's phone number and email address are left out of the open
  feed: people reach them through the marketplace, and aggregators do not harvest them.
  Locations are the place a provider gave (a town or postcode district), never more.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from marketplace.errors import NotFound, RuleBroken
from marketplace.geography import service as geography_service
from marketplace.geography.distance import haversine_km
from marketplace.geography.service import Location
from marketplace.money import format_pence
from providers.models import (
    DAYS,
    PERIODS,
    AreaType,
    CapacityUnit,
    Check,
    CheckKind,
    CheckStatus,
    Employment,
    FeePeriod,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    Taxonomy,
    TaxonomyTerm,
    TravelCharge,
    availability_bit,
    offer_council,
    offer_settlement,
    offer_term,
)
from providers.offers import MAX_RADIUS_KM
from providers.pricing import divide_rounding, format_basis_points

HSDS_VERSION = "3.0"
PROFILE_URL = "https://docs.openreferral.org/en/v3.0/"
"""No named profile: the feed follows base HSDS 3.0, plus the 3.1-shaped `capacities`."""
CURRENCY = "GBP"
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100

JsonObject = dict[str, Any]


# Ids ---------------------------------------------------------------------------------------


class RecordKind:
    """The kinds of record with their own address in the feed (the 12 bits in an id)."""

    SERVICE = 1
    ORGANIZATION = 2
    TAXONOMY = 3
    TAXONOMY_TERM = 4
    SERVICE_AT_LOCATION = 5
    LOCATION = 6


TAXONOMY_NUMBERS = {Taxonomy.PERSONAL_OUTCOME: 1, Taxonomy.KIND_OF_SUPPORT: 2, Taxonomy.CLIENT_GROUP: 3}
"""Fixed, so a taxonomy's id never changes if the enum is reordered."""

_NUMBER_BITS = 62


@dataclass(frozen=True)
class HsdsIds:
    """UUIDs for one publisher (the deployment's base URL)."""

    publisher: str

    @cached_property
    def _prefix(self) -> int:
        return int.from_bytes(hashlib.sha256(self.publisher.encode()).digest()[:6], "big")

    @cached_property
    def _namespace(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, self.publisher)

    def of(self, kind: int, number: int) -> str:
        """The UUID of our record `number` of this kind."""
        if not 0 <= number < 1 << _NUMBER_BITS:
            raise ValueError("record number out of range")
        value = self._prefix << 80 | 8 << 76 | kind << 64 | 0b10 << 62 | number
        return str(uuid.UUID(int=value))

    def number(self, kind: int, text: str | None) -> int | None:
        """Our record number from one of our UUIDs of this kind; None for anything else."""
        if not text:
            return None
        try:
            value = uuid.UUID(text.strip()).int
        except ValueError:
            return None
        if value >> 80 != self._prefix or (value >> 76) & 0xF != 8 or (value >> 64) & 0xFFF != kind:
            return None
        if (value >> 62) & 0b11 != 0b10:
            return None
        return value & ((1 << _NUMBER_BITS) - 1)

    def child(self, kind: str, *parts: object) -> str:
        """A stable UUID for a record that is only ever seen inside another."""
        return str(uuid.uuid5(self._namespace, ":".join([kind, *(str(p) for p in parts)])))

    def taxonomy(self, taxonomy: Taxonomy) -> str:
        return self.of(RecordKind.TAXONOMY, TAXONOMY_NUMBERS[taxonomy])

    def taxonomy_of(self, text: str | None) -> Taxonomy | None:
        number = self.number(RecordKind.TAXONOMY, text)
        return next((t for t, n in TAXONOMY_NUMBERS.items() if n == number), None)


# Money at the edge ---------------------------------------------------------------------------

PENCE_PER_POUND = 100


def pence_to_amount(pence: int) -> Decimal:
    """1850 -> Decimal('18.50'): exact, with two places."""
    return Decimal(pence).scaleb(-2)


class Problem(ValueError):
    """A record, or part of one, we cannot take; the message says why, for the report."""


def amount_to_pence(amount: object) -> int:
    """An HSDS amount in pounds (a JSON number read as Decimal, or CSV text) -> pence."""
    if isinstance(amount, bool) or amount is None or amount == "":
        raise Problem("has no amount")
    if isinstance(amount, float):
        raise Problem("amount was read as a float; read HSDS JSON with parse_float=Decimal")
    try:
        pounds = Decimal(str(amount).strip().removeprefix("£"))
    except InvalidOperation:
        raise Problem(f"amount {amount!r} is not a number") from None
    if not pounds.is_finite():
        raise Problem(f"amount {amount!r} is not a number")
    if pounds < 0:
        raise Problem(f"amount £{pounds} is negative")
    pence = pounds * PENCE_PER_POUND
    if pence != pence.to_integral_value():
        raise Problem(f"amount £{pounds} is not a whole number of pence")
    return int(pence)


def dumps(value: Any) -> str:
    """JSON text in which Decimal amounts are written digit for digit as numbers. (The
    standard library would need a float for that, and a float is not what we mean.)"""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


# Words ---------------------------------------------------------------------------------------

TAXONOMY_DESCRIPTIONS = {
    Taxonomy.PERSONAL_OUTCOME: (
        "What matters to the person: the Talking Points quality-of-life outcomes used in "
        "Scottish social care."
    ),
    Taxonomy.KIND_OF_SUPPORT: "The kind of support offered under Self-directed Support.",
    Taxonomy.CLIENT_GROUP: "Who the support suits.",
}

PERIOD_HOURS = {"morning": ("08:00", "12:00"), "afternoon": ("12:00", "17:00"),
                "evening": ("17:00", "22:00"), "night": ("22:00", "08:00")}
"""The clock times each period of the availability grid stands for, in UK time. The grid
itself has no times; these are the ones the offer form's words suggest."""

ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

LANGUAGE_CODES = {
    "english": "en", "gaelic": "gd", "scottish gaelic": "gd", "british sign language": "bfi",
    "scots": "sco", "polish": "pl", "urdu": "ur", "punjabi": "pa", "arabic": "ar",
    "mandarin": "cmn", "cantonese": "yue", "chinese": "zh", "french": "fr", "german": "de",
    "spanish": "es", "italian": "it", "portuguese": "pt", "romanian": "ro", "lithuanian": "lt",
    "latvian": "lv", "bengali": "bn", "hindi": "hi", "gujarati": "gu", "tamil": "ta",
    "turkish": "tr", "kurdish": "ku", "farsi": "fa", "persian": "fa", "ukrainian": "uk",
    "russian": "ru", "welsh": "cy", "irish": "ga",
}
"""ISO 639-1 codes (639-3 where there is none, as for BSL) for the languages people list."""

COUNCIL_URI = "http://statistics.gov.scot/id/statistical-geography/{code}"
SETTLEMENT_URI = "https://sws.geonames.org/{id}/"

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
        parts.append(_sentence(", ".join(uplifts)) + ".")
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
            f"{format_pence(price.management_fee_fixed_pence)} {FEE_PERIOD_WORDS[price.management_fee_period]}"
        )
    if not pieces:
        return ""
    return "Management fee for holding an individual service fund: " + " plus ".join(pieces) + "."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _timestamp(value: datetime) -> str:
    """RFC 3339 with milliseconds, as HSDS asks for last_modified."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _km(value: float) -> str:
    return f"{value:g}"


def _compact(record: JsonObject) -> JsonObject:
    """Leave out empty optional fields rather than sending nulls (as Open Referral UK asks)."""
    return {k: v for k, v in record.items() if v is not None and v != [] and v != ""}


# Out: records ---------------------------------------------------------------------------------


def last_modified(offer: Offer) -> datetime:
    """When anything people see about the offer last changed: the offer, its price or its
    capacity."""
    moments = [offer.updated_at, offer.capacity_updated_at]
    if offer.price is not None:
        moments.append(offer.price.created_at)
    return max(moments)


def taxonomy_record(taxonomy: Taxonomy, *, ids: HsdsIds) -> JsonObject:
    return {
        "id": ids.taxonomy(taxonomy),
        "name": taxonomy.label,
        "description": TAXONOMY_DESCRIPTIONS[taxonomy],
    }


def taxonomy_term_record(term: TaxonomyTerm, *, ids: HsdsIds, with_taxonomy: bool = True) -> JsonObject:
    record = {
        "id": ids.of(RecordKind.TAXONOMY_TERM, term.id),
        "code": term.code,
        "name": term.name,
        # HSDS requires a description; client groups have none of their own.
        "description": term.description or term.name,
        "taxonomy": term.taxonomy.label,
        "taxonomy_id": ids.taxonomy(term.taxonomy),
        "language": "en",
    }
    if with_taxonomy:
        record["taxonomy_detail"] = taxonomy_record(term.taxonomy, ids=ids)
    return record


def attribute_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """One attribute per term, linking the service to it; link_type says which taxonomy."""
    service_id = ids.of(RecordKind.SERVICE, offer.id)
    return [
        {
            "id": ids.child("attribute", offer.id, term.id),
            "link_id": service_id,
            "link_type": term.taxonomy.value,
            "link_entity": "service",
            "taxonomy_term_id": ids.of(RecordKind.TAXONOMY_TERM, term.id),
            "taxonomy_term": taxonomy_term_record(term, ids=ids),
        }
        for term in offer.terms
    ]


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
            rate = divide_rounding(price.rate_pence * (10_000 + uplift), 10_000)
            records.append(
                {
                    "id": ids.child("cost_option", price.id, name),
                    "service_id": service_id,
                    "valid_from": valid_from,
                    "option": label,
                    "currency": CURRENCY,
                    "amount": pence_to_amount(rate),
                    "amount_description": (
                        f"{_sentence(unit_phrase(price))}: the weekday rate and "
                        f"{format_basis_points(uplift)} more."
                    ),
                }
            )
    return records


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
            math.sin(lat1) * math.cos(angular) + math.cos(lat1) * math.sin(angular) * math.cos(bearing)
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
                    f"(latitude {offer.centre_latitude:.4f}, longitude {offer.centre_longitude:.4f})."
                ),
                "extent": circle_geojson(offer.centre_latitude, offer.centre_longitude, offer.radius_km),
                "extent_type": "geojson",
            }
        ]
    if offer.area_type == AreaType.COUNCILS:
        return [
            {
                "id": ids.child("service_area", offer.id, "council", council.id),
                "service_id": service_id,
                "name": council.name,
                "description": f"Anywhere in the {council.name} council area.",
                "uri": COUNCIL_URI.format(code=council.gss_code),
            }
            for council in offer.area_councils
        ]
    return [
        {
            "id": ids.child("service_area", offer.id, "settlement", settlement.id),
            "service_id": service_id,
            "name": settlement.label,
            "description": f"{settlement.name}, in the {settlement.council.name} council area.",
            "uri": SETTLEMENT_URI.format(id=settlement.id),
        }
        for settlement in offer.area_settlements
    ]


def schedule_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """One weekly schedule per period of the day, on the days the offer is available then."""
    records = []
    for period_index, period in enumerate(PERIODS):
        days = [d for d in range(len(DAYS)) if offer.availability & availability_bit(d, period_index)]
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


def language_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """The provider's languages: in this product languages belong to the provider."""
    return [
        _compact(
            {
                "id": ids.child("language", offer.id, name),
                "service_id": ids.of(RecordKind.SERVICE, offer.id),
                "name": name,
                "code": LANGUAGE_CODES.get(name.lower()),
            }
        )
        for name in offer.provider.language_names
    ]


def capacity_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """HSDS 3.1's service_capacity (see the module's docstring)."""
    unit = offer.capacity_unit
    return [
        {
            "id": ids.child("capacity", offer.id),
            "service_id": ids.of(RecordKind.SERVICE, offer.id),
            "unit": {"id": ids.child("unit", unit.value), "name": _sentence(unit.label)},
            "available": offer.capacity_amount,
            "description": f"How much more support it can take on now, in {unit.label}.",
            "updated": _timestamp(offer.capacity_updated_at),
        }
    ]


def _shares_contact(provider: Provider) -> bool:
    return provider.kind != ProviderKind.PERSONAL_ASSISTANT


def phone_records(provider: Provider, *, ids: HsdsIds) -> list[JsonObject]:
    if not provider.phone or not _shares_contact(provider):
        return []
    return [
        {
            "id": ids.child("phone", provider.id),
            "organization_id": ids.of(RecordKind.ORGANIZATION, provider.id),
            "number": provider.phone,
            "type": "voice",
        }
    ]


def legal_status(provider: Provider) -> str | None:
    if provider.kind != ProviderKind.PERSONAL_ASSISTANT:
        return None
    if provider.employment == Employment.EMPLOYED:
        return "Personal assistant employed by the people they support"
    return "Self-employed personal assistant (sole trader)"


def organization_record(provider: Provider, *, ids: HsdsIds) -> JsonObject:
    """The organization's own (one-to-one) fields: what list pages and services carry."""
    return _compact(
        {
            "id": ids.of(RecordKind.ORGANIZATION, provider.id),
            "name": provider.name,
            # Required by HSDS; a provider that has not written about itself still has a kind.
            "description": provider.about or provider.kind.label,
            "email": provider.contact_email if _shares_contact(provider) else None,
            "website": provider.website,
            "legal_status": legal_status(provider),
        }
    )


def base_location_record(provider: Provider, *, ids: HsdsIds) -> JsonObject | None:
    if provider.base_latitude is None or provider.base_longitude is None:
        return None
    return _compact(
        {
            "id": ids.child("base", provider.id),
            "location_type": "physical",
            "organization_id": ids.of(RecordKind.ORGANIZATION, provider.id),
            "name": provider.base_label,
            "description": "Where the provider is based, to the nearest town or postcode district.",
            "latitude": round(provider.base_latitude, 4),
            "longitude": round(provider.base_longitude, 4),
        }
    )


def organization_identifier_records(provider: Provider, *, ids: HsdsIds, today: date) -> list[JsonObject]:
    """Care Inspectorate registrations an administrator has verified (and that have not
    expired). PVG membership and insurance are private and stay out."""
    checks: list[Check] = [
        c
        for c in provider.checks
        if c.kind == CheckKind.CARE_INSPECTORATE and c.status_on(today) == CheckStatus.VERIFIED
    ]
    return [
        {
            "id": ids.child("organization_identifier", check.id),
            "organization_id": ids.of(RecordKind.ORGANIZATION, provider.id),
            "identifier_type": "Care Inspectorate registration number",
            "identifier": check.reference,
        }
        for check in checks
    ]


def full_organization_record(
    provider: Provider, *, ids: HsdsIds, services: list[JsonObject], today: date
) -> JsonObject:
    record = organization_record(provider, ids=ids)
    base = base_location_record(provider, ids=ids)
    record.update(
        _compact(
            {
                "phones": phone_records(provider, ids=ids),
                "locations": [base] if base else [],
                "organization_identifiers": organization_identifier_records(provider, ids=ids, today=today),
            }
        )
    )
    record["services"] = services
    return record


def eligibility_description(offer: Offer) -> str | None:
    groups = [term.name for term in offer.terms_of(Taxonomy.CLIENT_GROUP)]
    return "Suits: " + "; ".join(groups) + "." if groups else None


def service_record(offer: Offer, *, ids: HsdsIds, full: bool) -> JsonObject:
    """A published offer as an HSDS service: its one-to-one fields for list pages, or fully
    nested (every related record) for /services/{id}."""
    provider = offer.provider
    record = _compact(
        {
            "id": ids.of(RecordKind.SERVICE, offer.id),
            "organization_id": ids.of(RecordKind.ORGANIZATION, provider.id),
            "name": offer.title,
            "description": offer.description or offer.title,
            # The offer's own page on the marketplace, where people send an enquiry.
            "url": f"{ids.publisher}/offers/{offer.id}",
            "email": provider.contact_email if _shares_contact(provider) else None,
            "status": "active",
            "fees_description": price_summary(offer) if offer.price else None,
            "eligibility_description": eligibility_description(offer),
            "last_modified": _timestamp(last_modified(offer)),
            "organization": organization_record(provider, ids=ids),
        }
    )
    if not full:
        return record
    location = location_record(offer, ids=ids)
    record.update(
        _compact(
            {
                "phones": phone_records(provider, ids=ids),
                "schedules": schedule_records(offer, ids=ids),
                "service_areas": service_area_records(offer, ids=ids),
                "service_at_locations": [service_at_location_record(offer, ids=ids, location=location)]
                if location
                else [],
                "languages": language_records(offer, ids=ids),
                "cost_options": cost_option_records(offer, ids=ids),
                "attributes": attribute_records(offer, ids=ids),
            }
        )
    )
    record["capacities"] = capacity_records(offer, ids=ids)
    return record


def offer_location(offer: Offer) -> tuple[str, float, float, str] | None:
    """Where the support starts from: a radius offer's centre, otherwise the provider's
    base; with a sentence saying which."""
    if offer.area_type == AreaType.RADIUS and offer.centre_latitude is not None and offer.centre_longitude is not None:
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
    return _compact(
        {
            "id": ids.of(RecordKind.LOCATION, offer.id),
            "location_type": "physical",
            "organization_id": ids.of(RecordKind.ORGANIZATION, offer.provider_id),
            "name": label,
            "description": description,
            "latitude": round(latitude, 4),
            "longitude": round(longitude, 4),
        }
    )


def service_at_location_record(
    offer: Offer, *, ids: HsdsIds, location: JsonObject | None = None, service: JsonObject | None = None
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


# In: parsing HSDS values ---------------------------------------------------------------------

_UNIT_NAMES = {
    "hour": PriceUnit.HOUR, "hr": PriceUnit.HOUR, "session": PriceUnit.SESSION,
    "visit": PriceUnit.SESSION, "day": PriceUnit.DAY, "night": PriceUnit.NIGHT,
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
    "public_holiday_uplift_bp": re.compile(r"\b(public|bank) holiday", re.IGNORECASE),
}


def uplift_field(option: str) -> str | None:
    """Which uplift a cost option's condition names, if any."""
    return next((field for field, words in UPLIFT_WORDS.items() if words.search(option)), None)


def uplift_basis_points(*, rate_pence: int, uplifted_pence: int) -> int:
    """The uplift that turns the weekday rate into the uplifted one, to the basis point."""
    if rate_pence <= 0 or uplifted_pence < rate_pence:
        raise Problem("an uplifted rate is lower than the weekday rate")
    return divide_rounding((uplifted_pence - rate_pence) * 10_000, rate_pence)


_INCLUDES = re.compile(r"\bIncludes?:\s*(?P<what>[^\n]+?)\.?\s*$", re.IGNORECASE)


def included_from(description: str) -> str:
    match = _INCLUDES.search(description)
    return match.group("what").strip() if match else ""


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
            notes.append(f"schedule {schedule.get('id', '')}: only weekly schedules are read, not {freq.lower()}")
            continue
        byday = [d.strip().upper()[-2:] for d in str(schedule.get("byday") or "").split(",") if d.strip()]
        days = [ICAL_DAYS.index(d) for d in byday if d in ICAL_DAYS] or (
            list(range(5)) if not byday else []
        )
        periods = _periods_between(_clock_minutes(schedule.get("opens_at")), _clock_minutes(schedule.get("closes_at")))
        for day in days:
            for period in periods:
                mask |= availability_bit(day, period)
    return mask, notes


def normalise(text: str | None) -> str:
    return " ".join(str(text or "").split()).casefold()


def match_term(term: JsonObject, known: list[TaxonomyTerm]) -> TaxonomyTerm | None:
    """One of our terms with the same code or name (any case); when the term names its
    taxonomy and that is one of ours, only that taxonomy's terms are considered."""
    detail = term.get("taxonomy_detail") or {}
    taxonomy_names = {normalise(term.get("taxonomy")), normalise(detail.get("name"))}
    ours = [t for t in Taxonomy if normalise(t.label) in taxonomy_names or t.value in taxonomy_names]
    candidates = [t for t in known if not ours or t.taxonomy in ours]
    code, name = normalise(term.get("code")), normalise(term.get("name"))
    for candidate in candidates:
        if code and candidate.code == code:
            return candidate
    for candidate in candidates:
        if name and normalise(candidate.name) == name:
            return candidate
    return None


def capacity_from(service: JsonObject) -> tuple[CapacityUnit, int] | None:
    """HSDS 3.1 capacities, when the unit is one of ours."""
    for capacity in service.get("capacities") or []:
        unit = normalise((capacity.get("unit") or {}).get("name"))
        try:
            available = int(Decimal(str(capacity.get("available"))))
        except (InvalidOperation, ValueError):
            continue
        if "hour" in unit:
            return CapacityUnit.HOURS_PER_WEEK, available
        if "place" in unit:
            return CapacityUnit.PLACES, available
    return None


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


# Out: the feed's queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page:
    """One page of a list, with the header HSDS 3.0's API puts before `contents`."""

    contents: list[JsonObject]
    total_items: int
    paging: Paging

    def as_json(self) -> JsonObject:
        total_pages = -(-self.total_items // self.paging.per_page)
        return {
            "total_items": self.total_items,
            "total_pages": total_pages,
            "page_number": self.paging.page,
            "size": len(self.contents),
            "first_page": self.paging.page == 1,
            "last_page": self.paging.page >= total_pages,
            "empty": not self.contents,
            "contents": self.contents,
        }


@dataclass(frozen=True)
class ServiceFilters:
    """The /services and /service_at_locations filters; all must hold (HSDS: cumulative)."""

    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_NO_MATCH = -1
"""A record number no row has: a filter naming an id that is not ours matches nothing."""


def published_offers(session: Session, *, ids: HsdsIds, filters: ServiceFilters) -> Select[tuple[Offer]]:
    """Published offers only: drafts, paused and withdrawn offers never reach the feed."""
    query = select(Offer).join(Offer.provider).where(Offer.status == OfferStatus.PUBLISHED)
    if filters.search:
        pattern = _like(filters.search.strip())
        query = query.where(
            or_(
                Offer.title.ilike(pattern, escape="\\"),
                Offer.description.ilike(pattern, escape="\\"),
                Provider.name.ilike(pattern, escape="\\"),
            )
        )
    if filters.taxonomy_term_id is not None:
        term = ids.number(RecordKind.TAXONOMY_TERM, filters.taxonomy_term_id)
        query = query.where(
            Offer.id.in_(select(offer_term.c.offer_id).where(offer_term.c.term_id == (term or _NO_MATCH)))
        )
    if filters.taxonomy_id is not None:
        taxonomy = ids.taxonomy_of(filters.taxonomy_id)
        in_taxonomy = (
            select(offer_term.c.offer_id)
            .join(TaxonomyTerm, TaxonomyTerm.id == offer_term.c.term_id)
            .where(TaxonomyTerm.taxonomy == taxonomy if taxonomy else TaxonomyTerm.id == _NO_MATCH)
        )
        query = query.where(Offer.id.in_(in_taxonomy))
    if filters.organization_id is not None:
        query = query.where(
            Offer.provider_id == (ids.number(RecordKind.ORGANIZATION, filters.organization_id) or _NO_MATCH)
        )
    if filters.modified_after is not None:
        since = filters.modified_after
        query = query.where(
            or_(
                Offer.updated_at >= since,
                Offer.capacity_updated_at >= since,
                Offer.id.in_(select(OfferPrice.offer_id).where(OfferPrice.created_at >= since)),
            )
        )
    return query.order_by(Offer.id)


def _page_of(session: Session, query: Select[Any], paging: Paging) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.offset(paging.offset).limit(paging.per_page)).unique())
    return rows, total


def services_page(
    session: Session, *, ids: HsdsIds, filters: ServiceFilters, paging: Paging, full: bool = False,
    minimal: bool = False,
) -> Page:
    offers, total = _page_of(session, published_offers(session, ids=ids, filters=filters), paging)
    if minimal:
        contents = [
            {"id": ids.of(RecordKind.SERVICE, o.id), "last_modified": _timestamp(last_modified(o))}
            for o in offers
        ]
    else:
        contents = [service_record(offer, ids=ids, full=full) for offer in offers]
    return Page(contents, total, paging)


def published_offer(session: Session, *, ids: HsdsIds, service_id: str) -> Offer:
    """The published offer a service id names; anything else is not found, alike."""
    number = ids.number(RecordKind.SERVICE, service_id)
    offer = session.get(Offer, number) if number is not None else None
    if offer is None or offer.status != OfferStatus.PUBLISHED:
        raise NotFound("There is no published service with this id")
    return offer


def _listed_providers(search: str | None) -> Select[tuple[Provider]]:
    """Providers with at least one published offer: publishing is what makes one public."""
    has_published = (
        select(Offer.id).where(Offer.provider_id == Provider.id, Offer.status == OfferStatus.PUBLISHED).exists()
    )
    query = select(Provider).where(has_published)
    if search:
        pattern = _like(search.strip())
        query = query.where(or_(Provider.name.ilike(pattern, escape="\\"), Provider.about.ilike(pattern, escape="\\")))
    return query.order_by(Provider.id)


def _published_offers_of(session: Session, providers: list[Provider]) -> dict[int, list[Offer]]:
    found: dict[int, list[Offer]] = {p.id: [] for p in providers}
    if providers:
        for offer in session.scalars(
            select(Offer)
            .where(Offer.provider_id.in_(list(found)), Offer.status == OfferStatus.PUBLISHED)
            .order_by(Offer.id)
        ):
            found[offer.provider_id].append(offer)
    return found


def _full_organization(
    provider: Provider, offers: list[Offer], *, ids: HsdsIds, full_service: bool, today: date
) -> JsonObject:
    services = [
        service_record(o, ids=ids, full=True) if full_service else {"id": ids.of(RecordKind.SERVICE, o.id), "name": o.title, "status": "active"}
        for o in offers
    ]
    return full_organization_record(provider, ids=ids, services=services, today=today)


def organizations_page(
    session: Session, *, ids: HsdsIds, search: str | None, paging: Paging, full: bool, full_service: bool,
    today: date,
) -> Page:
    providers, total = _page_of(session, _listed_providers(search), paging)
    if not (full or full_service):
        return Page([organization_record(p, ids=ids) for p in providers], total, paging)
    offers = _published_offers_of(session, providers)
    contents = [
        _full_organization(p, offers[p.id], ids=ids, full_service=full_service, today=today) for p in providers
    ]
    return Page(contents, total, paging)


def organization(session: Session, *, ids: HsdsIds, organization_id: str, full_service: bool, today: date) -> JsonObject:
    number = ids.number(RecordKind.ORGANIZATION, organization_id)
    provider = session.scalar(_listed_providers(None).where(Provider.id == number)) if number is not None else None
    if provider is None:
        raise NotFound("There is no listed organization with this id")
    offers = _published_offers_of(session, [provider])[provider.id]
    return _full_organization(provider, offers, ids=ids, full_service=full_service, today=today)


def _in_memory_page(records: list[JsonObject], paging: Paging) -> Page:
    return Page(records[paging.offset : paging.offset + paging.per_page], len(records), paging)


def _matches(record: JsonObject, search: str | None) -> bool:
    if not search:
        return True
    wanted = normalise(search)
    return any(wanted in normalise(record.get(key)) for key in ("name", "description", "code"))


def taxonomies_page(*, ids: HsdsIds, search: str | None, paging: Paging) -> Page:
    records = [taxonomy_record(t, ids=ids) for t in Taxonomy]
    return _in_memory_page([r for r in records if _matches(r, search)], paging)


def taxonomy(*, ids: HsdsIds, taxonomy_id: str) -> JsonObject:
    found = ids.taxonomy_of(taxonomy_id)
    if found is None:
        raise NotFound("There is no taxonomy with this id")
    return taxonomy_record(found, ids=ids)


def taxonomy_terms_page(
    session: Session, *, ids: HsdsIds, search: str | None, taxonomy_id: str | None, parent_id: str | None,
    top_only: bool, paging: Paging,
) -> Page:
    """Our taxonomies are flat: every term is a top-level term, and none has a parent."""
    if parent_id is not None:
        return _in_memory_page([], paging)
    query = select(TaxonomyTerm).order_by(TaxonomyTerm.taxonomy, TaxonomyTerm.position, TaxonomyTerm.id)
    if taxonomy_id is not None:
        wanted = ids.taxonomy_of(taxonomy_id)
        query = query.where(TaxonomyTerm.taxonomy == wanted if wanted else TaxonomyTerm.id == _NO_MATCH)
    records = [taxonomy_term_record(t, ids=ids, with_taxonomy=False) for t in session.scalars(query)]
    return _in_memory_page([r for r in records if _matches(r, search)], paging)


def taxonomy_term(session: Session, *, ids: HsdsIds, term_id: str) -> JsonObject:
    number = ids.number(RecordKind.TAXONOMY_TERM, term_id)
    term = session.get(TaxonomyTerm, number) if number is not None else None
    if term is None:
        raise NotFound("There is no taxonomy term with this id")
    return taxonomy_term_record(term, ids=ids)


def _with_location(query: Select[tuple[Offer]]) -> Select[tuple[Offer]]:
    """Offers that have a place to start from: a radius centre or the provider's base."""
    return query.where(
        or_(
            and_(Offer.area_type == AreaType.RADIUS, Offer.centre_latitude.is_not(None)),
            Provider.base_latitude.is_not(None),
        )
    )


@dataclass(frozen=True)
class Near:
    """The /service_at_locations coverage check: a postcode's place, and optionally how
    far (in metres) the service's location may be from it."""

    place: Location
    proximity_m: int | None = None


def near(session: Session, *, postcode: str | None, proximity_m: int | None) -> Near | None:
    """The place a postcode (or its district) stands for; refused when unknown."""
    if postcode is None:
        if proximity_m is not None:
            raise RuleBroken("Give a postcode for proximity to be measured from", field="proximity")
        return None
    return Near(geography_service.resolve_location(session, text=postcode, field="postcode"), proximity_m)


def _may_reach(query: Select[tuple[Offer]], place: Location) -> Select[tuple[Offer]]:
    """Offers whose area could hold the place: its council, its nearest town, or a radius
    centred within the longest radius allowed (checked exactly by _reaches)."""
    lat_span = MAX_RADIUS_KM / 111.0
    lon_span = lat_span / max(math.cos(math.radians(place.latitude)), 0.1)
    return query.where(
        or_(
            and_(
                Offer.area_type == AreaType.RADIUS,
                Offer.centre_latitude.between(place.latitude - lat_span, place.latitude + lat_span),
                Offer.centre_longitude.between(place.longitude - lon_span, place.longitude + lon_span),
            ),
            and_(
                Offer.area_type == AreaType.COUNCILS,
                Offer.id.in_(select(offer_council.c.offer_id).where(offer_council.c.council_id == place.council.id)),
            ),
            and_(
                Offer.area_type == AreaType.SETTLEMENTS,
                Offer.id.in_(
                    select(offer_settlement.c.offer_id).where(offer_settlement.c.settlement_id == place.settlement.id)
                ),
            ),
        )
    )


def _reaches(offer: Offer, where: Near) -> bool:
    place = where.place
    if offer.area_type == AreaType.RADIUS:
        assert offer.centre_latitude is not None and offer.centre_longitude is not None and offer.radius_km
        if haversine_km(offer.centre_latitude, offer.centre_longitude, place.latitude, place.longitude) > offer.radius_km:
            return False
    if where.proximity_m is not None:
        found = offer_location(offer)
        if found is None:
            return False
        distance_km = haversine_km(found[1], found[2], place.latitude, place.longitude)
        return distance_km * 1000 <= where.proximity_m
    return True


def service_at_locations_page(
    session: Session, *, ids: HsdsIds, filters: ServiceFilters, paging: Paging, full: bool,
    where: Near | None = None,
) -> Page:
    query = _with_location(published_offers(session, ids=ids, filters=filters))
    if where is None:
        offers, total = _page_of(session, query, paging)
    else:
        # The exact distance is worked out here, so the page is cut after it.
        reaching = [o for o in session.scalars(_may_reach(query, where.place)).unique() if _reaches(o, where)]
        offers, total = reaching[paging.offset : paging.offset + paging.per_page], len(reaching)
    contents = [
        service_at_location_record(o, ids=ids, service=service_record(o, ids=ids, full=full)) for o in offers
    ]
    return Page(contents, total, paging)


def service_at_location(session: Session, *, ids: HsdsIds, service_at_location_id: str) -> JsonObject:
    number = ids.number(RecordKind.SERVICE_AT_LOCATION, service_at_location_id)
    offer = session.get(Offer, number) if number is not None else None
    if offer is None or offer.status != OfferStatus.PUBLISHED or location_record(offer, ids=ids) is None:
        raise NotFound("There is no service at location with this id")
    return service_at_location_record(offer, ids=ids, service=service_record(offer, ids=ids, full=True))
