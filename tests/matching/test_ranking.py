"""How offers are ranked and why: each factor's points as ranking.py states them, worked out
here from the offers' own figures, the order they give, sorting, pages, and the reasons in
plain words; requests the matcher cannot answer refused by their field."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.db import today, utcnow
from marketplace.errors import RuleBroken
from marketplace.forms import FormInvalid
from marketplace.geography import service as geography_service
from marketplace.geography.distance import haversine_km
from matching import ranking
from matching import service as matching_service
from matching.index import OfferIndex
from matching.models import UnmetDemand, UnmetDemandSource
from matching.offer_columns import TRAVEL_KIND
from matching.schemas import MatchSort, RankedOffer, SupportWanted
from providers import checks as checks_service
from providers.checks import CheckDetails
from providers.enquiries import quote
from providers.models import CheckKind, FeePeriod, OfferPrice, PriceUnit, Taxonomy, TravelCharge
from providers.pricing import hourly_equivalent_pence, weekly_fee_pence
from tests.factories import WEEKDAY_DAYTIMES, make_offer, make_provider, make_user, term_ids


def wanted_at(db: Session, place: str, **asked: object) -> SupportWanted:
    return SupportWanted(location=geography_service.resolve_location(db, text=place), **asked)  # type: ignore[arg-type]


def ranked(db: Session, wanted: SupportWanted, **options: object) -> list[RankedOffer]:
    return matching_service.match(db, OfferIndex(), wanted, **options).results  # type: ignore[arg-type]


def points(result: RankedOffer, factor: str) -> float:
    return next(r.points for r in result.reasons if r.factor == ranking.FACTOR_LABELS[factor])


def said(result: RankedOffer, factor: str) -> str:
    return next(r.text for r in result.reasons if r.factor == ranking.FACTOR_LABELS[factor])


def verify_pvg(db: Session, provider: object) -> None:
    check = checks_service.declare_check(
        db,
        provider=provider,
        actor=provider.members[0].user,  # type: ignore[attr-defined]
        details=CheckDetails(kind=CheckKind.PVG, reference="1234567890123456"),
        today=today(),
    )
    checks_service.verify_check(db, check=check, admin=make_user(db, role=Role.ADMIN))


class TestPoints:
    def test_an_offer_that_fits_everything_scores_100(self, db: Session) -> None:
        provider = make_provider(db, base="Portree")
        verify_pvg(db, provider)
        make_offer(db, provider=provider, outcomes=("feeling-safe", "seeing-people"))
        wanted = wanted_at(
            db,
            "Portree",
            outcomes=frozenset(
                term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("feeling-safe", "seeing-people"))
            ),
            kinds=frozenset(term_ids(db, Taxonomy.KIND_OF_SUPPORT, ("personal-care",))),
            when=WEEKDAY_DAYTIMES,
        )
        [best] = ranked(db, wanted)
        assert best.score == pytest.approx(100)
        assert sum(r.out_of for r in best.reasons) == 100
        assert best.summary == "1st of 1, with 100 points out of 100"

    def test_outcomes_count_by_the_share_asked_for_that_the_offer_helps_with(
        self, db: Session
    ) -> None:
        provider = make_provider(db, base="Ullapool")
        both = make_offer(db, provider=provider, outcomes=("feeling-safe", "seeing-people"))
        one = make_offer(db, provider=provider, outcomes=("feeling-safe", "staying-well"))
        neither = make_offer(db, provider=provider, outcomes=("staying-well",))
        asked = frozenset(
            term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("feeling-safe", "seeing-people"))
        )
        results = ranked(db, wanted_at(db, "Ullapool", outcomes=asked))
        assert [r.offer_id for r in results] == [both.id, one.id, neither.id]
        assert [points(r, "outcomes") for r in results] == [30, 15, 0]
        assert said(results[0], "outcomes") == "Helps with all 2 outcomes you chose"
        assert (
            said(results[1], "outcomes") == "Helps with 1 of the 2 outcomes you chose: feeling safe"
        )
        assert said(results[2], "outcomes") == "Does not say it helps with the outcomes you chose"

    def test_an_unasked_factor_gives_everyone_its_points(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        make_offer(db, provider=provider, outcomes=("feeling-safe",))
        make_offer(db, provider=provider, outcomes=("staying-well",))
        for result in ranked(db, wanted_at(db, "Ullapool")):
            assert (
                points(result, "outcomes") == 30
                and points(result, "times") == 10
                and points(result, "kinds") == 10
            )

    def test_distance_points_fall_with_the_great_circle_distance(self, db: Session) -> None:
        near = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=60)
        far = make_offer(db, provider=make_provider(db, base="Broadford"), radius_km=60)
        person = geography_service.resolve_location(db, text="Portree")
        results = ranked(db, SupportWanted(location=person))
        assert [r.offer_id for r in results] == [near.id, far.id]
        for result, offer in zip(results, (near, far), strict=True):
            km = haversine_km(
                person.latitude, person.longitude, offer.centre_latitude, offer.centre_longitude
            )
            assert points(result, "distance") == pytest.approx(20 * 10 / (10 + km))

    def test_price_points_are_the_lowest_weekly_cost_over_this_one(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        cheap = make_offer(db, provider=provider, rate_pence=2000)
        dear = make_offer(db, provider=provider, rate_pence=2500)
        results = ranked(db, wanted_at(db, "Ullapool", minutes_per_week=6 * 60))
        assert [r.offer_id for r in results] == [cheap.id, dear.id]
        assert [r.week_total_pence for r in results] == [6 * 2000, 6 * 2500]
        assert points(results[1], "price") == pytest.approx(15 * (6 * 2000) / (6 * 2500))
        assert said(results[0], "price") == "£120.00 a week for 6 hours: the lowest found"
        assert (
            said(results[1], "price")
            == "£150.00 a week for 6 hours: £30.00 (25%) more than the lowest found"
        )

    def test_space_full_stale_and_fresh(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        fresh = make_offer(db, provider=provider, capacity_hours=12)
        stale = make_offer(db, provider=provider, capacity_hours=12)
        full = make_offer(db, provider=provider, capacity_hours=0)
        stale.capacity_updated_at = utcnow() - timedelta(days=60)
        db.flush()
        by_id = {r.offer_id: r for r in ranked(db, wanted_at(db, "Ullapool"))}
        assert points(by_id[fresh.id], "space") == 10
        # Linear from 30 days (all 10 points) to 90 days (none): 60 days is half way.
        assert points(by_id[stale.id], "space") == pytest.approx(5, abs=0.01)
        assert points(by_id[full.id], "space") == 0
        assert said(by_id[fresh.id], "space") == "Has space for 12 hours a week, confirmed today"
        assert (
            said(by_id[stale.id], "space")
            == "Said it had space for 12 hours a week 2 months ago, so this may be out of date"
        )
        assert said(by_id[full.id], "space") == "Said it had no space, today"

    def test_verified_checks(self, db: Session) -> None:
        checked = make_provider(db, base="Ullapool")
        verify_pvg(db, checked)
        verified = make_offer(db, provider=checked)
        unverified = make_offer(db, provider=make_provider(db, base="Ullapool"))
        by_id = {r.offer_id: r for r in ranked(db, wanted_at(db, "Ullapool"))}
        assert points(by_id[verified.id], "checks") == 5
        assert said(by_id[verified.id], "checks") == "PVG scheme membership verified by us"
        assert points(by_id[unverified.id], "checks") == 0

    def test_days_and_times(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Ullapool"))
        monday_morning, sunday_night = 1 << 0, 1 << (6 * 4 + 3)
        [result] = ranked(db, wanted_at(db, "Ullapool", when=monday_morning | sunday_night))
        assert result.offer_id == offer.id
        assert points(result, "times") == 5
        assert said(result, "times") == "Available at 1 of the 2 times you need"


class TestOrder:
    def test_ties_go_to_the_nearer_offer_then_the_older(self, db: Session) -> None:
        here = make_provider(db, base="Ullapool")
        older, newer = make_offer(db, provider=here), make_offer(db, provider=here)
        further = make_offer(db, provider=make_provider(db, base="IV23"), radius_km=60)
        results = ranked(db, wanted_at(db, "Ullapool"))
        assert [r.offer_id for r in results] == [older.id, newer.id, further.id]

    def test_sorting_nearest_and_cheapest(self, db: Session) -> None:
        near_dear = make_offer(
            db, provider=make_provider(db, base="Ullapool"), rate_pence=3000, radius_km=60
        )
        far_cheap = make_offer(
            db, provider=make_provider(db, base="IV23"), rate_pence=1800, radius_km=60
        )
        wanted = wanted_at(db, "Ullapool")
        assert [r.offer_id for r in ranked(db, wanted, sort=MatchSort.NEAREST)] == [
            near_dear.id,
            far_cheap.id,
        ]
        assert [r.offer_id for r in ranked(db, wanted, sort=MatchSort.CHEAPEST)] == [
            far_cheap.id,
            near_dear.id,
        ]

    def test_pages(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        offers = [make_offer(db, provider=provider, rate_pence=2000 + 10 * i) for i in range(7)]
        wanted = wanted_at(db, "Ullapool")
        first = matching_service.match(db, OfferIndex(), wanted, page_size=3)
        third = matching_service.match(db, OfferIndex(), wanted, page=3, page_size=3)
        beyond = matching_service.match(db, OfferIndex(), wanted, page=9, page_size=3)
        assert (first.total, first.pages) == (7, 3)
        assert [r.offer_id for r in first.results] == [o.id for o in offers[:3]]
        assert [r.rank for r in third.results] == [7]
        assert beyond.page == 3 and [r.offer_id for r in beyond.results] == [offers[-1].id]

    def test_a_long_list_sorted_in_part_gives_the_same_pages_as_sorted_in_full(
        self, db: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        provider = make_provider(db, base="Ullapool")
        for i in range(30):
            make_offer(db, provider=provider, rate_pence=2000 + 50 * (i % 4), capacity_hours=i % 3)
        wanted = wanted_at(db, "Ullapool")
        whole = [
            r.offer_id
            for r in matching_service.match(db, OfferIndex(), wanted, page_size=30).results
        ]
        monkeypatch.setattr(matching_service, "PARTIAL_SORT_FROM", 0)
        pages = [
            r.offer_id
            for p in (1, 2, 3)
            for r in matching_service.match(db, OfferIndex(), wanted, page=p, page_size=4).results
        ]
        assert pages == whole[:12]


class TestWeekCosts:
    @settings(max_examples=300, deadline=None)
    @given(
        unit=st.sampled_from(
            [
                PriceUnit.HOUR,
                PriceUnit.SESSION,
                PriceUnit.DAY,
                PriceUnit.NIGHT,
                PriceUnit.WEEK,
                PriceUnit.ONE_OFF,
            ]
        ),
        rate=st.integers(1, 1_000_000),
        unit_minutes=st.integers(15, 24 * 60),
        fee_bp=st.one_of(st.none(), st.integers(0, 5000)),
        fixed=st.one_of(st.none(), st.integers(1, 100_000)),
        period=st.sampled_from(list(FeePeriod)),
        minutes=st.integers(1, 168 * 60),
        typical=st.integers(1, 168),
        uplifts=st.tuples(st.integers(0, 20_000), st.integers(0, 20_000), st.integers(0, 20_000)),
        travel=st.sampled_from(list(TravelCharge)),
        travel_pence=st.integers(1, 10_000),
        when=st.integers(0, (1 << 28) - 1),
        distance=st.one_of(st.none(), st.floats(0, 500)),
    )
    def test_the_same_as_an_enquirys_quote(
        self,
        unit: PriceUnit,
        rate: int,
        unit_minutes: int,
        fee_bp: int | None,
        fixed: int | None,
        period: FeePeriod,
        minutes: int,
        typical: int,
        uplifts: tuple[int, int, int],
        travel: TravelCharge,
        travel_pence: int,
        when: int,
        distance: float | None,
    ) -> None:
        weekend, evening, night = uplifts
        price = OfferPrice(
            unit=unit,
            rate_pence=rate,
            unit_minutes=unit_minutes if unit.needs_length else None,
            management_fee_bp=fee_bp,
            management_fee_fixed_pence=fixed,
            management_fee_period=period if fixed else None,
            weekend_uplift_bp=weekend,
            evening_uplift_bp=evening,
            night_uplift_bp=night,
            public_holiday_uplift_bp=0,
            travel_charge=travel,
            travel_charge_pence=travel_pence,
        )
        hourly = hourly_equivalent_pence(price, typical_week_hours=typical)
        support, fee = ranking.week_costs_of(
            hourly_pence=np.array([-1 if hourly is None else hourly]),
            week_rate_pence=np.array([rate if unit == PriceUnit.WEEK else -1]),
            fee_bp=np.array([fee_bp or 0]),
            fee_weekly_pence=np.array([weekly_fee_pence(price, support_pence=0)]),
            weekend_bp=np.array([weekend]),
            evening_bp=np.array([evening]),
            night_bp=np.array([night]),
            travel_kind=np.array([TRAVEL_KIND[travel]]),
            travel_pence=np.array([travel_pence]),
            minutes_per_week=minutes,
            when=when,
            distance_km=np.array([np.nan if distance is None else distance]),
        )
        expected = quote(
            price,
            minutes_per_week=minutes,
            typical_week_hours=typical,
            when=when,
            distance_km=distance,
        )
        assert (None if support[0] < 0 else int(support[0])) == expected.support_pence
        assert int(fee[0]) == expected.fee_pence


class TestRequests:
    @pytest.mark.parametrize("minutes", [0, 169 * 60])
    def test_hours_outside_a_week_are_refused(self, db: Session, minutes: int) -> None:
        with pytest.raises(RuleBroken) as refused:
            ranked(db, wanted_at(db, "Ullapool", minutes_per_week=minutes))
        assert refused.value.field == "hours"

    def test_a_term_of_the_wrong_list_is_refused(self, db: Session) -> None:
        outcome = term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("feeling-safe",))
        with pytest.raises(RuleBroken) as refused:
            ranked(db, wanted_at(db, "Ullapool", kinds=frozenset(outcome)))
        assert refused.value.field == "kinds"

    def test_every_problem_of_a_form_at_once(self, db: Session) -> None:
        with pytest.raises(FormInvalid) as refused:
            matching_service.support_wanted(
                db,
                OfferIndex(),
                location="Carlisle",
                kinds_of_support=["flying"],
                outcomes=["feeling-safe"],
            )
        assert [e.field for e in refused.value.problems] == ["location", "kinds_of_support"]

    def test_codes_become_terms(self, db: Session) -> None:
        wanted = matching_service.support_wanted(
            db,
            OfferIndex(),
            location="IV51",
            kinds_of_support=["personal-care"],
            outcomes=["seeing-people"],
            client_groups=["older-people"],
            minutes_per_week=150,
        )
        assert wanted.kinds == frozenset(term_ids(db, Taxonomy.KIND_OF_SUPPORT, ("personal-care",)))
        assert wanted.client_groups == frozenset(
            term_ids(db, Taxonomy.CLIENT_GROUP, ("older-people",))
        )
        assert wanted.location.label == "IV51" and wanted.minutes_per_week == 150


class TestEachProvidersBest:
    def test_one_offer_a_provider_the_best_of_theirs(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        make_offer(db, provider=provider, rate_pence=2600)
        best = make_offer(db, provider=provider, rate_pence=2000)
        other = make_offer(db, provider=make_provider(db, base="Ullapool"))
        make_offer(db, provider=make_provider(db, base="Portree"), radius_km=10)
        found = matching_service.best_offer_of_each_provider(
            db, OfferIndex(), wanted_at(db, "Ullapool")
        )
        assert found == {provider.id: best.id, other.provider_id: other.id}


class TestUnmetSearches:
    def test_recorded_without_anything_about_the_person(self, db: Session) -> None:
        kinds = term_ids(db, Taxonomy.KIND_OF_SUPPORT, ("overnight-support",))
        outcomes = term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("feeling-safe",))
        wanted = wanted_at(db, "57.90, -5.16", kinds=frozenset(kinds), outcomes=frozenset(outcomes))
        record = matching_service.record_unmet_search(db, wanted=wanted)
        stored = db.scalars(select(UnmetDemand)).one()
        assert stored is record
        assert (stored.source, stored.settlement.name, stored.recorded_on) == (
            UnmetDemandSource.SEARCH,
            "Ullapool",
            today(),
        )
        assert sorted(t.id for t in stored.terms) == sorted(kinds + outcomes)
        columns = {c.key for c in inspect(UnmetDemand).columns}
        assert columns == {"id", "source", "settlement_id", "council_id", "recorded_on"}
