"""The HSDS mapping's small rules, one by one: ids that find their record again, pounds and
pence exact both ways, the words a cost option's unit is read from, schedules to the
availability grid, and terms matched by code or name."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from providers import hsds
from providers import taxonomy as taxonomy_service
from providers.hsds.fields import Problem
from providers.hsds.ids import HsdsIds, RecordKind
from providers.models import PriceUnit, Taxonomy, availability_bit


class TestIds:
    def test_a_record_number_comes_back_from_its_uuid(self) -> None:
        ids = HsdsIds("https://sds.example.scot")
        made = ids.of(RecordKind.SERVICE, 42)
        assert uuid.UUID(made).version == 8
        assert ids.number(RecordKind.SERVICE, made) == 42

    def test_another_kind_another_publisher_or_a_stranger_is_not_ours(self) -> None:
        ids = HsdsIds("https://sds.example.scot")
        made = ids.of(RecordKind.SERVICE, 42)
        assert ids.number(RecordKind.ORGANIZATION, made) is None
        assert HsdsIds("https://other.example.scot").number(RecordKind.SERVICE, made) is None
        for stranger in ("ac148810-d857-441c-9679-408f346de14b", "999999", "", None, "not-a-uuid"):
            assert ids.number(RecordKind.SERVICE, stranger) is None

    def test_child_ids_are_stable_and_distinct(self) -> None:
        ids = HsdsIds("https://sds.example.scot")
        assert (
            ids.child("attribute", 1, 2)
            == ids.child("attribute", 1, 2)
            != ids.child("attribute", 2, 1)
        )


class TestMoney:
    @pytest.mark.parametrize(
        ("pence", "pounds"), [(0, "0.00"), (5, "0.05"), (1850, "18.50"), (123456789, "1234567.89")]
    )
    def test_pence_become_pounds_exactly_and_are_written_so(self, pence: int, pounds: str) -> None:
        amount = hsds.pence_to_amount(pence)
        assert amount == Decimal(pounds)
        assert hsds.dumps({"amount": amount}) == f'{{"amount":{pounds}}}'
        assert hsds.amount_to_pence(json.loads(hsds.dumps(amount), parse_float=Decimal)) == pence

    @pytest.mark.parametrize(
        ("amount", "pence"), [(Decimal("12.5"), 1250), (35, 3500), ("8.40", 840), ("£9", 900)]
    )
    def test_pounds_become_pence(self, amount: object, pence: int) -> None:
        assert hsds.amount_to_pence(amount) == pence

    @pytest.mark.parametrize(
        ("amount", "reason"),
        [
            (Decimal(-1), "negative"),
            (Decimal("1.005"), "whole number of pence"),
            ("twelve", "not a number"),
            (None, "no amount"),
            ("", "no amount"),
            (12.5, "float"),
            (Decimal("NaN"), "not a number"),
        ],
    )
    def test_amounts_that_are_not_money_are_refused(self, amount: object, reason: str) -> None:
        with pytest.raises(Problem, match=reason):
            hsds.amount_to_pence(amount)


class TestPriceUnits:
    @pytest.mark.parametrize(
        ("words", "unit"),
        [
            ("per hour", (PriceUnit.HOUR, None)),
            ("£18.50 an hour", (PriceUnit.HOUR, None)),
            ("hourly", (PriceUnit.HOUR, None)),
            ("per 1 hour session", (PriceUnit.SESSION, 60)),
            ("per 90 minute session", (PriceUnit.SESSION, 90)),
            ("£40.00 per session of 2.5 hours, on weekday days.", (PriceUnit.SESSION, 150)),
            ("per night of 10 hours", (PriceUnit.NIGHT, 600)),
            ("per day (7 hours)", (PriceUnit.DAY, 420)),
            ("per session", (PriceUnit.SESSION, None)),
            ("a week", (PriceUnit.WEEK, None)),
            ("one-off charge", (PriceUnit.ONE_OFF, None)),
            ("ask us", None),
        ],
    )
    def test_the_unit_is_read_from_the_words(
        self, words: str, unit: tuple[PriceUnit, int | None] | None
    ) -> None:
        assert hsds.parse_price_unit(words) == unit

    def test_uplifts_are_worked_out_to_the_basis_point(self) -> None:
        assert hsds.uplift_basis_points(rate_pence=840, uplifted_pence=1050) == 2500
        assert hsds.uplift_field("Bank holidays") == "public_holiday_uplift_bp"
        with pytest.raises(Problem):
            hsds.uplift_basis_points(rate_pence=840, uplifted_pence=800)


class TestSchedules:
    def test_weekly_opening_hours_tick_the_periods_they_overlap(self) -> None:
        mask, notes = hsds.availability_from_schedules(
            [
                {"freq": "WEEKLY", "byday": "SA", "opens_at": "16:00", "closes_at": "23:00"},
                {"freq": "MONTHLY", "byday": "1MO", "id": "monthly"},
            ]
        )
        saturday = 5
        assert mask == availability_bit(saturday, 1) | availability_bit(
            saturday, 2
        ) | availability_bit(saturday, 3)
        assert notes == ["schedule monthly: only weekly schedules are read, not monthly"]

    def test_overnight_hours_wrap_past_midnight(self) -> None:
        mask, _ = hsds.availability_from_schedules(
            [{"byday": "FR", "opens_at": "22:00", "closes_at": "07:00"}]
        )
        assert mask == availability_bit(4, 3)


class TestTerms:
    def test_terms_match_by_code_or_name_within_a_taxonomy_of_ours(self, db: Session) -> None:
        known = taxonomy_service.terms(db, Taxonomy.PERSONAL_OUTCOME) + taxonomy_service.terms(
            db, Taxonomy.KIND_OF_SUPPORT
        )
        by_name = hsds.match_term({"name": "feeling SAFE"}, known)
        by_code = hsds.match_term({"code": "personal-care", "name": "Care"}, known)
        assert (by_name.code if by_name else None, by_code.code if by_code else None) == (
            "feeling-safe",
            "personal-care",
        )
        assert (
            hsds.match_term({"name": "Feeling safe", "taxonomy": "Kinds of support"}, known) is None
        )
        assert hsds.match_term({"name": "Counselling"}, known) is None


def test_a_radius_extent_gives_back_its_centre_and_radius() -> None:
    extent = hsds.circle_geojson(57.41, -6.19, 25)
    polygon = json.loads(extent)["geometry"]["coordinates"][0]
    assert polygon[0] == polygon[-1] and len(polygon) == 33
    assert hsds.radius_from_extent({"extent": extent, "extent_type": "geojson"}) == (
        57.41,
        -6.19,
        25,
    )
    assert hsds.radius_from_extent({"extent": "extent", "extent_type": "geojson"}) is None
