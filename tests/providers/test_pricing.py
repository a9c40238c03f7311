"""Prices as people see them: per hour, per week, and the management fee as an amount and a
percentage, in whole pence rounded half up."""

from __future__ import annotations

import pytest

from providers.models import FeePeriod, OfferPrice, PriceUnit
from providers.pricing import format_basis_points, hourly_equivalent_pence, week_cost


def price(**fields: object) -> OfferPrice:
    return OfferPrice(**({"unit": PriceUnit.HOUR, "rate_pence": 1850} | fields))


class TestHourly:
    def test_an_hourly_rate_is_itself(self) -> None:
        assert hourly_equivalent_pence(price(), typical_week_hours=10) == 1850

    def test_a_three_hour_session(self) -> None:
        # £50 for 3 hours is £16.666... an hour: 1666.67p rounds to 1667p.
        assert hourly_equivalent_pence(price(unit=PriceUnit.SESSION, rate_pence=5000, unit_minutes=180), typical_week_hours=10) == 1667

    def test_a_weekly_price_over_the_typical_week(self) -> None:
        assert hourly_equivalent_pence(price(unit=PriceUnit.WEEK, rate_pence=20000), typical_week_hours=8) == 2500

    def test_one_off_has_no_hourly_equivalent(self) -> None:
        assert hourly_equivalent_pence(price(unit=PriceUnit.ONE_OFF, rate_pence=9000), typical_week_hours=10) is None


class TestWeek:
    def test_hours_times_rate(self) -> None:
        cost = week_cost(price(), hours=6, typical_week_hours=10)
        assert cost is not None
        assert (cost.support_pence, cost.fee_pence, cost.total_pence) == (6 * 1850, 0, 6 * 1850)

    def test_a_percentage_fee(self) -> None:
        cost = week_cost(price(management_fee_bp=1200), hours=10, typical_week_hours=10)
        assert cost is not None
        assert cost.fee_pence == 18500 * 12 // 100
        assert cost.fee_basis_points == 1200

    @pytest.mark.parametrize(
        ("period", "weekly"),
        [(FeePeriod.WEEK, 1000), (FeePeriod.MONTH, round(1000 * 12 / 52)), (FeePeriod.YEAR, round(1000 / 52))],
    )
    def test_a_fixed_fee_per_period(self, period: FeePeriod, weekly: int) -> None:
        cost = week_cost(price(management_fee_fixed_pence=1000, management_fee_period=period), hours=10, typical_week_hours=10)
        assert cost is not None and cost.fee_pence == weekly

    def test_a_weekly_price_is_the_week(self) -> None:
        cost = week_cost(price(unit=PriceUnit.WEEK, rate_pence=20000), hours=3, typical_week_hours=8)
        assert cost is not None and cost.support_pence == 20000


@pytest.mark.parametrize(("bp", "text"), [(2500, "25%"), (1250, "12.5%"), (333, "3.33%"), (0, "0%")])
def test_percentages(bp: int, text: str) -> None:
    assert format_basis_points(bp) == text
