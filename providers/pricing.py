"""What an offer costs, worked out the one way every page, the matcher and the API use:
the hourly equivalent of a price, the cost of a week of support, and the management fee
as an amount and a percentage. All amounts are integer pence, rounded half up.

`weekly_cost` is the price a person would pay for the hours and times they asked: the
hours at the weekday daytime rate, each uplift on the share of the hours that falls in its
times, travel for each visit, and the management fee on all of that. Search results, offer
pages, compare, the enquiry quote, the API and the matcher's index all show its total
(matching.ranking.week_costs_of is the same sums over arrays, held to it by a test)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from marketplace.money import format_pence
from providers.models import (
    DAYS,
    PERIODS,
    FeePeriod,
    PriceUnit,
    TravelCharge,
    availability_bit,
)

WEEKS_PER_YEAR = 52
KM_PER_MILE = 1.609344
MONTHS_PER_YEAR = 12
BASIS_POINTS = 10_000


class PriceTerms(Protocol):
    """What the sums read of a price: an OfferPrice, or the matcher's row of its columns."""

    @property
    def unit(self) -> PriceUnit: ...
    @property
    def rate_pence(self) -> int: ...
    @property
    def unit_minutes(self) -> int | None: ...
    @property
    def management_fee_bp(self) -> int | None: ...
    @property
    def management_fee_fixed_pence(self) -> int | None: ...
    @property
    def management_fee_period(self) -> FeePeriod | None: ...


class WeeklyPriceTerms(PriceTerms, Protocol):
    """What a week's cost reads besides: the uplifts and travel."""

    @property
    def evening_uplift_bp(self) -> int: ...
    @property
    def weekend_uplift_bp(self) -> int: ...
    @property
    def night_uplift_bp(self) -> int: ...
    @property
    def public_holiday_uplift_bp(self) -> int: ...
    @property
    def travel_charge(self) -> TravelCharge: ...
    @property
    def travel_charge_pence(self) -> int: ...


def divide_rounding(numerator: int, denominator: int) -> int:
    """Integer division rounded half up, for non-negative amounts."""
    return (2 * numerator + denominator) // (2 * denominator)


def hourly_equivalent_pence(price: PriceTerms, *, typical_week_hours: int) -> int | None:
    """The price of an hour of support, or None for a one-off price."""
    if price.unit == PriceUnit.HOUR:
        return price.rate_pence
    if price.unit.needs_length and price.unit_minutes:
        return divide_rounding(price.rate_pence * 60, price.unit_minutes)
    if price.unit == PriceUnit.WEEK and typical_week_hours > 0:
        return divide_rounding(price.rate_pence, typical_week_hours)
    return None


@dataclass(frozen=True)
class WeekCost:
    hours: int
    support_pence: int
    """The support itself, at weekday daytime rates."""
    fee_pence: int
    """The management fee for the week, if the provider holds the fund."""

    @property
    def total_pence(self) -> int:
        return self.support_pence + self.fee_pence

    @property
    def fee_basis_points(self) -> int:
        return fee_share_basis_points(fee_pence=self.fee_pence, support_pence=self.support_pence)


def fee_share_basis_points(*, fee_pence: int, support_pence: int | None) -> int:
    """The management fee as a share of the support it pays for, in basis points; 0 when
    there is no support to take a share of."""
    return divide_rounding(fee_pence * BASIS_POINTS, support_pence) if support_pence else 0


def fee_percent(*, fee_pence: int, support_pence: int | None) -> str | None:
    """The management fee as a percentage of the support, like '8%'; None without a fee."""
    if not fee_pence or not support_pence:
        return None
    return format_basis_points(
        fee_share_basis_points(fee_pence=fee_pence, support_pence=support_pence)
    )


def week_cost(price: PriceTerms, *, hours: int, typical_week_hours: int) -> WeekCost | None:
    """The cost of `hours` of support in a week, or None when the price is one-off."""
    if price.unit == PriceUnit.WEEK:
        support = price.rate_pence
    else:
        hourly = hourly_equivalent_pence(price, typical_week_hours=typical_week_hours)
        if hourly is None:
            return None
        support = hourly * hours
    return WeekCost(
        hours=hours, support_pence=support, fee_pence=weekly_fee_pence(price, support_pence=support)
    )


def weekly_fee_pence(price: PriceTerms, *, support_pence: int) -> int:
    fee = 0
    if price.management_fee_bp:
        fee += divide_rounding(support_pence * price.management_fee_bp, BASIS_POINTS)
    if price.management_fee_fixed_pence:
        fixed = price.management_fee_fixed_pence
        if price.management_fee_period == FeePeriod.MONTH:
            fee += divide_rounding(fixed * MONTHS_PER_YEAR, WEEKS_PER_YEAR)
        elif price.management_fee_period == FeePeriod.YEAR:
            fee += divide_rounding(fixed, WEEKS_PER_YEAR)
        else:
            fee += fixed
    return fee


def format_basis_points(basis_points: int) -> str:
    """2500 -> '25%', 1250 -> '12.5%', 333 -> '3.33%'."""
    whole, rest = divmod(basis_points, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def describe_minutes(minutes: int) -> str:
    """150 -> '2 hours 30 minutes'; 60 -> '1 hour'."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'' if hours == 1 else 's'}")
    if rest:
        parts.append(f"{rest} minute{'' if rest == 1 else 's'}")
    return " ".join(parts) or "0 hours"


def price_text(price: PriceTerms) -> str:
    """'£18.50 an hour', '£50.00 a session of 3 hours', '£90.00 one-off'."""
    if price.unit == PriceUnit.ONE_OFF:
        return f"{format_pence(price.rate_pence)} one-off"
    text = (
        f"{format_pence(price.rate_pence)} "
        f"a{'n' if price.unit == PriceUnit.HOUR else ''} {price.unit.label}"
    )
    if price.unit.needs_length and price.unit_minutes:
        text += f" of {describe_minutes(price.unit_minutes)}"
    return text


# The week a person asked for --------------------------------------------------------------

WEEKEND_DAYS = (5, 6)
EVENING, NIGHT = PERIODS.index("evening"), PERIODS.index("night")
WEEKEND_TIMES = sum(availability_bit(d, p) for d in WEEKEND_DAYS for p in range(len(PERIODS)))
EVENING_TIMES = sum(availability_bit(d, EVENING) for d in range(len(DAYS)))
NIGHT_TIMES = sum(availability_bit(d, NIGHT) for d in range(len(DAYS)))
UPLIFTS = (
    ("weekend", "Weekend", "weekend_uplift_bp", WEEKEND_TIMES),
    ("evening", "Evening", "evening_uplift_bp", EVENING_TIMES),
    ("night", "Night", "night_uplift_bp", NIGHT_TIMES),
)
"""Each uplift: its key, its label, the price's field, and the times (an availability mask)
it applies to. Uplifts add up: a Saturday evening pays both the weekend and the evening."""


@dataclass(frozen=True)
class CostLine:
    label: str
    pence: int


@dataclass(frozen=True)
class WeeklyCost:
    """A week of the support asked for, line by line. The hours are spread evenly over the
    times asked (each ticked day and time is one visit); with no times asked, no uplift
    or visit can be counted, and `notes` say what may be added."""

    minutes_per_week: int
    visits: int
    base_pence: int
    """The hours at the weekday daytime rate (a weekly price: the week's price)."""
    uplifts: tuple[CostLine, ...]
    travel_pence: int
    travel_label: str | None
    fee_pence: int
    notes: tuple[str, ...]
    """What may cost more and is not in the total (public holidays, travel not countable)."""

    @property
    def support_pence(self) -> int:
        """What is spent on support: the hours, their uplifts and travel."""
        return self.base_pence + sum(line.pence for line in self.uplifts) + self.travel_pence

    @property
    def total_pence(self) -> int:
        return self.support_pence + self.fee_pence

    @property
    def support_lines(self) -> list[CostLine]:
        """The support's lines: the hours, each uplift and travel."""
        found = [
            CostLine(
                f"{describe_minutes(self.minutes_per_week)} at the weekday daytime rate",
                self.base_pence,
            )
        ]
        found += self.uplifts
        if self.travel_label:
            found.append(CostLine(self.travel_label, self.travel_pence))
        return found

    @property
    def lines(self) -> list[CostLine]:
        """The breakdown, in the order it is added up, ending before the total."""
        found = self.support_lines
        if self.fee_pence:
            found.append(CostLine("Management fee", self.fee_pence))
        return found


def _share_text(minutes: int, times: int, share: int) -> str:
    return describe_minutes(divide_rounding(minutes * share, times))


def weekly_cost(
    price: WeeklyPriceTerms,
    *,
    minutes_per_week: int,
    when: int,
    typical_week_hours: int,
    distance_km: float | None = None,
) -> WeeklyCost | None:
    """The price of `minutes_per_week` of support at the times `when` (an availability mask,
    0 when not said), `distance_km` from where the offer is measured from when known; None
    for a one-off price. See WeeklyCost for how the hours are spread."""
    # The week's support at the base rate as an exact fraction, so every line rounds once.
    if price.unit == PriceUnit.WEEK:
        numerator, denominator = price.rate_pence, 1
    else:
        hourly = hourly_equivalent_pence(price, typical_week_hours=typical_week_hours)
        if hourly is None:
            return None
        numerator, denominator = hourly * minutes_per_week, 60
    times = when.bit_count()
    notes: list[str] = []
    uplifts = []
    for _key, label, field, mask in UPLIFTS:
        basis_points = getattr(price, field) or 0
        share = (when & mask).bit_count()
        if basis_points and share:
            pence = divide_rounding(
                numerator * share * basis_points, denominator * times * BASIS_POINTS
            )
            hours = _share_text(minutes_per_week, times, share)
            uplifts.append(
                CostLine(f"{label} uplift of {format_basis_points(basis_points)} on {hours}", pence)
            )
        elif basis_points and not times:
            notes.append(
                f"{label}s cost {format_basis_points(basis_points)} more: "
                "choose days and times to include it"
            )
    if price.public_holiday_uplift_bp:
        notes.append(
            f"Public holidays cost {format_basis_points(price.public_holiday_uplift_bp)} more"
        )
    travel, travel_label = travel_pence(price, visits=times, distance_km=distance_km)
    if price.travel_charge != TravelCharge.NONE and travel_label is None:
        unit = "mile" if price.travel_charge == TravelCharge.PER_MILE else "visit"
        needed = "days and times" if not times else "where you are"
        notes.append(
            f"Travel is {format_pence(price.travel_charge_pence or 0)} a {unit} on top: "
            f"give {needed} to include it"
        )
    base = divide_rounding(numerator, denominator)
    support = base + sum(line.pence for line in uplifts) + travel
    return WeeklyCost(
        minutes_per_week=minutes_per_week,
        visits=times,
        base_pence=base,
        uplifts=tuple(uplifts),
        travel_pence=travel,
        travel_label=travel_label,
        fee_pence=weekly_fee_pence(price, support_pence=support),
        notes=tuple(notes),
    )


def travel_pence(
    price: WeeklyPriceTerms, *, visits: int, distance_km: float | None
) -> tuple[int, str | None]:
    """Travel for a week of `visits`, and its line; (0, None) when there is no charge or it
    cannot be counted (no times asked, or by the mile without a distance). By the mile, each
    visit is charged the distance one way from where the offer is measured from."""
    rate = price.travel_charge_pence or 0
    if price.travel_charge == TravelCharge.PER_VISIT and visits:
        return (
            rate * visits,
            f"Travel: {visits} visit{'' if visits == 1 else 's'} at {format_pence(rate)} a visit",
        )
    if price.travel_charge == TravelCharge.PER_MILE and visits and distance_km is not None:
        miles = distance_km / KM_PER_MILE
        # The same float sums as ranking.week_costs_of, so the two round alike.
        pence = math.floor(rate * visits * distance_km / KM_PER_MILE + 0.5)
        label = (
            f"Travel: {visits} visit{'' if visits == 1 else 's'} of {miles:.1f} miles "
            f"at {format_pence(rate)} a mile"
        )
        return pence, label
    return 0, None
