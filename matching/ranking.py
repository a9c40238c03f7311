"""How offers are ranked for a person: a score out of 100 from seven factors (FACTORS: each
one's points and how they are worked out, in the words the "How we rank" page shows), and
the same factors told back in plain words for every result.

A factor the person did not ask about (no outcomes chosen, say) gives every offer its full
points, so it changes nobody's place. Ties go to the nearer offer, then the older one.
Distance here is great-circle; the distance shown is the geodesic, under 0.4 % more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray

from marketplace.geography.distance import geodesic_km_many
from marketplace.money import format_pence
from matching.index import OfferIndex
from matching.offer_columns import TRAVEL_KIND, Area, TermBits
from matching.schemas import Reason, SupportWanted
from providers.models import DAYS, PERIODS, Taxonomy, TravelCharge
from providers.pricing import BASIS_POINTS, EVENING_TIMES, KM_PER_MILE, NIGHT_TIMES, WEEKEND_TIMES


@dataclass(frozen=True)
class Factor:
    name: str
    label: str
    points: int
    how: str
    """How its points are worked out, in plain words."""


FACTORS = (
    Factor(
        "outcomes",
        "Outcomes",
        30,
        "The share of the personal outcomes you chose that the offer helps with.",
    ),
    Factor(
        "kinds",
        "Kinds of support",
        10,
        "The share of the kinds of support you chose that the offer gives.",
    ),
    Factor(
        "distance",
        "Distance",
        20,
        "20 x 10 / (10 + the distance in km): 20 next door, 10 at 10 km, 5 at 30 km.",
    ),
    Factor(
        "price",
        "Price",
        15,
        "15 x the lowest weekly cost found, divided by this offer's, for the hours you asked for.",
    ),
    Factor(
        "times",
        "Days and times",
        10,
        "The share of the times you chose when the offer is available.",
    ),
    Factor(
        "space",
        "Space",
        10,
        "10 if it has space confirmed in the last 30 "
        "days, falling to 0 at 90 days; 0 if it is full.",
    ),
    Factor(
        "checks",
        "Checks",
        5,
        "5 if a PVG scheme membership or Care Inspectorate registration is verified and current.",
    ),
)
WEIGHTS = {factor.name: factor.points for factor in FACTORS}
FACTOR_LABELS = {factor.name: factor.label for factor in FACTORS}
DISTANCE_HALF_POINTS_KM = 10.0
"""The distance at which an offer gets half the distance points."""
UNKNOWN_DISTANCE_SHARE = 0.5
"""An area of councils or places whose provider's base we do not know: half the points."""
SPACE_FRESH_DAYS = 30
SPACE_STALE_DAYS = 90
SECONDS_PER_DAY = 86_400
ALL_TIMES = (1 << (len(DAYS) * len(PERIODS))) - 1


def _bits(values: NDArray[np.uint64] | NDArray[np.int64]) -> NDArray[np.int64]:
    return np.bitwise_count(values.astype(np.uint64)).astype(np.int64)


def divide_rounding(
    numerator: NDArray[np.int64], denominator: int | NDArray[np.int64]
) -> NDArray[np.int64]:
    """providers.pricing.divide_rounding, element by element: halves round up."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass
class Scores:
    """Every candidate's factors (aligned with `rows`), and the points they give."""

    rows: NDArray[np.int64]
    distance_km: NDArray[np.float64]
    times_met: NDArray[np.int64]
    week_support_pence: NDArray[np.int64]
    """-1 where the price is one-off."""
    week_fee_pence: NDArray[np.int64]
    week_total_pence: NDArray[np.int64]
    """Support and fee together; -1 where the price is one-off."""
    space_days: NDArray[np.float64]
    points: dict[str, NDArray[np.float64]]
    total: NDArray[np.float64]
    """The score out of 100: the points of every factor added up."""


PER_VISIT, PER_MILE = TRAVEL_KIND[TravelCharge.PER_VISIT], TRAVEL_KIND[TravelCharge.PER_MILE]


def travel_distances_km(
    index: OfferIndex, rows: NDArray[np.int64], wanted: SupportWanted
) -> NDArray[np.float64]:
    """The geodesic to the person, the distance travel by the mile is charged over (as the
    offer page and compare measure it), for the offers that charge by the mile; NaN else."""
    found = np.full(rows.size, np.nan)
    by_mile = np.flatnonzero(
        (index.column("travel_kind", rows) == PER_MILE) & ~np.isnan(index.column("lat", rows))
    )
    if by_mile.size:
        picked = rows[by_mile]
        found[by_mile] = geodesic_km_many(
            wanted.location.latitude,
            wanted.location.longitude,
            index.column("lat", picked),
            index.column("lon", picked),
        )
    return found


def week_costs(
    index: OfferIndex, rows: NDArray[np.int64], wanted: SupportWanted
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The support and the management fee for the week asked for of each offer."""
    return week_costs_of(
        **{name: index.column(name, rows) for name in PRICE_COLUMNS},
        minutes_per_week=wanted.minutes_per_week,
        when=int(wanted.when),
        distance_km=travel_distances_km(index, rows, wanted),
    )


PRICE_COLUMNS = (
    "hourly_pence",
    "week_rate_pence",
    "fee_bp",
    "fee_weekly_pence",
    "weekend_bp",
    "evening_bp",
    "night_bp",
    "travel_kind",
    "travel_pence",
)


def week_costs_of(
    *,
    hourly_pence: NDArray[np.int64],
    week_rate_pence: NDArray[np.int64],
    fee_bp: NDArray[np.int64],
    fee_weekly_pence: NDArray[np.int64],
    weekend_bp: NDArray[np.int64],
    evening_bp: NDArray[np.int64],
    night_bp: NDArray[np.int64],
    travel_kind: NDArray[np.int64],
    travel_pence: NDArray[np.int64],
    minutes_per_week: int,
    when: int,
    distance_km: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """providers.pricing.weekly_cost, element by element (a property test holds the two
    together): the hours at the hourly equivalent (a week-priced offer: its week), each
    uplift on the share of the times asked it applies to, travel for each time asked (by
    the mile over `distance_km`, when known), and the fee on all of it. Support is -1 (and
    the fee 0) for a one-off price."""
    weekly = week_rate_pence >= 0
    numerator = np.where(
        weekly, week_rate_pence, np.maximum(hourly_pence, 0) * minutes_per_week
    ).astype(np.int64)
    denominator = np.where(weekly, 1, 60).astype(np.int64)
    support = divide_rounding(numerator, denominator)
    times = when.bit_count()
    if times:
        for column, mask in (
            (weekend_bp, WEEKEND_TIMES),
            (evening_bp, EVENING_TIMES),
            (night_bp, NIGHT_TIMES),
        ):
            share = (when & mask).bit_count()
            if share:
                support = support + divide_rounding(
                    numerator * share * column, denominator * times * BASIS_POINTS
                )
        support = support + np.where(travel_kind == PER_VISIT, travel_pence * times, 0)
        known = (travel_kind == PER_MILE) & ~np.isnan(distance_km)
        by_mile = np.floor(
            travel_pence * times * np.where(known, distance_km, 0.0) / KM_PER_MILE + 0.5
        ).astype(np.int64)
        support = support + np.where(known, by_mile, 0)
    support = np.where((week_rate_pence < 0) & (hourly_pence < 0), -1, support)
    fee = divide_rounding(np.maximum(support, 0) * fee_bp, BASIS_POINTS) + fee_weekly_pence
    return support, np.where(support >= 0, fee, 0)


def verified_on(index: OfferIndex, rows: NDArray[np.int64], today: date) -> NDArray[np.bool_]:
    day = today.toordinal()
    return (index.column("pvg_until", rows) >= day) | (
        index.column("registration_until", rows) >= day
    )


def score(
    index: OfferIndex,
    rows: NDArray[np.int64],
    distance_km: NDArray[np.float64],
    wanted: SupportWanted,
    *,
    today: date,
    now: datetime,
) -> Scores:
    """The factors and points of the candidate offers `rows` for this request."""
    terms = index.terms
    outcomes_mask = np.uint64(terms.mask(wanted.outcomes))
    kinds_mask = np.uint64(terms.mask(wanted.kinds))
    outcomes_met = _bits(index.column("outcomes", rows) & outcomes_mask)
    kinds_met = _bits(index.column("kinds", rows) & kinds_mask)
    times_met = _bits(index.column("availability", rows) & wanted.when)
    support, fee = week_costs(index, rows, wanted)
    space_days = (now.timestamp() - index.column("capacity_at", rows)) / SECONDS_PER_DAY
    verified = verified_on(index, rows, today)

    def share(met: NDArray[np.int64], asked: int) -> NDArray[np.float64]:
        return met / asked if asked else np.ones(met.size)

    known = ~np.isnan(distance_km)
    closeness = np.where(
        known,
        DISTANCE_HALF_POINTS_KM / (DISTANCE_HALF_POINTS_KM + np.where(known, distance_km, 0)),
        UNKNOWN_DISTANCE_SHARE,
    )
    total = np.where(support >= 0, support + fee, -1)
    priced = total > 0
    cheapest = total[priced].min() if priced.any() else 0
    price_share = np.where(priced, cheapest / np.where(priced, total, 1), 0.0)
    freshness = np.clip(
        (SPACE_STALE_DAYS - space_days) / (SPACE_STALE_DAYS - SPACE_FRESH_DAYS), 0.0, 1.0
    )
    space_share = np.where(index.column("capacity", rows) > 0, freshness, 0.0)
    shares = {
        "outcomes": share(outcomes_met, len(wanted.outcomes)),
        "kinds": share(kinds_met, len(wanted.kinds)),
        "distance": closeness,
        "price": price_share,
        "times": share(times_met, int(wanted.when).bit_count()),
        "space": space_share,
        "checks": verified.astype(np.float64),
    }
    points = {name: WEIGHTS[name] * values for name, values in shares.items()}
    return Scores(
        rows=rows,
        distance_km=distance_km,
        times_met=times_met,
        week_support_pence=support,
        week_fee_pence=fee,
        week_total_pence=total,
        space_days=space_days,
        points=points,
        total=np.sum(list(points.values()), axis=0) if rows.size else np.zeros(0),
    )


# Reasons ---------------------------------------------------------------------------------


def _names(terms: list[str]) -> str:
    names = [t[0].lower() + t[1:] for t in terms]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _days_ago(days: float) -> str:
    whole = int(days)
    if whole <= 0:
        return "today"
    if whole == 1:
        return "yesterday"
    if whole < 60:
        return f"{whole} days ago"
    return f"{whole // 30} months ago"


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


@dataclass(frozen=True)
class Context:
    """What the reasons need besides the scores: the request and the place's words."""

    wanted: SupportWanted
    place: str
    cheapest_week_pence: int | None
    hours_text: str
    today: date


@dataclass(frozen=True)
class Facts:
    """One candidate's factors as plain values, read from the arrays once for its reasons."""

    row: int
    area: Area
    radius_km: float
    outcomes: int
    kinds: int
    times_met: int
    week_total_pence: int
    week_fee_pence: int
    capacity: int
    capacity_in_places: bool
    space_days: float
    pvg_until: int
    registration_until: int
    points: dict[str, float]


def facts_of(index: OfferIndex, scores: Scores, i: int) -> Facts:
    row = int(scores.rows[i])
    a = index.arrays
    return Facts(
        row=row,
        area=Area(int(a["area"][row])),
        radius_km=float(a["radius_km"][row]),
        outcomes=int(a["outcomes"][row]),
        kinds=int(a["kinds"][row]),
        times_met=int(scores.times_met[i]),
        week_total_pence=int(scores.week_total_pence[i]),
        week_fee_pence=int(scores.week_fee_pence[i]),
        capacity=int(a["capacity"][row]),
        capacity_in_places=bool(a["capacity_in_places"][row]),
        space_days=float(scores.space_days[i]),
        pvg_until=int(a["pvg_until"][row]),
        registration_until=int(a["registration_until"][row]),
        points={name: float(values[i]) for name, values in scores.points.items()},
    )


def _share_of_asked(asked: list[int], mask: int, terms: TermBits, noun: str) -> str | None:
    """'all 3 outcomes you chose', '2 of the 3 outcomes you chose: a and b', or None for none."""
    met = [t for t in asked if mask >> terms.bit[t] & 1]
    if not met:
        return None
    if len(met) == len(asked):
        return (
            f"the {noun} you chose: {_names([terms.name[t] for t in met])}"
            if len(asked) == 1
            else f"all {len(asked)} {noun}s you chose"
        )
    return (
        f"{len(met)} of the {len(asked)} {noun}s you chose: {_names([terms.name[t] for t in met])}"
    )


def reasons_for(
    terms: TermBits, facts: Facts, geodesic_km: float | None, context: Context
) -> list[Reason]:
    """Each factor's points for one candidate, with a sentence saying why."""
    wanted = context.wanted
    said: dict[str, str] = {}

    outcomes = sorted(wanted.outcomes, key=lambda t: terms.bit[t])
    if not outcomes:
        said["outcomes"] = "You did not choose outcomes, so every offer gets these points"
    else:
        share = _share_of_asked(outcomes, facts.outcomes, terms, "outcome")
        said["outcomes"] = (
            f"Helps with {share}" if share else "Does not say it helps with the outcomes you chose"
        )

    kinds = sorted(wanted.kinds, key=lambda t: terms.bit[t])
    if kinds:
        said["kinds"] = (
            f"Gives {_share_of_asked(kinds, facts.kinds, terms, 'kind of support')}".replace(
                "kind of supports", "kinds of support"
            )
        )
    else:
        offered = terms.ids_in(Taxonomy.KIND_OF_SUPPORT, facts.kinds)
        said["kinds"] = (
            f"Gives {_names([terms.name[t] for t in offered])}"
            if offered
            else "Any kind of support"
        )

    said["distance"] = covers_by(facts.area, facts.radius_km, geodesic_km, context)

    total, fee, cheapest = facts.week_total_pence, facts.week_fee_pence, context.cheapest_week_pence
    if total < 0:
        said["price"] = "Charged as a one-off, so not compared by the week"
    else:
        cost = f"{format_pence(total)} a week for {context.hours_text}"
        if fee:
            cost += f", including a {format_pence(fee)} management fee"
        if cheapest and total > cheapest:
            extra = total - cheapest
            cost += (
                f": {format_pence(extra)} ({round(100 * extra / cheapest)}%) "
                "more than the lowest found"
            )
        elif cheapest is not None:
            cost += ": the lowest found"
        said["price"] = cost

    asked_times = int(wanted.when).bit_count()
    if not asked_times:
        said["times"] = "You did not choose days and times, so every offer gets these points"
    elif facts.times_met == asked_times:
        said["times"] = (
            f"Available at all {asked_times} times you need"
            if asked_times > 1
            else "Available at the time you need"
        )
    else:
        said["times"] = f"Available at {facts.times_met} of the {asked_times} times you need"

    unit = "places" if facts.capacity_in_places else "hours a week"
    when = _days_ago(facts.space_days)
    if facts.capacity == 0:
        said["space"] = f"Said it had no space, {when}"
    elif facts.space_days <= SPACE_FRESH_DAYS:
        said["space"] = f"Has space for {facts.capacity} {unit}, confirmed {when}"
    else:
        said["space"] = (
            f"Said it had space for {facts.capacity} {unit} {when}, so this may be out of date"
        )

    day = context.today.toordinal()
    checks = [
        name
        for name, until in (
            ("PVG scheme membership", facts.pvg_until),
            ("Care Inspectorate registration", facts.registration_until),
        )
        if until >= day
    ]
    said["checks"] = (
        f"{' and '.join(checks)} verified by us"
        if checks
        else "No PVG membership or registration verified yet"
    )

    return [
        Reason(FACTOR_LABELS[name], said[name], facts.points[name], WEIGHTS[name])
        for name in WEIGHTS
    ]


def covers_by(area: Area, radius_km: float, geodesic_km: float | None, context: Context) -> str:
    """How the offer's area reaches the person, with the distance, in plain words."""
    away = (
        None
        if geodesic_km is None
        else "less than 0.1 km"
        if geodesic_km < 0.05
        else f"{geodesic_km:.1f} km"
    )
    if area == Area.RADIUS:
        return (
            f"{str(away).capitalize()} from {context.place}, within the {radius_km:g} km it travels"
        )
    if area == Area.COUNCILS:
        text = f"Covers all of {context.wanted.location.council.name}"
    else:
        text = f"Covers {context.wanted.location.settlement.name} by name"
    return f"{text}; based {away} away" if away else f"{text}; we do not know where it is based"


def summary(rank: int, total: int, score_value: float) -> str:
    return f"{_ordinal(rank)} of {total}, with {round(score_value)} points out of 100"
