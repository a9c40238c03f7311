"""The one definition of distance used everywhere: great-circle (haversine) distance on a
sphere of the Earth's mean radius. It differs from the WGS-84 ellipsoid by under 0.4 % in
Scotland, far less than the uncertainty of a postcode district or a settlement's centre."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
