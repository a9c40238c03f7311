"""Scotland's council outlines for the gap map: built offline from the clipped council
boundaries (`sds-market geography build`), simplified, and shipped as arcs, and read back
at run time. The map draws its coastline, islands and council boundaries from them.

Shared boundaries are stored once, as arcs in the manner of TopoJSON: every ring is a
list of arcs, an arc running between points where its neighbours change. Two councils
that share a boundary share the very same simplified line, so no slivers or gaps open
between them however far the map zooms in, and the boundary lines are exactly the arcs
that two councils hold."""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from marketplace.geography.build import DATA_DIR, REFERENCE_DIR, current_council_codes

if TYPE_CHECKING:
    from pyproj import Transformer

OUTLINES_JSON = DATA_DIR / "council_outlines.json"
SOURCE_FILE = "scotland_council_areas_2013.geojson"
TOLERANCE_M = 150
"""Douglas-Peucker tolerance of the shipped file: a fifth of a pixel on Highland's map,
about five on the smallest council's (Clackmannanshire); the shipped file stays near
150 KB."""
SMALLEST_ISLAND_KM2 = 0.25
"""Islets smaller than this are dropped: under a pixel on every map, and a thousand of
them would otherwise double the file."""
GRID_M = 10
"""Coordinates are kept in 10 m units of the British National Grid (EPSG:27700): its
scale is true to within 0.2% across Scotland, so the map's scale bar can be read
straight from it."""

Point = tuple[int, int]


def simplify(points: Sequence[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker: the fewest of `points` (the first and last always among them) that
    keep every dropped point within `tolerance` of the line kept."""
    return [points[i] for i in kept_points(points, tolerance)]


def kept_points(points: Sequence[Point], tolerance: float) -> list[int]:
    """The positions of the points `simplify` keeps, in order."""
    if len(points) < 3:
        return list(range(len(points)))
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, index = -1.0, first
        for i in range(first + 1, last):
            distance = _off_segment(points[i], points[first], points[last])
            if distance > farthest:
                farthest, index = distance, i
        if farthest > tolerance:
            keep[index] = True
            stack.extend(((first, index), (index, last)))
    return [i for i, kept in enumerate(keep) if kept]


def _off_segment(point: Point, a: Point, b: Point) -> float:
    # From the segment, not its line: a spike running back past an end is not on the line.
    (px, py), (ax, ay), (bx, by) = point, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def simplify_ring(ring: Sequence[Point], tolerance: float) -> list[Point]:
    """A closed ring (first point repeated last) simplified about its first point and the
    point farthest from it, so a ring with no fixed ends keeps its shape."""
    if len(ring) < 4:
        return list(ring)
    x0, y0 = ring[0]
    far = max(range(len(ring)), key=lambda i: (ring[i][0] - x0) ** 2 + (ring[i][1] - y0) ** 2)
    return simplify(ring[: far + 1], tolerance)[:-1] + simplify(ring[far:], tolerance)


def ring_area(ring: Sequence[Point]) -> float:
    """The area a closed ring encloses (shoelace formula), in its units squared."""
    return abs(sum(ax * by - bx * ay for (ax, ay), (bx, by) in itertools.pairwise(ring))) / 2


@dataclass(frozen=True)
class Outlines:
    arcs: list[list[Point]]
    """In British National Grid metres."""
    councils: dict[str, list[list[int]]]
    """Each council's rings (by today's GSS code), each a list of arc numbers; ~n is arc n
    run backwards."""
    owners: list[int]
    """How many rings hold each arc: 2 for a boundary between councils, 1 for coast."""

    def ring_points(self, ring: Sequence[int], arcs: Sequence[Sequence[Point]]) -> list[Point]:
        """A ring's points from its arcs (`arcs` as simplified for the view)."""
        points: list[Point] = []
        for number in ring:
            arc = list(arcs[number]) if number >= 0 else list(reversed(arcs[~number]))
            points.extend(arc if not points else arc[1:])
        return points


def _read_geojson(path: Path) -> list[tuple[str, list[list[tuple[float, float]]]]]:
    with path.open() as f:
        features = json.load(f)["features"]
    read = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        # Only outer rings: the clipped boundaries have no holes (inland water is land here).
        rings = [[(float(x), float(y)) for x, y in polygon[0]] for polygon in polygons]
        read.append((str(feature["properties"]["code_2013"]), rings))
    return read


def _to_grid(rings: list[list[tuple[float, float]]]) -> list[list[Point]]:
    flat = [point for ring in rings for point in ring]
    eastings, northings = _to_grid_transformer().transform(
        [p[0] for p in flat], [p[1] for p in flat]
    )
    grid = [
        (round(e / GRID_M), round(n / GRID_M)) for e, n in zip(eastings, northings, strict=True)
    ]
    out, start = [], 0
    for ring in rings:
        out.append(grid[start : start + len(ring)])
        start += len(ring)
    return out


def _nodes(rings: Sequence[Sequence[Point]], owner_of: Sequence[str]) -> set[Point]:
    """Points where an arc must end: where the councils on either side of the line change
    (the coast meeting a boundary, three councils meeting)."""
    holders: defaultdict[Point, set[str]] = defaultdict(set)
    for ring, owner in zip(rings, owner_of, strict=True):
        for point in ring:
            holders[point].add(owner)
    nodes = set()
    for ring in rings:
        open_ring = ring[:-1]
        for i, point in enumerate(open_ring):
            before, after = open_ring[i - 1], open_ring[(i + 1) % len(open_ring)]
            if holders[before] & holders[point] != holders[point] & holders[after]:
                nodes.add(point)
    return nodes


def build_outlines(reference_dir: Path = REFERENCE_DIR) -> str:
    """The shipped outline file's text: the councils' rings from the clipped boundaries,
    islets dropped, as arcs simplified once each."""
    source = reference_dir / SOURCE_FILE
    if not source.exists():
        raise RuntimeError(f"the council boundaries are not in {reference_dir}")
    now_code = current_council_codes(reference_dir)
    rings: list[list[Point]] = []
    owner_of: list[str] = []
    for code, lonlat_rings in _read_geojson(source):
        for ring in _to_grid(lonlat_rings):
            # Consecutive repeats appear where 10 m rounding merges points.
            ring = [p for i, p in enumerate(ring) if i == 0 or p != ring[i - 1]]
            if ring_area(ring) * GRID_M**2 >= SMALLEST_ISLAND_KM2 * 1e6 and len(ring) >= 4:
                rings.append(ring)
                owner_of.append(now_code.get(code, code))
    nodes = _nodes(rings, owner_of)
    arcs: list[list[Point]] = []
    arc_number: dict[tuple[Point, ...], int] = {}
    councils: defaultdict[str, list[list[int]]] = defaultdict(list)
    owners: list[int] = []
    for ring, owner in zip(rings, owner_of, strict=True):
        open_ring = ring[:-1]
        cuts = [i for i, p in enumerate(open_ring) if p in nodes]
        if not cuts:
            # A ring touching nothing (an island): start it at its least point, so the
            # same ring always gives the same arc.
            start = min(range(len(open_ring)), key=lambda i: open_ring[i])
            turned = open_ring[start:] + open_ring[:start]
            pieces = [[*turned, turned[0]]]
        else:
            turned = open_ring[cuts[0] :] + open_ring[: cuts[0]]
            cuts = [i - cuts[0] for i in cuts] + [len(turned)]
            turned = [*turned, turned[0]]
            pieces = [turned[a : b + 1] for a, b in itertools.pairwise(cuts)]
        numbers = []
        for piece in pieces:
            forward, backward = tuple(piece), tuple(reversed(piece))
            key, sign = (forward, 1) if forward <= backward else (backward, -1)
            if key not in arc_number:
                arc_number[key] = len(arcs)
                closed = key[0] == key[-1]
                tolerance = TOLERANCE_M / GRID_M
                arcs.append(simplify_ring(key, tolerance) if closed else simplify(key, tolerance))
                owners.append(0)
            number = arc_number[key]
            owners[number] += 1
            numbers.append(number if sign == 1 else ~number)
        councils[owner].append(numbers)
    return _encode(arcs, councils, owners)


def _encode(
    arcs: Sequence[Sequence[Point]], councils: dict[str, list[list[int]]], owners: Sequence[int]
) -> str:
    # Arcs as their first point and then steps from point to point, in 10 m units: the
    # steps are short numbers, which keeps the file small.
    encoded = []
    for arc in arcs:
        flat = [*arc[0]]
        for (ax, ay), (bx, by) in itertools.pairwise(arc):
            flat.extend((bx - ax, by - ay))
        encoded.append(flat)
    header = {
        "source": (
            "Council areas 2013, generalised and clipped to the coastline (ONS/OS/NRS). "
            "Contains OS data (c) Crown copyright and database right; Open Government "
            "Licence v3. Simplified by sds-market geography build."
        ),
        "units": f"British National Grid (EPSG:27700), {GRID_M} m",
        "tolerance_m": TOLERANCE_M,
        "smallest_island_km2": SMALLEST_ISLAND_KM2,
        "owners": list(owners),
    }
    # One council, or one arc, a line: a rebuild's changes read as a short diff.
    lines = ["{"]
    lines += [f"{json.dumps(key)}: {_compact(value)}," for key, value in header.items()]
    lines.append('"councils": {')
    lines.append(
        ",\n".join(f"{json.dumps(code)}: {_compact(councils[code])}" for code in sorted(councils))
    )
    lines.append("},")
    lines.append('"arcs": [')
    lines.append(",\n".join(_compact(arc) for arc in encoded))
    lines.append("]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def decode(text: str) -> Outlines:
    document = json.loads(text)
    arcs = []
    for flat in document["arcs"]:
        x, y = flat[0], flat[1]
        points = [(x * GRID_M, y * GRID_M)]
        for i in range(2, len(flat), 2):
            x, y = x + flat[i], y + flat[i + 1]
            points.append((x * GRID_M, y * GRID_M))
        arcs.append(points)
    return Outlines(arcs=arcs, councils=document["councils"], owners=document["owners"])


@cache
def outlines() -> Outlines:
    """The shipped outlines (read once per process)."""
    return decode(OUTLINES_JSON.read_text())


@cache
def _to_grid_transformer() -> Transformer:
    import pyproj

    return pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def to_grid(latitudes: Iterable[float], longitudes: Iterable[float]) -> list[tuple[float, float]]:
    """Points as British National Grid metres (easting, northing), as the outlines are."""
    eastings, northings = _to_grid_transformer().transform(list(longitudes), list(latitudes))
    return list(zip((float(e) for e in eastings), (float(n) for n in northings), strict=True))
