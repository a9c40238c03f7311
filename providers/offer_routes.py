"""Pages where a provider writes and manages its offers: details, service area,
availability, capacity, the price (each change a new version) and the offer's status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace.deps import DbSession
from marketplace.errors import RuleBroken
from marketplace.forms import FormPage
from marketplace.geography import service as geography_service
from marketplace.money import pence_to_pounds_text
from marketplace.parsing import RecordId, record_id
from marketplace.web import redirect
from providers import offers as offers_service
from providers.access import CurrentProvider, ProviderUser, own_offer
from providers.models import (
    DAYS,
    PERIODS,
    AreaType,
    CapacityUnit,
    FeePeriod,
    Offer,
    OfferStatus,
    PriceUnit,
    Provider,
    Taxonomy,
    TravelCharge,
)
from providers.offers import Centre, OfferDetails, PriceDetails
from providers.pricing import format_basis_points
from providers.routes import taxonomy_choices, term_ids_for
from providers.schemas import CapacityForm, NewOfferForm, OfferForm, PriceForm, availability_values

router = APIRouter(prefix="/provider/offers", include_in_schema=False)

new_offer_page = FormPage("providers/offer_new.html")
offer_page = FormPage("providers/offer_manage.html", block="details_form")
price_page = FormPage("providers/offer_manage.html", block="price_form")
capacity_page = FormPage("providers/offer_manage.html", block="capacity_form")


def _offer_context(db: Session, provider: Provider, offer: Offer | None = None) -> dict[str, Any]:
    return {
        "provider": provider,
        "offer": offer,
        "choices": taxonomy_choices(db),
        "councils": geography_service.list_council_areas(db),
        "days": DAYS,
        "periods": PERIODS,
        "area_types": [
            (AreaType.RADIUS.value, "A distance from a place"),
            (AreaType.COUNCILS.value, "Whole council areas"),
            (AreaType.SETTLEMENTS.value, "A list of towns and villages"),
        ],
        "capacity_units": [(u.value, u.label.capitalize()) for u in CapacityUnit],
        "price_units": [(u.value, u.label.capitalize()) for u in PriceUnit],
        "travel_charges": [
            (TravelCharge.NONE.value, "No travel charge"),
            (TravelCharge.PER_MILE.value, "Per mile"),
            (TravelCharge.PER_VISIT.value, "Per visit"),
        ],
        "fee_periods": [("", "Not charged")] + [(p.value, f"A {p.value}") for p in FeePeriod],
    }


def _settlements_from(db: Session, text: str) -> list[int]:
    """'Portree, Broadford' -> their ids; a name we cannot place is refused by the field."""
    ids = []
    for name in [part.strip() for part in text.split(",") if part.strip()]:
        location = geography_service.resolve_location(db, text=name, field="settlements")
        if location.settlement is None or location.kind.value != "place":
            raise RuleBroken(
                f"Enter towns and villages by name; {name} is not one", field="settlements"
            )
        ids.append(location.settlement.id)
    return ids


def _details(db: Session, form: OfferForm, offer: Offer | None = None) -> OfferDetails:
    centre = (
        Centre.of(geography_service.resolve_location(db, text=form.centre, field="centre"))
        if form.centre
        else None
    )
    return OfferDetails(
        title=form.title,
        description=form.description,
        term_ids=term_ids_for(
            db,
            kinds_of_support=form.kinds_of_support,
            outcomes=form.outcomes,
            client_groups=form.client_groups,
        ),
        area_type=form.area_type,
        centre=centre,
        radius_km=form.radius_km,
        council_ids=[number for c in form.council_ids if (number := record_id(c))],
        settlement_ids=_settlements_from(db, form.settlements)
        if form.area_type == AreaType.SETTLEMENTS
        else [],
        availability=form.availability,
        capacity_unit=form.capacity_unit,
        capacity_amount=(
            form.capacity_amount
            if form.capacity_amount is not None
            else (offer.capacity_amount if offer else 0)
        ),
        minimum_booking_minutes=form.minimum_booking,
        typical_week_hours=form.typical_week_hours or 10,
    )


def _offer_values(offer: Offer) -> dict[str, object]:
    def minutes_as_hours(minutes: int | None) -> str:
        if minutes is None:
            return ""
        hours, rest = divmod(minutes, 60)
        return str(hours) if rest == 0 else f"{hours}.{rest * 100 // 60:02d}".rstrip("0")

    values: dict[str, object] = {
        "title": offer.title,
        "description": offer.description,
        "kinds_of_support": [t.code for t in offer.terms_of(Taxonomy.KIND_OF_SUPPORT)],
        "outcomes": [t.code for t in offer.terms_of(Taxonomy.PERSONAL_OUTCOME)],
        "client_groups": [t.code for t in offer.terms_of(Taxonomy.CLIENT_GROUP)],
        "area_type": offer.area_type.value,
        "centre": offer.centre_label or "",
        "radius_km": "" if offer.radius_km is None else f"{offer.radius_km:g}",
        "council_ids": [str(c.id) for c in offer.area_councils],
        "settlements": ", ".join(s.label for s in offer.area_settlements),
        "availability": availability_values(offer.availability),
        "capacity_unit": offer.capacity_unit.value,
        "capacity_amount": str(offer.capacity_amount),
        "minimum_booking": minutes_as_hours(offer.minimum_booking_minutes),
        "typical_week_hours": str(offer.typical_week_hours),
    }
    price = offer.price
    if price is not None:
        values |= {
            "unit": price.unit.value,
            "rate": pence_to_pounds_text(price.rate_pence),
            "unit_hours": minutes_as_hours(price.unit_minutes),
            "evening_uplift": format_basis_points(price.evening_uplift_bp).removesuffix("%"),
            "weekend_uplift": format_basis_points(price.weekend_uplift_bp).removesuffix("%"),
            "night_uplift": format_basis_points(price.night_uplift_bp).removesuffix("%"),
            "public_holiday_uplift": format_basis_points(
                price.public_holiday_uplift_bp
            ).removesuffix("%"),
            "travel_charge": price.travel_charge.value,
            "travel_charge_amount": pence_to_pounds_text(price.travel_charge_pence)
            if price.travel_charge_pence
            else "",
            "included": price.included,
            "management_fee_percent": format_basis_points(price.management_fee_bp).removesuffix("%")
            if price.management_fee_bp
            else "",
            "management_fee_fixed": pence_to_pounds_text(price.management_fee_fixed_pence)
            if price.management_fee_fixed_pence
            else "",
            "management_fee_period": price.management_fee_period.value
            if price.management_fee_period
            else "",
        }
    return values


def _price_details(form: PriceForm) -> PriceDetails:
    assert form.rate is not None
    return PriceDetails(
        unit=form.unit,
        rate_pence=form.rate,
        unit_minutes=form.unit_hours,
        evening_uplift_bp=form.evening_uplift or 0,
        weekend_uplift_bp=form.weekend_uplift or 0,
        night_uplift_bp=form.night_uplift or 0,
        public_holiday_uplift_bp=form.public_holiday_uplift or 0,
        travel_charge=form.travel_charge,
        travel_charge_pence=form.travel_charge_amount or 0,
        included=form.included,
        management_fee_bp=form.management_fee_percent,
        management_fee_fixed_pence=form.management_fee_fixed,
        management_fee_period=form.management_fee_period,
    )


@router.get("/new")
def show_new_offer(request: Request, db: DbSession, provider: CurrentProvider) -> Response:
    return new_offer_page.render(
        request,
        values={
            "area_type": "radius",
            "centre": provider.base_label or "",
            "typical_week_hours": "10",
            "unit": "hour",
        },
        **_offer_context(db, provider),
    )


@router.post("/new")
async def new_offer(
    request: Request, db: DbSession, user: ProviderUser, provider: CurrentProvider
) -> Response:
    """A new offer with its first price, saved as a draft to check before publishing."""
    form = await new_offer_page.read(
        request,
        NewOfferForm,
        also=geography_service.check_places(db, "centre"),
        **_offer_context(db, provider),
    )
    offer = offers_service.create_offer(
        db,
        provider=provider,
        actor=user,
        details=_details(db, form),
        price=_price_details(form),
    )
    return redirect(request, f"/provider/offers/{offer.id}?done=created")


@router.get("/{offer_id}")
def manage_offer(
    request: Request, offer_id: RecordId, db: DbSession, provider: CurrentProvider
) -> Response:
    offer = own_offer(db, provider=provider, offer_id=offer_id)
    return offer_page.render(
        request,
        values=_offer_values(offer),
        done=request.query_params.get("done", ""),
        stale=offers_service.capacity_is_stale(offer),
        **_offer_context(db, provider, offer),
    )


@router.post("/{offer_id}")
async def update_offer(
    request: Request,
    offer_id: RecordId,
    db: DbSession,
    user: ProviderUser,
    provider: CurrentProvider,
) -> Response:
    offer = own_offer(db, provider=provider, offer_id=offer_id)
    form = await offer_page.read(
        request,
        OfferForm,
        also=geography_service.check_places(db, "centre"),
        **_offer_context(db, provider, offer),
    )
    offers_service.update_offer(db, offer=offer, actor=user, details=_details(db, form, offer))
    return redirect(request, f"/provider/offers/{offer.id}?done=saved")


@router.post("/{offer_id}/price")
async def update_price(
    request: Request,
    offer_id: RecordId,
    db: DbSession,
    user: ProviderUser,
    provider: CurrentProvider,
) -> Response:
    offer = own_offer(db, provider=provider, offer_id=offer_id)
    form = await price_page.read(request, PriceForm, **_offer_context(db, provider, offer))
    before = offer.price
    price = offers_service.set_price(db, offer=offer, actor=user, details=_price_details(form))
    return redirect(
        request,
        f"/provider/offers/{offer.id}?done={'price' if price is not before else 'same-price'}",
    )


@router.post("/{offer_id}/capacity")
async def update_capacity(
    request: Request,
    offer_id: RecordId,
    db: DbSession,
    user: ProviderUser,
    provider: CurrentProvider,
) -> Response:
    offer = own_offer(db, provider=provider, offer_id=offer_id)
    form = await capacity_page.read(request, CapacityForm, **_offer_context(db, provider, offer))
    assert form.capacity_amount is not None
    offers_service.update_capacity(db, offer=offer, actor=user, amount=form.capacity_amount)
    return redirect(request, f"/provider/offers/{offer.id}?done=capacity")


STATUS_CHANGES = {
    "publish": offers_service.publish_offer,
    "pause": offers_service.pause_offer,
    "withdraw": offers_service.withdraw_offer,
}


@router.post("/{offer_id}/{change}")
def change_status(
    request: Request,
    offer_id: RecordId,
    change: str,
    db: DbSession,
    user: ProviderUser,
    provider: CurrentProvider,
) -> Response:
    offer = own_offer(db, provider=provider, offer_id=offer_id)
    apply = STATUS_CHANGES.get(change)
    if apply is None:
        raise RuleBroken("Choose publish, pause or withdraw")
    offer_page.remember(request, values=_offer_values(offer), **_offer_context(db, provider, offer))
    apply(db, offer=offer, actor=user)
    if offer.status == OfferStatus.AWAITING_AGREEMENT:
        change = "awaiting"
    return redirect(request, f"/provider/offers/{offer.id}?done={change}")
