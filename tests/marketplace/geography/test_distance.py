"""The two distances: the geodesic people see agrees with geopy's; the sphere used to
pre-filter stays inside its stated margin of the geodesic anywhere in and around Scotland,
so deciding a radius by the sphere first never changes the answer."""

from __future__ import annotations

import numpy as np
from geopy.distance import geodesic

from marketplace.geography.distance import (
    SPHERE_MARGIN,
    geodesic_km,
    geodesic_km_many,
    haversine_km,
    haversine_km_many,
    within_km,
)

# Scotland with its islands and a margin: 54.5-61 N, 8.7 W - 0.7 W.
RNG = np.random.default_rng(20261201)
LATS = RNG.uniform(54.5, 61.0, 2000)
LONS = RNG.uniform(-8.7, -0.7, 2000)


def test_geodesic_agrees_with_geopy_to_a_millimetre() -> None:
    here = (57.41, -6.19)
    ours = geodesic_km_many(*here, LATS, LONS)
    theirs = np.array([geodesic(here, (lat, lon)).km for lat, lon in zip(LATS, LONS, strict=True)])
    assert np.max(np.abs(ours - theirs)) < 1e-6
    assert geodesic_km(*here, LATS[0], LONS[0]) == ours[0]


def test_the_sphere_is_shorter_than_the_geodesic_but_never_by_the_margin() -> None:
    for lat, lon in zip(LATS[:40], LONS[:40], strict=True):
        sphere = haversine_km_many(lat, lon, LATS, LONS)
        ellipsoid = geodesic_km_many(lat, lon, LATS, LONS)
        apart = sphere > 0.1
        ratio = ellipsoid[apart] / sphere[apart]
        assert ratio.min() >= 1.0
        assert ratio.max() < 1 + SPHERE_MARGIN / 1.5


def test_within_decides_as_the_geodesic_would() -> None:
    here = (57.48, -4.22)
    distances = np.array(
        [geodesic(here, (lat, lon)).km for lat, lon in zip(LATS, LONS, strict=True)]
    )
    # Radii just either side of each point's own distance: the hardest cases.
    radii = distances * np.where(np.arange(distances.size) % 2, 1.0005, 0.9995)
    inside, spherical = within_km(*here, LATS, LONS, radii)
    assert np.array_equal(inside, distances <= radii)
    assert spherical[5] == haversine_km(*here, LATS[5], LONS[5])
