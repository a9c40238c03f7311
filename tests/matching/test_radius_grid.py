"""The grid the matcher looks radius offers up on (matching.reach): for any point, the offers
it hands over must include every one whose circle holds the point, whatever the radius, near
cell edges, in the far north where a degree of longitude is short, and with the extra reach
that "stops short of you" asks for. Checked against every offer, one by one."""

from __future__ import annotations

import numpy as np
import pytest

from marketplace.geography.distance import geodesic_km_many
from matching.reach import GROUP_LIMITS_KM, Circles, RadiusAreas


def scattered_offers(seed: int, count: int = 4_000) -> RadiusAreas:
    """Offers over Scotland's extent (Shetland included), with radii from 1 km to 120 km, so
    that every group has members and some groups have a long tail."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(54.6, 60.9, count)
    lon = rng.uniform(-8.7, -0.7, count)
    radius_km = np.concatenate([rng.uniform(1.0, 40.0, count - 40), rng.uniform(40.0, 120.0, 40)])
    # An offer exactly at each group's limit, where groups meet.
    radius_km[: len(GROUP_LIMITS_KM)] = GROUP_LIMITS_KM
    rows = np.arange(count, dtype=np.int64) * 3 + 7  # rows are not positions
    return RadiusAreas.of(Circles(rows, lat, lon, radius_km))


def every_offer(areas: RadiusAreas) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    every = Circles.joined([group.circles for group in areas.groups])
    return every.rows, every.lat, every.lon, every.radius_km


def people(seed: int, count: int = 300) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return list(zip(rng.uniform(54.6, 60.9, count), rng.uniform(-8.7, -0.7, count), strict=True))


@pytest.mark.parametrize("beyond_km", [0.0, 30.0])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_offer_whose_circle_holds_the_person_is_handed_over(
    seed: int, beyond_km: float
) -> None:
    areas = scattered_offers(seed)
    rows, lat, lon, radius_km = every_offer(areas)
    for latitude, longitude in people(seed):
        reaching = geodesic_km_many(latitude, longitude, lat, lon) <= radius_km + beyond_km
        near = areas.near(latitude, longitude, beyond_km)

        assert set(rows[reaching].tolist()) <= set(near.rows.tolist())
        # Handed over with their own coordinates and radius, and each once.
        assert len(set(near.rows.tolist())) == near.rows.size
        at = {row: i for i, row in enumerate(rows.tolist())}
        positions = [at[row] for row in near.rows.tolist()]
        assert np.array_equal(near.lat, lat[positions])
        assert np.array_equal(near.radius_km, radius_km[positions])


def test_people_on_cell_edges_and_corners_are_looked_up_in_the_cells_beside_them() -> None:
    areas = scattered_offers(3)
    rows, lat, lon, radius_km = every_offer(areas)
    for group in areas.groups:
        height = group.cell_degrees
        # Corners of the grid's cells, and points a hair either side of them.
        for row in range(int((55.0 + 90) / height), int((60.5 + 90) / height), 3):
            for column in range(
                int((-7.0 + 180) / (2 * height)), int((-1.0 + 180) / (2 * height)), 5
            ):
                for nudge in (-1e-9, 0.0, 1e-9):
                    latitude = row * height - 90 + nudge
                    longitude = column * 2 * height - 180 + nudge
                    reaching = geodesic_km_many(latitude, longitude, lat, lon) <= radius_km
                    near = areas.near(latitude, longitude)
                    assert set(rows[reaching].tolist()) <= set(near.rows.tolist())


def test_the_lookup_is_local_not_a_band_across_the_country() -> None:
    """What the grid is for: a person in the middle of many offers is compared with those
    around them, not with every offer at their latitude."""
    rng = np.random.default_rng(4)
    count = 20_000
    lat = rng.uniform(55.5, 56.2, count)  # a Central Belt's worth of offers
    lon = rng.uniform(-5.0, -2.0, count)
    radius_km = rng.uniform(3.0, 15.0, count)
    areas = RadiusAreas.of(Circles(np.arange(count, dtype=np.int64), lat, lon, radius_km))

    near = areas.near(55.86, -4.25)  # Glasgow

    within = geodesic_km_many(55.86, -4.25, lat, lon) <= radius_km
    assert within.sum() <= near.rows.size < count / 4


def test_near_a_pole_every_longitude_is_looked_at() -> None:
    """Where a radius reaches round the pole, the band of longitude is the whole circle,
    east of Greenwich as well as west."""
    lat = np.array([89.9, 89.9, 89.9])
    lon = np.array([-170.0, 10.0, 170.0])
    areas = RadiusAreas.of(Circles(np.arange(3, dtype=np.int64), lat, lon, np.full(3, 50.0)))
    for longitude in (-100.0, 5.0, 100.0):
        assert sorted(areas.near(89.95, longitude).rows.tolist()) == [0, 1, 2]


def test_no_offers_and_one_group() -> None:
    empty = RadiusAreas.of(Circles.joined([]))
    assert empty.near(57.0, -4.0).rows.size == 0
    assert empty.widest_km == 0.0

    one = RadiusAreas.of(
        Circles(np.array([5], dtype=np.int64), np.array([57.0]), np.array([-4.0]), np.array([3.0]))
    )
    assert one.near(57.01, -4.0).rows.tolist() == [5]
    assert one.near(58.0, -4.0).rows.size == 0
