"""The commissioner's map, drawn on the server as SVG from the reference geography (no
tiles, no network): Scotland's land as grey squares, each settlement of the area as a
circle sized by its people and shaded by how much support reaches it against Scotland's
figure, and every circle a link to the place's page, so the map can be used from the
keyboard and each circle says its figures to a screen reader."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from marketplace.geography.build import CELL_DEGREES
from marketplace.geography.gazetteer import gazetteer
from matching.gaps.report import GapReport, PlaceRow

WIDTH = 360
MARGIN_DEGREES = 0.15
LARGEST_RADIUS = 11.0
"""Glasgow's circle; others shrink with the square root of their people."""
SMALLEST_RADIUS = 2.5


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    fill: str
    stroke: str


GAP = Band("gap", "No offer reaches it", "#ffffff", "#d32205")
BANDS = (
    Band("1", "Under half of Scotland's figure", "#f8cfc0", "#6b2c1a"),
    Band("2", "Half of Scotland's figure to the same", "#f3a67f", "#6b2c1a"),
    Band("3", "Scotland's figure to one and a half times it", "#6aa9d6", "#002d54"),
    Band("4", "One and a half times Scotland's figure or more", "#0065bd", "#002d54"),
)
BAND_LIMITS = (0.5, 1.0, 1.5)
"""Shares of Scotland's figure where the bands change."""


def band_of(row: PlaceRow, scotland_hours: float) -> Band:
    if row.gap:
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
    """Each band and how many of the map's places are in it."""


def gap_map(session: Session, report: GapReport, *, place_href: str) -> GapMap:
    """`place_href` has "{id}" where a place's settlement id goes."""
    rows = report.places
    positions = [
        (float(report.geography.lat[row.position]), float(report.geography.lon[row.position]))
        for row in rows
    ]
    lats = [lat for lat, _ in positions]
    lons = [lon for _, lon in positions]
    if not rows:
        return GapMap(svg=Markup(""), description="There are no places to show.", legend=())
    north, south = max(lats) + MARGIN_DEGREES, min(lats) - MARGIN_DEGREES
    west, east = min(lons) - MARGIN_DEGREES * 2, max(lons) + MARGIN_DEGREES * 2
    squeeze = math.cos(math.radians((north + south) / 2))
    height = max(120, round(WIDTH * (north - south) / ((east - west) * squeeze)))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round((lon - west) / (east - west) * WIDTH, 1), round(
            (north - lat) / (north - south) * height, 1
        )

    cell_w = CELL_DEGREES / (east - west) * WIDTH
    cell_h = CELL_DEGREES / (north - south) * height
    parts = []
    rows_shown = range(math.floor(south / CELL_DEGREES) - 1, math.ceil(north / CELL_DEGREES) + 1)
    cols_shown = range(math.floor(west / CELL_DEGREES) - 1, math.ceil(east / CELL_DEGREES) + 1)
    cells = sorted(
        cell
        for cell, (scottish, other) in gazetteer(session).land.items()
        if scottish > other and cell[0] in rows_shown and cell[1] in cols_shown
    )
    for row_number, col in cells:
        x, y = xy((row_number + 1) * CELL_DEGREES, col * CELL_DEGREES)
        parts.append(
            f'<rect x="{x}" y="{y}" width="{cell_w:.1f}" height="{cell_h:.1f}" fill="#e0e0e0"/>'
        )
    biggest = max(row.population for row in rows)
    counts = {band.key: 0 for band in (GAP, *BANDS)}
    places = sorted(zip(rows, positions, strict=True), key=lambda item: -item[0].population)
    for row, (lat, lon) in places:
        band = band_of(row, report.scotland.hours_per_1000)
        counts[band.key] += 1
        x, y = xy(lat, lon)
        radius = max(SMALLEST_RADIUS, LARGEST_RADIUS * math.sqrt(row.population / max(biggest, 1)))
        label = f"{row.name}: {_figures_text(row)}"
        width = 2.5 if band is GAP else 1
        parts.append(
            f'<a href="{escape(place_href.format(id=row.settlement_id))}" '
            f'aria-label="{escape(label)}">'
            f'<circle cx="{x}" cy="{y}" r="{radius:.1f}" fill="{band.fill}" '
            f'stroke="{band.stroke}" stroke-width="{width}">'
            f"<title>{escape(label)}</title></circle></a>"
        )
    description = _describe(report, counts)
    svg = Markup(
        f'<svg class="app-gap-map" viewBox="0 0 {WIDTH} {height}" role="group" '
        'aria-labelledby="gap-map-title gap-map-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="gap-map-title">Map of {escape(report.area)}: '
        f"{escape(report.kind)} reaching each place</title>"
        f'<desc id="gap-map-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
    return GapMap(
        svg=svg,
        description=description,
        legend=tuple((band, counts[band.key]) for band in (GAP, *BANDS)),
    )


def _figures_text(row: PlaceRow) -> str:
    if row.gap:
        return f"no offer in reach, {row.population:,} people"
    providers = f"{row.providers} provider{'' if row.providers == 1 else 's'}"
    return (
        f"{row.hours_per_1000:.1f} hours a week per 1,000 "
        f"residents from {providers}, {row.population:,} people"
    )


def _describe(report: GapReport, counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return (
        f"{total} places in {report.area}, each a circle sized by its population. "
        f"{counts[GAP.key]} have no offer of {report.kind} "
        "in reach (white circles with a red edge); "
        f"{counts['1']} have under half of Scotland's "
        f"{report.scotland.hours_per_1000:.1f} hours a week per 1,000 residents. "
        "Each circle links to the place's page. The table below gives the same figures."
    )
