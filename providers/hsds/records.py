"""Services and organizations: a published offer as an HSDS `service`, its provider as an
`organization` (personal assistants too, as sole traders), each either with its own
one-to-one fields (for list pages) or with every related record nested.

Decisions, and why:

- Capacity. HSDS 3.0 has no capacity record (3.1 adds `service_capacity`). The 3.0
  schemas allow extra properties, so a service carries `capacities` in the 3.1 shape,
  with the date it was last confirmed as `updated`: 3.0 readers ignore it, 3.1 readers
  understand it. The import reads them back (capacity_from).
- Privacy. A personal assistant's phone number and email address are left out of the open
  feed: people reach them through the marketplace, and aggregators do not harvest them.
  Of a provider's checks only verified Care Inspectorate registrations are published.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from providers.hsds.fields import JsonObject, compact, normalise, sentence, timestamp
from providers.hsds.ids import HsdsIds, RecordKind
from providers.hsds.places import (
    base_location_record,
    location_record,
    service_area_records,
    service_at_location_record,
)
from providers.hsds.prices import cost_option_records, price_summary
from providers.hsds.schedules import schedule_records
from providers.hsds.taxonomies import attribute_records
from providers.models import (
    CapacityUnit,
    Check,
    CheckKind,
    CheckStatus,
    Employment,
    Offer,
    Provider,
    ProviderKind,
    Taxonomy,
)

LANGUAGE_CODES = {
    "english": "en",
    "gaelic": "gd",
    "scottish gaelic": "gd",
    "british sign language": "bfi",
    "scots": "sco",
    "polish": "pl",
    "urdu": "ur",
    "punjabi": "pa",
    "arabic": "ar",
    "mandarin": "cmn",
    "cantonese": "yue",
    "chinese": "zh",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "romanian": "ro",
    "lithuanian": "lt",
    "latvian": "lv",
    "bengali": "bn",
    "hindi": "hi",
    "gujarati": "gu",
    "tamil": "ta",
    "turkish": "tr",
    "kurdish": "ku",
    "farsi": "fa",
    "persian": "fa",
    "ukrainian": "uk",
    "russian": "ru",
    "welsh": "cy",
    "irish": "ga",
}
"""ISO 639-1 codes (639-3 where there is none, as for BSL) for the languages people list."""


def last_modified(offer: Offer) -> datetime:
    """When anything people see about the offer last changed: the offer, its price or its
    capacity."""
    moments = [offer.updated_at, offer.capacity_updated_at]
    if offer.price is not None:
        moments.append(offer.price.created_at)
    return max(moments)


def language_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """The provider's languages: in this product languages belong to the provider."""
    return [
        compact(
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
            "unit": {"id": ids.child("unit", unit.value), "name": sentence(unit.label)},
            "available": offer.capacity_amount,
            "description": f"How much more support it can take on now, in {unit.label}.",
            "updated": timestamp(offer.capacity_updated_at),
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
    return compact(
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


def organization_identifier_records(
    provider: Provider, *, ids: HsdsIds, today: date
) -> list[JsonObject]:
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
        compact(
            {
                "phones": phone_records(provider, ids=ids),
                "locations": [base] if base else [],
                "organization_identifiers": organization_identifier_records(
                    provider, ids=ids, today=today
                ),
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
    record = compact(
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
            "last_modified": timestamp(last_modified(offer)),
            "organization": organization_record(provider, ids=ids),
        }
    )
    if not full:
        return record
    location = location_record(offer, ids=ids)
    record.update(
        compact(
            {
                "phones": phone_records(provider, ids=ids),
                "schedules": schedule_records(offer, ids=ids),
                "service_areas": service_area_records(offer, ids=ids),
                "service_at_locations": [
                    service_at_location_record(offer, ids=ids, location=location)
                ]
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


# In ----------------------------------------------------------------------------------------------


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
