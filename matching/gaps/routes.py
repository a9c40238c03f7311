"""Pages for commissioners: the market-gaps dashboard for their council area (or all of
Scotland), a place's page, site suggestions for new providers, and how the figures are
worked out. Every table on them downloads as CSV from the page's own address with
?table=NAME&format=csv. Commissioners see figures for places, never a person."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
from numpy.typing import NDArray
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import Public, roles
from marketplace.db import today
from marketplace.deps import AppSettings, DbSession
from marketplace.errors import DomainError, NotAllowed, NotFound
from marketplace.forms import FieldError, FormPage
from marketplace.geography.classify import UrbanRural6
from marketplace.geography.models import CouncilArea, Settlement
from marketplace.tables import Cell, Column, Table, csv_response, find_table
from marketplace.web import render
from matching.deps import OfferIndexDep
from matching.gaps.map import BAND_LIMITS, BANDS, GAP, gap_map
from matching.gaps.place import place_view
from matching.gaps.report import DEFAULT_PERIOD_DAYS, PERIODS, GapFilter, build_report
from matching.gaps.tables import hours_cell, number_cell, report_tables
from matching.gaps.service import DECAY, PER_RESIDENTS, GapFigures, gap_figures
from matching.index import OfferIndex
from matching.gaps.sites import Suggestion, hours_after, suggest_sites
from providers.models import Taxonomy

router = APIRouter(include_in_schema=False)
web.add_navigation("Market gaps", "/commissioning", roles=(Role.COMMISSIONER,), order=10)
CommissionerUser = Annotated[User, Depends(roles(Role.COMMISSIONER))]

FILTER_FIELDS = ("council", "kind", "outcome", "class", "period")
dashboard_page = FormPage("matching/gaps/dashboard.html", block="gaps")
sites_page = FormPage("matching/gaps/sites.html", block="sites")

DEFAULT_SITES = {"count": "3", "radius": "20", "hours": "30"}


@dataclass(frozen=True)
class Asked:
    filter: GapFilter
    values: dict[str, str]
    """As asked, for the addresses the page links to."""
    errors: list[FieldError]

    @property
    def form_values(self) -> dict[str, str]:
        """As the form shows them: the period the figures are for, when none was asked."""
        if self.values["period"] or any(error.field == "period" for error in self.errors):
            return self.values
        return self.values | {"period": str(self.filter.period_days)}


def _figures(db: Session, index: OfferIndex) -> GapFigures:
    index.refresh(db)
    return gap_figures(db, index=index)


def read_filter(db: Session, figures: GapFigures, query: Mapping[str, str], user: User) -> Asked:
    """The filter a page's address asks for, within the commissioner's own area."""
    values = {name: query.get(name, "").strip() for name in FILTER_FIELDS}
    errors: list[FieldError] = []
    council_id = user.council_id
    if values["council"]:
        council = db.scalar(select(CouncilArea).where(CouncilArea.gss_code == values["council"].upper()))
        if council is None:
            errors.append(FieldError("council", "Choose a council area from the list"))
        elif user.council_id is not None and council.id != user.council_id:
            raise NotAllowed("You can see figures for your own council area only")
        else:
            council_id = council.id
    kind_id = outcome_id = None
    if values["kind"]:
        kind_id = figures.term_named(Taxonomy.KIND_OF_SUPPORT, values["kind"])
        if kind_id is None:
            errors.append(FieldError("kind", "Choose a kind of support from the list"))
    if values["outcome"]:
        outcome_id = figures.term_named(Taxonomy.PERSONAL_OUTCOME, values["outcome"])
        if outcome_id is None:
            errors.append(FieldError("outcome", "Choose an outcome from the list"))
    class6 = None
    if values["class"]:
        try:
            class6 = UrbanRural6(int(values["class"]))
        except ValueError:
            errors.append(FieldError("class", "Choose an urban-rural class from the list"))
    period = DEFAULT_PERIOD_DAYS
    if values["period"]:
        if values["period"].isdigit() and int(values["period"]) in PERIODS:
            period = int(values["period"])
        else:
            errors.append(FieldError("period", "Choose a period from the list"))
    return Asked(GapFilter(kind_id=kind_id, outcome_id=outcome_id, class6=class6, period_days=period, council_id=council_id), values, errors)


def _choices(db: Session, figures: GapFigures, user: User) -> dict[str, Any]:
    def terms(taxonomy: Taxonomy) -> list[tuple[str, str]]:
        ids = [t for t in figures.term_codes if figures.term_taxonomy[t] == taxonomy]
        return [(figures.term_codes[t], figures.term_names[t]) for t in sorted(ids, key=lambda t: figures.term_order[t])]

    councils = [] if user.council_id is not None else [(c.gss_code, c.name) for c in db.scalars(select(CouncilArea).order_by(CouncilArea.name))]
    return {
        "kinds": terms(Taxonomy.KIND_OF_SUPPORT),
        "outcomes": terms(Taxonomy.PERSONAL_OUTCOME),
        "classes": [(str(int(c)), c.label) for c in UrbanRural6],
        "periods": [(str(days), label.capitalize()) for days, label in PERIODS.items()],
        "councils": councils,
        "own_council": user.council.name if user.council is not None else None,
    }


def _query(values: Mapping[str, str], *names: str) -> str:
    return urlencode([(name, values[name]) for name in names if values.get(name)])


def _csv_or(request: Request, tables: list[Table], filename: str) -> Response | None:
    """The table asked for as CSV, when the address asks for one."""
    if request.query_params.get("format") != "csv":
        return None
    table = find_table(tables, request.query_params.get("table", ""))
    if table is None:
        raise NotFound("There is no such table on this page")
    return csv_response(table, filename=f"{filename}-{table.name}")


@router.get("/commissioning")
def dashboard(request: Request, db: DbSession, index: OfferIndexDep, user: CommissionerUser, settings: AppSettings) -> Response:
    figures = _figures(db, index)
    asked = read_filter(db, figures, request.query_params, user)
    context = _choices(db, figures, user) | {"how": "/about/gaps"}
    if asked.errors:
        return dashboard_page.render(request, values=asked.form_values, errors=asked.errors, status_code=422, report=None, **context)
    report = build_report(db, figures, asked.filter, today=today(), threshold=settings.matching.small_number_threshold)
    query = _query(asked.values, *FILTER_FIELDS)
    place_query = _query(asked.values, *FILTER_FIELDS)
    tables = report_tables(report, place_href=lambda sid: f"/commissioning/places/{sid}" + (f"?{place_query}" if place_query else ""))
    exported = _csv_or(request, tables, "market-gaps")
    if exported is not None:
        return exported
    return dashboard_page.render(
        request,
        values=asked.form_values,
        report=report,
        figure_tables=tables,
        query=query,
        map=gap_map(db, report, place_href="/commissioning/places/{id}" + (f"?{place_query}" if place_query else "")),
        band_limits=BAND_LIMITS,
        **context,
    )


@router.get("/commissioning/places/{settlement_id}")
def place(settlement_id: int, request: Request, db: DbSession, index: OfferIndexDep, user: CommissionerUser, settings: AppSettings) -> Response:
    figures = _figures(db, index)
    settlement = db.get(Settlement, settlement_id)
    if settlement is None or settlement_id not in figures.places.position():
        raise NotFound("Page not found")
    if user.council_id is not None and settlement.council_id != user.council_id:
        raise NotFound("Page not found")
    asked = read_filter(db, figures, request.query_params, user)
    if asked.errors:
        # The page has no form of its own; its filters come from the dashboard's links.
        raise DomainError("There is a problem with this page address: " + "; ".join(e.message for e in asked.errors))
    view = place_view(
        db, figures, settlement, asked.filter, today=today(), threshold=settings.matching.small_number_threshold,
        period=PERIODS[asked.filter.period_days],
    )
    exported = _csv_or(request, view.tables, f"market-gaps-{settlement.search_key.replace(' ', '-')}")
    if exported is not None:
        return exported
    return render(
        request,
        "matching/gaps/place.html",
        {
            "view": view,
            "settlement": settlement,
            "values": asked.values,
            "query": _query(asked.values, *FILTER_FIELDS),
            "back": "/commissioning?" + _query(asked.values, *FILTER_FIELDS),
            "computed_at": figures.computed_at,
        },
    )


@router.get("/commissioning/sites")
def sites(request: Request, db: DbSession, index: OfferIndexDep, user: CommissionerUser, settings: AppSettings) -> Response:
    figures = _figures(db, index)
    asked = read_filter(db, figures, request.query_params, user)
    values = asked.form_values | {name: request.query_params.get(name, default).strip() for name, default in DEFAULT_SITES.items()}
    errors = list(asked.errors)
    numbers: dict[str, int] = {}
    for name, low, high, message in (
        ("count", 1, 10, "Choose how many new providers, from 1 to 10"),
        ("radius", 1, 100, "Enter how far each would travel, from 1 to 100 km"),
        ("hours", 1, 1000, "Enter the hours a week each could take on, from 1 to 1,000"),
    ):
        text = values[name]
        if not text.isdigit() or not low <= int(text) <= high:
            errors.append(FieldError(name, message))
        else:
            numbers[name] = int(text)
    if not errors and asked.filter.kind_id is None and "kind" in request.query_params:
        errors.append(FieldError("kind", "Choose the kind of support the new providers would offer"))
    context = _choices(db, figures, user)
    if errors:
        return sites_page.render(request, values=values, errors=errors, status_code=422, suggestion=None, **context)
    flt = asked.filter
    if flt.kind_id is None:
        return sites_page.render(request, values=values, suggestion=None, **context)
    places = figures.places
    measure = figures.measure(kind_id=flt.kind_id, outcome_id=flt.outcome_id)
    area = np.arange(len(places)) if flt.council_id is None else np.flatnonzero(places.council_ids == flt.council_id)
    suggestion = suggest_sites(
        places, candidates=area, clients=area[measure.providers[area] == 0], radius_km=numbers["radius"], count=numbers["count"]
    )
    after = hours_after(places, measure.hours_per_1000, suggestion.sites, radius_km=numbers["radius"], weekly_hours=numbers["hours"])
    kind = figures.term_names[flt.kind_id].lower()
    area_name = "Scotland" if flt.council_id is None else places.council_names[flt.council_id]
    tables = [_sites_table(figures, suggestion, kind=kind), _before_after_table(figures, area, measure.hours_per_1000, after, measure.providers, suggestion, area_name=area_name, kind=kind)]
    exported = _csv_or(request, tables, "suggested-sites")
    if exported is not None:
        return exported
    return sites_page.render(
        request, values=values, suggestion=suggestion, figure_tables=tables, kind=kind, area=area_name,
        weekly_hours=numbers["hours"], query=urlencode([(k, v) for k, v in values.items() if v]), **context,
    )


def _sites_table(figures: GapFigures, suggestion: Suggestion, *, kind: str) -> Table:
    places = figures.places
    rows = []
    for rank, site in enumerate(suggestion.sites, start=1):
        names = [places.labels[p] for p in site.places_gained]
        reached = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        rows.append((
            Cell(str(rank), rank),
            Cell(places.labels[site.place]),
            Cell(places.council_names[int(places.council_ids[site.place])]),
            Cell(UrbanRural6(int(places.class6[site.place])).label),
            number_cell(site.people_gained),
            Cell(reached, "; ".join(names)),
        ))
    return Table(
        name="sites",
        caption=f"Suggested bases for new providers of {kind}",
        columns=[Column("Order", numeric=True, key="order"), Column("Base the provider in", key="place"), Column("Council area", key="council"),
                 Column("Urban-rural class (6-fold)", key="urban_rural_6"), Column("People newly in reach", numeric=True, key="people_gained"),
                 Column("Places brought into reach", key="places_gained")],
        rows=rows,
    )


def _before_after_table(
    figures: GapFigures,
    area: NDArray[np.int64],
    before: NDArray[np.float64],
    after: NDArray[np.float64],
    providers: NDArray[np.int64],
    suggestion: Suggestion,
    *,
    area_name: str,
    kind: str,
) -> Table:
    places = figures.places
    newly = np.zeros(len(places), dtype=np.bool_)
    for site in suggestion.sites:
        newly[list(site.places_gained)] = True
    rows = []
    for c in UrbanRural6:
        members = area[places.class6[area] == int(c)]
        if not members.size:
            continue
        people = places.population[members]
        without = providers[members] == 0
        rows.append((
            Cell(c.label),
            number_cell(int(people[without].sum())),
            number_cell(int(people[without & ~newly[members]].sum())),
            hours_cell(float((before[members] * people).sum() / people.sum())),
            hours_cell(float((after[members] * people).sum() / people.sum())),
        ))
    return Table(
        name="before-after",
        caption=f"{area_name} by urban-rural class: {kind} now and with the new providers",
        columns=[Column("Urban-rural class (6-fold)", key="urban_rural_6"), Column("People with no offer in reach now", numeric=True, key="people_without_now"),
                 Column("With the new providers", numeric=True, key="people_without_after"),
                 Column("Hours a week per 1,000 residents now", numeric=True, key="hours_per_1000_now"),
                 Column("With the new providers", numeric=True, key="hours_per_1000_after")],
        rows=rows,
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
