"""Prices as people see them: per hour, per week, and the management fee as an amount and a
percentage, in whole pence rounded half up."""

from __future__ import annotations

import pytest

from providers.models import FeePeriod, OfferPrice, PriceUnit, TravelCharge, availability_bit
from providers.pricing import format_basis_points, hourly_equivalent_pence, week_cost, weekly_cost


def price(**fields: object) -> OfferPrice:
    defaults = {
        "unit": PriceUnit.HOUR,
        "rate_pence": 1850,
        "evening_uplift_bp": 0,
        "weekend_uplift_bp": 0,
        "night_uplift_bp": 0,
        "public_holiday_uplift_bp": 0,
        "travel_charge": TravelCharge.NONE,
        "travel_charge_pence": 0,
    }
    return OfferPrice(**(defaults | fields))


MON, TUE, WED, SAT, SUN = 0, 1, 2, 5, 6
MORNING, AFTERNOON, EVENING, NIGHT = 0, 1, 2, 3


def times(*cells: tuple[int, int]) -> int:
    return sum(availability_bit(day, period) for day, period in cells)


class TestHourly:
    def test_an_hourly_rate_is_itself(self) -> None:
        assert hourly_equivalent_pence(price(), typical_week_hours=10) == 1850

    def test_a_three_hour_session(self) -> None:
        # £50 for 3 hours is £16.666... an hour: 1666.67p rounds to 1667p.
        assert (
            hourly_equivalent_pence(
                price(unit=PriceUnit.SESSION, rate_pence=5000, unit_minutes=180),
                typical_week_hours=10,
            )
            == 1667
        )

    def test_a_weekly_price_over_the_typical_week(self) -> None:
        assert (
            hourly_equivalent_pence(
                price(unit=PriceUnit.WEEK, rate_pence=20000), typical_week_hours=8
            )
            == 2500
        )

    def test_one_off_has_no_hourly_equivalent(self) -> None:
        assert (
            hourly_equivalent_pence(
                price(unit=PriceUnit.ONE_OFF, rate_pence=9000), typical_week_hours=10
            )
            is None
        )


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
        [
            (FeePeriod.WEEK, 1000),
            (FeePeriod.MONTH, round(1000 * 12 / 52)),
            (FeePeriod.YEAR, round(1000 / 52)),
        ],
    )
    def test_a_fixed_fee_per_period(self, period: FeePeriod, weekly: int) -> None:
        cost = week_cost(
            price(management_fee_fixed_pence=1000, management_fee_period=period),
            hours=10,
            typical_week_hours=10,
        )
        assert cost is not None and cost.fee_pence == weekly

    def test_a_weekly_price_is_the_week(self) -> None:
        cost = week_cost(
            price(unit=PriceUnit.WEEK, rate_pence=20000), hours=3, typical_week_hours=8
        )
        assert cost is not None and cost.support_pence == 20000


@pytest.mark.parametrize(
    ("bp", "text"), [(2500, "25%"), (1250, "12.5%"), (333, "3.33%"), (0, "0%")]
)
def test_percentages(bp: int, text: str) -> None:
    assert format_basis_points(bp) == text


class TestWeeklyCost:
    """The price a person would pay for the hours and times they asked, worked by hand."""

    def test_weekday_daytimes_cost_the_hours_at_the_rate(self) -> None:
        """6 hours at £18.50 = £111.00; Monday to Wednesday mornings are weekday daytimes,
        so no uplift applies even though the price has them."""
        cost = weekly_cost(
            price(evening_uplift_bp=2500, weekend_uplift_bp=5000),
            minutes_per_week=360,
            when=times((MON, MORNING), (TUE, MORNING), (WED, MORNING)),
            typical_week_hours=10,
        )
        assert cost is not None
        assert (cost.base_pence, cost.uplifts, cost.total_pence, cost.visits) == (
            11100,
            (),
            11100,
            3,
        )

    def test_weekend_and_evening_uplifts_on_their_share_of_the_hours(self) -> None:
        """8 hours over 4 times (Mon morning, Mon evening, Sat morning, Sat evening): 2 hours
        each. Base 8 x £20 = £160.00. Weekend 50% on Saturday's 4 hours: 4 x £20 x 0.5 =
        £40.00. Evening 25% on the 2 evenings' 4 hours: 4 x £20 x 0.25 = £20.00 (Saturday
        evening pays both). Total £220.00."""
        cost = weekly_cost(
            price(rate_pence=2000, evening_uplift_bp=2500, weekend_uplift_bp=5000),
            minutes_per_week=480,
            when=times((MON, MORNING), (MON, EVENING), (SAT, MORNING), (SAT, EVENING)),
            typical_week_hours=10,
        )
        assert cost is not None
        assert cost.base_pence == 16000
        assert [line.pence for line in cost.uplifts] == [4000, 2000]
        assert [line.label for line in cost.uplifts] == [
            "Weekend uplift of 50% on 4 hours",
            "Evening uplift of 25% on 4 hours",
        ]
        assert cost.total_pence == 22000

    def test_a_night_uplift_and_a_fee_on_everything_spent(self) -> None:
        """10 hours over Monday night and Tuesday morning: 5 hours each at £18.00. Base
        £180.00; night 30% on 5 hours = 5 x £18 x 0.3 = £27.00; support £207.00; a 10% fee
        = £20.70. Total £227.70."""
        cost = weekly_cost(
            price(rate_pence=1800, night_uplift_bp=3000, management_fee_bp=1000),
            minutes_per_week=600,
            when=times((MON, NIGHT), (TUE, MORNING)),
            typical_week_hours=10,
        )
        assert cost is not None
        assert (
            cost.base_pence,
            [u.pence for u in cost.uplifts],
            cost.fee_pence,
            cost.total_pence,
        ) == (18000, [2700], 2070, 22770)
        assert [line.label for line in cost.lines][-1] == "Management fee"

    def test_uplift_shares_round_once_per_line(self) -> None:
        """7 hours over 3 times at £19.99, one of them Sunday: base 7 x 1999 = 13993p. The
        Sunday share is 7/3 hours; 25% of it: 13993 x 1/3 x 0.25 = 1166.08p, so 1166p.
        Total 15159p."""
        cost = weekly_cost(
            price(rate_pence=1999, weekend_uplift_bp=2500),
            minutes_per_week=420,
            when=times((MON, MORNING), (TUE, MORNING), (SUN, AFTERNOON)),
            typical_week_hours=10,
        )
        assert cost is not None
        assert (cost.base_pence, cost.uplifts[0].pence, cost.total_pence) == (13993, 1166, 15159)

    def test_travel_per_visit_counts_the_times_asked(self) -> None:
        """5 weekday mornings are 5 visits at £3.50 = £17.50, on top of 5 hours at £18.50 =
        £92.50. Total £110.00."""
        cost = weekly_cost(
            price(travel_charge=TravelCharge.PER_VISIT, travel_charge_pence=350),
            minutes_per_week=300,
            when=times(*((d, MORNING) for d in range(5))),
            typical_week_hours=10,
        )
        assert cost is not None
        assert (cost.travel_pence, cost.total_pence) == (1750, 11000)
        assert cost.travel_label == "Travel: 5 visits at £3.50 a visit"

    def test_travel_per_mile_is_the_distance_each_visit(self) -> None:
        """2 visits, 16.09344 km away = 10 miles each, at 45p a mile: 2 x 10 x 45 = 900p.
        Hours: 2 at £18.50 = £37.00. Total £46.00."""
        cost = weekly_cost(
            price(travel_charge=TravelCharge.PER_MILE, travel_charge_pence=45),
            minutes_per_week=120,
            when=times((MON, MORNING), (TUE, MORNING)),
            typical_week_hours=10,
            distance_km=16.09344,
        )
        assert cost is not None
        assert (cost.travel_pence, cost.total_pence) == (900, 4600)

    def test_what_cannot_be_counted_is_said_not_hidden(self) -> None:
        """With no times asked there are no visits or uplift shares to count: the total is
        the hours at the rate (3 x £18.50 = £55.50) and the notes say what may be added."""
        cost = weekly_cost(
            price(
                weekend_uplift_bp=2000,
                travel_charge=TravelCharge.PER_VISIT,
                travel_charge_pence=300,
                public_holiday_uplift_bp=10000,
            ),
            minutes_per_week=180,
            when=0,
            typical_week_hours=10,
        )
        assert cost is not None
        assert cost.total_pence == 5550
        assert cost.notes == (
            "Weekends cost 20% more: choose days and times to include it",
            "Public holidays cost 100% more",
            "Travel is £3.00 a visit on top: give days and times to include it",
        )

    def test_a_weekly_price_is_the_week_plus_its_uplifts(self) -> None:
        """£200 a week over 2 times, one a Saturday: the weekend 10% applies to half the
        week: 20000 x 1/2 x 0.1 = 1000p. Total £210.00."""
        cost = weekly_cost(
            price(unit=PriceUnit.WEEK, rate_pence=20000, weekend_uplift_bp=1000),
            minutes_per_week=300,
            when=times((MON, MORNING), (SAT, MORNING)),
            typical_week_hours=8,
        )
        assert cost is not None and cost.total_pence == 21000

    def test_one_off_has_no_week(self) -> None:
        assert (
            weekly_cost(
                price(unit=PriceUnit.ONE_OFF), minutes_per_week=60, when=0, typical_week_hours=1
            )
            is None
        )
