"""What an offer costs, worked out the one way every page, the matcher and the API use:
the hourly equivalent of a price, the cost of a week of support, and the management fee
as an amount and a percentage. All amounts are integer pence, rounded half up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from marketplace.money import format_pence
from providers.models import FeePeriod, PriceUnit

WEEKS_PER_YEAR = 52
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
    return format_basis_points(fee_share_basis_points(fee_pence=fee_pence, support_pence=support_pence))


def week_cost(price: PriceTerms, *, hours: int, typical_week_hours: int) -> WeekCost | None:
    """The cost of `hours` of support in a week, or None when the price is one-off."""
    if price.unit == PriceUnit.WEEK:
        support = price.rate_pence
    else:
        hourly = hourly_equivalent_pence(price, typical_week_hours=typical_week_hours)
        if hourly is None:
            return None
        support = hourly * hours
    return WeekCost(hours=hours, support_pence=support, fee_pence=weekly_fee_pence(price, support_pence=support))


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
    text = f"{format_pence(price.rate_pence)} " f"a{'n' if price.unit == PriceUnit.HOUR else ''} {price.unit.label}"
    if price.unit.needs_length and price.unit_minutes:
        text += f" of {describe_minutes(price.unit_minutes)}"
    return text
