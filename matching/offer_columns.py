"""What the offer index holds of each published offer, and reading it from the database:
one numpy column per fact the matcher filters or ranks on, the taxonomy terms as bit masks,
and the reference data (councils, settlements) the columns are described in."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from marketplace.geography.classify import UrbanRural8
from marketplace.geography.gazetteer import SettlementPoints, gazetteer
from marketplace.geography.models import CouncilArea, Settlement
from providers.models import (
    AreaType,
    CapacityUnit,
    Check,
    CheckKind,
    CheckStatus,
    Offer,
    OfferPrice,
    PriceUnit,
    Provider,
    ProviderLanguage,
    Taxonomy,
    TaxonomyTerm,
    TravelCharge,
    offer_council,
    offer_settlement,
    offer_term,
)
from providers.pricing import hourly_equivalent_pence, weekly_fee_pence

KEY_CHECKS = {CheckKind.PVG: "pvg_until", CheckKind.CARE_INSPECTORATE: "registration_until"}
"""The checks that make a provider "verified": safeguarding membership or registration."""
NO_EXPIRY = date.max.toordinal()
TRAVEL_KIND = {TravelCharge.NONE: 0, TravelCharge.PER_VISIT: 1, TravelCharge.PER_MILE: 2}
"""How the travel_kind column names a price's travel charge (ranking reads it)."""


class Area(enum.IntEnum):
    RADIUS = 0
    COUNCILS = 1
    SETTLEMENTS = 2


AREA_OF = {
    AreaType.RADIUS: Area.RADIUS,
    AreaType.COUNCILS: Area.COUNCILS,
    AreaType.SETTLEMENTS: Area.SETTLEMENTS,
}

# One array per column, one row per offer. Where a column needs saying:
# lat/lon: where distance is measured from, a radius's centre or else the provider's base
#   (NaN when neither is known); hourly_pence: the hourly equivalent, -1 for a one-off
#   price; week_rate_pence: for a price by the week, the week's price, else -1;
#   fee_weekly_pence: the fixed part of the management fee as a week's share;
#   weekend_bp/evening_bp/night_bp: the uplifts; travel_kind: TRAVEL_KIND, with
#   travel_pence a visit or a mile (all for pricing.weekly_cost's sums, ranking.week_costs_of);
#   pvg_until/registration_until: the last day (ordinal) the provider's PVG membership or
#   Care Inspectorate registration stays verified, 0 for none;
#   capacity_at: when capacity was last confirmed (Unix time); free_hours: the hours a week
#   it can take on, its capacity in hours or, counted in places, places times the hours of
#   its typical week (for the gap analysis); home_council/home_class6:
#   where the provider works from, for fair-price comparisons (-1 / 0 when unknown).
COLUMN_TYPES: dict[str, Any] = {
    "offer_id": np.int64,
    "provider_id": np.int64,
    "live": np.bool_,
    "area": np.int8,
    "lat": np.float64,
    "lon": np.float64,
    "radius_km": np.float64,
    "councils": np.uint64,
    "kinds": np.uint64,
    "outcomes": np.uint64,
    "groups": np.uint64,
    "availability": np.int64,
    "hourly_pence": np.int64,
    "week_rate_pence": np.int64,
    "fee_bp": np.int64,
    "fee_weekly_pence": np.int64,
    "weekend_bp": np.int64,
    "evening_bp": np.int64,
    "night_bp": np.int64,
    "travel_kind": np.int64,
    "travel_pence": np.int64,
    "holds_isf": np.bool_,
    "pvg_until": np.int32,
    "registration_until": np.int32,
    "capacity": np.int32,
    "capacity_in_places": np.bool_,
    "capacity_at": np.float64,
    "free_hours": np.int64,
    "home_council": np.int16,
    "home_class6": np.int8,
}
COLUMN_NAMES = tuple(COLUMN_TYPES)


class TermBits:
    """Each taxonomy term's bit in an offer's 64-bit mask for its taxonomy."""

    def __init__(self, terms: Iterable[TaxonomyTerm]) -> None:
        self.bit: dict[int, int] = {}
        self.taxonomy: dict[int, Taxonomy] = {}
        self.name: dict[int, str] = {}
        self.code: dict[int, str] = {}
        self.by_code: dict[tuple[Taxonomy, str], int] = {}
        counts: dict[Taxonomy, int] = {}
        for term in sorted(terms, key=lambda t: (t.taxonomy, t.position, t.id)):
            position = counts.get(term.taxonomy, 0)
            if position >= 64:
                raise ValueError(
                    f"the matcher holds at most 64 terms a taxonomy; {term.taxonomy} has more"
                )
            counts[term.taxonomy] = position + 1
            self.bit[term.id] = position
            self.taxonomy[term.id] = term.taxonomy
            self.name[term.id] = term.name
            self.code[term.id] = term.code
            self.by_code[(term.taxonomy, term.code)] = term.id

    def mask(self, term_ids: Iterable[int]) -> int:
        mask = 0
        for term_id in term_ids:
            mask |= 1 << self.bit[term_id]
        return mask

    def ids_in(self, taxonomy: Taxonomy, mask: int) -> list[int]:
        """The terms of `taxonomy` set in `mask`, in the taxonomy's order."""
        return [
            t for t, tax in self.taxonomy.items() if tax == taxonomy and mask >> self.bit[t] & 1
        ]


class UnknownTerm(Exception):
    """An offer uses a term added since the index was built: build it again."""


@dataclass
class Reference:
    terms: TermBits
    council_bit: dict[int, int]
    home_of_settlement: dict[int, tuple[int, int]]
    """settlement id -> (council id, 6-fold class)."""
    settlements: SettlementPoints


@dataclass
class Loaded:
    """Offers read from the database, column by column, before they go into the arrays."""

    columns: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in COLUMN_NAMES}
    )
    settlements: list[tuple[int, ...]] = field(default_factory=list)
    languages: list[frozenset[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["offer_id"])


def read_reference(session: Session) -> Reference:
    councils = session.scalars(select(CouncilArea.id).order_by(CouncilArea.id)).all()
    settlements = session.execute(
        select(
            Settlement.id,
            Settlement.council_id,
            Settlement.urban_rural_8,
        )
    ).all()
    return Reference(
        terms=TermBits(session.scalars(select(TaxonomyTerm))),
        council_bit={council_id: bit for bit, council_id in enumerate(councils)},
        home_of_settlement={
            s.id: (s.council_id, int(UrbanRural8(s.urban_rural_8).six_fold)) for s in settlements
        },
        settlements=gazetteer(session).points,
    )


def read_offers(session: Session, ref: Reference, where: Any) -> Loaded:
    offers = session.execute(
        select(
            Offer.id,
            Offer.provider_id,
            Offer.area_type,
            Offer.centre_latitude,
            Offer.centre_longitude,
            Offer.radius_km,
            Offer.availability,
            Offer.capacity_amount,
            Offer.capacity_unit,
            Offer.capacity_updated_at,
            Offer.typical_week_hours,
            Provider.holds_isf,
            Provider.base_latitude,
            Provider.base_longitude,
            Provider.base_settlement_id,
        )
        .join(Provider, Provider.id == Offer.provider_id)
        .where(where)
        .order_by(Offer.id)
    ).all()
    loaded = Loaded()
    if not offers:
        return loaded
    offer_ids = (
        select(Offer.id)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(where)
        .scalar_subquery()
    )
    provider_ids = (
        select(Offer.provider_id)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(where)
        .scalar_subquery()
    )
    latest = (
        select(OfferPrice.offer_id, func.max(OfferPrice.version).label("version"))
        .where(OfferPrice.offer_id.in_(offer_ids))
        .group_by(OfferPrice.offer_id)
        .subquery()
    )
    prices = {
        p.offer_id: p
        for p in session.execute(
            select(
                OfferPrice.offer_id,
                OfferPrice.unit,
                OfferPrice.rate_pence,
                OfferPrice.unit_minutes,
                OfferPrice.management_fee_bp,
                OfferPrice.management_fee_fixed_pence,
                OfferPrice.management_fee_period,
                OfferPrice.weekend_uplift_bp,
                OfferPrice.evening_uplift_bp,
                OfferPrice.night_uplift_bp,
                OfferPrice.travel_charge,
                OfferPrice.travel_charge_pence,
            ).join(
                latest,
                and_(
                    latest.c.offer_id == OfferPrice.offer_id, latest.c.version == OfferPrice.version
                ),
            )
        )
    }
    terms: dict[int, list[int]] = {}
    for offer_id, term_id in session.execute(
        select(offer_term.c.offer_id, offer_term.c.term_id).where(
            offer_term.c.offer_id.in_(offer_ids)
        )
    ):
        terms.setdefault(offer_id, []).append(term_id)
    councils: dict[int, list[int]] = {}
    for offer_id, council_id in session.execute(
        select(offer_council.c.offer_id, offer_council.c.council_id).where(
            offer_council.c.offer_id.in_(offer_ids)
        )
    ):
        councils.setdefault(offer_id, []).append(council_id)
    places: dict[int, list[int]] = {}
    for offer_id, settlement_id in session.execute(
        select(offer_settlement.c.offer_id, offer_settlement.c.settlement_id).where(
            offer_settlement.c.offer_id.in_(offer_ids)
        )
    ):
        places.setdefault(offer_id, []).append(settlement_id)
    languages: dict[int, set[str]] = {}
    for provider_id, language in session.execute(
        select(ProviderLanguage.provider_id, ProviderLanguage.language).where(
            ProviderLanguage.provider_id.in_(provider_ids)
        )
    ):
        languages.setdefault(provider_id, set()).add(language.strip().lower())
    verified: dict[tuple[int, str], int] = {}
    for provider_id, kind, expires_on in session.execute(
        select(Check.provider_id, Check.kind, Check.expires_on).where(
            Check.provider_id.in_(provider_ids),
            Check.status == CheckStatus.VERIFIED,
            Check.kind.in_(list(KEY_CHECKS)),
        )
    ):
        key = (provider_id, KEY_CHECKS[kind])
        until = NO_EXPIRY if expires_on is None else expires_on.toordinal()
        verified[key] = max(until, verified.get(key, 0))

    columns = loaded.columns
    for offer in offers:
        price = prices.get(offer.id)
        offer_terms = terms.get(offer.id, [])
        if any(term_id not in ref.terms.bit for term_id in offer_terms):
            raise UnknownTerm()
        masks = dict.fromkeys(Taxonomy, 0)
        for term_id in offer_terms:
            masks[ref.terms.taxonomy[term_id]] |= 1 << ref.terms.bit[term_id]
        area = AREA_OF[offer.area_type]
        if area == Area.RADIUS:
            lat, lon, radius = offer.centre_latitude, offer.centre_longitude, offer.radius_km or 0.0
        else:
            lat, lon, radius = offer.base_latitude, offer.base_longitude, 0.0
        home = offer.base_settlement_id
        if home is None and offer.centre_latitude is not None and area == Area.RADIUS:
            home = ref.settlements.around(offer.centre_latitude, offer.centre_longitude)
        if home is None and places.get(offer.id):
            home = places[offer.id][0]
        home_council, home_class = (
            ref.home_of_settlement.get(home, (-1, 0)) if home is not None else (-1, 0)
        )
        hourly = (
            None
            if price is None
            else hourly_equivalent_pence(price, typical_week_hours=offer.typical_week_hours)
        )
        council_mask = 0
        for council_id in councils.get(offer.id, []):
            council_mask |= 1 << ref.council_bit[council_id]
        values = {
            "offer_id": offer.id,
            "provider_id": offer.provider_id,
            "live": price is not None,
            "area": int(area),
            "lat": np.nan if lat is None else lat,
            "lon": np.nan if lon is None else lon,
            "radius_km": radius,
            "councils": council_mask,
            "kinds": masks[Taxonomy.KIND_OF_SUPPORT],
            "outcomes": masks[Taxonomy.PERSONAL_OUTCOME],
            "groups": masks[Taxonomy.CLIENT_GROUP],
            "availability": offer.availability,
            "hourly_pence": -1 if hourly is None else hourly,
            "week_rate_pence": price.rate_pence
            if price is not None and price.unit == PriceUnit.WEEK
            else -1,
            "fee_bp": (price.management_fee_bp or 0) if price is not None else 0,
            "fee_weekly_pence": weekly_fee_pence(price, support_pence=0)
            if price is not None
            else 0,
            "weekend_bp": (price.weekend_uplift_bp or 0) if price is not None else 0,
            "evening_bp": (price.evening_uplift_bp or 0) if price is not None else 0,
            "night_bp": (price.night_uplift_bp or 0) if price is not None else 0,
            "travel_kind": TRAVEL_KIND[price.travel_charge] if price is not None else 0,
            "travel_pence": (price.travel_charge_pence or 0) if price is not None else 0,
            "holds_isf": offer.holds_isf,
            "pvg_until": verified.get((offer.provider_id, "pvg_until"), 0),
            "registration_until": verified.get((offer.provider_id, "registration_until"), 0),
            "capacity": offer.capacity_amount,
            "capacity_in_places": offer.capacity_unit == CapacityUnit.PLACES,
            "capacity_at": _unix(offer.capacity_updated_at),
            "free_hours": offer.capacity_amount
            * (offer.typical_week_hours if offer.capacity_unit == CapacityUnit.PLACES else 1),
            "home_council": home_council,
            "home_class6": home_class,
        }
        for name in COLUMN_NAMES:
            columns[name].append(values[name])
        loaded.settlements.append(
            tuple(places.get(offer.id, ())) if area == Area.SETTLEMENTS else ()
        )
        loaded.languages.append(frozenset(languages.get(offer.provider_id, ())))
    return loaded


def _unix(moment: datetime) -> float:
    return moment.timestamp()
