"""The offers that stop short of a person: those measured by a radius that give what they
asked for and come to within a few kilometres of them but not to them, the nearest edge
first, with how far short each stops. When little or nothing reaches a remote village,
these are the providers to ask whether they would travel further."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy.orm import Session

from marketplace.db import today as scottish_today
from marketplace.geography.distance import geodesic_km_many, within_km
from matching.index import OfferIndex
from matching.schemas import SupportWanted
from matching.service import fitting

SHORT_BY_AT_MOST_KM = 30.0
"""How far beyond an offer's radius a person may be for it to be shown as stopping short:
a half-hour's drive more in the Highlands."""
SHOWN = 5
SHOWN_WHILE_FEWER_THAN = 10
"""Searches show the offers that stop short while fewer than this many reach the person."""


@dataclass(frozen=True)
class ShortOfReach:
    offer_id: int
    provider_id: int
    radius_km: float
    short_by_km: float
    """How much further than its radius the person is, by the geodesic."""


def stopping_short(
    session: Session,
    index: OfferIndex,
    wanted: SupportWanted,
    *,
    within_km_more: float = SHORT_BY_AT_MOST_KM,
    limit: int = SHOWN,
    today: date | None = None,
) -> list[ShortOfReach]:
    """Up to `limit` offers that fit the request and whose radius stops short of the person
    by at most `within_km_more`, the nearest first."""
    place = wanted.location
    index.refresh(session)
    with index.lock:
        near = index.radius_areas().near(place.latitude, place.longitude, within_km_more)
        inside, spherical = within_km(
            place.latitude, place.longitude, near.lat, near.lon, near.radius_km
        )
        # A little slack on the sphere: the geodesic below decides.
        outside = ~inside & (spherical <= (near.radius_km + within_km_more) * 1.01)
        keep = np.flatnonzero(outside)
        keep = keep[fitting(index, near.rows[keep], wanted, today or scottish_today())]
        if not keep.size:
            return []
        rows, radius_km = near.rows[keep], near.radius_km[keep]
        short = (
            geodesic_km_many(place.latitude, place.longitude, near.lat[keep], near.lon[keep])
            - radius_km
        )
        offer_ids = index.column("offer_id", rows)
        provider_ids = index.column("provider_id", rows)
        order = np.lexsort((offer_ids, short))
        found = [
            ShortOfReach(
                offer_id=int(offer_ids[i]),
                provider_id=int(provider_ids[i]),
                radius_km=float(radius_km[i]),
                short_by_km=float(short[i]),
            )
            for i in order
            if 0 < short[i] <= within_km_more
        ]
    return found[:limit]
