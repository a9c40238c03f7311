"""Distances. Two definitions, each with one job:

- the **geodesic** on the WGS-84 ellipsoid is the distance people see and the one that
  decides whether a place is within a travel radius. It is Karney's algorithm, as geopy's
  `geodesic` computes it; here through pyproj's `Geod`, the same algorithm in C, so a few
  hundred distances cost microseconds rather than geopy's ~90 µs each (a test holds the
  two to within a millimetre);
- the **great-circle** (haversine) distance on a sphere of the Earth's mean radius is the
  fast pre-filter and the distance the ranking scores. In Scotland it is shorter than the
  geodesic by 0.1 % to 0.4 %, and never longer, so anything clearly inside or outside a
  radius by haversine is so by geodesic too; only a thin band near the edge needs the
  geodesic to decide (see `SPHERE_MARGIN`)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

EARTH_RADIUS_KM = 6371.0088
WGS84 = Geod(ellps="WGS84")
SPHERE_MARGIN = 0.006
"""How far apart (as a share of the distance) haversine and the geodesic may be in and
around Scotland; a test checks the real spread (0.1 % to 0.4 %) stays well inside it."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_many(
    lat: float, lon: float, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Great-circle distances from one point to many, in km."""
    phi = math.radians(lat)
    phis = np.radians(lats)
    a = (
        np.sin((phis - phi) / 2) ** 2
        + math.cos(phi) * np.cos(phis) * np.sin(np.radians(lons - lon) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def haversine_km_pairs(
    lats1: NDArray[np.float64],
    lons1: NDArray[np.float64],
    lats2: NDArray[np.float64],
    lons2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle distances between the points of two arrays, pair by pair, in km."""
    phi1, phi2 = np.radians(lats1), np.radians(lats2)
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin(np.radians(lons2 - lons1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The WGS-84 geodesic distance between two points, in km."""
    return float(geodesic_km_many(lat1, lon1, np.array([lat2]), np.array([lon2]))[0])


def geodesic_km_many(
    lat: float, lon: float, lats: ArrayLike, lons: ArrayLike
) -> NDArray[np.float64]:
    """WGS-84 geodesic distances from one point to many, in km."""
    lats = np.asarray(lats, dtype=np.float64)
    lons = np.asarray(lons, dtype=np.float64)
    if lats.size == 0:
        return np.empty(0)
    _, _, metres = WGS84.inv(np.full(lats.shape, lon), np.full(lats.shape, lat), lons, lats)
    return np.asarray(metres) / 1000.0


def within_km(
    lat: float,
    lon: float,
    lats: NDArray[np.float64],
    lons: NDArray[np.float64],
    radii: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which of the points lie within their own radius of (lat, lon) by geodesic, and their
    great-circle distances: decided by haversine except in the band where the two could
    disagree, and there by the geodesic."""
    spherical = haversine_km_many(lat, lon, lats, lons)
    inside = spherical <= radii * (1 - SPHERE_MARGIN)
    edge = np.flatnonzero(
        (spherical > radii * (1 - SPHERE_MARGIN)) & (spherical <= radii * (1 + SPHERE_MARGIN))
    )
    if edge.size:
        inside[edge] = geodesic_km_many(lat, lon, lats[edge], lons[edge]) <= radii[edge]
    return inside, spherical


def within_km_pairs(
    lats1: NDArray[np.float64],
    lons1: NDArray[np.float64],
    lats2: NDArray[np.float64],
    lons2: NDArray[np.float64],
    radii: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """`within_km` pair by pair: whether each second point lies within its radius of the
    first point, and their great-circle distances."""
    spherical = haversine_km_pairs(lats1, lons1, lats2, lons2)
    inside = spherical <= radii * (1 - SPHERE_MARGIN)
    edge = np.flatnonzero(
        (spherical > radii * (1 - SPHERE_MARGIN)) & (spherical <= radii * (1 + SPHERE_MARGIN))
    )
    if edge.size:
        _, _, metres = WGS84.inv(lons1[edge], lats1[edge], lons2[edge], lats2[edge])
        inside[edge] = np.asarray(metres) / 1000.0 <= radii[edge]
    return inside, spherical
