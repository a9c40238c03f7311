"""Site suggestions: the greedy choice, checked against every possible choice on small
areas, and the bound it states is never below the true best."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.gaps.catchments import Places
from matching.gaps.sites import coverage, hours_after, suggest_sites


def places_at(points: list[tuple[float, float, int]]) -> Places:
    n = len(points)
    return Places(
        ids=np.arange(1, n + 1, dtype=np.int64),
        names=tuple(f"Place {i}" for i in range(n)),
        labels=tuple(f"Place {i}" for i in range(n)),
        council_ids=np.ones(n, dtype=np.int64),
        council_names={1: "Highland"},
        class8=np.full(n, 8, dtype=np.int8),
        class6=np.full(n, 6, dtype=np.int8),
        population=np.array([p for _, _, p in points], dtype=np.float64),
        lat=np.array([lat for lat, _, _ in points]),
        lon=np.array([lon for _, lon, _ in points]),
    )


def best_possible(places: Places, clients: np.ndarray, radius_km: float, count: int) -> int:
    reach = coverage(places, np.arange(len(places)), clients, radius_km)
    weights = places.population[clients]
    best = 0.0
    for chosen in combinations(range(len(places)), min(count, len(places))):
        best = max(best, float(weights[reach[list(chosen)].any(axis=0)].sum()))
    return round(best)


def test_three_villages_in_a_line_are_served_from_the_middle_one() -> None:
    # West, middle and east about 15 km apart along 58°N: a 20 km radius from the middle
    # reaches all three; from either end only two.
    places = places_at([(58.0, -5.255, 600), (58.0, -5.0, 500), (58.0, -4.745, 700)])
    suggestion = suggest_sites(
        places, candidates=np.arange(3), clients=np.arange(3), radius_km=20, count=1
    )
    assert [site.place for site in suggestion.sites] == [1]
    assert suggestion.people_gained == 1800 == suggestion.people_unreached
    assert sorted(suggestion.sites[0].places_gained) == [0, 1, 2]
    assert suggestion.sites[0].places_gained[0] == 2, "biggest first"


def test_each_further_site_counts_only_the_people_it_newly_reaches() -> None:
    places = places_at([(57.0, -5.0, 1000), (57.05, -5.0, 800), (58.5, -4.0, 300)])
    suggestion = suggest_sites(
        places, candidates=np.arange(3), clients=np.arange(3), radius_km=10, count=3
    )
    assert [s.people_gained for s in suggestion.sites] == [1800, 300]
    assert suggestion.people_gained == 2100
    assert len(suggestion.sites) == 2, "a third site would reach nobody new"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(57.0, 57.6), st.floats(-5.6, -4.6), st.integers(500, 5000)),
        min_size=2,
        max_size=8,
    ),
    st.integers(1, 3),
    st.sampled_from([8.0, 15.0, 25.0]),
)
def test_greedy_is_within_its_stated_bound_of_the_best_choice(
    points: list[tuple[float, float, int]], count: int, radius_km: float
) -> None:
    places = places_at(points)
    clients = np.arange(len(places))
    suggestion = suggest_sites(
        places, candidates=clients, clients=clients, radius_km=radius_km, count=count
    )
    best = best_possible(places, clients, radius_km, count)
    assert suggestion.people_gained <= best <= suggestion.best_possible_at_most
    assert suggestion.people_gained >= (1 - 1 / np.e) * best - 1e-6


def test_new_providers_add_exactly_their_hours_to_the_people_they_reach() -> None:
    # E2SFCA shares each new provider's hours out in full among the people it reaches:
    # summed over places, people times the added hours per person is the hours added.
    places = places_at([(57.0, -5.0, 1000), (57.1, -5.0, 3000), (58.5, -4.0, 300)])
    before = np.array([0.0, 1.5, 0.0])
    suggestion = suggest_sites(
        places, candidates=np.arange(3), clients=np.array([0, 2]), radius_km=15, count=2
    )
    after = hours_after(places, before, suggestion.sites, radius_km=15, weekly_hours=30)
    added_hours = ((after - before) / 1000 * places.population).sum()
    assert abs(added_hours - 30 * len(suggestion.sites)) < 1e-9
    assert after[2] > 0 and after[1] > before[1]
