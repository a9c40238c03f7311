"""Offers: what a provider publishes, where it reaches, when, with what capacity and at what
price. Prices are versioned; an offer's lifecycle is draft, published, paused, withdrawn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts.models import User
from marketplace.audit import AuditAction
from marketplace.db import utcnow
from marketplace.errors import Conflict, FieldError, RuleBroken, Rules
from marketplace.geography.models import CouncilArea, Settlement
from marketplace.geography.service import Location
from providers import areas
from providers.models import (
    AreaType,
    CapacityUnit,
    FeePeriod,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    Taxonomy,
    TaxonomyTerm,
    TravelCharge,
)
from providers.pricing import PriceTerms, hourly_equivalent_pence

MAX_RADIUS_KM = 200
STALE_CAPACITY_DAYS = 30
MAX_HOURLY_PENCE = 25_000
"""£250 an hour: anything dearer is taken to be a typing mistake."""
MAX_UNIT_PENCE = 1_000_000
"""£10,000 for a week or a one-off."""
MAX_UPLIFT_BP = 20_000
"""Uplifts up to 200%."""


OfferListener = Callable[[Session, Offer], None]
_published_listeners: list[OfferListener] = []


def on_offer_published(listener: OfferListener) -> None:
    """Call `listener` in the same transaction whenever an offer is published, or changed
    (its details or price) while published. Packages above providers (matching sends the
    offer to open posted needs) listen this way, because providers may not import them."""
    if listener not in _published_listeners:
        _published_listeners.append(listener)


def _tell_published(session: Session, offer: Offer) -> None:
    if offer.status != OfferStatus.PUBLISHED:
        return
    session.flush()
    for listener in _published_listeners:
        listener(session, offer)


class Centre(NamedTuple):
    """Where a radius is measured from."""

    label: str
    latitude: float
    longitude: float

    @classmethod
    def of(cls, location: Location) -> Centre:
        return cls(location.kept_label, location.latitude, location.longitude)


@dataclass
class OfferDetails:
    """Everything about an offer except its price and its status."""

    title: str
    description: str
    term_ids: list[int]
    area_type: AreaType
    centre: Centre | None = None
    """None: the provider's base."""
    radius_km: float | None = None
    council_ids: list[int] = field(default_factory=list)
    settlement_ids: list[int] = field(default_factory=list)
    availability: int = 0
    capacity_unit: CapacityUnit = CapacityUnit.HOURS_PER_WEEK
    capacity_amount: int = 0
    minimum_booking_minutes: int | None = None
    typical_week_hours: int = 10


@dataclass(frozen=True)
class PriceDetails:
    unit: PriceUnit
    rate_pence: int
    unit_minutes: int | None = None
    evening_uplift_bp: int = 0
    weekend_uplift_bp: int = 0
    night_uplift_bp: int = 0
    public_holiday_uplift_bp: int = 0
    travel_charge: TravelCharge = TravelCharge.NONE
    travel_charge_pence: int = 0
    included: str = ""
    management_fee_bp: int | None = None
    management_fee_fixed_pence: int | None = None
    management_fee_period: FeePeriod | None = None


MAX_CAPACITY = {CapacityUnit.HOURS_PER_WEEK: 5_000, CapacityUnit.PLACES: 500}
"""More than one offer's service could take on in a week (5,000 hours is over 130 full-time
staff): a larger figure is a typing slip."""


def _check_capacity(rules: Rules, unit: CapacityUnit, amount: int) -> None:
    most = MAX_CAPACITY[unit]
    if not 0 <= amount <= most:
        rules.broken(f"Enter from 0 to {most:,} {unit.label}", field="capacity_amount")


def _apply(
    session: Session, offer: Offer, details: OfferDetails, price: PriceDetails | None = None
) -> None:
    agreed_area = areas.area_key(offer) if offer.area_agreed_at is not None else None
    _apply_details(session, offer, details, price)
    if agreed_area is not None and areas.area_key(offer) != agreed_area:
        # An agreement covers the area it was given for, not whatever it is changed to.
        offer.area_agreed_at, offer.area_agreed_by_id = None, None


def _apply_details(
    session: Session, offer: Offer, details: OfferDetails, price: PriceDetails | None
) -> None:
    """Check every rule (the first price's too, for a new offer) before changing anything."""
    with Rules() as rules:
        if not details.title.strip():
            rules.broken("Enter a title for the offer", field="title")
        terms = list(
            session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.id.in_(details.term_ids)))
        )
        if len(terms) != len(set(details.term_ids)):
            rules.broken("Choose from the lists given", field="kinds_of_support")
        centre = None
        councils: list[CouncilArea] = []
        settlements: list[Settlement] = []
        if details.area_type == AreaType.RADIUS:
            if details.radius_km is None or not 0 < details.radius_km <= MAX_RADIUS_KM:
                rules.broken(
                    f"Enter how far you will travel, from 1 to {MAX_RADIUS_KM} km",
                    field="radius_km",
                )
            centre = details.centre or _provider_base(offer.provider)
            if centre is None:
                rules.broken("Enter where you travel from", field="centre")
        elif details.area_type == AreaType.COUNCILS:
            councils = list(
                session.scalars(select(CouncilArea).where(CouncilArea.id.in_(details.council_ids)))
            )
            if not councils:
                rules.broken("Choose at least one council area", field="council_ids")
        else:
            settlements = list(
                session.scalars(select(Settlement).where(Settlement.id.in_(details.settlement_ids)))
            )
            if not settlements:
                rules.broken("Add at least one town or village", field="settlements")
        _check_capacity(rules, details.capacity_unit, details.capacity_amount)
        if not 1 <= details.typical_week_hours <= 168:
            rules.broken("A typical week is from 1 to 168 hours", field="typical_week_hours")
        if price is not None:
            _check_price(rules, price, holds_isf=offer.provider.holds_isf)
    if centre is not None:
        offer.centre_label, offer.centre_latitude, offer.centre_longitude = centre
        offer.radius_km = details.radius_km
    else:
        offer.radius_km = None
    offer.area_councils, offer.area_settlements = councils, settlements
    offer.title = details.title.strip()
    offer.description = details.description.strip()
    offer.terms = terms
    offer.area_type = details.area_type
    offer.availability = details.availability
    if (offer.capacity_unit, offer.capacity_amount) != (
        details.capacity_unit,
        details.capacity_amount,
    ):
        offer.capacity_updated_at = utcnow()
    offer.capacity_unit = details.capacity_unit
    offer.capacity_amount = details.capacity_amount
    offer.minimum_booking_minutes = details.minimum_booking_minutes
    offer.typical_week_hours = details.typical_week_hours


def _provider_base(provider: Provider) -> Centre | None:
    if provider.base_latitude is None or provider.base_longitude is None:
        return None
    return Centre(provider.base_label or "", provider.base_latitude, provider.base_longitude)


def create_offer(
    session: Session,
    *,
    provider: Provider,
    actor: User,
    details: OfferDetails,
    price: PriceDetails | None = None,
) -> Offer:
    """A new offer, as a draft until it is published, with its first price if given."""
    offer = Offer(provider=provider, status=OfferStatus.DRAFT, title="")
    session.add(offer)
    _apply(session, offer, details, price)
    session.flush()
    _audit(session, actor, offer, "created")
    if price is not None:
        set_price(session, offer=offer, actor=actor, details=price)
    return offer


def update_offer(session: Session, *, offer: Offer, actor: User, details: OfferDetails) -> None:
    if offer.status == OfferStatus.WITHDRAWN:
        raise Conflict("This offer has been withdrawn; make a new one instead")
    _apply(session, offer, details)
    if offer.status == OfferStatus.PUBLISHED:
        _check_publishable(offer)
        if _waits_for_agreement(offer):
            offer.status = OfferStatus.AWAITING_AGREEMENT
    session.flush()
    _audit(session, actor, offer, "updated")
    _tell_published(session, offer)


def _check_price(rules: Rules, details: PriceDetails, *, holds_isf: bool) -> None:
    if details.rate_pence <= 0:
        rules.broken("Enter a price of more than £0", field="rate")
    if details.unit.needs_length and not (
        details.unit_minutes and 15 <= details.unit_minutes <= 24 * 60
    ):
        rules.broken(
            f"Enter how long a {details.unit.label} is, from 0.25 to 24 hours",
            field="unit_hours",
        )
    if details.unit in (PriceUnit.WEEK, PriceUnit.ONE_OFF):
        if details.rate_pence > MAX_UNIT_PENCE:
            rules.broken("That price looks too high: check it is in pounds", field="rate")
    elif details.rate_pence * 60 // (details.unit_minutes or 60) > MAX_HOURLY_PENCE:
        rules.broken("That is more than £250 an hour: check the price is in pounds", field="rate")
    for name, value in (
        ("evening_uplift", details.evening_uplift_bp),
        ("weekend_uplift", details.weekend_uplift_bp),
        ("night_uplift", details.night_uplift_bp),
        ("public_holiday_uplift", details.public_holiday_uplift_bp),
    ):
        if not 0 <= value <= MAX_UPLIFT_BP:
            rules.broken("Enter an extra charge from 0% to 200%", field=name)
    if details.travel_charge != TravelCharge.NONE and not (
        0 < details.travel_charge_pence <= 10_000
    ):
        rules.broken("Enter the travel charge, up to £100", field="travel_charge_amount")
    has_fee = bool(details.management_fee_bp) or bool(details.management_fee_fixed_pence)
    if has_fee and not holds_isf:
        rules.broken(
            "Only providers that hold individual service funds charge a management fee",
            field="management_fee_percent",
        )
    if details.management_fee_bp is not None and not 0 <= details.management_fee_bp <= 5_000:
        rules.broken("Enter a management fee from 0% to 50%", field="management_fee_percent")
    if details.management_fee_fixed_pence and details.management_fee_period is None:
        rules.broken("Say how often the fixed fee is charged", field="management_fee_period")


def set_price(session: Session, *, offer: Offer, actor: User, details: PriceDetails) -> OfferPrice:
    """Write a new price version, unless it is the same as the current one. Earlier
    versions stay as they were: enquiries keep the price they were quoted."""
    with Rules() as rules:
        _check_price(rules, details, holds_isf=offer.provider.holds_isf)
    current = offer.price
    values = {name: getattr(details, name) for name in PriceDetails.__dataclass_fields__}
    values["unit_minutes"] = details.unit_minutes if details.unit.needs_length else None
    values["included"] = details.included.strip()
    if current is not None and all(getattr(current, k) == v for k, v in values.items()):
        return current
    version = (
        session.scalar(select(func.max(OfferPrice.version)).where(OfferPrice.offer_id == offer.id))
        or 0
    ) + 1
    price = OfferPrice(offer=offer, version=version, created_by_id=actor.id, **values)
    session.add(price)
    session.flush()
    _audit(session, actor, offer, f"price version {version}")
    _tell_published(session, offer)
    return price


def _check_publishable(offer: Offer) -> None:
    missing = []
    if offer.price is None:
        missing.append(("rate", "Set a price"))
    if not offer.terms_of(Taxonomy.KIND_OF_SUPPORT):
        missing.append(("kinds_of_support", "Choose at least one kind of support"))
    if not offer.terms_of(Taxonomy.PERSONAL_OUTCOME):
        missing.append(("outcomes", "Choose at least one outcome it helps with"))
    if not offer.availability:
        missing.append(("availability", "Say when you are available"))
    if missing:
        raise RuleBroken.every(
            [FieldError(f, f"{message} before publishing") for f, message in missing]
        )


def publish_offer(session: Session, *, offer: Offer, actor: User) -> None:
    """Make the offer visible to everyone; only a complete offer can be published."""
    if offer.status == OfferStatus.WITHDRAWN:
        raise Conflict("A withdrawn offer cannot be published again; make a new one")
    _check_publishable(offer)
    if _waits_for_agreement(offer):
        if offer.status != OfferStatus.AWAITING_AGREEMENT:
            offer.status = OfferStatus.AWAITING_AGREEMENT
            _audit(session, actor, offer, "awaiting agreement")
        return
    if offer.status != OfferStatus.PUBLISHED:
        offer.status = OfferStatus.PUBLISHED
        offer.published_at = offer.published_at or utcnow()
        _audit(session, actor, offer, "published")
        _tell_published(session, offer)


def _waits_for_agreement(offer: Offer) -> bool:
    return areas.needs_agreement(offer) and offer.area_agreed_at is None


def offers_awaiting_agreement(session: Session) -> list[Offer]:
    """Offers whose wide areas wait for an administrator, oldest change first."""
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.status == OfferStatus.AWAITING_AGREEMENT)
            .order_by(Offer.updated_at, Offer.id)
        )
    )


def agree_area(session: Session, *, offer: Offer, admin: User) -> None:
    """An administrator agrees to the offer's wide area: it is published at once."""
    if offer.status != OfferStatus.AWAITING_AGREEMENT:
        raise Conflict("This offer is not waiting for agreement")
    offer.area_agreed_at, offer.area_agreed_by_id = utcnow(), admin.id
    offer.status = OfferStatus.PUBLISHED
    offer.published_at = offer.published_at or utcnow()
    _audit(session, admin, offer, "area agreed")
    _tell_members(
        session,
        offer,
        f'Your offer "{offer.title}" is published',
        "An administrator has agreed to the area your offer covers, and it is now published.",
    )


def refuse_area(session: Session, *, offer: Offer, admin: User) -> None:
    """An administrator refuses the offer's wide area: it goes back to a draft, for the
    provider to narrow."""
    if offer.status != OfferStatus.AWAITING_AGREEMENT:
        raise Conflict("This offer is not waiting for agreement")
    offer.status = OfferStatus.DRAFT
    _audit(session, admin, offer, "area refused")
    _tell_members(
        session,
        offer,
        f'Your offer "{offer.title}" covers too wide an area',
        "An administrator did not agree to the area your offer covers, so it is back to a draft. "
        "Narrow the area to where you can really reach people, then publish it again.",
    )


def _tell_members(session: Session, offer: Offer, subject: str, text: str) -> None:
    mail.tell(
        session,
        [member.user for member in offer.provider.members],
        subject=subject,
        text=text,
        path=f"/provider/offers/{offer.id}",
    )


def pause_offer(session: Session, *, offer: Offer, actor: User) -> None:
    if offer.status != OfferStatus.PUBLISHED:
        raise Conflict("Only a published offer can be paused")
    offer.status = OfferStatus.PAUSED
    _audit(session, actor, offer, "paused")


def withdraw_offer(session: Session, *, offer: Offer, actor: User) -> None:
    if offer.status == OfferStatus.WITHDRAWN:
        return
    offer.status = OfferStatus.WITHDRAWN
    _audit(session, actor, offer, "withdrawn")


def update_capacity(session: Session, *, offer: Offer, actor: User, amount: int) -> None:
    """Say how much can be taken on now; the date it was said is shown beside it."""
    with Rules() as rules:
        _check_capacity(rules, offer.capacity_unit, amount)
    offer.capacity_amount = amount
    offer.capacity_updated_at = utcnow()
    _audit(session, actor, offer, "capacity")


class CapacityConfirmed(Protocol):
    @property
    def capacity_updated_at(self) -> datetime: ...


def capacity_is_stale(offer: CapacityConfirmed, *, now: datetime | None = None) -> bool:
    """Capacity not confirmed in 30 days is shown as possibly out of date."""
    return (now or utcnow()) - offer.capacity_updated_at > timedelta(days=STALE_CAPACITY_DAYS)


class Priced(Protocol):
    """An Offer, or a listed one (matching.listed): its current price and typical week."""

    @property
    def price(self) -> PriceTerms | None: ...
    @property
    def typical_week_hours(self) -> int: ...


def hourly_price_pence(offer: Priced) -> int | None:
    """The hourly equivalent of the offer's current price (None for a one-off price)."""
    price = offer.price
    return (
        None
        if price is None
        else hourly_equivalent_pence(price, typical_week_hours=offer.typical_week_hours)
    )


def published_offers(session: Session) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer).where(Offer.status == OfferStatus.PUBLISHED).order_by(Offer.id)
        )
    )


def _audit(session: Session, actor: User, offer: Offer, change: str) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECORD_CHANGED,
        subject_type="offer",
        subject_id=offer.id,
        detail={"change": change},
    )
