"""What the matcher is asked and what it answers: a person's request (where, what, when and
the filters), the ways results can be sorted, and one ranked offer with its reasons."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pydantic import BaseModel

from marketplace.geography.service import Location

DEFAULT_MINUTES_PER_WEEK = 10 * 60
"""The hours prices are shown for until the person says how many they need."""


class MatchSort(enum.StrEnum):
    BEST = "best"
    NEAREST = "nearest"
    CHEAPEST = "cheapest"

    @property
    def label(self) -> str:
        return {
            MatchSort.BEST: "Best match",
            MatchSort.NEAREST: "Nearest first",
            MatchSort.CHEAPEST: "Lowest price for your hours",
        }[self]


@dataclass(frozen=True)
class SupportWanted:
    """What a person asked for. Term ids are taxonomy_term ids."""

    location: Location
    kinds: frozenset[int] = frozenset()
    """Kinds of support: an offer must give at least one of them."""
    outcomes: frozenset[int] = frozenset()
    """Personal outcomes: ranked by how many an offer helps with, never filtered."""
    client_groups: frozenset[int] = frozenset()
    """Who it must suit: an offer must list every one."""
    when: int = 0
    """Days and times as an availability mask; an offer must be free at one of them at least."""
    language: str | None = None
    max_hourly_pence: int | None = None
    isf_holders_only: bool = False
    verified_only: bool = False
    minutes_per_week: int = DEFAULT_MINUTES_PER_WEEK


@dataclass(frozen=True)
class Reason:
    """One part of the score, in plain words, with the points it gave."""

    factor: str
    text: str
    points: float
    out_of: int

    @property
    def points_text(self) -> str:
        """The points as the results show them, like 11.2 of 20: one value, not two and a
        filter (a page of results shows 140)."""
        return f"{self.points:.1f} of {self.out_of}"


@dataclass(frozen=True)
class RankedOffer:
    offer_id: int
    provider_id: int
    rank: int
    score: float
    """Out of 100."""
    distance_km: float | None
    """Along the Earth's surface (WGS-84) from the person to the offer's centre, or to the
    provider's base for an area of councils or places; None when neither is known."""
    covers_by: str
    """How the offer's area reaches the person, in plain words."""
    hourly_pence: int | None
    week_support_pence: int | None
    week_fee_pence: int
    reasons: list[Reason] = field(default_factory=list)
    summary: str = ""

    @property
    def week_total_pence(self) -> int | None:
        return (
            None
            if self.week_support_pence is None
            else self.week_support_pence + self.week_fee_pence
        )


@dataclass(frozen=True)
class MatchResult:
    wanted: SupportWanted
    sort: MatchSort
    reached: int | None
    """Offers whose area reaches the person, whatever else they asked for (None when not
    counted: see service.match's `count_reached`)."""
    total: int
    """Of those, the offers that fit the request."""
    page: int
    page_size: int
    results: list[RankedOffer]
    cheapest_week_pence: int | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# The JSON API's answers (matching.search.api) ----------------------------------------------------


class ReasonOut(BaseModel):
    factor: str
    text: str
    points: float
    """Points this factor gave, out of `out_of`."""
    out_of: int


class CostLineOut(BaseModel):
    label: str
    pence: int


class MatchedOfferOut(BaseModel):
    offer_id: int
    provider_id: int
    title: str
    provider_name: str
    url: str
    """The offer's public page, on this site."""
    rank: int
    score: float
    """Out of 100."""
    summary: str
    distance_km: float | None
    """Geodesic (WGS-84) distance from the person, as RankedOffer.distance_km."""
    covers_by: str
    hourly_pence: int | None
    week_support_pence: int | None
    """The support for the hours and times asked (uplifts and travel included), in pence;
    None for a one-off price."""
    week_fee_pence: int
    week_total_pence: int | None
    week_lines: list[CostLineOut] = []
    """How week_total_pence adds up (providers.pricing.weekly_cost): the hours at the
    weekday daytime rate, each uplift, travel and the management fee."""
    week_notes: list[str] = []
    """What may cost more and is not in the total (public holidays, travel not countable)."""
    url_for_week: str = ""
    """The offer's page with the place, hours and times asked, priced for them."""
    reasons: list[ReasonOut]


class PlaceOut(BaseModel):
    label: str
    council: str
    settlement: str


class ShortOfReachOut(BaseModel):
    offer_id: int
    provider_id: int
    title: str
    provider_name: str
    url: str
    radius_km: float
    short_by_km: float
    """How much further than its radius the person is, by the geodesic."""


class MatchOut(BaseModel):
    location: PlaceOut
    minutes_per_week: int
    sort: MatchSort
    page: int
    pages: int
    page_size: int
    total: int
    """Offers that reach the person and fit the request."""
    reached: int
    """Offers that reach the person, whatever else was asked."""
    cheapest_week_pence: int | None
    results: list[MatchedOfferOut]
    short_of_reach: list[ShortOfReachOut] = []
    """While fewer than ten offers reach the person: the nearest that fit and stop short of
    them (by at most 30 km), nearest first."""
