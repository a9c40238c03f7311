"""Pages for the reference geography: finding a place (with suggestions as you type) and
how places, postcode districts and urban-rural classes are worked out."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from marketplace.accounts.policy import Public
from marketplace.deps import DbSession
from marketplace.errors import DomainError, FieldError
from marketplace.geography import classify
from marketplace.geography import service as geography_service
from marketplace.geography.gazetteer import Place, gazetteer
from marketplace.geography.models import SettlementKind
from marketplace.web import is_htmx, render

router = APIRouter(include_in_schema=False)


@router.get("/places", dependencies=[Public])
def find_place(request: Request, db: DbSession, location: str = "") -> Response:
    """The plain form works without JavaScript: it is a GET that answers with the place."""
    found, errors = None, []
    if location.strip():
        try:
            found = geography_service.resolve_location(db, text=location)
        except DomainError as error:
            errors = [FieldError("location", error.message)]
    return render(
        request,
        "marketplace/geography/find_place.html",
        {
            "values": {"location": location},
            "errors": errors,
            "error_for": {e.field: e.message for e in errors},
            "found": found,
        },
        status_code=422 if errors else 200,
        block="answer",
    )


@router.get("/places/suggest", dependencies=[Public])
def suggest(request: Request, db: DbSession, field: str = "location") -> Response:
    """Options for the datalist beside a place field, as the person types. Without htmx
    there is nothing to fill, so a visit here is sent to the plain look-up page."""
    typed = request.query_params.get(field, "")
    if not is_htmx(request):
        return RedirectResponse(f"/places?{urlencode({'location': typed})}", status_code=303)
    places = geography_service.suggest_places(db, text=typed)
    return render(request, "marketplace/geography/suggestions.html", {"places": places})


@router.get("/about/places", dependencies=[Public])
def method(request: Request, db: DbSession) -> Response:
    places = gazetteer(db).places.values()
    listed = {SettlementKind.SETTLEMENT, SettlementKind.ISLAND_AREA}
    settlements = [p for p in places if p.kind in listed]
    named_places = sum(p.kind == SettlementKind.NAMED_PLACE for p in places)
    by_class: dict[classify.UrbanRural8, list[Place]] = defaultdict(list)
    for settlement in settlements:
        by_class[settlement.urban_rural].append(settlement)
    rows = [
        {
            "urban_rural": urban_rural,
            "places": len(by_class[urban_rural]),
            "people": sum(s.population for s in by_class[urban_rural]),
        }
        for urban_rural in classify.UrbanRural8
    ]
    islands = sorted((s for s in settlements if s.island), key=lambda s: (s.island or "", s.name))
    return render(
        request,
        "marketplace/geography/method.html",
        {
            "rows": rows,
            "total_places": len(settlements),
            "named_places": named_places,
            "total_people": sum(s.population for s in settlements),
            "islands": islands,
            "detour": classify.DETOUR_FACTOR,
            "speed": classify.DRIVE_SPEED_KMH,
            "accessible_km": classify.ACCESSIBLE_MINUTES
            / 60
            * classify.DRIVE_SPEED_KMH
            / classify.DETOUR_FACTOR,
            "very_remote_km": classify.VERY_REMOTE_MINUTES
            / 60
            * classify.DRIVE_SPEED_KMH
            / classify.DETOUR_FACTOR,
        },
    )
