"""The council outlines the gap map is drawn from: the simplifier keeps what shapes need and
drops what they do not, on shapes made by hand; a build keeps a boundary two councils share
as one line both use, drops islets, and files councils under today's codes; and the shipped
file is a fresh build of the clipped boundaries, small, with every council of today."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography import outlines
from marketplace.geography.build import REFERENCE_DIR
from marketplace.geography.models import CouncilArea
from marketplace.geography.outlines import (
    Point,
    kept_points,
    ring_area,
    simplify,
    simplify_ring,
)


def off_line(point: Point, a: Point, b: Point) -> float:
    """How far `point` is from the segment a-b."""
    (px, py), (ax, ay), (bx, by) = point, a, b
    dx, dy = bx - ax, by - ay
    if dx == dy == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


class TestSimplify:
    def test_a_straight_line_keeps_only_its_ends(self) -> None:
        line = [(x, 2 * x) for x in range(10)]
        assert simplify(line, 0.5) == [(0, 0), (9, 18)]

    def test_wiggles_under_the_tolerance_go_and_those_over_it_stay(self) -> None:
        wiggle = [(0, 0), (10, 3), (20, 0), (30, -3), (40, 0)]
        assert simplify(wiggle, 4) == [(0, 0), (40, 0)]
        # (20, 0) lies on the line between the two peaks, which are kept.
        assert simplify(wiggle, 2) == [(0, 0), (10, 3), (30, -3), (40, 0)]
        zigzag = [(0, 0), (10, 3), (20, -3), (30, 3), (40, 0)]
        assert simplify(zigzag, 1) == zigzag

    def test_a_square_with_points_along_its_sides_keeps_its_corners(self) -> None:
        ring = [(0, 0), (5, 0), (10, 0), (10, 5), (10, 10), (5, 10), (0, 10), (0, 5), (0, 0)]
        assert simplify_ring(ring, 0.1) == [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]
        assert ring_area(ring) == 100

    def test_a_point_far_from_a_closed_ring_s_start_keeps_the_ring_open(self) -> None:
        # Plain Douglas-Peucker on a closed ring measures from a line of no length.
        triangle = [(0, 0), (10, 0), (5, 8), (0, 0)]
        assert simplify_ring(triangle, 1) == triangle

    @given(
        st.lists(
            st.tuples(st.integers(-1000, 1000), st.integers(-1000, 1000)), min_size=2, max_size=60
        ),
        st.floats(0, 200),
    )
    def test_every_point_dropped_is_within_the_tolerance_of_the_line_kept(
        self, points: list[Point], tolerance: float
    ) -> None:
        kept = kept_points(points, tolerance)
        assert kept[0] == 0 and kept[-1] == len(points) - 1
        assert simplify(points, tolerance) == [points[i] for i in kept]
        for start, end in itertools.pairwise(kept):
            a, b = points[start], points[end]
            for dropped in points[start + 1 : end]:
                assert off_line(dropped, a, b) <= tolerance + 1e-9


def write_reference(
    folder: Path, features: list[tuple[str, list[list[tuple[float, float]]]]]
) -> None:
    """A boundary file and a code-changes file in the layout of ../shared/reference."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code_2013": code, "name": code},
                "geometry": {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]},
            }
            for code, rings in features
        ],
    }
    (folder / outlines.SOURCE_FILE).write_text(json.dumps(collection))
    (folder / "council_code_changes.csv").write_text(
        "code_2011,code_now,name\nS12000015,S12000047,Fife\n"
    )


class TestBuild:
    def test_two_councils_share_one_boundary_line_and_islets_are_dropped(
        self, tmp_path: Path
    ) -> None:
        # Two squares about 6 km across near Perth, meeting along a wiggly line, and a
        # rock of about 60 m beside the east one.
        west = [(-3.5, 56.4), (-3.4, 56.4), (-3.4, 56.41), (-3.401, 56.42), (-3.4, 56.43)]
        west += [(-3.4, 56.45), (-3.5, 56.45), (-3.5, 56.4)]
        east = [(-3.4, 56.4), (-3.3, 56.4), (-3.3, 56.45), (-3.4, 56.45), (-3.4, 56.43)]
        east += [(-3.401, 56.42), (-3.4, 56.41), (-3.4, 56.4)]
        rock = [(-3.29, 56.42), (-3.2895, 56.42), (-3.2895, 56.4205), (-3.29, 56.42)]
        write_reference(tmp_path, [("S12000030", [west]), ("S12000015", [east, rock])])

        built = outlines.decode(outlines.build_outlines(tmp_path))

        assert set(built.councils) == {"S12000030", "S12000047"}, "Fife under today's code"
        assert [len(rings) for _, rings in sorted(built.councils.items())] == [1, 1]
        boundary = [i for i, owners in enumerate(built.owners) if owners == 2]
        assert len(boundary) == 1, "the shared line is one arc"
        (number,) = boundary
        west_arcs, east_arcs = built.councils["S12000030"][0], built.councils["S12000047"][0]
        assert {number, ~number} == {n for n in west_arcs + east_arcs if n in (number, ~number)}
        # The wiggle of about 60 m is under the tolerance: the boundary is straight.
        assert len(built.arcs[number]) == 2
        for rings in built.councils.values():
            points = built.ring_points(rings[0], built.arcs)
            assert points[0] == points[-1], "every ring closes"


def test_the_shipped_outlines_are_a_fresh_build_of_the_clipped_boundaries() -> None:
    if not (REFERENCE_DIR / outlines.SOURCE_FILE).exists():
        pytest.skip(f"the shared reference data is not beside the project ({REFERENCE_DIR})")
    assert outlines.OUTLINES_JSON.read_text() == outlines.build_outlines(REFERENCE_DIR), (
        "council_outlines.json differs from a fresh build; run sds-market geography build"
    )


def test_the_shipped_outlines_are_small_and_have_every_council_of_today(db: Session) -> None:
    assert outlines.OUTLINES_JSON.stat().st_size < 300_000
    shipped = outlines.outlines()
    assert set(shipped.councils) == set(db.scalars(select(CouncilArea.gss_code)))
    for rings in shipped.councils.values():
        for ring in rings:
            points = shipped.ring_points(ring, shipped.arcs)
            assert points[0] == points[-1] and len(points) >= 4
    # Every arc between councils is held by two rings, and the coast by one.
    assert set(shipped.owners) == {1, 2}
    # The Western Isles' many islands, Shetland's and Orkney's are there.
    assert min(len(shipped.councils[code]) for code in ("S12000013", "S12000027", "S12000023")) > 10
