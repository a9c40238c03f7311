"""Importing Open Referral (HSDS 3.0) data: a JSON file (one service, a list or page of
services, or organizations with their services; the tabular JSON too) or a tabular data
package (a folder or zip with datapackage.json and CSVs). Organizations become providers,
services become offers; a report says what was made, and which records were rejected and
why.

Decisions, and why:

- Kind. An HSDS organization says nothing we can rely on about Care Inspectorate
  registration (registered provider), size (micro-provider) or being one person (personal
  assistant). A new one is a *community group*, the kind that claims least; directories
  that publish HSDS mostly list community and voluntary organisations. An administrator
  can change it.
- Unclaimed listings. Imported providers have no members: nobody can sign in for them
  until an administrator hands the listing over. A provider that has members manages its
  own listing, so an import never changes it: an organization of the same name is
  rejected, with that reason.
- Re-importing. There is no table of HSDS ids (none exists, and this change adds none),
  so an organization is matched to an unclaimed provider by its name, and a service to
  that provider's offer by its title (both ignoring case and spacing). The same file
  imported twice changes nothing the second time; an updated file updates the offers in
  place (a changed price is a new price version, as always). The cost: renaming a service
  at the source makes a new offer here, and two services of one organization must have
  different names (a second one of the same name is rejected).
- Publishing. An offer is published only when its HSDS status is active and it is complete
  by the rules of providers.offers.publish_offer (a price, a kind of support, an outcome,
  some availability); otherwise it stays a draft, and the report says what is missing.
  Inactive or temporarily closed services are paused if they were published; defunct ones
  are withdrawn (or not imported).
- Areas. A service area whose name (or URI) is a council area or a town here becomes a
  council or settlement area; one written as this feed writes a radius (a GeoJSON extent
  with a centre and radius) becomes that radius. Otherwise the service's first location
  in Scotland, or else the organization's, is the centre of a DEFAULT_RADIUS_KM radius.
- One transaction: the caller's (the CLI's session_scope). Each record is written in its
  own savepoint, so a rejected record leaves nothing behind and the rest still import.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.audit import AuditAction
from marketplace.errors import DomainError, RuleBroken
from marketplace.geography import service as geography_service
from marketplace.geography.models import CouncilArea, Settlement, SettlementKind
from marketplace.geography.reference import search_key
from marketplace.geography.service import Location
from providers import hsds
from providers import offers as offers_service
from providers import service as providers_service
from providers.hsds import JsonObject, Problem
from providers.models import (
    AreaType,
    CapacityUnit,
    Offer,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    TaxonomyTerm,
)
from providers.offers import MAX_RADIUS_KM, Centre, OfferDetails, PriceDetails

DEFAULT_RADIUS_KM = 10.0
"""A service given only as a place (no area) is taken to reach people within 10 km of it:
roughly a quarter of an hour's drive in rural Scotland. The listing's provider can widen
it once they claim it."""
IMPORTED_KIND = ProviderKind.COMMUNITY_GROUP
WEBSITE = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TABULAR_FILES = (
    "organizations", "services", "attributes", "taxonomy_terms", "taxonomies", "cost_options",
    "service_areas", "service_at_location", "locations", "addresses", "languages", "schedules", "phones",
)
"""The tables of HSDS's tabular form this import reads, by their standard file names."""


class SourceError(Exception):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class Rejection:
    record: str
    """Which record, in words: its kind, name and HSDS id."""
    reason: str


@dataclass
class ImportReport:
    providers_created: int = 0
    providers_updated: int = 0
    offers_created: int = 0
    offers_updated: int = 0
    published: int = 0
    not_published: int = 0
    """Drafts, and paused or withdrawn offers."""
    rejected: list[Rejection] = field(default_factory=list)
    """Records not imported, or parts of records (a cost option) left out."""
    notes: list[Rejection] = field(default_factory=list)
    """Imported, with something to know: unmatched terms, a default radius, left as a draft."""


@dataclass
class Bundle:
    """An organization and its services, as the import takes them."""

    organization: JsonObject | None
    services: list[JsonObject]


def describe(kind: str, record: JsonObject | None) -> str:
    record = record or {}
    name = record.get("name")
    return f"{kind} {name!r} ({record.get('id') or 'no id'})" if name else f"{kind} {record.get('id') or 'with no id'}"


def _clean(text: object) -> str:
    return " ".join(str(text or "").split())


# Reading ----------------------------------------------------------------------------------------


def read_source(path: Path) -> tuple[list[Bundle], list[Rejection]]:
    """The organizations and services in a file, folder or zip, and the records that could
    not even be placed under an organization."""
    if path.is_dir():
        items = _assemble(_tables_from_folder(path))
    elif zipfile.is_zipfile(path):
        items = _assemble(_tables_from_zip(path))
    else:
        items = _items_from_json(_read_json(path.read_bytes(), str(path)))
    return _bundles(items)


def _read_json(data: bytes, where: str) -> Any:
    try:
        # Amounts as Decimal from the start: pounds never pass through a float.
        return json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(f"{where} is not JSON: {error}") from None


def _items_from_json(data: Any) -> list[JsonObject]:
    if isinstance(data, dict) and any(str(key).endswith(".csv") for key in data):
        # HSDS's tabular form as JSON: {"services.csv": [rows], ...}
        return _assemble({str(k).removesuffix(".csv"): v for k, v in data.items() if isinstance(v, list)})
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise SourceError("expected an HSDS service or organization, a list of them, or a page of them")
    return data


def _is_service(item: JsonObject) -> bool:
    # Services require a status; organizations have none, nor an organization_id.
    return any(key in item for key in ("status", "organization_id", "organization", "cost_options"))


def _bundles(items: list[JsonObject]) -> tuple[list[Bundle], list[Rejection]]:
    bundles: list[Bundle] = []
    by_key: dict[str, Bundle] = {}
    organizations = {str(i["id"]): i for i in items if not _is_service(i) and i.get("id")}
    rejected = []

    def bundle_for(organization: JsonObject) -> Bundle:
        key = str(organization.get("id") or _clean(organization.get("name")).casefold())
        if key not in by_key:
            by_key[key] = Bundle(organization, [])
            bundles.append(by_key[key])
        elif len(organization) > len(by_key[key].organization or {}):
            by_key[key].organization = organization
        return by_key[key]

    for item in items:
        if _is_service(item):
            organization = item.get("organization") or organizations.get(str(item.get("organization_id")))
            if not organization:
                rejected.append(Rejection(describe("service", item), "names no organization we were given, "
                                          "and every offer here belongs to a provider"))
                continue
            bundle_for(organization).services.append(item)
        else:
            bundle = bundle_for(item)
            bundle.services.extend(item.get("services") or [])
    return bundles, rejected


def _tables_from_folder(folder: Path) -> dict[str, list[JsonObject]]:
    names = _resource_paths((folder / "datapackage.json").read_bytes() if (folder / "datapackage.json").is_file() else None)
    tables = {}
    for table, relative in names.items():
        file = folder / relative
        if file.is_file():
            tables[table] = _read_csv(file.read_bytes(), str(file))
    if "services" not in tables and "organizations" not in tables:
        raise SourceError(f"{folder} has neither services.csv nor organizations.csv")
    return tables


def _tables_from_zip(path: Path) -> dict[str, list[JsonObject]]:
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        package = min((m for m in members if m.rsplit("/", 1)[-1] == "datapackage.json"), key=len, default=None)
        root = package.rsplit("/", 1)[0] + "/" if package and "/" in package else ""
        names = _resource_paths(archive.read(package) if package else None)
        tables = {}
        for table, relative in names.items():
            member = root + relative
            if member in members:
                tables[table] = _read_csv(archive.read(member), f"{path.name}:{member}")
    if "services" not in tables and "organizations" not in tables:
        raise SourceError(f"{path} has neither services.csv nor organizations.csv")
    return tables


def _resource_paths(datapackage: bytes | None) -> dict[str, str]:
    """Each table's file, from datapackage.json's resources, over the standard names."""
    paths = {name: f"{name}.csv" for name in TABULAR_FILES}
    if datapackage is None:
        return paths
    try:
        package = json.loads(datapackage.decode("utf-8-sig"))
        resources = package["resources"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        # The standard's own example package is a link git did not follow: use the
        # standard file names rather than refusing a folder of perfectly good CSVs.
        return paths
    for resource in resources:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            stem = resource["path"].rsplit("/", 1)[-1].removesuffix(".csv")
            if stem in paths:
                paths[stem] = resource["path"]
    return paths


def _read_csv(data: bytes, where: str) -> list[JsonObject]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{where} is not UTF-8 text") from None
    return [{k: (v if v != "" else None) for k, v in row.items() if k} for row in csv.DictReader(io.StringIO(text))]


def _assemble(tables: dict[str, list[JsonObject]]) -> list[JsonObject]:
    """Nest the tabular form's rows the way HSDS JSON nests them: organizations with their
    services, services with their terms, prices, areas, locations, languages and times."""

    def by(table: str, key: str) -> dict[str, list[JsonObject]]:
        grouped: dict[str, list[JsonObject]] = defaultdict(list)
        for row in tables.get(table, []):
            if row.get(key):
                grouped[str(row[key])].append(row)
        return grouped

    taxonomies = {str(r.get("id")): r for r in tables.get("taxonomies", [])}
    terms = {str(r.get("id")): {**r, "taxonomy_detail": taxonomies.get(str(r.get("taxonomy_id")))}
             for r in tables.get("taxonomy_terms", [])}
    addresses = by("addresses", "location_id")
    locations = {str(r.get("id")): {**r, "addresses": addresses.get(str(r.get("id")), [])}
                 for r in tables.get("locations", [])}
    attributes, cost_options, areas = by("attributes", "link_id"), by("cost_options", "service_id"), by("service_areas", "service_id")
    at_locations, languages, schedules = by("service_at_location", "service_id"), by("languages", "service_id"), by("schedules", "service_id")
    services_of: dict[str, list[JsonObject]] = defaultdict(list)
    orphans = []
    organization_ids = {str(r.get("id")) for r in tables.get("organizations", [])}
    for row in tables.get("services", []):
        service_id = str(row.get("id"))
        service = {
            **row,
            "attributes": [
                {**a, "taxonomy_term": terms.get(str(a.get("taxonomy_term_id")))}
                for a in attributes.get(service_id, [])
                if (a.get("link_entity") or "service") == "service"
            ],
            "cost_options": cost_options.get(service_id, []),
            "service_areas": areas.get(service_id, []),
            "service_at_locations": [
                {**s, "location": locations.get(str(s.get("location_id")))} for s in at_locations.get(service_id, [])
            ],
            "languages": languages.get(service_id, []),
            "schedules": [s for s in schedules.get(service_id, []) if not s.get("location_id") or s.get("service_id")],
        }
        if str(row.get("organization_id")) in organization_ids:
            services_of[str(row["organization_id"])].append(service)
        else:
            orphans.append(service)
    organization_locations, organization_phones = by("locations", "organization_id"), by("phones", "organization_id")
    organizations = [
        {
            **row,
            "locations": [locations[str(loc["id"])] for loc in organization_locations.get(str(row.get("id")), [])],
            "phones": organization_phones.get(str(row.get("id")), []),
            "services": services_of.get(str(row.get("id")), []),
        }
        for row in tables.get("organizations", [])
    ]
    return organizations + orphans


# Importing --------------------------------------------------------------------------------------


@dataclass
class _Context:
    session: Session
    actor: User
    report: ImportReport
    terms: list[TaxonomyTerm]
    councils: dict[str, CouncilArea]
    seen: set[tuple[int, str]] = field(default_factory=set)


def count_records(bundles: list[Bundle]) -> int:
    """How many steps an import of these bundles takes: one per organization and service."""
    return sum(1 + len(b.services) for b in bundles)


def import_hsds(
    session: Session, *, bundles: list[Bundle], actor: User, on_record: Callable[[], None] | None = None
) -> ImportReport:
    """Import organizations as providers and services as offers, in the caller's
    transaction; `on_record` is called after each organization and each service."""
    context = _Context(
        session=session, actor=actor, report=ImportReport(),
        terms=list(session.scalars(select(TaxonomyTerm))), councils=_council_names(session),
    )
    step = on_record or (lambda: None)
    for bundle in bundles:
        provider = _import_organization(context, bundle)
        step()
        for service in bundle.services:
            if provider is None:
                context.report.rejected.append(
                    Rejection(describe("service", service), "its organization was not imported (see above)")
                )
            else:
                _import_service(context, service, provider=provider)
            step()
    return context.report


def _import_organization(context: _Context, bundle: Bundle) -> Provider | None:
    session, report, organization = context.session, context.report, bundle.organization or {}
    label = describe("organization", organization)
    name = _clean(organization.get("name"))
    if not name:
        report.rejected.append(Rejection(label, "has no name"))
        return None
    if len(name) > 200:
        report.rejected.append(Rejection(label, "has a name longer than 200 characters"))
        return None
    candidates = list(
        session.scalars(select(Provider).where(func.lower(Provider.name) == name.lower()).order_by(Provider.id))
    )
    unclaimed = [p for p in candidates if not p.members]
    if candidates and not unclaimed:
        report.rejected.append(Rejection(label, f"a provider called {name!r} manages its own listing here; "
                                                "an import does not change it"))
        return None
    try:
        with session.begin_nested():
            provider = unclaimed[0] if unclaimed else Provider(kind=IMPORTED_KIND, name=name)
            session.add(provider)
            _apply_organization(context, provider, organization, bundle.services, label)
            session.flush()
            audit.record(session, actor=context.actor, action=AuditAction.RECORD_CHANGED, subject_type="provider",
                         subject_id=provider.id, detail={"change": "imported from Open Referral",
                                                         "hsds_id": str(organization.get("id") or "")})
    except DomainError as error:
        report.rejected.append(Rejection(label, error.message))
        return None
    if unclaimed:
        report.providers_updated += 1
    else:
        report.providers_created += 1
    return provider


def _apply_organization(
    context: _Context, provider: Provider, organization: JsonObject, services: list[JsonObject], label: str
) -> None:
    notes = context.report.notes
    provider.name = _clean(organization.get("name"))
    provider.about = str(organization.get("description") or "").strip()
    website = _clean(organization.get("website")) or None
    if website and not WEBSITE.match(website):
        notes.append(Rejection(label, f"website {website!r} is not a web address; left out"))
        website = None
    provider.website = website
    email = _clean(organization.get("email")) or None
    if email and (not EMAIL.match(email) or len(email) > 254):
        notes.append(Rejection(label, f"email {email!r} is not an email address; left out"))
        email = None
    provider.contact_email = email
    phones = [_clean(p.get("number")) for p in organization.get("phones") or [] if _clean(p.get("number"))]
    provider.phone = phones[0][:40] if phones else None
    base = _first_place(context.session, organization.get("locations") or [])
    if base is not None:
        providers_service.set_base(provider, base)
    languages = [_clean(lang.get("name")) for s in services for lang in s.get("languages") or [] if _clean(lang.get("name"))]
    if languages:
        providers_service.set_languages(provider, languages)


def _import_service(context: _Context, service: JsonObject, *, provider: Provider) -> None:
    session, report, actor = context.session, context.report, context.actor
    label = describe("service", service)
    title = _clean(service.get("name"))
    if not title:
        report.rejected.append(Rejection(label, "has only an id; import the full services, not a list of ids"))
        return
    if len(title) > 160:
        report.rejected.append(Rejection(label, "has a name longer than 160 characters"))
        return
    key = (provider.id, title.casefold())
    if key in context.seen:
        report.rejected.append(Rejection(label, f"another service of {provider.name} in this file has the same "
                                                "name; re-imports match services by name, so names must differ"))
        return
    context.seen.add(key)
    status = hsds.normalise(service.get("status")) or "active"
    existing = next((o for o in provider.offers if hsds.normalise(o.title) == title.casefold()), None)
    if status == "defunct":
        if existing is not None and existing.status != OfferStatus.WITHDRAWN:
            offers_service.withdraw_offer(session, offer=existing, actor=actor)
            report.offers_updated += 1
            report.not_published += 1
        else:
            report.rejected.append(Rejection(label, "is defunct"))
        return
    if existing is not None and existing.status == OfferStatus.WITHDRAWN:
        report.rejected.append(Rejection(label, "was withdrawn here; an import does not bring it back"))
        return
    try:
        with session.begin_nested():
            details, notes = _offer_details(context, service, provider=provider, title=title)
            offer = _write_offer(context, existing, provider=provider, details=details)
    except (Problem, DomainError) as error:
        report.rejected.append(Rejection(label, error.message if isinstance(error, DomainError) else str(error)))
        return
    report.notes.extend(Rejection(label, note) for note in notes)
    if existing is None:
        report.offers_created += 1
    else:
        report.offers_updated += 1
    _write_price(context, service, offer=offer, label=label)
    _set_status(context, offer, status=status, label=label)


def _write_offer(context: _Context, existing: Offer | None, *, provider: Provider, details: OfferDetails) -> Offer:
    session, actor = context.session, context.actor
    if existing is None:
        return offers_service.create_offer(session, provider=provider, actor=actor, details=details)
    try:
        with session.begin_nested():
            offers_service.update_offer(session, offer=existing, actor=actor, details=details)
    except RuleBroken:
        if existing.status != OfferStatus.PUBLISHED:
            raise
        # No longer complete enough to stay published: pause it, then take the update.
        offers_service.pause_offer(session, offer=existing, actor=actor)
        offers_service.update_offer(session, offer=existing, actor=actor, details=details)
    return existing


def _write_price(context: _Context, service: JsonObject, *, offer: Offer, label: str) -> None:
    price, rejected, notes = _price_details(service, label=label)
    context.report.rejected.extend(rejected)
    context.report.notes.extend(Rejection(label, note) for note in notes)
    if price is None:
        return
    try:
        with context.session.begin_nested():
            offers_service.set_price(context.session, offer=offer, actor=context.actor, details=price)
    except DomainError as error:
        option = price_option_label(service, label)
        context.report.rejected.append(Rejection(option, error.message))


def _set_status(context: _Context, offer: Offer, *, status: str, label: str) -> None:
    session, actor, report = context.session, context.actor, context.report
    if status == "active":
        if offer.status != OfferStatus.PUBLISHED:
            try:
                with session.begin_nested():
                    offers_service.publish_offer(session, offer=offer, actor=actor)
            except DomainError as error:
                report.notes.append(Rejection(label, f"left as a draft: {error.message}"))
    else:
        if offer.status == OfferStatus.PUBLISHED:
            offers_service.pause_offer(session, offer=offer, actor=actor)
        report.notes.append(Rejection(label, f"not published: its status is {status}"))
    if offer.status == OfferStatus.PUBLISHED:
        report.published += 1
    else:
        report.not_published += 1


def _offer_details(
    context: _Context, service: JsonObject, *, provider: Provider, title: str
) -> tuple[OfferDetails, list[str]]:
    notes: list[str] = []
    term_ids, unmatched = [], []
    for attribute in service.get("attributes") or []:
        term = attribute.get("taxonomy_term") or {}
        ours = hsds.match_term(term, context.terms) if term else None
        if ours is not None:
            if ours.id not in term_ids:
                term_ids.append(ours.id)
        else:
            unmatched.append(_clean(term.get("name") or term.get("code") or attribute.get("taxonomy_term_id")) or "?")
    if unmatched:
        notes.append("taxonomy terms with no match here, left out: " + ", ".join(unmatched))
    area, area_notes = _area(context, service, provider=provider)
    notes += area_notes
    availability, schedule_notes = hsds.availability_from_schedules(service.get("schedules") or [])
    notes += schedule_notes
    capacity_unit, capacity = hsds.capacity_from(service) or (CapacityUnit.HOURS_PER_WEEK, 0)
    details = OfferDetails(
        title=title,
        description=str(service.get("description") or "").strip(),
        term_ids=term_ids,
        availability=availability,
        capacity_unit=capacity_unit,
        capacity_amount=capacity,
        **area,
    )
    return details, notes


def _council_names(session: Session) -> dict[str, CouncilArea]:
    """Council areas by the names people write them in: 'Highland', 'The Highland
    Council', 'Edinburgh', 'Western Isles', 'Perth & Kinross'."""
    names = {}
    for council in session.scalars(select(CouncilArea)):
        key = _council_key(council.name)
        names[key] = council
        names[key.removeprefix("city of ")] = council
        names[key.removesuffix(" city")] = council
        names[council.gss_code.casefold()] = council
    for alias, official in (("western isles", "na h-eileanan siar"), ("eilean siar", "na h-eileanan siar"),
                            ("orkney", "orkney islands"), ("shetland", "shetland islands"),
                            ("borders", "scottish borders")):
        if official in names:
            names[alias] = names[official]
    return names


def _council_key(text: str) -> str:
    key = hsds.normalise(text).replace("&", "and")
    key = re.sub(r"^(the|comhairle nan)\s+", "", key)
    return re.sub(r"\s+(council area|council|area)$", "", key)


_RADIUS_NAME = re.compile(r"^within [\d.]+ km of (?P<label>.+)$", re.IGNORECASE)


def _area(context: _Context, service: JsonObject, *, provider: Provider) -> tuple[dict[str, Any], list[str]]:
    """The offer's area fields, and notes on what was assumed or left out."""
    session = context.session
    councils: list[int] = []
    settlements: list[int] = []
    radius: tuple[Centre, float] | None = None
    unmatched = []
    for area in service.get("service_areas") or []:
        name = _clean(area.get("name"))
        circle = hsds.radius_from_extent(area)
        if circle is not None:
            place = _place(session, f"{circle[0]}, {circle[1]}")
            if place is not None:
                named = _RADIUS_NAME.match(name)
                label = named.group("label") if named else place.label
                radius = (Centre(label, place.latitude, place.longitude), circle[2])
                continue
        gss = re.search(r"S12\d{6}", str(area.get("uri") or ""))
        council = context.councils.get(gss.group(0).casefold()) if gss else context.councils.get(_council_key(name))
        if council is not None:
            councils.append(council.id)
            continue
        found = _settlements(session, area, name)
        if found:
            settlements += [s.id for s in found]
            continue
        unmatched.append(name or str(area.get("id")))
    notes = [f"service area {name!r} matches no council area or town here; left out" for name in unmatched]
    if councils:
        return {"area_type": AreaType.COUNCILS, "council_ids": list(dict.fromkeys(councils))}, notes
    if settlements:
        return {"area_type": AreaType.SETTLEMENTS, "settlement_ids": list(dict.fromkeys(settlements))}, notes
    if radius is not None:
        centre, km = radius
        if km > MAX_RADIUS_KM:
            notes.append(f"a radius of {km:g} km is more than the {MAX_RADIUS_KM} km allowed here; cut to {MAX_RADIUS_KM} km")
            km = MAX_RADIUS_KM
        return {"area_type": AreaType.RADIUS, "centre": centre, "radius_km": km}, notes
    locations = [s.get("location") or {} for s in service.get("service_at_locations") or []]
    place = _first_place(session, locations)
    if place is not None:
        notes.append(f"no service area here: taken as within {DEFAULT_RADIUS_KM:g} km of {place.label}")
        return {"area_type": AreaType.RADIUS, "centre": Centre.of(place), "radius_km": DEFAULT_RADIUS_KM}, notes
    if provider.base_latitude is not None:
        notes.append(f"no service area or location here: taken as within {DEFAULT_RADIUS_KM:g} km of the "
                     f"organization's base, {provider.base_label}")
        return {"area_type": AreaType.RADIUS, "centre": None, "radius_km": DEFAULT_RADIUS_KM}, notes
    named = "; its service areas name no council area or town here: " + ", ".join(
        repr(name if len(name) <= 60 else name[:57] + "...") for name in unmatched
    ) if unmatched else ""
    raise Problem(f"has no service area, location or organization address that we can place in Scotland{named}")


def _settlements(session: Session, area: JsonObject, name: str) -> list[Settlement]:
    """The towns a service area names: by its GeoNames URI, its whole name, or each of a
    list ('Portree, Broadford and Kyle of Lochalsh'); all of a list must be found."""
    geonames = re.search(r"geonames\.org/(\d+)", str(area.get("uri") or ""))
    if geonames:
        found = session.get(Settlement, int(geonames.group(1)))
        if found is not None:
            return [found]
    parts = [name] + ([p for p in re.split(r"\s*,\s*|\s+and\s+", name) if p] if re.search(r",| and ", name) else [])
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
                (func.lower(Settlement.label) == name.lower()) | (Settlement.search_key == search_key(name)),
                Settlement.kind != SettlementKind.DUPLICATE,
            )
        )
    )
    return matches[0] if len(matches) == 1 else None


def _place(session: Session, text: str) -> Location | None:
    try:
        return geography_service.resolve_location(session, text=text)
    except DomainError:
        return None


def _first_place(session: Session, locations: Iterable[JsonObject]) -> Location | None:
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
                found = _place(session, _clean(text)) if _clean(text) else None
                if found is not None:
                    return found
    return None


def price_option_label(service: JsonObject, label: str) -> str:
    options = service.get("cost_options") or []
    main = next((o for o in options if not hsds.uplift_field(str(o.get("option") or ""))), None)
    return f"cost option {main.get('id') if main else ''} of {label}"


def _price_details(service: JsonObject, *, label: str) -> tuple[PriceDetails | None, list[Rejection], list[str]]:
    """The first cost option in pounds with a unit we understand is the rate; options for
    evenings, weekends or public holidays become uplifts on it."""
    rejected: list[Rejection] = []
    notes: list[str] = []
    rate: tuple[PriceUnit, int | None, int, JsonObject] | None = None
    uplifted: dict[str, int] = {}
    for option in service.get("cost_options") or []:
        where = f"cost option {option.get('id') or ''} of {label}"
        currency = hsds.normalise(option.get("currency")) or "gbp"
        if currency != "gbp":
            rejected.append(Rejection(where, f"is in {currency.upper()}, not pounds"))
            continue
        try:
            pence = hsds.amount_to_pence(option.get("amount"))
        except Problem as problem:
            rejected.append(Rejection(where, str(problem)))
            continue
        condition = str(option.get("option") or "")
        uplift = hsds.uplift_field(condition)
        if uplift is not None:
            uplifted[uplift] = pence
            continue
        if rate is not None:
            notes.append(f"only the first price is kept; {where} ({condition or 'no condition'}) left out")
            continue
        words = " ".join(str(option.get(k) or "") for k in ("amount_description", "option"))
        unit = hsds.parse_price_unit(words)
        if unit is None:
            rejected.append(Rejection(where, "does not say what the amount is for (per hour, session, day, "
                                             "night or week, or one-off)"))
            continue
        if unit[0].needs_length and not unit[1]:
            rejected.append(Rejection(where, f"does not say how long a {unit[0].label} is"))
            continue
        rate = (unit[0], unit[1], pence, option)
    if rate is None:
        return None, rejected, notes
    unit, minutes, pence, option = rate
    uplifts = {}
    for name, amount in uplifted.items():
        try:
            uplifts[name] = hsds.uplift_basis_points(rate_pence=pence, uplifted_pence=amount)
        except Problem as problem:
            rejected.append(Rejection(f"{name.removesuffix('_uplift_bp').replace('_', ' ')} cost option of {label}", str(problem)))
    details = PriceDetails(
        unit=unit, rate_pence=pence, unit_minutes=minutes,
        included=hsds.included_from(str(option.get("amount_description") or "")), **uplifts,
    )
    return details, rejected, notes
