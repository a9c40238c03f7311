"""What each commissioner page shows, from the filters its address asks for: the market-gaps
dashboard, a place's page and the site suggestions, within the commissioner's own area.
Plain functions over a Session and the offer index; the routes only parse and render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.errors import DomainError, FieldError, NotAllowed, NotFound
from marketplace.geography.classify import UrbanRural6
from marketplace.geography.models import CouncilArea, Settlement
from marketplace.parsing import ascii_whole_number, clean_query_text
from marketplace.tables import Table
from matching.gaps import shaping
from matching.gaps.map import GapMap, gap_map
from matching.gaps.place import PlaceView, place_view
from matching.gaps.report import (
    DEFAULT_PERIOD_DAYS,
    PERIODS,
    GapFilter,
    GapReport,
    UnmetViews,
    build_report,
)
from matching.gaps.service import GapFigures, gap_figures
from matching.gaps.sites import Suggestion, hours_after, suggest_sites
from matching.gaps.tables import before_after_table, report_tables, sites_table
from matching.index import OfferIndex
from providers.models import Taxonomy, TaxonomyTerm

FILTER_FIELDS = ("council", "kind", "outcome", "class", "period")
DEFAULT_SITES = {"count": "3", "radius": "20", "hours": "30"}
SITES_LIMITS = (
    ("count", 1, 10, "Choose how many new providers, from 1 to 10"),
    ("radius", 1, 100, "Enter how far each would travel, from 1 to 100 km"),
    ("hours", 1, 1000, "Enter the hours a week each could take on, from 1 to 1,000"),
)
"""Each site question's bounds and the message when an answer is outside them."""


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

    @property
    def query(self) -> str:
        """The filters as asked, as a query string for the page's links."""
        return _query(self.values, *FILTER_FIELDS)


@dataclass(frozen=True)
class Choices:
    """What the filter form offers: the commissioner's own area, or every council."""

    kinds: list[tuple[str, str]]
    outcomes: list[tuple[str, str]]
    classes: list[tuple[str, str]]
    periods: list[tuple[str, str]]
    councils: list[tuple[str, str]]
    """Empty for a commissioner of one council area, who sees only their own."""
    own_council: str | None

    def context(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Dashboard:
    asked: Asked
    choices: Choices
    report: GapReport | None
    """None when the filters could not be read (asked.errors says why)."""
    tables: list[Table] = field(default_factory=list)
    map: GapMap | None = None


@dataclass(frozen=True)
class PlacePage:
    settlement: Settlement
    asked: Asked
    view: PlaceView
    computed_at: datetime


@dataclass(frozen=True)
class SitesPage:
    values: dict[str, str]
    errors: list[FieldError]
    choices: Choices
    suggestion: Suggestion | None = None
    """None until a kind of support is chosen, or when an answer is wrong."""
    tables: list[Table] = field(default_factory=list)
    kind: str = ""
    area: str = ""
    weekly_hours: int = 0

    @property
    def query(self) -> str:
        return urlencode([(k, v) for k, v in self.values.items() if v])


def figures_now(session: Session, *, index: OfferIndex) -> GapFigures:
    """The figures for the offers as they are now."""
    index.refresh(session)
    return gap_figures(session, index=index)


def read_filter(
    session: Session, *, figures: GapFigures, query: Mapping[str, str], user: User
) -> Asked:
    """The filter a page's address asks for, within the commissioner's own area. Another
    council's area is refused (NotAllowed); what is not in a list is an error by its field."""
    values = {name: clean_query_text(query.get(name, "")) for name in FILTER_FIELDS}
    errors: list[FieldError] = []
    council_id = user.council_id
    if values["council"]:
        council = session.scalar(
            select(CouncilArea).where(CouncilArea.gss_code == values["council"].upper())
        )
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
        number = ascii_whole_number(values["class"], low=1, high=max(UrbanRural6))
        if number in {int(c) for c in UrbanRural6}:
            class6 = UrbanRural6(number)
        else:
            errors.append(FieldError("class", "Choose an urban-rural class from the list"))
    period = DEFAULT_PERIOD_DAYS
    if values["period"]:
        number = ascii_whole_number(values["period"], low=1, high=max(PERIODS))
        if number in PERIODS:
            period = number
        else:
            errors.append(FieldError("period", "Choose a period from the list"))
    return Asked(
        GapFilter(
            kind_id=kind_id,
            outcome_id=outcome_id,
            class6=class6,
            period_days=period,
            council_id=council_id,
        ),
        values,
        errors,
    )


def choices(session: Session, *, figures: GapFigures, user: User) -> Choices:
    def terms(taxonomy: Taxonomy) -> list[tuple[str, str]]:
        ids = [t for t in figures.term_codes if figures.term_taxonomy[t] == taxonomy]
        return [
            (figures.term_codes[t], figures.term_names[t])
            for t in sorted(ids, key=lambda t: figures.term_order[t])
        ]

    own = session.get(CouncilArea, user.council_id) if user.council_id is not None else None
    councils = (
        []
        if user.council_id is not None
        else [
            (c.gss_code, c.name)
            for c in session.scalars(select(CouncilArea).order_by(CouncilArea.name))
        ]
    )
    return Choices(
        kinds=terms(Taxonomy.KIND_OF_SUPPORT),
        outcomes=terms(Taxonomy.PERSONAL_OUTCOME),
        classes=[(str(int(c)), c.label) for c in UrbanRural6],
        periods=[(str(days), label.capitalize()) for days, label in PERIODS.items()],
        councils=councils,
        own_council=own.name if own is not None else None,
    )


def _query(values: Mapping[str, str], *names: str) -> str:
    return urlencode([(name, values[name]) for name in names if values.get(name)])


def _with_query(path: str, query: str) -> str:
    return path + (f"?{query}" if query else "")


def dashboard(
    session: Session,
    *,
    index: OfferIndex,
    user: User,
    query: Mapping[str, str],
    today: date,
    threshold: int,
) -> Dashboard:
    """The market-gaps figures the address asks for, as tables and a map, for the
    commissioner's area; with no report when a filter cannot be read."""
    figures = figures_now(session, index=index)
    asked = read_filter(session, figures=figures, query=query, user=user)
    offered = choices(session, figures=figures, user=user)
    if asked.errors:
        return Dashboard(asked=asked, choices=offered, report=None)
    report = build_report(session, figures, asked.filter, today=today, threshold=threshold)
    tables = report_tables(
        report, place_href=lambda sid: _with_query(f"/commissioning/places/{sid}", asked.query)
    )
    return Dashboard(
        asked=asked,
        choices=offered,
        report=report,
        tables=tables,
        map=gap_map(
            session,
            report,
            place_href=_with_query("/commissioning/places/{id}", asked.query),
            council_href=lambda code: _with_query(
                "/commissioning", _query(asked.values | {"council": code}, *FILTER_FIELDS)
            ),
        ),
    )


def place_page(
    session: Session,
    *,
    index: OfferIndex,
    user: User,
    settlement_id: int,
    query: Mapping[str, str],
    today: date,
    threshold: int,
) -> PlacePage:
    """One counted place in the commissioner's area (NotFound otherwise), for the filters
    the dashboard's link carried (DomainError when one cannot be read: the page has no
    form of its own)."""
    figures = figures_now(session, index=index)
    settlement = session.get(Settlement, settlement_id)
    if settlement is None or settlement_id not in figures.places.position():
        raise NotFound("Page not found")
    if user.council_id is not None and settlement.council_id != user.council_id:
        raise NotFound("Page not found")
    asked = read_filter(session, figures=figures, query=query, user=user)
    if asked.errors:
        raise DomainError(
            "There is a problem with this page address: "
            + "; ".join(e.message for e in asked.errors)
        )
    view = place_view(
        session,
        figures,
        settlement,
        asked.filter,
        today=today,
        threshold=threshold,
        period=PERIODS[asked.filter.period_days],
    )
    return PlacePage(settlement=settlement, asked=asked, view=view, computed_at=figures.computed_at)


def sites_page(
    session: Session, *, index: OfferIndex, user: User, query: Mapping[str, str]
) -> SitesPage:
    """Where new providers of the asked kind would bring the most people into reach in the
    commissioner's area; nothing suggested until a kind is chosen."""
    figures = figures_now(session, index=index)
    asked = read_filter(session, figures=figures, query=query, user=user)
    values = asked.form_values | {
        name: query.get(name, default).strip() for name, default in DEFAULT_SITES.items()
    }
    errors = list(asked.errors)
    numbers: dict[str, int] = {}
    for name, low, high, message in SITES_LIMITS:
        text = values[name]
        if ascii_whole_number(text, low=low, high=high) is None:
            errors.append(FieldError(name, message))
        else:
            numbers[name] = int(text)
    # Asked with the kind left blank: the form was sent, so say what is missing.
    if not errors and asked.filter.kind_id is None and "kind" in query:
        errors.append(
            FieldError("kind", "Choose the kind of support the new providers would offer")
        )
    offered = choices(session, figures=figures, user=user)
    flt = asked.filter
    if errors or flt.kind_id is None:
        return SitesPage(values=values, errors=errors, choices=offered)
    places = figures.places
    measure = figures.measure(kind_id=flt.kind_id, outcome_id=flt.outcome_id)
    area = (
        np.arange(len(places))
        if flt.council_id is None
        else np.flatnonzero(places.council_ids == flt.council_id)
    )
    # The people to bring into reach are those the filters name (the urban-rural class
    # too); a provider may be based anywhere in the area to reach them.
    served = area if flt.class6 is None else area[places.class6[area] == int(flt.class6)]
    suggestion = suggest_sites(
        places,
        candidates=area,
        clients=served[measure.providers[served] == 0],
        radius_km=numbers["radius"],
        count=numbers["count"],
    )
    after = hours_after(
        places,
        measure.hours_per_1000,
        suggestion.sites,
        radius_km=numbers["radius"],
        weekly_hours=numbers["hours"],
    )
    kind = figures.term_names[flt.kind_id].lower()
    area_name = "Scotland" if flt.council_id is None else places.council_names[flt.council_id]
    if flt.class6 is not None:
        area_name = f"{area_name}: {flt.class6.label.lower()}s"
    tables = [
        sites_table(places, suggestion, kind=kind),
        before_after_table(
            places,
            served,
            before=measure.hours_per_1000,
            after=after,
            providers=measure.providers,
            suggestion=suggestion,
            area_name=area_name,
            kind=kind,
        ),
    ]
    return SitesPage(
        values=values,
        errors=errors,
        choices=offered,
        suggestion=suggestion,
        tables=tables,
        kind=kind,
        area=area_name,
        weekly_hours=numbers["hours"],
    )


def gap_of(
    session: Session, shown: PlacePage, *, index: OfferIndex, today: date, threshold: int
) -> shaping.Gap | None:
    """The place page's gap as an invitation tells it: None until a kind is chosen."""
    flt = shown.asked.filter
    if flt.kind_id is None:
        return None
    figures = figures_now(session, index=index)
    position = figures.places.position()[shown.settlement.id]
    unmet = UnmetViews(session, figures, today=today, threshold=threshold).of(
        GapFilter(kind_id=flt.kind_id, period_days=flt.period_days)
    )
    return shaping.Gap(
        place=shown.settlement,
        kind=session.get_one(TaxonomyTerm, flt.kind_id),
        people=shown.settlement.population,
        providers_in_reach=shown.view.reached_by,
        unmet_searches=str(unmet.searches.cell(position)),
        period=PERIODS[flt.period_days],
    )
