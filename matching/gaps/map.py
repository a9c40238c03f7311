"""The commissioner's map, drawn on the server as SVG from the shipped outlines (no tiles,
no network): the coast, islands and council boundaries, the larger places named and a
scale bar. A council's map has each of its places as a circle sized by its people and
shaded by how much support reaches it against Scotland's figure; Scotland's map has each
council area shaded the same way from its own figures (1,970 circles would weigh 600 KB).
Every circle or council is a link to its page and says its figures to a screen reader."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from marketplace.geography.basemap import (
    WIDTH,
    Base,
    Label,
    View,
    base_of,
    council_corners,
    labels_svg,
    scale_bar_svg,
    view_around,
)
from marketplace.geography.gazetteer import Gazetteer, Place, gazetteer
from marketplace.geography.models import SettlementKind
from marketplace.geography.outlines import to_grid
from matching.gaps.report import GapReport, GroupRow, PlaceRow

LARGEST_RADIUS = 11.0
"""The largest place's circle; others shrink with the square root of their people."""
SMALLEST_RADIUS = 2.5


@dataclass(frozen=True)
class Band:
    key: str
    label: str


GAP = Band("gap", "No offer reaches it")
BANDS = (
    Band("1", "Under half of Scotland's figure"),
    Band("2", "Half of Scotland's figure to the same"),
    Band("3", "Scotland's figure to one and a half times it"),
    Band("4", "One and a half times Scotland's figure or more"),
)
"""Their colours are the project's CSS (.app-gap-map__band--KEY), as the legend's are."""
BAND_LIMITS = (0.5, 1.0, 1.5)
"""Shares of Scotland's figure where the bands change."""


def band_of(row: PlaceRow | GroupRow, scotland_hours: float) -> Band:
    """A place's band, or a council's: no offer reaches any of its places, or its hours a
    week per 1,000 residents against Scotland's."""
    nothing = row.gap if isinstance(row, PlaceRow) else row.places_without == row.places
    if nothing:
        return GAP
    if scotland_hours <= 0:
        return BANDS[0]
    share = row.hours_per_1000 / scotland_hours
    return BANDS[sum(share >= limit for limit in BAND_LIMITS)]


@dataclass(frozen=True)
class GapMap:
    svg: Markup
    description: str
    legend: tuple[tuple[Band, int], ...]
    """Each band and how many of the map's places (or council areas) are in it."""
    unit: str = "place"
    """What the map's links are: "place" or "council area"."""


def gap_map(
    session: Session,
    report: GapReport,
    *,
    place_href: str,
    council_href: Callable[[str], str],
) -> GapMap:
    """`place_href` has "{id}" where a place's settlement id goes; `council_href` gives a
    council's page from its GSS code (Scotland's map links its councils)."""
    known = gazetteer(session)
    codes = {council.name: council.gss_code for council in known.councils.values()}
    if report.filter.council_id is None:
        return _scotland_map(known, report, codes, council_href)
    return _council_map(known, report, codes, place_href)


def _council_map(
    known: Gazetteer, report: GapReport, codes: dict[str, str], place_href: str
) -> GapMap:
    rows = report.places
    if not rows:
        return GapMap(svg=Markup(""), description="There are no places to show.", legend=())
    geography = report.geography
    points = to_grid(
        [float(geography.lat[row.position]) for row in rows],
        [float(geography.lon[row.position]) for row in rows],
    )
    chosen = codes.get(report.area)
    view = view_around([*points, *council_corners([chosen] if chosen else [])])
    base = base_of(view, chosen=chosen)
    biggest = max(row.population for row in rows)
    counts = {band.key: 0 for band in (GAP, *BANDS)}
    circles = []
    radii: dict[int, float] = {}
    for row, point in sorted(zip(rows, points, strict=True), key=lambda item: -item[0].population):
        band = band_of(row, report.scotland.hours_per_1000)
        counts[band.key] += 1
        x, y = view.xy(point)
        radius = max(SMALLEST_RADIUS, LARGEST_RADIUS * math.sqrt(row.population / max(biggest, 1)))
        radii[row.settlement_id] = radius
        label = f"{row.name}: {_figures_text(row)}"
        circles.append(
            f'<a href="{escape(place_href.format(id=row.settlement_id))}" '
            f'aria-label="{escape(label)}">'
            f'<circle class="app-gap-map__band--{band.key}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{radius:.1f}"><title>{escape(label)}</title></circle></a>'
        )
    scale, km = scale_bar_svg(view)
    description = _describe(report, counts, km)
    land = "".join(
        f'<path class="app-gap-map__land{"--chosen" if code == chosen else ""}" d="{d}"/>'
        for code, d in base.councils.items()
    )
    labels = labels_svg(
        view,
        _labels(known, view, council_id=report.filter.council_id, radii=radii),
    )
    svg = _svg(
        view,
        description,
        land + _lines(base, coast=False) + "".join(circles) + labels + scale,
        title=f"Map of {report.area}: {report.kind} reaching each place",
    )
    return GapMap(
        svg=svg,
        description=description,
        legend=tuple((band, counts[band.key]) for band in (GAP, *BANDS)),
    )


def _scotland_map(
    known: Gazetteer,
    report: GapReport,
    codes: dict[str, str],
    council_href: Callable[[str], str],
) -> GapMap:
    view = view_around(council_corners(codes.values()))
    base = base_of(view)
    counts = {band.key: 0 for band in (GAP, *BANDS)}
    figures = {group.label: group for group in report.by_council}
    shapes = []
    for name, code in sorted(codes.items()):
        d = base.councils.get(code)
        if d is None:
            continue
        group = figures.get(name)
        if group is None:
            # No place of the filters in it: land, but nothing to link to.
            shapes.append(f'<path class="app-gap-map__land" d="{d}"/>')
            continue
        band = band_of(group, report.scotland.hours_per_1000)
        counts[band.key] += 1
        label = f"{name}: {_council_text(group, report.scotland.hours_per_1000)}"
        shapes.append(
            f'<a href="{escape(council_href(code))}" aria-label="{escape(label)}">'
            f'<path class="app-gap-map__band--{band.key}" d="{d}">'
            f"<title>{escape(label)}</title></path></a>"
        )
    scale, km = scale_bar_svg(view)
    description = _describe_scotland(report, counts, km)
    labels = labels_svg(view, _labels(known, view))
    svg = _svg(
        view,
        description,
        "".join(shapes) + _lines(base) + labels + scale,
        title=f"Map of Scotland: {report.kind} reaching each council area",
    )
    return GapMap(
        svg=svg,
        description=description,
        legend=tuple((band, counts[band.key]) for band in (GAP, *BANDS)),
        unit="council area",
    )


def _svg(view: View, description: str, body: str, *, title: str) -> Markup:
    return Markup(
        f'<svg class="app-gap-map" viewBox="0 0 {WIDTH} {view.height}" role="group" '
        'aria-labelledby="gap-map-title gap-map-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="gap-map-title">{escape(title)}</title>'
        f'<desc id="gap-map-desc">{escape(description)}</desc>'
        f'<rect class="app-gap-map__sea" width="{WIDTH}" height="{view.height}"/>'
        f"{body}</svg>"
    )


def _lines(base: Base, *, coast: bool = True) -> str:
    """The boundaries, and the coast unless the land's own edge draws it (a council's map,
    whose 300 circles leave fewer bytes for it)."""
    lines = [
        ("app-gap-map__coast", base.coast if coast else ""),
        ("app-gap-map__boundary", base.boundaries),
        ("app-gap-map__boundary--chosen", base.chosen_edge),
    ]
    return "".join(f'<path class="{name}" d="{d}"/>' for name, d in lines if d)


LABELLED_PLACES = 200
"""The largest places that may be named on a map: more than any view has room for."""


@lru_cache(maxsize=2)
def _largest_places(known: Gazetteer) -> tuple[tuple[Place, tuple[float, float]], ...]:
    """The largest places, each with its point on the grid: worked out once per gazetteer."""
    largest = sorted(
        (p for p in known.places.values() if p.kind == SettlementKind.SETTLEMENT),
        key=lambda p: -p.population,
    )[:LABELLED_PLACES]
    points = to_grid([p.latitude for p in largest], [p.longitude for p in largest])
    return tuple(zip(largest, points, strict=True))


def _labels(
    known: Gazetteer,
    view: View,
    *,
    council_id: int | None = None,
    radii: dict[int, float] | None = None,
) -> list[Label]:
    """Scotland's larger towns in view; those of `council_id` (when given) its own, and
    `radii` the circles drawn at places (by settlement id)."""
    radii = radii or {}
    return [
        Label(
            place.name,
            point,
            place.population,
            home=council_id in (None, place.council_id),
            radius=radii.get(place.id, 0.0),
        )
        for place, point in _largest_places(known)
        if view.west <= point[0] <= view.east and view.south <= point[1] <= view.north
    ]


def _figures_text(row: PlaceRow) -> str:
    if row.gap:
        return f"no offer in reach, {row.population:,} people"
    providers = f"{row.providers} provider{'' if row.providers == 1 else 's'}"
    return (
        f"{row.hours_per_1000:.1f} hours a week per 1,000 "
        f"residents from {providers}, {row.population:,} people"
    )


def _council_text(group: GroupRow, scotland_hours: float) -> str:
    against = (
        f" ({group.hours_per_1000 / scotland_hours:.0%} of Scotland's)" if scotland_hours else ""
    )
    return (
        f"{group.hours_per_1000:.1f} hours a week per 1,000 residents{against}; "
        f"{group.people_without:,} of {group.population:,} people "
        f"in {group.places_without} of {group.places} places have no offer in reach"
    )


def _describe(report: GapReport, counts: dict[str, int], km: int) -> str:
    total = sum(counts.values())
    return (
        f"{total} places in {report.area}, each a circle sized by its population. "
        f"{counts[GAP.key]} have no offer of {report.kind} "
        "in reach (white circles with a red edge); "
        f"{counts['1']} have under half of Scotland's "
        f"{report.scotland.hours_per_1000:.1f} hours a week per 1,000 residents. "
        f"The coast, islands and council boundaries are drawn, {report.area} darker, "
        f"with the larger towns named and a scale bar of {km} km. "
        "Each circle links to the place's page. The table below gives the same figures."
    )


def _describe_scotland(report: GapReport, counts: dict[str, int], km: int) -> str:
    total = sum(counts.values())
    return (
        f"{total} council areas of Scotland, each shaded by the hours a week of "
        f"{report.kind} per 1,000 of its residents against Scotland's "
        f"{report.scotland.hours_per_1000:.1f}. "
        f"In {counts[GAP.key]} no offer reaches any place (white with a red edge); "
        f"{counts['1']} have under half of Scotland's figure. "
        f"The larger towns are named, with a scale bar of {km} km. "
        "Each council area links to its own map and figures. "
        "The table below gives the same figures."
    )
