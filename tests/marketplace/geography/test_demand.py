"""Where people are counted: every small area's residents in one demand area (the listed
place of their own council nearby, or the rural area of their cell), scaled to each
council's estimate; and the shipped file, built from the census, holds all of Scotland."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from marketplace.geography import build, demand
from marketplace.geography.demand import DemandArea, ListedPlace, SmallArea

TOWN = ListedPlace(1, "Town", "S1", latitude=57.0, longitude=-4.0, population=10_000)
VILLAGE = ListedPlace(2, "Village", "S1", latitude=57.0, longitude=-3.9, population=600)
ACROSS_THE_BOUNDARY = ListedPlace(3, "Bordertown", "S2", 57.05, -4.0, population=5_000)
CITY = ListedPlace(4, "City", "S3", latitude=56.0, longitude=-4.0, population=640_000)
"""Its built-up area reaches 8 km (classify.TOWN_REACH_KM_PER_ROOT_PERSON)."""
HAMLET = ListedPlace(6, "Hamlet", "S3", latitude=56.0, longitude=-3.8553, population=600)
"""9 km east of the city's centre, in its council."""
SUBURB = ListedPlace(5, "Suburb", "S4", latitude=56.0, longitude=-3.84, population=20_000)
"""Across a council boundary from the city, 10 km east of its centre."""


def small(code: str, council: str, latitude: float, longitude: float, residents: int) -> SmallArea:
    return SmallArea(code, council, latitude, longitude, residents)


def areas_of(*small_areas: SmallArea, estimates: dict[str, int]) -> dict[str, DemandArea]:
    places = [TOWN, VILLAGE, ACROSS_THE_BOUNDARY, CITY, HAMLET, SUBURB]
    found = demand.demand_areas(small_areas, places, estimates)
    return {area.name: area for area in found}


class TestWherePeopleAreCounted:
    def test_people_near_a_listed_place_of_their_own_council_are_counted_in_it(self) -> None:
        areas = areas_of(
            small("in town", "S1", 57.0, -4.0, 100),
            small("a kilometre north", "S1", 57.01, -4.0, 50),
            small("in bordertown", "S2", 57.045, -4.0, 40),
            estimates={"S1": 150, "S2": 40},
        )
        assert areas["Town"].small_areas == 2 and areas["Town"].residents == 150
        assert areas["Town"].place_key == TOWN.key
        # Counted at the place's own point, as the gap figures have always placed its people.
        assert (areas["Town"].latitude, areas["Town"].longitude) == (57.0, -4.0)
        assert areas["Bordertown"].residents == 40
        assert "Village" not in areas  # nobody lives near it in this example

    def test_a_city_counts_the_people_of_its_built_up_area_beyond_3_km(self) -> None:
        areas = areas_of(
            small("6 km west of the centre", "S3", 56.0, -4.097, 300),
            # 6.5 km from the city and 2.5 km from the hamlet: nearer the hamlet, but within
            # the city's reach by more, so the city's, as the gazetteer would place it.
            small("between", "S3", 56.0, -3.8955, 20),
            estimates={"S3": 320},
        )
        assert areas["City"].residents == 320

    def test_people_at_a_city_s_edge_across_the_boundary_are_an_area_not_rural(self) -> None:
        # The suburb's council, 5 km west of the suburb (beyond its 3 km) and 5 km east of the
        # city's centre (inside its built-up area, but the city is another council's).
        areas = areas_of(small("edge", "S4", 56.0, -3.92, 400), estimates={"S4": 400})
        assert list(areas) == ["Area 5 km west of Suburb"]

    def test_a_listed_place_of_another_council_does_not_take_them(self) -> None:
        # 1.1 km from Bordertown (council S2) and 4.4 km from Town: they are S1's people,
        # beyond its places' 3 km, so a rural area of S1 counts them.
        areas = areas_of(small("between", "S1", 57.04, -4.0, 30), estimates={"S1": 30})
        (area,) = areas.values()
        assert area.place_key is None and area.council_gss == "S1"
        assert area.name == "Rural area 4 km north of Town"
        assert area.named_after == TOWN.key

    def test_far_from_any_listed_place_people_are_counted_where_they_live(self) -> None:
        areas = areas_of(
            small("croft", "S1", 57.310, -4.010, 10),
            small("next croft", "S1", 57.312, -4.014, 30),
            estimates={"S1": 40},
        )
        (area,) = areas.values()
        assert area.small_areas == 2 and area.residents == 40
        # At the people's weighted middle (each area's residents and one), near the bigger.
        assert area.latitude == pytest.approx((57.310 * 11 + 57.312 * 31) / 42, abs=1e-5)
        assert area.longitude == pytest.approx((-4.010 * 11 + -4.014 * 31) / 42, abs=1e-5)
        # That middle is 0.3115 degrees (34.6 km) north of Town and 0.8 km west.
        assert area.name == "Rural area 35 km north of Town"

    def test_each_council_adds_up_to_its_estimate_shared_by_largest_remainders(self) -> None:
        areas = areas_of(
            small("in town", "S1", 57.0, -4.0, 150),
            small("between", "S1", 57.04, -4.0, 30),
            small("croft", "S1", 57.31, -4.01, 20),
            small("in bordertown", "S2", 57.045, -4.0, 40),
            estimates={"S1": 301, "S2": 41},
        )
        # 301 shared 150:30:20 is 225.75, 45.15 and 30.1; the one left over goes to the
        # largest remainder, the town's.
        assert areas["Town"].estimate == 226
        assert areas["Rural area 4 km north of Town"].estimate == 45
        assert areas["Rural area 34 km north of Town"].estimate == 30
        assert areas["Bordertown"].estimate == 41

    def test_two_rural_areas_the_same_way_and_distance_from_a_place_are_told_apart(self) -> None:
        # Two cells side by side either side of a cell's edge, 34.5 km north of Town and
        # 2.4 km east: both 35 km north of it.
        edge = -44 * demand.RURAL_CELL_DEGREES[1]
        areas = areas_of(
            small("west of the edge", "S1", 57.31, edge - 0.001, 10),
            small("east of the edge", "S1", 57.31, edge + 0.001, 10),
            estimates={"S1": 20},
        )
        assert set(areas) == {
            "Rural area 35 km north of Town",
            "Rural area 35 km north of Town (2)",
        }


def test_the_areas_read_back_as_written(tmp_path: Path) -> None:
    written = demand.demand_areas(
        [small("in town", "S1", 57.0, -4.0, 100), small("croft", "S1", 57.3, -4.1234567, 20)],
        [TOWN],
        {"S1": 130},
    )
    path = tmp_path / "demand_areas.csv"
    path.write_text(demand.to_csv(written))
    assert demand.read_csv(path) == written


class TestTheShippedAreas:
    @pytest.fixture(scope="class")
    @classmethod
    def areas(cls) -> list[DemandArea]:
        return demand.read_csv(build.DEMAND_AREAS_CSV)

    def test_everyone_in_scotland_is_counted_once(self, areas: list[DemandArea]) -> None:
        # The census's total (SOURCES.md), and NRS's mid-2022 estimate for Scotland.
        assert sum(a.residents for a in areas) == 5_295_403
        assert sum(a.estimate for a in areas) == build.SCOTLAND_MID_2022 == 5_447_700
        assert sum(a.small_areas for a in areas) == 46_351

    def test_each_council_adds_up_to_its_residents(self, areas: list[DemandArea]) -> None:
        with build.COUNCIL_RESIDENTS_CSV.open(newline="") as f:
            residents = {r["council_gss"]: int(r["estimate_mid_2022"]) for r in csv.DictReader(f)}
        by_council: Counter[str] = Counter()
        for area in areas:
            by_council[area.council_gss] += area.estimate
        assert by_council == residents

    def test_every_listed_settlement_and_the_remote_countryside_are_there(
        self, areas: list[DemandArea]
    ) -> None:
        with build.SETTLEMENTS_CSV.open(newline="") as f:
            listed = [r for r in csv.DictReader(f) if r["kind"] == "settlement"]
        places = {a.place_key for a in areas if a.place_key is not None}
        # A listed place whose nearby people all live nearer another is not an area of its
        # own; nearly every one is.
        assert len(places) >= 0.95 * len(listed)
        rural = [a for a in areas if a.place_key is None]
        assert 1_000 < len(rural) < 2_000
        # Lochinver (58.15, -5.24) is in no list of 500+; its people are counted near it.
        near_lochinver = [
            a for a in rural if abs(a.latitude - 58.15) < 0.05 and abs(a.longitude + 5.24) < 0.09
        ]
        assert near_lochinver and all(a.council_gss == "S12000017" for a in near_lochinver)

    def test_names_are_unique_within_each_council(self, areas: list[DemandArea]) -> None:
        names: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for area in areas:
            names[area.council_gss][area.name] += 1
        assert all(count == 1 for council in names.values() for count in council.values())
        assert len({a.key for a in areas}) == len(areas)


def test_the_shipped_areas_are_a_fresh_build_of_the_census() -> None:
    if not (build.REFERENCE_DIR / "scotland_output_areas_2011.csv").exists():
        pytest.skip(f"the shared reference data is not beside the project ({build.REFERENCE_DIR})")
    fresh = demand.build_demand_areas(build.SETTLEMENTS_CSV.read_text())
    assert build.DEMAND_AREAS_CSV.read_text() == fresh, (
        "demand_areas.csv differs from a fresh build; run sds-market geography build"
    )
