"""The urban-rural estimate, on small made-up maps where the answer follows from the rules."""

from __future__ import annotations

import math

import pytest

from marketplace.geography.classify import (
    DETOUR_FACTOR,
    DRIVE_SPEED_KMH,
    Place,
    UrbanRural6,
    UrbanRural8,
    classify,
    drive_minutes,
)
from marketplace.geography.distance import EARTH_RADIUS_KM, haversine_km

KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180


def north_of(origin: Place, km: float, key: int, population: int, island: str = "") -> Place:
    """A place `km` due north of `origin` (a meridian is a great circle, so this is exact)."""
    return Place(
        key, origin.latitude + km / KM_PER_DEGREE_LATITUDE, origin.longitude, population, island
    )


CITY = Place(1, 56.0, -4.0, 200_000)
TOWN = Place(2, 57.5, -4.0, 20_000)


def km_for_minutes(minutes: float) -> float:
    return minutes / 60 * DRIVE_SPEED_KMH / DETOUR_FACTOR


class TestDriveMinutes:
    def test_straight_line_times_detour_over_speed(self) -> None:
        assert drive_minutes(60) == pytest.approx(60 * DETOUR_FACTOR / DRIVE_SPEED_KMH * 60)
        assert km_for_minutes(30) == pytest.approx(19.35, abs=0.01)

    def test_haversine_along_a_meridian(self) -> None:
        assert haversine_km(56, -4, 57, -4) == pytest.approx(KM_PER_DEGREE_LATITUDE)


class TestBySize:
    def test_cities_and_towns_by_population_alone(self) -> None:
        result = classify([CITY, TOWN])
        assert result[1].urban_rural_8 == UrbanRural8.LARGE_URBAN
        assert result[2].urban_rural_8 == UrbanRural8.OTHER_URBAN

    def test_a_big_place_is_urban_however_far_away(self) -> None:
        far = north_of(TOWN, 300, 3, 12_000)
        assert classify([CITY, TOWN, far])[3].urban_rural_8 == UrbanRural8.OTHER_URBAN


class TestByDriveTime:
    @pytest.mark.parametrize(
        ("minutes", "population", "expected"),
        [
            (29, 5_000, UrbanRural8.ACCESSIBLE_SMALL_TOWN),
            (31, 5_000, UrbanRural8.REMOTE_SMALL_TOWN),
            (61, 5_000, UrbanRural8.VERY_REMOTE_SMALL_TOWN),
            (29, 800, UrbanRural8.ACCESSIBLE_RURAL),
            (59, 800, UrbanRural8.REMOTE_RURAL),
            (61, 800, UrbanRural8.VERY_REMOTE_RURAL),
        ],
    )
    def test_minutes_from_the_nearest_urban_settlement(
        self, minutes: float, population: int, expected: UrbanRural8
    ) -> None:
        place = north_of(TOWN, km_for_minutes(minutes), 3, population)
        measured = classify([CITY, TOWN, place])[3]
        assert measured.nearest_urban_key == TOWN.key
        assert measured.drive_minutes == pytest.approx(minutes, abs=0.01)
        assert measured.urban_rural_8 == expected

    def test_a_town_across_the_border_counts_as_an_origin(self) -> None:
        village = north_of(CITY, 200, 3, 800)
        carlisle = north_of(village, km_for_minutes(20), 99, 78_000)
        assert (
            classify([CITY, village], outside_origins=[carlisle])[3].urban_rural_8
            == UrbanRural8.ACCESSIBLE_RURAL
        )


class TestIslands:
    def test_an_island_village_near_a_mainland_town_is_still_remote(self) -> None:
        island_village = north_of(TOWN, km_for_minutes(10), 3, 800, island="Bute")
        assert classify([CITY, TOWN, island_village])[3].urban_rural_8 == UrbanRural8.REMOTE_RURAL

    def test_far_islands_are_very_remote(self) -> None:
        island_town = north_of(TOWN, km_for_minutes(90), 3, 7_000, island="Lewis")
        assert (
            classify([CITY, TOWN, island_town])[3].urban_rural_8
            == UrbanRural8.VERY_REMOTE_SMALL_TOWN
        )

    def test_an_island_entry_is_rural_and_never_an_origin(self) -> None:
        island = Place(
            3, TOWN.latitude + 1, TOWN.longitude, 18_500, island="Lewis", is_settlement=False
        )
        village = north_of(island, 1, 4, 600, island="Lewis")
        result = classify([CITY, TOWN, island, village])
        assert result[3].urban_rural_8 == UrbanRural8.VERY_REMOTE_RURAL
        assert result[4].nearest_urban_key == TOWN.key


def test_six_fold_merges_remote_and_very_remote() -> None:
    assert UrbanRural8.VERY_REMOTE_SMALL_TOWN.six_fold == UrbanRural6.REMOTE_SMALL_TOWN
    assert UrbanRural8.VERY_REMOTE_RURAL.six_fold == UrbanRural6.REMOTE_RURAL
    assert UrbanRural8.ACCESSIBLE_RURAL.six_fold == UrbanRural6.ACCESSIBLE_RURAL
    assert [c.six_fold for c in UrbanRural8][:3] == [UrbanRural6(1), UrbanRural6(2), UrbanRural6(3)]
