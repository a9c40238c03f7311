"""Importing Open Referral (HSDS 3.0) data, as read by providers.hsds.sources:
organizations become providers, services become offers; a report says what was made, and
which records were rejected and why.

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
- Areas: see providers.hsds.places.
- One transaction: the caller's (the CLI's session_scope). Each record is written in its
  own savepoint, so a rejected record leaves nothing behind and the rest still import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.audit import AuditAction
from marketplace.errors import DomainError, RuleBroken
from marketplace.geography.models import CouncilArea
from providers import offers as offers_service
from providers import service as providers_service
from providers.hsds.fields import JsonObject, Problem, Rejection, clean, describe, normalise
from providers.hsds.places import area_fields, council_names, first_place
from providers.hsds.prices import price_details, price_option_label
from providers.hsds.records import capacity_from
from providers.hsds.schedules import availability_from_schedules
from providers.hsds.sources import Bundle
from providers.hsds.taxonomies import match_term
from providers.models import CapacityUnit, Offer, OfferStatus, Provider, ProviderKind, TaxonomyTerm
from providers.offers import OfferDetails

IMPORTED_KIND = ProviderKind.COMMUNITY_GROUP
WEBSITE = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    session: Session,
    *,
    bundles: list[Bundle],
    actor: User,
    on_record: Callable[[], None] | None = None,
) -> ImportReport:
    """Import organizations as providers and services as offers, in the caller's
    transaction; `on_record` is called after each organization and each service."""
    context = _Context(
        session=session,
        actor=actor,
        report=ImportReport(),
        terms=list(session.scalars(select(TaxonomyTerm))),
        councils=council_names(session),
    )
    step = on_record or (lambda: None)
    for bundle in bundles:
        provider = _import_organization(context, bundle)
        step()
        for service in bundle.services:
            if provider is None:
                context.report.rejected.append(
                    Rejection(
                        describe("service", service),
                        "its organization was not imported (see above)",
                    )
                )
            else:
                _import_service(context, service, provider=provider)
            step()
    return context.report


def _import_organization(context: _Context, bundle: Bundle) -> Provider | None:
    session, report, organization = context.session, context.report, bundle.organization or {}
    label = describe("organization", organization)
    name = clean(organization.get("name"))
    if not name:
        report.rejected.append(Rejection(label, "has no name"))
        return None
    if len(name) > 200:
        report.rejected.append(Rejection(label, "has a name longer than 200 characters"))
        return None
    candidates = list(
        session.scalars(
            select(Provider).where(func.lower(Provider.name) == name.lower()).order_by(Provider.id)
        )
    )
    unclaimed = [p for p in candidates if not p.members]
    if candidates and not unclaimed:
        report.rejected.append(
            Rejection(
                label,
                f"a provider called {name!r} manages its own listing here; "
                "an import does not change it",
            )
        )
        return None
    try:
        with session.begin_nested():
            provider = (
                unclaimed[0]
                if unclaimed
                else providers_service.create_listing(session, name=name, kind=IMPORTED_KIND)
            )
            _apply_organization(context, provider, organization, bundle.services, label)
            session.flush()
            audit.record(
                session,
                actor=context.actor,
                action=AuditAction.RECORD_CHANGED,
                subject_type="provider",
                subject_id=provider.id,
                detail={
                    "change": "imported from Open Referral",
                    "hsds_id": str(organization.get("id") or ""),
                },
            )
    except DomainError as error:
        report.rejected.append(Rejection(label, error.message))
        return None
    if unclaimed:
        report.providers_updated += 1
    else:
        report.providers_created += 1
    return provider


def _apply_organization(
    context: _Context,
    provider: Provider,
    organization: JsonObject,
    services: list[JsonObject],
    label: str,
) -> None:
    notes = context.report.notes
    provider.name = clean(organization.get("name"))
    provider.about = str(organization.get("description") or "").strip()
    website = clean(organization.get("website")) or None
    if website and not WEBSITE.match(website):
        notes.append(Rejection(label, f"website {website!r} is not a web address; left out"))
        website = None
    provider.website = website
    email = clean(organization.get("email")) or None
    if email and (not EMAIL.match(email) or len(email) > 254):
        notes.append(Rejection(label, f"email {email!r} is not an email address; left out"))
        email = None
    provider.contact_email = email
    phones = [
        clean(p.get("number")) for p in organization.get("phones") or [] if clean(p.get("number"))
    ]
    provider.phone = phones[0][:40] if phones else None
    base = first_place(context.session, organization.get("locations") or [])
    if base is not None:
        providers_service.set_base(context.session, provider, base)
    languages = [
        clean(lang.get("name"))
        for s in services
        for lang in s.get("languages") or []
        if clean(lang.get("name"))
    ]
    if languages:
        providers_service.set_languages(provider, languages)


def _import_service(context: _Context, service: JsonObject, *, provider: Provider) -> None:
    session, report, actor = context.session, context.report, context.actor
    label = describe("service", service)
    title = clean(service.get("name"))
    if not title:
        report.rejected.append(
            Rejection(label, "has only an id; import the full services, not a list of ids")
        )
        return
    if len(title) > 160:
        report.rejected.append(Rejection(label, "has a name longer than 160 characters"))
        return
    key = (provider.id, title.casefold())
    if key in context.seen:
        report.rejected.append(
            Rejection(
                label,
                f"another service of {provider.name} in this file has the same "
                "name; re-imports match services by name, so names must differ",
            )
        )
        return
    context.seen.add(key)
    status = normalise(service.get("status")) or "active"
    existing = next((o for o in provider.offers if normalise(o.title) == title.casefold()), None)
    if status == "defunct":
        if existing is not None and existing.status != OfferStatus.WITHDRAWN:
            offers_service.withdraw_offer(session, offer=existing, actor=actor)
            report.offers_updated += 1
            report.not_published += 1
        else:
            report.rejected.append(Rejection(label, "is defunct"))
        return
    if existing is not None and existing.status == OfferStatus.WITHDRAWN:
        report.rejected.append(
            Rejection(label, "was withdrawn here; an import does not bring it back")
        )
        return
    try:
        with session.begin_nested():
            details, notes = _offer_details(context, service, provider=provider, title=title)
            offer = _write_offer(context, existing, provider=provider, details=details)
    except (Problem, DomainError) as error:
        report.rejected.append(
            Rejection(label, error.message if isinstance(error, DomainError) else str(error))
        )
        return
    report.notes.extend(Rejection(label, note) for note in notes)
    if existing is None:
        report.offers_created += 1
    else:
        report.offers_updated += 1
    _write_price(context, service, offer=offer, label=label)
    _set_status(context, offer, status=status, label=label)


def _write_offer(
    context: _Context, existing: Offer | None, *, provider: Provider, details: OfferDetails
) -> Offer:
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
    price, rejected, notes = price_details(service, label=label)
    context.report.rejected.extend(rejected)
    context.report.notes.extend(Rejection(label, note) for note in notes)
    if price is None:
        return
    try:
        with context.session.begin_nested():
            offers_service.set_price(
                context.session, offer=offer, actor=context.actor, details=price
            )
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
        ours = match_term(term, context.terms) if term else None
        if ours is not None:
            if ours.id not in term_ids:
                term_ids.append(ours.id)
        else:
            unmatched.append(
                clean(term.get("name") or term.get("code") or attribute.get("taxonomy_term_id"))
                or "?"
            )
    if unmatched:
        notes.append("taxonomy terms with no match here, left out: " + ", ".join(unmatched))
    area, area_notes = area_fields(
        context.session, service, provider=provider, councils=context.councils
    )
    notes += area_notes
    availability, schedule_notes = availability_from_schedules(service.get("schedules") or [])
    notes += schedule_notes
    capacity_unit, capacity = capacity_from(service) or (CapacityUnit.HOURS_PER_WEEK, 0)
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
