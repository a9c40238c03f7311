"""The gap analysis's rules: E2SFCA as GEOGRAPHY.md §5 defines it (checked by hand, by its
properties and against PySAL access, the reference implementation), the distance-decay
bands, which offers reach which settlements (the matcher's own answer, place by place),
the figures for a kind and an outcome, providers in reach counted once each, and
`sds-market bench gaps` end to end.

`access` is in the test extra; the tests that use it are skipped, saying why, when it is
not installed."""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace.cli import app as cli_app
from marketplace.geography import service as geography_service
from marketplace.geography.models import Settlement, SettlementKind
from matching.gaps.bench import MISSING_ACCESS, access_scores, max_relative_difference
from matching.gaps.catchments import Pairs, Places, reach_pairs, read_places
from matching.gaps.service import DECAY, PER_RESIDENTS, GapFigures, compute_gap_figures, e2sfca
from matching.index import OfferIndex
from providers import offers as offers_service
from providers.models import AreaType, Offer, Taxonomy, TaxonomyTerm, offer_term
from tests.conftest import DEMO_GROUP, DemoDatabase
from tests.factories import make_offer, make_provider
from tests.matching.test_reach import set_area

pytestmark = pytest.mark.filterwarnings(
    # access 1.1.10 calls DataFrame.set_index(inplace=True), which pandas is deprecating.
    "ignore:The inplace keyword in DataFrame.set_index is deprecated",
)

# The band weights written out: 1 up to and including 10 km, 0.68 to 20 km, 0.22 to 30 km.
NEAR, MIDDLE, FAR = 1.0, 0.68, 0.22


@pytest.fixture
def oracle() -> ModuleType:
    return pytest.importorskip("access", reason=MISSING_ACCESS)


def scores(
    place: list[int],
    offer: list[int],
    km: list[float],
    population: list[float],
    capacity: list[float],
) -> NDArray[np.float64]:
    """Our A_i (hours a week per resident), with the weights from the distances by DECAY."""
    return e2sfca(
        place=np.array(place, dtype=np.int64),
        offer=np.array(offer, dtype=np.int64),
        weight=DECAY.weight(np.array(km, dtype=np.float64)),
        population=np.array(population, dtype=np.float64),
        capacity=np.array(capacity, dtype=np.float64),
    )


def by_access(
    place: list[int],
    offer: list[int],
    km: list[float],
    population: list[float],
    capacity: list[float],
) -> NDArray[np.float64]:
    return access_scores(
        place=np.array(place, dtype=np.int64),
        offer=np.array(offer, dtype=np.int64),
        km=np.array(km, dtype=np.float64),
        population=np.array(population, dtype=np.float64),
        capacity=np.array(capacity, dtype=np.float64),
    )


class TestTheHandWorkedExample:
    """GEOGRAPHY.md §5's example with a third place. Places A (1,000 people), B (3,000) and
    C (500); offers X (40 hours a week) and Y (100). X reaches A at 5 km and B at 15 km; Y
    reaches B at 25 km and C at exactly 10.0 km. A is 35 km from Y, outside Y's reach, so
    there is no pair for it."""

    A, B, C = 0, 1, 2
    X, Y = 0, 1
    POPULATION = [1000.0, 3000.0, 500.0]
    CAPACITY = [40.0, 100.0]
    PAIRS = {"place": [A, B, B, C], "offer": [X, X, Y, Y], "km": [5.0, 15.0, 25.0, 10.0]}

    def expected(self) -> list[float]:
        # Step 1, each offer's hours over the weighted people it reaches (C at 10.0 km is in
        # the nearest band); step 2, each place's weighted sum of the offers reaching it.
        r_x = 40 / (NEAR * 1000 + MIDDLE * 3000)
        r_y = 100 / (FAR * 3000 + NEAR * 500)
        return [NEAR * r_x, MIDDLE * r_x + FAR * r_y, NEAR * r_y]

    def test_our_scores_are_the_hand_worked_ones(self) -> None:
        found = scores(**self.PAIRS, population=self.POPULATION, capacity=self.CAPACITY)
        assert found.tolist() == pytest.approx(self.expected(), rel=1e-12)

    def test_access_gives_the_same(self, oracle: ModuleType) -> None:
        found = by_access(**self.PAIRS, population=self.POPULATION, capacity=self.CAPACITY)
        assert found.tolist() == pytest.approx(self.expected(), rel=1e-12)

    def test_farther_than_the_last_band_or_unknown_weighs_as_the_last_band(
        self, oracle: ModuleType
    ) -> None:
        # Y travels 40 km, so it does reach A, 35 km away; and C's pair has no distance (a
        # council-wide offer from a provider with no base). Both weigh 0.22.
        pairs = {
            "place": [self.A, self.B, self.B, self.C, self.A],
            "offer": [self.X, self.X, self.Y, self.Y, self.Y],
            "km": [5.0, 15.0, 25.0, math.nan, 35.0],
        }
        r_x = 40 / (NEAR * 1000 + MIDDLE * 3000)
        r_y = 100 / (FAR * 3000 + FAR * 500 + FAR * 1000)
        expected = [NEAR * r_x + FAR * r_y, MIDDLE * r_x + FAR * r_y, FAR * r_y]
        assert scores(
            **pairs, population=self.POPULATION, capacity=self.CAPACITY
        ).tolist() == pytest.approx(expected, rel=1e-12)
        assert by_access(
            **pairs, population=self.POPULATION, capacity=self.CAPACITY
        ).tolist() == pytest.approx(expected, rel=1e-12)


class TestDecay:
    def test_a_distance_on_a_band_edge_takes_the_nearer_band(self) -> None:
        km = np.array([0.0, 9.999, 10.0, 10.001, 19.999, 20.0, 20.001, 30.0])
        assert DECAY.weight(km).tolist() == [NEAR, NEAR, NEAR, MIDDLE, MIDDLE, MIDDLE, FAR, FAR]

    def test_beyond_the_last_band_and_unknown_distances_take_its_weight(self) -> None:
        assert DECAY.weight(np.array([30.001, 45.0, 200.0, math.nan])).tolist() == [FAR] * 4


@dataclass(frozen=True)
class Market:
    """A small market for the property tests; place `untouched` is reached by nobody."""

    place: NDArray[np.int64]
    offer: NDArray[np.int64]
    km: NDArray[np.float64]
    population: NDArray[np.float64]
    capacity: NDArray[np.float64]

    @property
    def untouched(self) -> int:
        return self.population.size - 1

    def scores(self) -> NDArray[np.float64]:
        return e2sfca(
            place=self.place,
            offer=self.offer,
            weight=DECAY.weight(self.km),
            population=self.population,
            capacity=self.capacity,
        )


@st.composite
def markets(draw: st.DrawFn) -> Market:
    places = draw(st.integers(1, 7))
    offers = draw(st.integers(1, 7))
    pairs = sorted(
        draw(
            st.sets(
                st.tuples(st.integers(0, places - 1), st.integers(0, offers - 1)),
                max_size=places * offers,
            )
        )
    )
    distance = st.one_of(
        st.floats(0, 60, allow_nan=False), st.sampled_from([10.0, 20.0, 30.0, math.nan])
    )
    return Market(
        place=np.array([p for p, _ in pairs], dtype=np.int64),
        offer=np.array([o for _, o in pairs], dtype=np.int64),
        km=np.array(
            draw(st.lists(distance, min_size=len(pairs), max_size=len(pairs))), dtype=np.float64
        ),
        population=np.array(
            draw(st.lists(st.integers(1, 700_000), min_size=places + 1, max_size=places + 1)),
            dtype=np.float64,
        ),
        capacity=np.array(
            draw(st.lists(st.integers(0, 10_000), min_size=offers, max_size=offers)),
            dtype=np.float64,
        ),
    )


class TestProperties:
    @settings(max_examples=60)
    @given(markets())
    def test_doubling_every_capacity_doubles_every_score(self, market: Market) -> None:
        doubled = replace(market, capacity=market.capacity * 2).scores()
        assert np.array_equal(doubled, market.scores() * 2)

    @settings(max_examples=60)
    @given(markets(), st.integers(1, 1_000_000))
    def test_people_where_nothing_reaches_change_nobody_s_score(
        self, market: Market, more: int
    ) -> None:
        population = market.population.copy()
        population[market.untouched] += more
        assert np.array_equal(replace(market, population=population).scores(), market.scores())
        assert market.scores()[market.untouched] == 0

    @settings(max_examples=60)
    @given(markets())
    def test_every_hour_on_offer_that_reaches_anyone_is_shared_out_once(
        self, market: Market
    ) -> None:
        # sum_i P_i A_i = sum_j R_j sum_i W_ij P_i = sum_j S_j: the weights cancel.
        reaching = np.unique(market.offer)
        shared = float(market.population @ market.scores())
        assert shared == pytest.approx(float(market.capacity[reaching].sum()), rel=1e-9, abs=1e-9)


def mixed_market(db: Session) -> dict[str, Offer]:
    """Offers of every kind of area: radii small and large (one to the 200 km limit, so
    pairs lie beyond the last band), a council area, two council areas from a provider
    with no base (unknown distances), named towns, two offers of one provider reaching
    the same places, and offers that reach nobody because they are not published."""
    skye = make_provider(db, base="Portree")
    offers = {
        "skye near": make_offer(
            db, provider=skye, radius_km=25, capacity_hours=10, outcomes=("feeling-safe",)
        ),
        "skye far": make_offer(
            db,
            provider=skye,
            radius_km=45,
            capacity_hours=30,
            kinds=("personal-care", "help-at-home"),
            outcomes=("seeing-people", "feeling-safe"),
        ),
        "inverness": make_offer(
            db,
            provider=make_provider(db, base="Inverness"),
            radius_km=60,
            capacity_hours=25,
            kinds=("help-at-home",),
            outcomes=("feeling-safe", "staying-well"),
        ),
        "glasgow": make_offer(
            db,
            provider=make_provider(db, base="Glasgow"),
            radius_km=8,
            capacity_hours=40,
            outcomes=("seeing-people",),
        ),
        "dundee": make_offer(
            db,
            provider=make_provider(db, base="Dundee"),
            radius_km=35,
            capacity_hours=15,
            kinds=("short-breaks", "personal-care"),
        ),
        "lerwick": make_offer(
            db, provider=make_provider(db, base="Lerwick"), radius_km=200, capacity_hours=12
        ),
        "highland": make_offer(
            db,
            provider=make_provider(db, base="Thurso"),
            capacity_hours=20,
            kinds=("personal-care", "short-breaks"),
        ),
        "fife and angus": make_offer(
            db,
            provider=make_provider(db, base="Dundee"),
            capacity_hours=8,
            outcomes=("staying-well",),
        ),
        "named": make_offer(
            db,
            provider=make_provider(db, base="Broadford"),
            capacity_hours=6,
            kinds=("help-at-home",),
        ),
        "draft": make_offer(
            db, provider=make_provider(db, base="Stornoway"), radius_km=50, publish=False
        ),
        "paused": make_offer(db, provider=make_provider(db, base="Kirkwall"), radius_km=50),
    }
    council = {
        name: geography_service.find_council_area(db, name_or_code=name)
        for name in ("Highland", "Fife", "Angus")
    }
    set_area(
        db,
        offers["highland"],
        area_type=AreaType.COUNCILS,
        council_ids=[council["Highland"].id],
        radius_km=None,
    )
    set_area(
        db,
        offers["fife and angus"],
        area_type=AreaType.COUNCILS,
        council_ids=[council["Fife"].id, council["Angus"].id],
        radius_km=None,
    )
    no_base = offers["fife and angus"].provider
    no_base.base_latitude = no_base.base_longitude = None
    towns = [
        geography_service.resolve_location(db, text=name).settlement.id
        for name in ("Portree", "Broadford", "Kyle of Lochalsh")
    ]
    set_area(
        db, offers["named"], area_type=AreaType.SETTLEMENTS, settlement_ids=towns, radius_km=None
    )
    paused = offers["paused"]
    offers_service.pause_offer(db, offer=paused, actor=paused.provider.members[0].user)
    db.flush()
    return offers


def fresh_index(db: Session) -> OfferIndex:
    index = OfferIndex()
    index.refresh(db)
    return index


def pair_distances(pairs: Pairs) -> dict[tuple[int, int], float]:
    found = {
        (int(p), int(r)): float(km)
        for p, r, km in zip(pairs.place, pairs.row, pairs.km, strict=True)
    }
    assert len(found) == len(pairs), "a (settlement, offer) pair is listed twice"
    return found


class TestReachPairs:
    def test_every_pair_is_what_the_matcher_finds_for_someone_at_the_settlement(
        self, db: Session
    ) -> None:
        offers = mixed_market(db)
        index = fresh_index(db)
        places = read_places(db)
        assert len(places) > 600

        expected: dict[tuple[int, int], float] = {}
        for i in range(len(places)):
            rows, km = index.reaching(
                latitude=float(places.lat[i]),
                longitude=float(places.lon[i]),
                council_id=int(places.council_ids[i]),
                settlement_id=int(places.ids[i]),
            )
            expected |= {(i, int(row)): float(d) for row, d in zip(rows, km, strict=True)}
        found = pair_distances(reach_pairs(index, places))

        assert found.keys() == expected.keys()
        assert np.allclose(
            [found[k] for k in expected],
            list(expected.values()),
            rtol=1e-12,
            atol=0,
            equal_nan=True,
        )
        # The market did reach places every way, far and with unknown distances, and the
        # offers that are not published reached nobody.
        reached = {int(index.arrays["offer_id"][row]) for _, row in found}
        assert reached == {
            offer.id for name, offer in offers.items() if name not in ("draft", "paused")
        }
        assert any(km > 30 for km in found.values()) and any(
            math.isnan(km) for km in found.values()
        )

    def test_an_offer_naming_a_second_entry_reaches_the_town_it_repeats_once(
        self, db: Session
    ) -> None:
        # Meikle Earnock is GeoNames' second entry for Hamilton (and nearer Quarter).
        offer = make_offer(db, provider=make_provider(db, base="Hamilton"), capacity_hours=30)
        hamilton = db.scalar(
            select(Settlement).where(
                Settlement.name == "Hamilton", Settlement.kind == SettlementKind.SETTLEMENT
            )
        )
        twin = db.scalar(select(Settlement).where(Settlement.name == "Meikle Earnock"))
        assert hamilton is not None and twin is not None and twin.kind == SettlementKind.DUPLICATE
        set_area(
            db,
            offer,
            area_type=AreaType.SETTLEMENTS,
            settlement_ids=[twin.id, hamilton.id],
            radius_km=None,
        )
        db.flush()
        places = read_places(db)
        pairs = reach_pairs(fresh_index(db), places)
        assert [places.names[p] for p in pairs.place] == ["Hamilton"]
        figures = compute_gap_figures(fresh_index(db), places)
        at = list(places.ids).index(hamilton.id)
        assert figures.by_kind[None].hours_per_1000[at] == pytest.approx(
            30 / hamilton.residents * 1000, rel=1e-12
        )


class TestProvidersInReach:
    def test_two_offers_of_one_provider_reaching_a_place_count_once(self, db: Session) -> None:
        offers = mixed_market(db)
        figures = compute_gap_figures(fresh_index(db), read_places(db))
        portree = list(figures.places.ids).index(offers["skye near"].provider.base_settlement_id)
        at_portree = {
            int(figures.offer_ids[row])
            for place, row in zip(figures.pairs.place, figures.pairs.row, strict=True)
            if place == portree
        }
        # Portree is reached by both of the Skye provider's offers, the Highland-wide one
        # and the one naming it, each from a provider of its own.
        assert at_portree == {
            offers[name].id for name in ("skye near", "skye far", "highland", "named")
        }
        personal_care, help_at_home = kind_id(db, "personal-care"), kind_id(db, "help-at-home")
        assert figures.by_kind[None].providers[portree] == 3
        assert (
            figures.by_kind[personal_care].providers[portree] == 2
        )  # three offers: both Skye ones, Highland
        assert figures.by_kind[help_at_home].providers[portree] == 2  # skye far and the named one
        assert (
            figures.measure(
                kind_id=personal_care, outcome_id=outcome_id(db, "feeling-safe")
            ).providers[portree]
            == 2
        )
        assert (
            figures.measure(
                kind_id=personal_care, outcome_id=outcome_id(db, "seeing-people")
            ).providers[portree]
            == 1
        )


def kind_id(db: Session, code: str) -> int:
    return db.scalars(
        select(TaxonomyTerm.id).where(
            TaxonomyTerm.taxonomy == Taxonomy.KIND_OF_SUPPORT, TaxonomyTerm.code == code
        )
    ).one()


def outcome_id(db: Session, code: str) -> int:
    return db.scalars(
        select(TaxonomyTerm.id).where(
            TaxonomyTerm.taxonomy == Taxonomy.PERSONAL_OUTCOME, TaxonomyTerm.code == code
        )
    ).one()


@dataclass(frozen=True)
class Demo:
    """The demo market's figures, and what the database says about its offers, read while
    it was loaded (it is rolled back straight after, so it holds no lock)."""

    figures: GapFigures
    places: Places
    terms_of_offer: dict[int, set[int]]
    provider_of_offer: dict[int, int]
    outcome_ids: tuple[int, ...]


@pytest.fixture(scope="module")
def demo(demo_database: DemoDatabase) -> Demo:
    """The demo's gap figures: they only read it."""
    session = Session(bind=demo_database.engine)
    try:
        places = read_places(session)
        figures = compute_gap_figures(fresh_index(session), places)
        terms_of_offer: dict[int, set[int]] = defaultdict(set)
        for offer_id, term_id in session.execute(
            select(offer_term.c.offer_id, offer_term.c.term_id)
        ):
            terms_of_offer[offer_id].add(term_id)
        provider_of_offer = dict(session.execute(select(Offer.id, Offer.provider_id)).all())
        outcomes = tuple(
            session.scalars(
                select(TaxonomyTerm.id).where(TaxonomyTerm.taxonomy == Taxonomy.PERSONAL_OUTCOME)
            )
        )
    finally:
        session.close()
    return Demo(figures, places, dict(terms_of_offer), provider_of_offer, outcomes)


def pairs_of_offers_with(demo: Demo, *terms: int | None) -> NDArray[np.bool_]:
    """The pairs whose offer has every one of the terms, by the database's own offer_term rows."""
    wanted = {t for t in terms if t is not None}
    return np.array(
        [
            wanted <= demo.terms_of_offer.get(int(demo.figures.offer_ids[row]), set())
            for row in demo.figures.pairs.row
        ],
        dtype=np.bool_,
    )


@DEMO_GROUP
class TestAgainstAccessOnTheDemo:
    def test_every_kind_s_scores_are_access_s_on_the_same_pairs(
        self, demo: Demo, oracle: ModuleType
    ) -> None:
        figures = demo.figures
        assert len(figures.kind_ids) >= 5
        for kind in (None, *figures.kind_ids):
            wanted = pairs_of_offers_with(demo, kind)
            assert wanted.any()
            theirs = access_scores(
                place=figures.pairs.place[wanted],
                offer=figures.pairs.row[wanted],
                km=figures.pairs.km[wanted],
                population=demo.places.population,
                capacity=figures.free_hours,
            )
            ours = figures.by_kind[kind].hours_per_1000 / PER_RESIDENTS
            assert max_relative_difference(ours, theirs) <= 1e-9, figures.term_names.get(
                kind, "any kind"
            )

    def test_every_kind_shares_out_its_hours_exactly_once(self, demo: Demo) -> None:
        figures = demo.figures
        for kind in (None, *figures.kind_ids):
            reaching = np.unique(figures.pairs.row[pairs_of_offers_with(demo, kind)])
            shared = demo.places.population @ figures.by_kind[kind].hours_per_1000 / PER_RESIDENTS
            assert shared == pytest.approx(figures.free_hours[reaching].sum(), rel=1e-9)


@DEMO_GROUP
class TestMeasureForAKindAndAnOutcome:
    def test_it_is_e2sfca_over_just_the_offers_with_both_and_their_providers(
        self, demo: Demo
    ) -> None:
        figures, places = demo.figures, demo.places
        checked = 0
        for kind in figures.kind_ids:
            for outcome in demo.outcome_ids:
                wanted = pairs_of_offers_with(demo, kind, outcome)
                place, row = figures.pairs.place[wanted], figures.pairs.row[wanted]
                direct = e2sfca(
                    place=place,
                    offer=row,
                    weight=DECAY.weight(figures.pairs.km[wanted]),
                    population=places.population,
                    capacity=figures.free_hours,
                )
                providers: dict[int, set[int]] = defaultdict(set)
                for p, r in zip(place, row, strict=True):
                    providers[int(p)].add(demo.provider_of_offer[int(figures.offer_ids[r])])

                measure = figures.measure(kind_id=kind, outcome_id=outcome)
                assert (
                    max_relative_difference(measure.hours_per_1000, direct * PER_RESIDENTS) <= 1e-12
                )
                assert measure.providers.tolist() == [len(providers[i]) for i in range(len(places))]
                checked += bool(wanted.any())
        assert checked >= 20


class TestTheBenchCommand:
    def test_it_prints_its_one_json_line_and_agrees_with_access(self, oracle: ModuleType) -> None:
        result = CliRunner().invoke(cli_app, ["bench", "gaps", "--offers", "2000", "--runs", "1"])
        assert result.exit_code == 0, result.output
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        assert list(figures)[:11] == [
            "bench",
            "offers",
            "demand_points",
            "settlements",
            "rural_areas",
            "kinds",
            "seconds",
            "one_kind_seconds",
            "access_seconds",
            "speedup_vs_access",
            "max_rel_diff_vs_access",
        ]
        assert (figures["bench"], figures["offers"], figures["kinds"]) == ("gaps", 2000, 10)
        assert figures["settlements"] > 600 and figures["rural_areas"] > 1000
        assert figures["demand_points"] == figures["settlements"] + figures["rural_areas"]
        assert figures["max_rel_diff_vs_access"] <= 1e-9
        assert figures["max_rel_diff_vs_figures"] <= 1e-9

    def test_without_access_it_says_how_to_install_it(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "access", None)  # import access now raises ImportError
        result = CliRunner().invoke(cli_app, ["bench", "gaps", "--offers", "3000"])
        assert result.exit_code == 1
        assert "pip install -e '.[test]'" in result.output
