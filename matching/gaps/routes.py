"""Pages for commissioners: the market-gaps dashboard for their council area (or all of
Scotland), a place's page, site suggestions for new providers, and how the figures are
worked out. Every table on them downloads as CSV from the page's own address with
?table=NAME&format=csv. Commissioners see figures for places, never a person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import Public, roles
from marketplace.db import today
from marketplace.deps import AppSettings, DbSession
from marketplace.errors import RuleBroken
from marketplace.forms import Form, FormPage, required
from marketplace.geography import build, demand
from marketplace.parsing import RecordId, ascii_whole_number
from marketplace.settings import Settings
from marketplace.tables import csv_if_asked
from marketplace.web import render
from matching.deps import OfferIndexDep
from matching.gaps import pages as gap_pages
from matching.gaps import shaping
from matching.gaps.map import BAND_LIMITS, BANDS, GAP
from matching.gaps.report import PERIODS
from matching.gaps.service import DECAY, PER_RESIDENTS
from matching.index import OfferIndex

router = APIRouter(include_in_schema=False)
web.add_navigation("Market gaps", "/commissioning", roles=(Role.COMMISSIONER,), order=10)
CommissionerUser = Annotated[User, Depends(roles(Role.COMMISSIONER))]

dashboard_page = FormPage("matching/gaps/dashboard.html", block="gaps")
sites_page = FormPage("matching/gaps/sites.html", block="sites")
place_page = FormPage("matching/gaps/place.html")


@router.get("/commissioning")
def dashboard(
    request: Request,
    db: DbSession,
    index: OfferIndexDep,
    user: CommissionerUser,
    settings: AppSettings,
) -> Response:
    shown = gap_pages.dashboard(
        db,
        index=index,
        user=user,
        query=request.query_params,
        today=today(),
        threshold=settings.matching.small_number_threshold,
    )
    asked, context = shown.asked, shown.choices.context() | {"how": "/about/gaps"}
    if shown.report is None:
        return dashboard_page.render(
            request,
            values=asked.form_values,
            errors=asked.errors,
            status_code=422,
            report=None,
            **context,
        )
    exported = csv_if_asked(request, shown.tables, "market-gaps")
    if exported is not None:
        return exported
    return dashboard_page.render(
        request,
        values=asked.form_values,
        report=shown.report,
        figure_tables=shown.tables,
        query=asked.query,
        map=shown.map,
        band_limits=BAND_LIMITS,
        **context,
    )


@router.get("/commissioning/places/{settlement_id}")
def place(
    settlement_id: RecordId,
    request: Request,
    db: DbSession,
    index: OfferIndexDep,
    user: CommissionerUser,
    settings: AppSettings,
) -> Response:
    shown = _place_shown(db, index, user, settlement_id, request.query_params, settings)
    exported = csv_if_asked(
        request, shown.view.tables, f"market-gaps-{shown.settlement.search_key.replace(' ', '-')}"
    )
    if exported is not None:
        return exported
    invited = ascii_whole_number(
        request.query_params.get("invited", ""), low=0, high=shaping.AT_MOST
    )
    return place_page.render(
        request,
        values=shown.asked.values | {"within": str(shaping.WITHIN_KM_CHOICES[1])},
        done=None if invited is None else f"{invited} invited",
        **_place_context(db, shown),
    )


def _place_shown(
    db: Session,
    index: OfferIndex,
    user: User,
    settlement_id: int,
    query: Mapping[str, str],
    settings: Settings,
) -> gap_pages.PlacePage:
    return gap_pages.place_page(
        db,
        index=index,
        user=user,
        settlement_id=settlement_id,
        query=query,
        today=today(),
        threshold=settings.matching.small_number_threshold,
    )


def _place_context(db: Session, shown: gap_pages.PlacePage) -> dict[str, Any]:
    return {
        "view": shown.view,
        "settlement": shown.settlement,
        "query": shown.asked.query,
        "back": "/commissioning?" + shown.asked.query,
        "computed_at": shown.computed_at,
        "invited": shaping.invitations_for(
            db, place=shown.settlement, kind_id=shown.asked.filter.kind_id
        ),
        "within_choices": [(str(km), f"{km} km") for km in shaping.WITHIN_KM_CHOICES],
        "kind_chosen": shown.asked.filter.kind_id is not None,
    }


class InviteForm(Form):
    within: Annotated[str, required("Choose how far short the offers may stop")] = ""


@router.post("/commissioning/places/{settlement_id}/invitations")
async def invite(
    settlement_id: RecordId,
    request: Request,
    db: DbSession,
    index: OfferIndexDep,
    user: CommissionerUser,
    settings: AppSettings,
) -> Response:
    """Invite the providers whose offers of the page's kind stop short of the place."""
    shown = _place_shown(db, index, user, settlement_id, request.query_params, settings)
    form = await place_page.read(request, InviteForm, **_place_context(db, shown))
    within = ascii_whole_number(form.within, low=1, high=max(shaping.WITHIN_KM_CHOICES))
    gap = gap_pages.gap_of(
        db,
        shown,
        index=index,
        today=today(),
        threshold=settings.matching.small_number_threshold,
    )
    if gap is None or within not in shaping.WITHIN_KM_CHOICES:
        raise RuleBroken(
            "Choose a kind of support, and how far short the offers may stop", field="within"
        )
    new = shaping.invite_to_extend(db, index=index, commissioner=user, gap=gap, within_km=within)
    return web.redirect(
        request,
        f"/commissioning/places/{settlement_id}?{shown.asked.query}&invited={len(new)}#invitations",
    )


@router.get("/commissioning/sites")
def sites(
    request: Request, db: DbSession, index: OfferIndexDep, user: CommissionerUser
) -> Response:
    shown = gap_pages.sites_page(db, index=index, user=user, query=request.query_params)
    context = shown.choices.context()
    if shown.errors:
        return sites_page.render(
            request,
            values=shown.values,
            errors=shown.errors,
            status_code=422,
            suggestion=None,
            **context,
        )
    if shown.suggestion is None:
        return sites_page.render(request, values=shown.values, suggestion=None, **context)
    exported = csv_if_asked(request, shown.tables, "suggested-sites")
    if exported is not None:
        return exported
    return sites_page.render(
        request,
        values=shown.values,
        suggestion=shown.suggestion,
        figure_tables=shown.tables,
        kind=shown.kind,
        area=shown.area,
        weekly_hours=shown.weekly_hours,
        query=shown.query,
        **context,
    )


@router.get("/about/gaps", dependencies=[Public])
def how_we_measure(request: Request, settings: AppSettings) -> Response:
    return render(
        request,
        "matching/gaps/about.html",
        {
            "decay": DECAY,
            "per_residents": PER_RESIDENTS,
            "threshold": settings.matching.small_number_threshold,
            "bands": BANDS,
            "gap": GAP,
            "band_limits": BAND_LIMITS,
            "periods": PERIODS,
            "near_place_km": demand.NEAR_PLACE_KM,
            "rural_cell_degrees": demand.RURAL_CELL_DEGREES,
            "scotland": build.SCOTLAND_MID_2022,
        },
    )
