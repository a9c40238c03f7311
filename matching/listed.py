"""Offers as lists show them (search results, the shortlist, the JSON match): read in three
queries however many there are, the offers with their providers and current prices, then
the providers' checks and the sums of their reviews, as plain records. Loaded as ORM
objects they cost a search page more than its matching did; lists never change what they
show, so they need none of the ORM's bookkeeping. Searches keep them in the worker's index
(index.OfferMemo), which forgets an offer when the change log names it or its provider."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import Session, aliased

from matching import change_log
from matching.index import OfferIndex
from providers import reviews as reviews_service
from providers.models import (
    AreaType,
    CapacityUnit,
    Check,
    CheckKind,
    CheckStatus,
    FeePeriod,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    TravelCharge,
    check_status_on,
)
from providers.reviews import ReviewSummary


@dataclass(frozen=True, slots=True)
class ListedPrice:
    """An offer's current price: what its sums and the page read (pricing.WeeklyPriceTerms)."""

    unit: PriceUnit
    rate_pence: int
    unit_minutes: int | None
    evening_uplift_bp: int
    weekend_uplift_bp: int
    night_uplift_bp: int
    public_holiday_uplift_bp: int
    travel_charge: TravelCharge
    travel_charge_pence: int
    management_fee_bp: int | None
    management_fee_fixed_pence: int | None
    management_fee_period: FeePeriod | None


PRICE_FIELDS = tuple(ListedPrice.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class ListedCheck:
    kind: CheckKind
    status: CheckStatus
    expires_on: date | None
    grades: dict[str, int] | None

    def status_on(self, today: date) -> CheckStatus:
        return check_status_on(self.status, self.expires_on, today)


@dataclass(frozen=True, slots=True)
class ListedProvider:
    id: int
    name: str
    kind: ProviderKind
    base_latitude: float | None
    base_longitude: float | None
    checks: tuple[ListedCheck, ...]
    reviews: ReviewSummary | None
    """Its published reviews in sum; None when it has none."""


@dataclass(frozen=True, slots=True)
class ListedOffer:
    id: int
    provider_id: int
    title: str
    status: OfferStatus
    area_type: AreaType
    centre_latitude: float | None
    centre_longitude: float | None
    capacity_unit: CapacityUnit
    capacity_amount: int
    capacity_updated_at: datetime
    typical_week_hours: int
    provider: ListedProvider
    price: ListedPrice | None
    """The current price (the latest version), as Offer.price is."""


_newer = aliased(OfferPrice)
_price = OfferPrice.__table__.c
# Built once: building a statement of thirty columns costs more than running it.
OFFERS = (
    select(
        Offer.id,
        Offer.provider_id,
        Offer.title,
        Offer.status,
        Offer.area_type,
        Offer.centre_latitude,
        Offer.centre_longitude,
        Offer.capacity_unit,
        Offer.capacity_amount,
        Offer.capacity_updated_at,
        Offer.typical_week_hours,
        Provider.name.label("provider_name"),
        Provider.kind.label("provider_kind"),
        Provider.base_latitude,
        Provider.base_longitude,
        _price.id.label("price_id"),
        *(_price[name].label(f"price_{name}") for name in PRICE_FIELDS),
    )
    .join(Provider, Provider.id == Offer.provider_id)
    .outerjoin(
        OfferPrice,
        and_(
            OfferPrice.offer_id == Offer.id,
            # the current version: none newer
            ~exists().where(_newer.offer_id == Offer.id, _newer.version > OfferPrice.version),
        ),
    )
    .where(Offer.id.in_(bindparam("offer_ids", expanding=True)))
)
CHECKS = (
    select(Check.provider_id, Check.kind, Check.status, Check.expires_on, Check.grades)
    .where(Check.provider_id.in_(bindparam("provider_ids", expanding=True)))
    .order_by(Check.id)
)


def listed_offers(
    session: Session, *, offer_ids: Iterable[int], index: OfferIndex | None = None
) -> dict[int, ListedOffer]:
    """The offers with these ids that exist, by id. With the worker's index, those it has
    kept come from memory and the rest are read and kept: a search page shows the same
    offers near the same places over and over, and the index forgets each one as soon as it
    hears that the offer, its price or its provider (with its checks and reviews) changed."""
    ids = sorted(set(offer_ids))
    if not ids:
        return {}
    if index is None or change_log.changed_uncommitted(session):
        return _read(session, ids)
    index.refresh(session)
    with index.lock:
        generation = index.generation
        found = {
            offer_id: offer
            for offer_id in ids
            if (offer := index.offers_memo.get(offer_id)) is not None
        }
    missing = [offer_id for offer_id in ids if offer_id not in found]
    if missing:
        read = _read(session, missing)
        with index.lock:
            # The index heard of a change meanwhile, and forgot what it names before these
            # rows (read perhaps before that change) could be kept: keep none of them.
            if index.generation == generation:
                for offer in read.values():
                    index.offers_memo.put(offer.id, offer.provider_id, offer)
        found |= read
    return found


def _read(session: Session, ids: list[int]) -> dict[int, ListedOffer]:
    # Core statements through the connection: the ORM's handling would double their cost.
    connection = session.connection()
    rows = connection.execute(OFFERS, {"offer_ids": ids}).all()
    checks: dict[int, list[ListedCheck]] = {}
    provider_ids = sorted({row.provider_id for row in rows})
    if provider_ids:
        for provider_id, kind, status, expires_on, grades in connection.execute(
            CHECKS, {"provider_ids": provider_ids}
        ):
            checks.setdefault(provider_id, []).append(
                ListedCheck(kind=kind, status=status, expires_on=expires_on, grades=grades)
            )
    reviews = reviews_service.review_summaries(session, provider_ids=provider_ids)
    providers: dict[int, ListedProvider] = {}
    listed = {}
    for row in rows:
        provider = providers.get(row.provider_id)
        if provider is None:
            provider = providers[row.provider_id] = ListedProvider(
                id=row.provider_id,
                name=row.provider_name,
                kind=row.provider_kind,
                base_latitude=row.base_latitude,
                base_longitude=row.base_longitude,
                checks=tuple(checks.get(row.provider_id, ())),
                reviews=reviews.get(row.provider_id),
            )
        values = row._mapping
        listed[row.id] = ListedOffer(
            id=row.id,
            provider_id=row.provider_id,
            title=row.title,
            status=row.status,
            area_type=row.area_type,
            centre_latitude=row.centre_latitude,
            centre_longitude=row.centre_longitude,
            capacity_unit=row.capacity_unit,
            capacity_amount=row.capacity_amount,
            capacity_updated_at=row.capacity_updated_at,
            typical_week_hours=row.typical_week_hours,
            provider=provider,
            price=None
            if row.price_id is None
            else ListedPrice(*(values[f"price_{name}"] for name in PRICE_FIELDS)),
        )
    return listed


class CheckFacts(Protocol):
    """What trust is judged on: a Check, or a listed one."""

    @property
    def kind(self) -> CheckKind: ...
    @property
    def grades(self) -> dict[str, int] | None: ...
    def status_on(self, today: date) -> CheckStatus: ...


@dataclass(frozen=True)
class Trust:
    """The checks people look for first, as verified by us and still current."""

    pvg: bool
    registered: bool
    """Registered with the Care Inspectorate."""
    grades: tuple[int, ...]
    """The Care Inspectorate's grades, 1 to 6, from a verified registration."""
    insured: bool
    """Public liability insurance."""

    @property
    def lowest_grade(self) -> int | None:
        return min(self.grades) if self.grades else None

    @property
    def highest_grade(self) -> int | None:
        return max(self.grades) if self.grades else None


def trust_of(checks: Iterable[CheckFacts], *, today: date) -> Trust:
    """A provider's trust, from its checks."""
    verified = [check for check in checks if check.status_on(today) == CheckStatus.VERIFIED]
    registrations = [check for check in verified if check.kind == CheckKind.CARE_INSPECTORATE]
    return Trust(
        pvg=any(check.kind == CheckKind.PVG for check in verified),
        registered=bool(registrations),
        grades=tuple(grade for check in registrations for grade in (check.grades or {}).values()),
        insured=any(check.kind == CheckKind.INSURANCE for check in verified),
    )
