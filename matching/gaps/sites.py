"""Where new providers would close the most gap: for one kind of support, k new providers
each travelling up to a stated radius, the k settlements to base them in that bring the
most people now out of reach of that kind into reach (the maximal covering location
problem, Church and ReVelle 1974).

Method: greedy. Each round takes the site that adds the most people not yet reached by
the sites already chosen. Coverage is submodular, so greedy is never worse than
1 - 1/e (63 %) of the best possible choice (Nemhauser, Wolsey and Fisher 1978); and each
answer states its own, usually much smaller, gap against an upper bound on the best:
after any round i, the best k sites cannot reach more than the people reached after i
rounds plus the k largest gains any single further site could add (Minoux's bound). The
smallest such bound over the rounds is reported with the answer, so "at least 97 % of the
best possible" is a proven figure for that run, not a hope.

Clients are the settlements in the area with no offer of the kind in reach, weighted by
their population; candidates are the area's settlements. A site reaches a settlement
within the radius by the matcher's own rule (the geodesic decides at the edge)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.gaps.catchments import Places, radius_pairs
from matching.gaps.service import DECAY, PER_RESIDENTS, Decay, e2sfca


@dataclass(frozen=True)
class Site:
    place: int
    """Position in Places."""
    people_gained: int
    """People newly in reach, beyond those the sites chosen before it reach."""
    places_gained: tuple[int, ...]
    """The settlements it brings into reach (positions), biggest first."""


@dataclass(frozen=True)
class Suggestion:
    sites: tuple[Site, ...]
    people_unreached: int
    """People in the area with no offer of the kind in reach before any new provider."""
    people_gained: int
    best_possible_at_most: int
    """A proven upper bound on what any `count` sites could gain."""
    radius_km: float
    count: int

    @property
    def share_of_best(self) -> float:
        """The gain as a share of the upper bound: at least this close to the best."""
        return (
            1.0
            if self.best_possible_at_most == 0
            else self.people_gained / self.best_possible_at_most
        )


def coverage(
    places: Places, candidates: NDArray[np.int64], clients: NDArray[np.int64], radius_km: float
) -> NDArray[np.bool_]:
    """(candidate, client) -> whether a provider based at the candidate reaches the client."""
    reach = np.zeros((candidates.size, clients.size), dtype=np.bool_)
    if candidates.size == 0 or clients.size == 0:
        return reach
    circle, client, _ = radius_pairs(
        places.lat[clients],
        places.lon[clients],
        places.lat[candidates],
        places.lon[candidates],
        np.full(candidates.size, float(radius_km)),
    )
    reach[circle, client] = True
    return reach


def suggest_sites(
    places: Places,
    *,
    candidates: NDArray[np.int64],
    clients: NDArray[np.int64],
    radius_km: float,
    count: int,
) -> Suggestion:
    """The greedy choice of `count` sites among `candidates` for the unreached `clients`."""
    weights = places.population[clients]
    reach = coverage(places, candidates, clients, radius_km)
    uncovered = np.ones(clients.size, dtype=np.bool_)
    gained_total = 0.0
    bound = float(weights.sum())
    sites: list[Site] = []
    for _ in range(count):
        gains = reach @ (weights * uncovered)
        top = np.sort(gains)[::-1][:count]
        bound = min(bound, gained_total + float(top.sum()))
        best = int(np.argmax(gains)) if gains.size else -1
        if best < 0 or gains[best] <= 0:
            break
        newly = np.flatnonzero(reach[best] & uncovered)
        uncovered[newly] = False
        gained_total += float(gains[best])
        order = newly[np.argsort(-weights[newly], kind="stable")]
        sites.append(
            Site(
                place=int(candidates[best]),
                people_gained=round(float(gains[best])),
                places_gained=tuple(int(clients[i]) for i in order),
            )
        )
    if sites:
        gains = reach @ (weights * uncovered)
        bound = min(bound, gained_total + float(np.sort(gains)[::-1][:count].sum()))
    return Suggestion(
        sites=tuple(sites),
        people_unreached=round(float(weights.sum())),
        people_gained=round(gained_total),
        best_possible_at_most=round(max(bound, gained_total)),
        radius_km=radius_km,
        count=count,
    )


def hours_after(
    places: Places,
    hours_per_1000: NDArray[np.float64],
    sites: tuple[Site, ...],
    *,
    radius_km: float,
    weekly_hours: float,
    decay: Decay = DECAY,
) -> NDArray[np.float64]:
    """Every place's hours a week per 1,000 residents once a provider with `weekly_hours`
    free, travelling `radius_km`, works from each site. The offers already there keep
    their shares (step 1 of E2SFCA does not depend on other offers), so the new ones'
    shares are simply added."""
    at = np.array([site.place for site in sites], dtype=np.int64)
    circle, place, km = radius_pairs(
        places.lat, places.lon, places.lat[at], places.lon[at], np.full(at.size, float(radius_km))
    )
    added = e2sfca(
        place=place,
        offer=circle,
        weight=decay.weight(km),
        population=places.population,
        capacity=np.full(at.size, float(weekly_hours)),
    )
    return hours_per_1000 + added * PER_RESIDENTS
