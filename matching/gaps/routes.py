"""Pages for commissioners: the market-gaps dashboard for their council area (or all of
Scotland), a place's page, site suggestions for new providers, and how the figures are
worked out. Every table on them downloads as CSV from the page's own address with
?table=NAME&format=csv. Commissioners see figures for places, never a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import Public, roles
from marketplace.db import today
from marketplace.deps import AppSettings, DbSession
from marketplace.forms import FormPage
from marketplace.parsing import RecordId
from marketplace.tables import csv_if_asked
from marketplace.web import render
from matching.deps import OfferIndexDep
from matching.gaps import pages as gap_pages
from matching.gaps.map import BAND_LIMITS, BANDS, GAP
from matching.gaps.report import PERIODS
from matching.gaps.service import DECAY, PER_RESIDENTS

router = APIRouter(include_in_schema=False)
web.add_navigation("Market gaps", "/commissioning", roles=(Role.COMMISSIONER,), order=10)
CommissionerUser = Annotated[User, Depends(roles(Role.COMMISSIONER))]

dashboard_page = FormPage("matching/gaps/dashboard.html", block="gaps")
sites_page = FormPage("matching/gaps/sites.html", block="sites")


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
    shown = gap_pages.place_page(
        db,
        index=index,
        user=user,
        settlement_id=settlement_id,
        query=request.query_params,
        today=today(),
        threshold=settings.matching.small_number_threshold,
    )
    exported = csv_if_asked(
        request, shown.view.tables, f"market-gaps-{shown.settlement.search_key.replace(' ', '-')}"
    )
    if exported is not None:
        return exported
    return render(
        request,
        "matching/gaps/place.html",
        {
            "view": shown.view,
            "settlement": shown.settlement,
            "values": shown.asked.values,
            "query": shown.asked.query,
            "back": "/commissioning?" + shown.asked.query,
            "computed_at": shown.computed_at,
        },
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
        },
    )
