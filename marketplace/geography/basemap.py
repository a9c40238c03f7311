"""The base of the project's maps (the commissioner's gap map, an offer's area): the view
(which part of Scotland, at what scale), the land, coast and council boundaries from the
shipped outlines, labels for the larger places and a scale bar. Drawn as SVG on the
British National Grid, whose metres are true to within 0.2% across Scotland (its scale
is 0.9996 on 2 degrees west and grows to 1.0015 at St Kilda), so one scale bar holds for
the whole map."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

from marketplace.geography.outlines import Outlines, Point, outlines, simplify, simplify_ring

WIDTH = 360
"""The SVG's own units across; the page scales it to fit."""
MARGIN = 0.06
"""Around the area looked at, as a share of its larger side."""
TALLEST = 1.5
"""The most a map's height may be of its width: narrower areas get more of their sides."""
WIDEST = 2.0
SMOOTHNESS_PX = 1.2
"""Outlines are simplified further for each view until no dropped point is more than this
far from the line drawn: finer detail than that is bytes nobody can see."""
LABEL_SIZE = 10
"""The labels' font size, in the SVG's units (16 px where the map is 36rem wide)."""
LABELS = 8
"""At most this many places named on a map, the largest first."""
SCALE_SHARE = 0.25
"""The scale bar is the longest round length under this share of the map's width."""


@dataclass(frozen=True)
class View:
    west: float
    south: float
    east: float
    north: float
    """British National Grid metres."""

    @property
    def height(self) -> int:
        return max(1, round(WIDTH * (self.north - self.south) / (self.east - self.west)))

    @property
    def units_per_metre(self) -> float:
        return WIDTH / (self.east - self.west)

    def xy(self, point: tuple[float, float]) -> tuple[float, float]:
        x, y = point
        s = self.units_per_metre
        return (x - self.west) * s, (self.north - y) * s

    def holds(self, box: tuple[float, float, float, float]) -> bool:
        west, south, east, north = box
        return (
            west <= self.east and east >= self.west and south <= self.north and north >= self.south
        )


def view_around(points: Iterable[tuple[float, float]]) -> View:
    """The view of these points with a margin, neither too tall nor too flat to read."""
    xs, ys = zip(*points, strict=True)
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    margin = max(east - west, north - south, 10_000) * MARGIN
    west, east, south, north = west - margin, east + margin, south - margin, north + margin
    width, height = east - west, north - south
    if height > width * TALLEST:
        grow = (height / TALLEST - width) / 2
        west, east = west - grow, east + grow
    elif width > height * WIDEST:
        grow = (width / WIDEST - height) / 2
        south, north = south - grow, north + grow
    return View(west, south, east, north)


@lru_cache(maxsize=1)
def scotland_view() -> View:
    """The view of all of Scotland, islands included (every offer page's map)."""
    return view_around(council_corners(outlines().councils))


def council_corners(codes: Iterable[str]) -> list[tuple[float, float]]:
    """The south-west and north-east corners of these councils' outlines (by GSS code), to
    frame a view: worked out once per set of councils, not from every point per drawing."""
    return list(_corners(tuple(sorted(codes))))


@lru_cache(maxsize=40)
def _corners(codes: tuple[str, ...]) -> tuple[tuple[float, float], ...]:
    shapes = outlines()
    points = [
        point
        for code in codes
        for ring in shapes.councils.get(code, [])
        for point in shapes.ring_points(ring, shapes.arcs)
    ]
    if not points:
        return ()
    west, south, east, north = _box(points)
    return ((west, south), (east, north))


@lru_cache(maxsize=8)
def _arcs_at(tolerance_m: int) -> tuple[tuple[Point, ...], ...]:
    # Simplified again per scale: cached, as a few scales serve every council's map.
    return tuple(
        tuple(simplify_ring(arc, tolerance_m) if arc[0] == arc[-1] else simplify(arc, tolerance_m))
        for arc in outlines().arcs
    )


def _box(points: Sequence[Point]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _path(view: View, lines: Iterable[Sequence[Point]], *, closed: bool) -> str:
    """Path data: each line's first point, then relative steps to a tenth of a unit, each
    step measured from where the last one rounded to, so the line does not drift. A closed
    ring's last point (its first again) is left to "z"."""
    parts = []
    for line in lines:
        if closed and len(line) > 1 and line[-1] == line[0]:
            line = line[:-1]
        x, y = view.xy(line[0])
        at_x, at_y = start = round(x, 1), round(y, 1)
        steps: list[float] = []
        for point in line[1:]:
            px, py = view.xy(point)
            dx, dy = round(px - at_x, 1), round(py - at_y, 1)
            if dx or dy:
                steps += (dx, dy)
                at_x, at_y = round(at_x + dx, 1), round(at_y + dy, 1)
        parts.append(f"M{_numbers(start)}")
        if steps:
            parts.append(f"l{_numbers(steps)}")
        if closed:
            parts.append("z")
    return "".join(parts)


def _numbers(values: Sequence[float]) -> str:
    # A minus sign separates numbers in path data by itself: no space needed before it.
    text = ""
    for value in values:
        number = f"{value:g}"
        text += number if not text or number.startswith("-") else f" {number}"
    return text


@dataclass(frozen=True)
class Base:
    """The view's outlines as SVG path data, simplified for its scale."""

    view: View
    councils: dict[str, str]
    """Each council's land (by GSS code) in view."""
    coast: str
    boundaries: str
    """Every boundary between two councils in view."""
    chosen_edge: str
    """The chosen council's boundaries with its neighbours, drawn stronger."""


# Kept: every view of one council's figures (each kind, outcome and period) has the same
# outlines, and drawing them was a third of a dashboard's time. A view is fixed by its
# council's places, which change only with an import; 40 holds every council and Scotland.
@lru_cache(maxsize=40)
def base_of(view: View, *, chosen: str | None = None) -> Base:
    shapes = outlines()
    tolerance = max(1, int(SMOOTHNESS_PX / view.units_per_metre))
    arcs = _arcs_at(tolerance)
    shown = [i for i, arc in enumerate(arcs) if len(arc) > 1 and view.holds(_box(arc))]
    in_view = set(shown)
    councils = {}
    for code, rings in shapes.councils.items():
        drawn = []
        for ring in rings:
            if not any((n if n >= 0 else ~n) in in_view for n in ring):
                continue
            points = shapes.ring_points(ring, arcs)
            if len(points) >= 4:
                drawn.append(points)
        if drawn:
            councils[code] = _path(view, drawn, closed=True)
    chosen_arcs = _arcs_of(shapes, chosen) if chosen else set()
    coast = [arcs[i] for i in shown if shapes.owners[i] == 1]
    inner = [arcs[i] for i in shown if shapes.owners[i] > 1 and i not in chosen_arcs]
    edge = [arcs[i] for i in shown if shapes.owners[i] > 1 and i in chosen_arcs]
    return Base(
        view=view,
        councils=councils,
        coast=_path(view, coast, closed=False),
        boundaries=_path(view, inner, closed=False),
        chosen_edge=_path(view, edge, closed=False),
    )


def _arcs_of(shapes: Outlines, code: str) -> set[int]:
    return {n if n >= 0 else ~n for ring in shapes.councils.get(code, []) for n in ring}


@dataclass(frozen=True)
class Label:
    name: str
    point: tuple[float, float]
    """British National Grid metres."""
    people: int
    home: bool = True
    """In the area looked at: named before its neighbours' places."""
    radius: float = 0.0
    """Of the circle drawn at the place, if any: its name goes beside it."""


def labels_svg(view: View, candidates: Sequence[Label]) -> str:
    """The largest places in view (the area's own first), each a dot and its name, where
    the name does not overlap one already placed or run off the map."""
    placed: list[tuple[float, float, float, float]] = []
    texts = []
    for label in sorted(candidates, key=lambda c: (not c.home, -c.people, c.name)):
        if len(placed) == LABELS:
            break
        x, y = view.xy(label.point)
        if not (0 <= x <= WIDTH and 0 <= y <= view.height):
            continue
        width = _text_width(label.name)
        # To the right of the mark, or to the left where the right runs off the map.
        beside = max(label.radius, 1.5)
        left = x + beside + 2
        anchor = "start"
        if left + width > WIDTH - 2:
            left, anchor = x - beside - 2 - width, "end"
        box = (left - 1, y - LABEL_SIZE * 0.75, left + width + 1, y + LABEL_SIZE * 0.35)
        if (
            box[0] < 0
            or box[1] < 0
            or box[3] > view.height
            or any(_overlap(box, b) for b in placed)
        ):
            continue
        placed.append(box)
        tx = left if anchor == "start" else left + width
        texts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.2"/>')
        texts.append(
            f'<text x="{tx:.1f}" y="{y + LABEL_SIZE * 0.35:.1f}"'
            + (' text-anchor="end"' if anchor == "end" else "")
            + f">{escape(label.name)}</text>"
        )
    if not texts:
        return ""
    return f'<g class="app-gap-map__labels" aria-hidden="true">{"".join(texts)}</g>'


def _text_width(text: str) -> float:
    # An average glyph of the design system's sans-serif is a little over half its size.
    return len(text) * LABEL_SIZE * 0.56


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def scale_km(view: View) -> int:
    """The scale bar's length: the longest of 1, 2 or 5 times a power of ten kilometres
    that fits in a quarter of the map's width."""
    most = (view.east - view.west) / 1000 * SCALE_SHARE
    power = 10 ** math.floor(math.log10(most))
    return int(max(step * power for step in (1, 2, 5) if step * power <= most))


def scale_bar_svg(view: View) -> tuple[str, int]:
    """The scale bar (bottom left) and the kilometres it stands for."""
    km = max(1, scale_km(view))
    length = km * 1000 * view.units_per_metre
    x, y = 8.0, view.height - 8.0
    svg = (
        f'<g class="app-gap-map__scale" aria-hidden="true">'
        f'<path d="M{x:g} {y - 4:g}v4h{length:.1f}v-4"/>'
        f'<text x="{x:g}" y="{y - 7:g}">{km} km</text></g>'
    )
    return svg, km
