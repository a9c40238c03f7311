"""The feed's queries: what /openreferral/ (providers.openreferral) answers with. Only
published offers are services, and only providers with one are organizations; lists come a
page at a time with the header HSDS 3.0's API puts before `contents`, filtered as the
standard says (all filters hold at once), and an id that is not one of ours finds nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from marketplace.errors import NotFound, RuleBroken
from marketplace.geography import service as geography_service
from marketplace.geography.distance import haversine_km
from marketplace.geography.service import Location
from providers.hsds.fields import JsonObject, normalise, timestamp
from providers.hsds.ids import HsdsIds, RecordKind
from providers.hsds.places import location_record, offer_location, service_at_location_record
from providers.hsds.records import (
    full_organization_record,
    last_modified,
    organization_record,
    service_record,
)
from providers.hsds.taxonomies import taxonomy_record, taxonomy_term_record
from providers.models import (
    AreaType,
    Offer,
    OfferPrice,
    OfferStatus,
    Provider,
    Taxonomy,
    TaxonomyTerm,
    offer_council,
    offer_settlement,
    offer_term,
)
from providers.offers import MAX_RADIUS_KM

HSDS_VERSION = "3.0"
PROFILE_URL = "https://docs.openreferral.org/en/v3.0/"
"""No named profile: the feed follows base HSDS 3.0, plus the 3.1-shaped `capacities`."""
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def cut(self, items: list[Any]) -> list[Any]:
        """This page of a list that is already in memory."""
        return items[self.offset : self.offset + self.per_page]


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


def published_offers(*, ids: HsdsIds, filters: ServiceFilters) -> Select[Offer]:
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
            Offer.id.in_(
                select(offer_term.c.offer_id).where(offer_term.c.term_id == (term or _NO_MATCH))
            )
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
            Offer.provider_id
            == (ids.number(RecordKind.ORGANIZATION, filters.organization_id) or _NO_MATCH)
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
    session: Session,
    *,
    ids: HsdsIds,
    filters: ServiceFilters,
    paging: Paging,
    full: bool = False,
    minimal: bool = False,
) -> Page:
    offers, total = _page_of(session, published_offers(ids=ids, filters=filters), paging)
    if minimal:
        contents = [
            {"id": ids.of(RecordKind.SERVICE, o.id), "last_modified": timestamp(last_modified(o))}
            for o in offers
        ]
    else:
        contents = [service_record(offer, ids=ids, full=full) for offer in offers]
    return Page(contents, total, paging)


def _published(session: Session, *, ids: HsdsIds, kind: int, text: str) -> Offer | None:
    """The published offer one of our ids of this kind names; None for anything else."""
    number = ids.number(kind, text)
    offer = session.get(Offer, number) if number is not None else None
    return offer if offer is not None and offer.status == OfferStatus.PUBLISHED else None


def published_offer(session: Session, *, ids: HsdsIds, service_id: str) -> Offer:
    """The published offer a service id names; anything else is not found, alike."""
    offer = _published(session, ids=ids, kind=RecordKind.SERVICE, text=service_id)
    if offer is None:
        raise NotFound("There is no published service with this id")
    return offer


def _listed_providers(search: str | None) -> Select[Provider]:
    """Providers with at least one published offer: publishing is what makes one public."""
    has_published = (
        select(Offer.id)
        .where(Offer.provider_id == Provider.id, Offer.status == OfferStatus.PUBLISHED)
        .exists()
    )
    query = select(Provider).where(has_published)
    if search:
        pattern = _like(search.strip())
        query = query.where(
            or_(
                Provider.name.ilike(pattern, escape="\\"),
                Provider.about.ilike(pattern, escape="\\"),
            )
        )
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
        service_record(o, ids=ids, full=True)
        if full_service
        else {"id": ids.of(RecordKind.SERVICE, o.id), "name": o.title, "status": "active"}
        for o in offers
    ]
    return full_organization_record(provider, ids=ids, services=services, today=today)


def organizations_page(
    session: Session,
    *,
    ids: HsdsIds,
    search: str | None,
    paging: Paging,
    full: bool,
    full_service: bool,
    today: date,
) -> Page:
    providers, total = _page_of(session, _listed_providers(search), paging)
    if not (full or full_service):
        return Page([organization_record(p, ids=ids) for p in providers], total, paging)
    offers = _published_offers_of(session, providers)
    contents = [
        _full_organization(p, offers[p.id], ids=ids, full_service=full_service, today=today)
        for p in providers
    ]
    return Page(contents, total, paging)


def organization(
    session: Session, *, ids: HsdsIds, organization_id: str, full_service: bool, today: date
) -> JsonObject:
    number = ids.number(RecordKind.ORGANIZATION, organization_id)
    provider = (
        session.scalar(_listed_providers(None).where(Provider.id == number))
        if number is not None
        else None
    )
    if provider is None:
        raise NotFound("There is no listed organization with this id")
    offers = _published_offers_of(session, [provider])[provider.id]
    return _full_organization(provider, offers, ids=ids, full_service=full_service, today=today)


def _in_memory_page(records: list[JsonObject], paging: Paging) -> Page:
    return Page(paging.cut(records), len(records), paging)


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
    session: Session,
    *,
    ids: HsdsIds,
    search: str | None,
    taxonomy_id: str | None,
    parent_id: str | None,
    paging: Paging,
) -> Page:
    """Our taxonomies are flat: every term is a top-level term (so HSDS's top_only changes
    nothing), and none has a parent."""
    if parent_id is not None:
        return _in_memory_page([], paging)
    query = select(TaxonomyTerm).order_by(
        TaxonomyTerm.taxonomy, TaxonomyTerm.position, TaxonomyTerm.id
    )
    if taxonomy_id is not None:
        wanted = ids.taxonomy_of(taxonomy_id)
        query = query.where(
            TaxonomyTerm.taxonomy == wanted if wanted else TaxonomyTerm.id == _NO_MATCH
        )
    records = [
        taxonomy_term_record(t, ids=ids, with_taxonomy=False) for t in session.scalars(query)
    ]
    return _in_memory_page([r for r in records if _matches(r, search)], paging)


def taxonomy_term(session: Session, *, ids: HsdsIds, term_id: str) -> JsonObject:
    number = ids.number(RecordKind.TAXONOMY_TERM, term_id)
    term = session.get(TaxonomyTerm, number) if number is not None else None
    if term is None:
        raise NotFound("There is no taxonomy term with this id")
    return taxonomy_term_record(term, ids=ids)


def _with_location(query: Select[Offer]) -> Select[Offer]:
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
    return Near(
        geography_service.resolve_location(session, text=postcode, field="postcode"), proximity_m
    )


def _may_reach(query: Select[Offer], place: Location) -> Select[Offer]:
    """Offers whose area could hold the place: its council, its nearest town, or a radius
    centred within the longest radius allowed (checked exactly by _reaches)."""
    lat_span = MAX_RADIUS_KM / 111.0
    lon_span = lat_span / max(math.cos(math.radians(place.latitude)), 0.1)
    return query.where(
        or_(
            and_(
                Offer.area_type == AreaType.RADIUS,
                Offer.centre_latitude.between(place.latitude - lat_span, place.latitude + lat_span),
                Offer.centre_longitude.between(
                    place.longitude - lon_span, place.longitude + lon_span
                ),
            ),
            and_(
                Offer.area_type == AreaType.COUNCILS,
                Offer.id.in_(
                    select(offer_council.c.offer_id).where(
                        offer_council.c.council_id == place.council.id
                    )
                ),
            ),
            and_(
                Offer.area_type == AreaType.SETTLEMENTS,
                Offer.id.in_(
                    select(offer_settlement.c.offer_id).where(
                        offer_settlement.c.settlement_id == place.settlement.id
                    )
                ),
            ),
        )
    )


def _reaches(offer: Offer, where: Near) -> bool:
    place = where.place
    if offer.area_type == AreaType.RADIUS:
        assert (
            offer.centre_latitude is not None
            and offer.centre_longitude is not None
            and offer.radius_km
        )
        if (
            haversine_km(
                offer.centre_latitude, offer.centre_longitude, place.latitude, place.longitude
            )
            > offer.radius_km
        ):
            return False
    if where.proximity_m is not None:
        found = offer_location(offer)
        if found is None:
            return False
        distance_km = haversine_km(found[1], found[2], place.latitude, place.longitude)
        return distance_km * 1000 <= where.proximity_m
    return True


def service_at_locations_page(
    session: Session,
    *,
    ids: HsdsIds,
    filters: ServiceFilters,
    paging: Paging,
    full: bool,
    where: Near | None = None,
) -> Page:
    query = _with_location(published_offers(ids=ids, filters=filters))
    if where is None:
        offers, total = _page_of(session, query, paging)
    else:
        # The exact distance is worked out here, so the page is cut after it.
        reaching = [
            o
            for o in session.scalars(_may_reach(query, where.place)).unique()
            if _reaches(o, where)
        ]
        offers, total = paging.cut(reaching), len(reaching)
    contents = [
        service_at_location_record(o, ids=ids, service=service_record(o, ids=ids, full=full))
        for o in offers
    ]
    return Page(contents, total, paging)


def service_at_location(
    session: Session, *, ids: HsdsIds, service_at_location_id: str
) -> JsonObject:
    offer = _published(
        session, ids=ids, kind=RecordKind.SERVICE_AT_LOCATION, text=service_at_location_id
    )
    if offer is None or location_record(offer, ids=ids) is None:
        raise NotFound("There is no service at location with this id")
    return service_at_location_record(
        offer, ids=ids, service=service_record(offer, ids=ids, full=True)
    )
