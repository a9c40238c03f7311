"""How offers are ranked for a person: a score out of 100 from seven factors, each worth a
stated number of points, and the same factors told back in plain words for every result.

| factor | points | how |
|---|---:|---|
| outcomes | 30 | the share of the personal outcomes asked for that the offer helps with |
| kinds of support | 10 | the share of the kinds asked for that the offer gives |
| distance | 20 | 20 x 10 / (10 + km): 20 next door, 10 at 10 km, 5 at 30 km |
| price | 15 | 15 x (the lowest weekly cost found / this offer's), for the hours asked |
| days and times | 10 | the share of the times asked for when the offer is available |
| space | 10 | 10 if it has space confirmed in the last 30 days, falling to 0 at 90; 0 if full |
| checks | 5 | 5 if a PVG membership or Care Inspectorate registration is verified and current |

A factor the person did not ask about (no outcomes chosen, say) gives every offer its full
points, so it changes nobody's place. Ties go to the nearer offer, then the older one.
Distance here is great-circle; the distance shown is the geodesic, under 0.4 % more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from numpy.typing import NDArray

from marketplace.money import format_pence
from matching.index import Area, OfferIndex
from matching.schemas import Reason, SupportWanted
from providers.models import DAYS, PERIODS, Taxonomy

WEIGHTS = {
    "outcomes": 30,
    "kinds": 10,
    "distance": 20,
    "price": 15,
    "times": 10,
    "space": 10,
    "checks": 5,
}
FACTOR_LABELS = {
    "outcomes": "Outcomes",
    "kinds": "Kinds of support",
    "distance": "Distance",
    "price": "Price",
    "times": "Days and times",
    "space": "Space",
    "checks": "Checks",
}
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


def divide_rounding(numerator: NDArray[np.int64], denominator: int | NDArray[np.int64]) -> NDArray[np.int64]:
    """providers.pricing.divide_rounding, element by element: halves round up."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass
class Scores:
    """Every candidate's factors (aligned with `rows`), and the points they give."""

    rows: NDArray[np.int64]
    distance_km: NDArray[np.float64]
    outcomes_met: NDArray[np.int64]
    kinds_met: NDArray[np.int64]
    times_met: NDArray[np.int64]
    week_support_pence: NDArray[np.int64]
    """-1 where the price is one-off."""
    week_fee_pence: NDArray[np.int64]
    space_days: NDArray[np.float64]
    verified: NDArray[np.bool_]
    points: dict[str, NDArray[np.float64]]

    @property
    def total(self) -> NDArray[np.float64]:
        return np.sum(list(self.points.values()), axis=0) if self.points else np.zeros(0)

    @property
    def week_total_pence(self) -> NDArray[np.int64]:
        return np.where(self.week_support_pence >= 0, self.week_support_pence + self.week_fee_pence, -1)

    def take(self, keep: NDArray[np.bool_] | NDArray[np.int64]) -> Scores:
        return Scores(
            rows=self.rows[keep],
            distance_km=self.distance_km[keep],
            outcomes_met=self.outcomes_met[keep],
            kinds_met=self.kinds_met[keep],
            times_met=self.times_met[keep],
            week_support_pence=self.week_support_pence[keep],
            week_fee_pence=self.week_fee_pence[keep],
            space_days=self.space_days[keep],
            verified=self.verified[keep],
            points={name: values[keep] for name, values in self.points.items()},
        )


def week_costs(index: OfferIndex, rows: NDArray[np.int64], minutes_per_week: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The support and the management fee for a week of `minutes_per_week`, as
    providers.enquiries.quote works them out (a test holds the two together)."""
    hourly = index.column("hourly_pence", rows)
    week_rate = index.column("week_rate_pence", rows)
    support = np.where(week_rate >= 0, week_rate, divide_rounding(np.maximum(hourly, 0) * minutes_per_week, 60))
    support = np.where((week_rate < 0) & (hourly < 0), -1, support)
    fee = divide_rounding(np.maximum(support, 0) * index.column("fee_bp", rows), 10_000) + index.column("fee_weekly_pence", rows)
    return support, np.where(support >= 0, fee, 0)


def verified_on(index: OfferIndex, rows: NDArray[np.int64], today: date) -> NDArray[np.bool_]:
    day = today.toordinal()
    return (index.column("pvg_until", rows) >= day) | (index.column("registration_until", rows) >= day)


def score(index: OfferIndex, rows: NDArray[np.int64], distance_km: NDArray[np.float64], wanted: SupportWanted, *, today: date, now: datetime) -> Scores:
    """The factors and points of the candidate offers `rows` for this request."""
    terms = index.terms
    outcomes_mask = np.uint64(terms.mask(wanted.outcomes))
    kinds_mask = np.uint64(terms.mask(wanted.kinds))
    outcomes_met = _bits(index.column("outcomes", rows) & outcomes_mask)
    kinds_met = _bits(index.column("kinds", rows) & kinds_mask)
    times_met = _bits(index.column("availability", rows) & wanted.when)
    support, fee = week_costs(index, rows, wanted.minutes_per_week)
    space_days = (now.timestamp() - index.column("capacity_at", rows)) / SECONDS_PER_DAY
    verified = verified_on(index, rows, today)

    def share(met: NDArray[np.int64], asked: int) -> NDArray[np.float64]:
        return met / asked if asked else np.ones(met.size)

    known = ~np.isnan(distance_km)
    closeness = np.where(known, DISTANCE_HALF_POINTS_KM / (DISTANCE_HALF_POINTS_KM + np.where(known, distance_km, 0)), UNKNOWN_DISTANCE_SHARE)
    total = np.where(support >= 0, support + fee, -1)
    priced = total > 0
    cheapest = total[priced].min() if priced.any() else 0
    price_share = np.where(priced, cheapest / np.where(priced, total, 1), 0.0)
    freshness = np.clip((SPACE_STALE_DAYS - space_days) / (SPACE_STALE_DAYS - SPACE_FRESH_DAYS), 0.0, 1.0)
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
    return Scores(
        rows=rows,
        distance_km=distance_km,
        outcomes_met=outcomes_met,
        kinds_met=kinds_met,
        times_met=times_met,
        week_support_pence=support,
        week_fee_pence=fee,
        space_days=space_days,
        verified=verified,
        points={name: WEIGHTS[name] * values for name, values in shares.items()},
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
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass(frozen=True)
class Context:
    """What the reasons need besides the scores: the request and the place's words."""

    wanted: SupportWanted
    place: str
    cheapest_week_pence: int | None
    hours_text: str
    today: date


def reasons_for(index: OfferIndex, scores: Scores, i: int, geodesic_km: float | None, context: Context) -> list[Reason]:
    """Each factor's points for candidate `i`, with a sentence saying why."""
    wanted, terms = context.wanted, index.terms
    row = scores.rows[i : i + 1]
    points = {name: float(values[i]) for name, values in scores.points.items()}
    said: dict[str, str] = {}

    asked = sorted(wanted.outcomes, key=lambda t: terms.bit[t])
    met = [t for t in asked if int(index.column("outcomes", row)[0]) >> terms.bit[t] & 1]
    if not asked:
        said["outcomes"] = "You did not choose outcomes, so every offer gets these points"
    elif len(met) == len(asked):
        said["outcomes"] = (
            f"Helps with the outcome you chose: {_names([terms.name[t] for t in met])}"
            if len(asked) == 1
            else f"Helps with all {len(asked)} outcomes you chose"
        )
    elif met:
        said["outcomes"] = f"Helps with {len(met)} of the {len(asked)} outcomes you chose: {_names([terms.name[t] for t in met])}"
    else:
        said["outcomes"] = "Does not say it helps with the outcomes you chose"

    kinds = [t for t in sorted(wanted.kinds, key=lambda t: terms.bit[t]) if int(index.column("kinds", row)[0]) >> terms.bit[t] & 1]
    offered = terms.ids_in(Taxonomy.KIND_OF_SUPPORT, int(index.column("kinds", row)[0]))
    if not wanted.kinds:
        said["kinds"] = f"Gives {_names([terms.name[t] for t in offered])}" if offered else "Any kind of support"
    elif len(kinds) == len(wanted.kinds):
        said["kinds"] = f"Gives {_names([terms.name[t] for t in kinds])}"
    else:
        said["kinds"] = f"Gives {len(kinds)} of the {len(wanted.kinds)} kinds of support you chose: {_names([terms.name[t] for t in kinds])}"

    said["distance"] = covers_by(index, int(scores.rows[i]), geodesic_km, context)

    total = int(scores.week_total_pence[i])
    fee = int(scores.week_fee_pence[i])
    if total < 0:
        said["price"] = "Charged as a one-off, so not compared by the week"
    else:
        cost = f"{format_pence(total)} a week for {context.hours_text}"
        if fee:
            cost += f", including a {format_pence(fee)} management fee"
        cheapest = context.cheapest_week_pence
        if cheapest is not None and total > cheapest:
            extra = total - cheapest
            cost += f": {format_pence(extra)} ({round(100 * extra / cheapest)}%) more than the lowest found" if cheapest else ""
        elif cheapest is not None:
            cost += ": the lowest found"
        said["price"] = cost

    asked_times = int(wanted.when).bit_count()
    if not asked_times:
        said["times"] = "You did not choose days and times, so every offer gets these points"
    elif int(scores.times_met[i]) == asked_times:
        said["times"] = f"Available at all {asked_times} times you need" if asked_times > 1 else "Available at the time you need"
    else:
        said["times"] = f"Available at {int(scores.times_met[i])} of the {asked_times} times you need"

    capacity = int(index.column("capacity", row)[0])
    unit = "places" if bool(index.column("capacity_in_places", row)[0]) else "hours a week"
    when = _days_ago(float(scores.space_days[i]))
    if capacity == 0:
        said["space"] = f"Said it had no space, {when}"
    elif scores.space_days[i] <= SPACE_FRESH_DAYS:
        said["space"] = f"Has space for {capacity} {unit}, confirmed {when}"
    else:
        said["space"] = f"Said it had space for {capacity} {unit} {when}, so this may be out of date"

    day = context.today.toordinal()
    checks = []
    if int(index.column("pvg_until", row)[0]) >= day:
        checks.append("PVG scheme membership")
    if int(index.column("registration_until", row)[0]) >= day:
        checks.append("Care Inspectorate registration")
    said["checks"] = f"{' and '.join(checks)} verified by us" if checks else "No PVG membership or registration verified yet"

    return [Reason(FACTOR_LABELS[name], said[name], points[name], WEIGHTS[name]) for name in WEIGHTS]


def covers_by(index: OfferIndex, row: int, geodesic_km: float | None, context: Context) -> str:
    """How the offer's area reaches the person, with the distance, in plain words."""
    area = Area(int(index.arrays["area"][row]))
    away = f"{geodesic_km:.1f} km" if geodesic_km is not None else None
    if area == Area.RADIUS:
        return f"{away} from {context.place}, within the {index.arrays['radius_km'][row]:g} km it travels"
    if area == Area.COUNCILS:
        text = f"Covers all of {context.wanted.location.council.name}"
    else:
        text = f"Covers {context.wanted.location.settlement.name} by name"
    return f"{text}; based {away} away" if away else f"{text}; we do not know where it is based"


def summary(rank: int, total: int, score_value: float) -> str:
    return f"{_ordinal(rank)} of {total}, with {round(score_value)} points out of 100"
