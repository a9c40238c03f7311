"""Matching's part of the public offer page (the fair-price context under "What it costs",
added through providers' extension point, since providers may not import matching) and
the page that explains how prices are compared. Imported once by the app factory."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace.accounts.policy import Public
from marketplace.web import render
from matching import fair_price as fair_price_service
from matching.deps import get_offer_index
from providers.models import Offer, Taxonomy
from providers.pricing import hourly_equivalent_pence
from providers.public_routes import PageSection, add_offer_cost_section

router = APIRouter(include_in_schema=False)


def fair_price_section(request: Request, session: Session, offer: Offer) -> PageSection | None:
    """How the offer's hourly price compares, for each of its kinds of support, and the
    warning for a rate below minimum care pay; nothing for a one-off price."""
    price = offer.price
    hourly = (
        None
        if price is None
        else hourly_equivalent_pence(price, typical_week_hours=offer.typical_week_hours)
    )
    if hourly is None:
        return None
    minimum = request.app.state.settings.matching.minimum_care_pay_pence
    compared = fair_price_service.fair_prices_of_offer(
        session, index=get_offer_index(request), offer_id=offer.id
    )
    kinds = {term.id: term.name for term in offer.terms_of(Taxonomy.KIND_OF_SUPPORT)}
    return PageSection(
        template="matching/partials/offer_fair_price.html",
        context={
            "warning": fair_price_service.pay_warning(hourly_pence=hourly, minimum_pence=minimum),
            "prices": [found for found in compared.values() if found is not None],
            # Only a published offer is compared; for one that is, name the kinds too few
            # offers share to compare with, rather than leave a silent gap.
            "too_few": [
                kinds.get(kind_id, "") for kind_id, found in compared.items() if found is None
            ],
            "minimum_offers": fair_price_service.MIN_GROUP_OFFERS,
        },
    )


add_offer_cost_section(fair_price_section)


@router.get("/about/prices", dependencies=[Public])
def about_prices(request: Request) -> Response:
    minimum = request.app.state.settings.matching.minimum_care_pay_pence
    return render(
        request,
        "matching/about_prices.html",
        {"minimum_offers": fair_price_service.MIN_GROUP_OFFERS, "minimum_care_pay_pence": minimum},
    )
