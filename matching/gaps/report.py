"""The commissioner's figures for an area and a filter, ready for the pages, the CSV
exports and `sds-market gaps report`: per place, per urban-rural class and per council
area, with unmet demand counted from the anonymous records and small counts protected.

Counts of searches and posted needs are protected once for the whole of Scotland, over
every grouping any view shows (Scotland, council areas, 6- and 8-fold classes, and each
council area's classes), so that every view of the same filter hides the same figures
and no two views can be set against each other to work one out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from marketplace.geography import populations
from marketplace.geography.classify import (
    URBAN_RURAL_6_LABELS,
    URBAN_RURAL_8_LABELS,
    UrbanRural6,
    UrbanRural8,
)
from marketplace.suppression import Protected, protect, shown, shown_raw
from matching.gaps.catchments import Places
from matching.gaps.service import GapFigures, Measure
from matching.models import UnmetDemand, UnmetDemandSource, unmet_demand_term

PROTECTED_KEPT = 128
"""Protected tables kept per set of places (each kind, outcome and period has its own)."""
PERIODS: dict[int, str] = {
    30: "the last 30 days",
    91: "the last 3 months",
    365: "the last 12 months",
}
DEFAULT_PERIOD_DAYS = 91


@dataclass(frozen=True)
class GapFilter:
    kind_id: int | None = None
    outcome_id: int | None = None
    class6: UrbanRural6 | None = None
    period_days: int = DEFAULT_PERIOD_DAYS
    council_id: int | None = None
    """The area looked at; None is all of Scotland."""


@dataclass(frozen=True)
class Count:
    """A protected count of searches or needs."""

    value: int
    hidden: bool
    threshold: int

    def __str__(self) -> str:
        return shown(self.value, self.hidden, self.threshold)

    @property
    def raw(self) -> int | str:
        return shown_raw(self.value, self.hidden, self.threshold)


@dataclass(frozen=True)
class PlaceRow:
    position: int
    settlement_id: int
    name: str
    council: str
    class6: UrbanRural6
    class8: UrbanRural8
    population: int
    hours_per_1000: float
    providers: int
    unmet_searches: Count
    unmet_needs: Count

    @property
    def gap(self) -> bool:
        return self.providers == 0


@dataclass(frozen=True)
class GroupRow:
    """A group of places: a class, a council area, or the whole area looked at."""

    label: str
    places: int
    population: int
    hours_per_1000: float
    """Population-weighted: the hours reaching the group's places over its people."""
    places_without: int
    people_without: int
    """In places no offer of the filter's kind reaches."""
    unmet_searches: Count
    unmet_needs: Count

    @property
    def share_without(self) -> float:
        return self.people_without / self.population if self.population else 0.0


HIDDEN_GAPS_SHARE = 0.2
"""The share of an area's people with no offer in reach from which an average at or above
Scotland's is explained as an average (a fifth: the headlines would mislead)."""


@dataclass(frozen=True)
class GapReport:
    filter: GapFilter
    area: str
    kind: str
    """"personal care", or "any kind of support"."""
    outcome: str | None
    period: str
    since: date
    computed_at: datetime
    offers: int
    threshold: int
    headline: GroupRow
    """The area, or the area's places of the class chosen."""
    area_total: GroupRow
    scotland: GroupRow
    by_class6: list[GroupRow]
    by_class8: list[GroupRow]
    by_council: list[GroupRow]
    """Empty unless the area is all of Scotland."""
    places: list[PlaceRow]
    geography: Places
    """Where each place is (PlaceRow.position indexes it)."""
    area_residents: int
    """Everyone living in the area (marketplace.geography.populations), counted or not."""

    @property
    def counted_share(self) -> float:
        """The share of the area's people the figures count: all of them, as long as the
        demand areas and the residents come from the same build."""
        return self.area_total.population / self.area_residents if self.area_residents else 1.0

    @property
    def against_scotland(self) -> float | None:
        """The area's hours per 1,000 as a share of Scotland's."""
        return (
            self.headline.hours_per_1000 / self.scotland.hours_per_1000
            if self.scotland.hours_per_1000
            else None
        )

    @property
    def average_hides_gaps(self) -> bool:
        """Whether the area's hours per 1,000 (an average over all its people) are at least
        Scotland's while many of its people have no offer in reach: the two headlines then
        seem to disagree, and the page says why."""
        against = self.against_scotland
        return (
            against is not None
            and against >= 1
            and self.headline.share_without >= HIDDEN_GAPS_SHARE
            and self.filter.council_id is not None
        )


class Groupings:
    """Every grouping of places a view can show a total for, as lists of positions."""

    def __init__(self, places: Places) -> None:
        self.places = places
        keys: dict[tuple[object, ...], list[int]] = {("scotland",): list(range(len(places)))}
        for i in range(len(places)):
            council, c6, c8 = (
                int(places.council_ids[i]),
                int(places.class6[i]),
                int(places.class8[i]),
            )
            for key in (
                ("council", council),
                ("class6", c6),
                ("class8", c8),
                ("council_class6", council, c6),
                ("council_class8", council, c8),
            ):
                keys.setdefault(key, []).append(i)
        self.keys = list(keys)
        self.members = [keys[k] for k in self.keys]
        self.number = {key: k for k, key in enumerate(self.keys)}
        self._protected: OrderedDict[tuple[bytes, int], Protected] = OrderedDict()
        """Keyed by the counts and what the shorter periods showed."""
        self._lock = threading.Lock()

    def protect(
        self, counts: NDArray[np.int64], threshold: int, *, earlier: Sequence[ProtectedCounts] = ()
    ) -> ProtectedCounts:
        """Protected once for the same counts: until someone else's search finds nothing,
        every page shows the same ones."""
        key = (
            counts.tobytes()
            + b"".join(
                e.counts.tobytes() + e.protected.cells.tobytes() + e.protected.groups.tobytes()
                for e in earlier
            ),
            threshold,
        )
        with self._lock:
            protected = self._protected.get(key)
            if protected is not None:
                self._protected.move_to_end(key)
        if protected is None:
            protected = protect(
                counts, self.members, threshold=threshold, earlier=[e.protected for e in earlier]
            )
            with self._lock:
                self._protected[key] = protected
                while len(self._protected) > PROTECTED_KEPT:
                    self._protected.popitem(last=False)
        return ProtectedCounts(self, protected, counts, threshold)


@dataclass(frozen=True)
class ProtectedCounts:
    groupings: Groupings
    protected: Protected
    counts: NDArray[np.int64]
    threshold: int

    def cell(self, position: int) -> Count:
        return Count(
            int(self.counts[position]), bool(self.protected.cells[position]), self.threshold
        )

    def group(self, *key: object) -> Count:
        k = self.groupings.number.get(key)
        if k is None:
            return Count(0, False, self.threshold)
        return Count(int(self.protected.totals[k]), bool(self.protected.groups[k]), self.threshold)


def groupings_of(figures: GapFigures) -> Groupings:
    """Built once per figures: the places never change between them, but cheaply enough."""
    groupings = figures.derived.get("groupings")
    if not isinstance(groupings, Groupings):
        groupings = figures.derived["groupings"] = Groupings(figures.places)
    return groupings


def unmet_counts(
    session: Session, places: Places, *, since: date, kind_id: int | None, outcome_id: int | None
) -> dict[UnmetDemandSource, NDArray[np.int64]]:
    """Searches and posted needs that found nothing since `since`, per place (all of
    Scotland), for a kind of support and an outcome (None: any)."""
    query = select(UnmetDemand.settlement_id, UnmetDemand.source, func.count()).where(
        UnmetDemand.recorded_on >= since
    )
    for term_id in (kind_id, outcome_id):
        if term_id is not None:
            query = query.where(
                exists().where(
                    unmet_demand_term.c.unmet_demand_id == UnmetDemand.id,
                    unmet_demand_term.c.term_id == term_id,
                )
            )
    counts = {source: np.zeros(len(places), dtype=np.int64) for source in UnmetDemandSource}
    position = places.position()
    for settlement_id, source, count in session.execute(
        query.group_by(UnmetDemand.settlement_id, UnmetDemand.source)
    ):
        if settlement_id in position:
            counts[UnmetDemandSource(source)][position[settlement_id]] += count
    return counts


@dataclass(frozen=True)
class Unmet:
    searches: ProtectedCounts
    needs: ProtectedCounts


class UnmetViews:
    """The unmet counts of every view a page shows, each protected together with every
    other view whose searches contain these or are contained in them: shorter periods, and
    any kind or any outcome instead of the one chosen (see suppression.protect's
    `earlier`). Each view's protection depends only on views wider or shorter than it,
    worked out first, so every page showing it hides the same figures, and no two of these
    views set against each other tell a small count. One per request: the views a page
    shows share their wider ones."""

    def __init__(
        self, session: Session, figures: GapFigures, *, today: date, threshold: int
    ) -> None:
        self.session, self.figures, self.today, self.threshold = session, figures, today, threshold
        self.groupings = groupings_of(figures)
        self._done: dict[
            tuple[int | None, int | None, int], dict[UnmetDemandSource, ProtectedCounts]
        ] = {}

    def of(self, flt: GapFilter) -> Unmet:
        views = self._protected(flt.kind_id, flt.outcome_id, flt.period_days)
        return Unmet(
            searches=views[UnmetDemandSource.SEARCH], needs=views[UnmetDemandSource.POSTED_NEED]
        )

    def _protected(
        self, kind_id: int | None, outcome_id: int | None, days: int
    ) -> dict[UnmetDemandSource, ProtectedCounts]:
        key = (kind_id, outcome_id, days)
        if key not in self._done:
            earlier = [
                self._protected(k, o, d)
                for k, o in _wider(kind_id, outcome_id)
                for d in PERIODS
                if d >= days
            ]
            earlier += [self._protected(kind_id, outcome_id, d) for d in PERIODS if d < days]
            counts = unmet_counts(
                self.session,
                self.figures.places,
                since=self.today - timedelta(days=days - 1),
                kind_id=kind_id,
                outcome_id=outcome_id,
            )
            self._done[key] = {
                source: self.groupings.protect(
                    counts[source], self.threshold, earlier=[views[source] for views in earlier]
                )
                for source in UnmetDemandSource
            }
        return self._done[key]


def protected_unmet(
    session: Session, figures: GapFigures, flt: GapFilter, *, today: date, threshold: int
) -> Unmet:
    """One view's protected unmet counts (see UnmetViews)."""
    return UnmetViews(session, figures, today=today, threshold=threshold).of(flt)


def _wider(kind_id: int | None, outcome_id: int | None) -> list[tuple[int | None, int | None]]:
    """The filters whose searches include every search this one counts, widest first."""
    wider: list[tuple[int | None, int | None]] = []
    if kind_id is not None or outcome_id is not None:
        wider.append((None, None))
    if kind_id is not None and outcome_id is not None:
        wider += [(kind_id, None), (None, outcome_id)]
    return wider


def since_of(flt: GapFilter, today: date) -> date:
    return today - timedelta(days=flt.period_days - 1)


def _group_row(
    label: str,
    members: NDArray[np.int64],
    places: Places,
    measure: Measure,
    unmet: Unmet,
    key: tuple[object, ...],
) -> GroupRow:
    population = places.population[members]
    people = float(population.sum())
    without = members[measure.providers[members] == 0]
    return GroupRow(
        label=label,
        places=int(members.size),
        population=int(people),
        hours_per_1000=float((measure.hours_per_1000[members] * population).sum() / people)
        if people
        else 0.0,
        places_without=int(without.size),
        people_without=int(places.population[without].sum()),
        unmet_searches=unmet.searches.group(*key),
        unmet_needs=unmet.needs.group(*key),
    )


def build_report(
    session: Session, figures: GapFigures, flt: GapFilter, *, today: date, threshold: int
) -> GapReport:
    places = figures.places
    measure = figures.measure(kind_id=flt.kind_id, outcome_id=flt.outcome_id)
    unmet = protected_unmet(session, figures, flt, today=today, threshold=threshold)
    everywhere = np.arange(len(places))
    in_area = (
        everywhere
        if flt.council_id is None
        else np.flatnonzero(places.council_ids == flt.council_id)
    )
    area_key: tuple[object, ...] = (
        ("scotland",) if flt.council_id is None else ("council", flt.council_id)
    )
    area = "Scotland" if flt.council_id is None else places.council_names[flt.council_id]

    def classes(
        fold: str, labels: dict[UrbanRural6, str] | dict[UrbanRural8, str], column: NDArray[np.int8]
    ) -> list[GroupRow]:
        rows = []
        for value, label in labels.items():
            members = in_area[column[in_area] == int(value)]
            if members.size:
                key = (
                    (fold, int(value))
                    if flt.council_id is None
                    else (f"council_{fold}", flt.council_id, int(value))
                )
                rows.append(_group_row(label, members, places, measure, unmet, key))
        return rows

    shown_places = (
        in_area if flt.class6 is None else in_area[places.class6[in_area] == int(flt.class6)]
    )
    area_total = _group_row(area, in_area, places, measure, unmet, area_key)
    if flt.class6 is None:
        headline = area_total
    else:
        key = (
            ("class6", int(flt.class6))
            if flt.council_id is None
            else ("council_class6", flt.council_id, int(flt.class6))
        )
        headline = _group_row(
            f"{area}: {flt.class6.label.lower()}s", shown_places, places, measure, unmet, key
        )
    by_council = []
    if flt.council_id is None:
        for council_id, name in sorted(places.council_names.items(), key=lambda item: item[1]):
            members = np.flatnonzero(places.council_ids == council_id)
            if members.size:
                by_council.append(
                    _group_row(name, members, places, measure, unmet, ("council", council_id))
                )
    rows = [
        PlaceRow(
            position=int(i),
            settlement_id=int(places.ids[i]),
            name=places.labels[i],
            council=places.council_names[int(places.council_ids[i])],
            class6=UrbanRural6(int(places.class6[i])),
            class8=UrbanRural8(int(places.class8[i])),
            population=int(places.population[i]),
            hours_per_1000=float(measure.hours_per_1000[i]),
            providers=int(measure.providers[i]),
            unmet_searches=unmet.searches.cell(int(i)),
            unmet_needs=unmet.needs.cell(int(i)),
        )
        for i in shown_places
    ]
    # Gaps first (a place reached only by full offers has 0 hours but is no gap), then
    # the fewest hours, then the most people.
    rows.sort(key=lambda row: (not row.gap, row.hours_per_1000, -row.population, row.name))
    return GapReport(
        filter=flt,
        area=area,
        kind=figures.term_names[flt.kind_id].lower()
        if flt.kind_id is not None
        else "any kind of support",
        outcome=figures.term_names[flt.outcome_id].lower() if flt.outcome_id is not None else None,
        period=PERIODS[flt.period_days],
        since=since_of(flt, today),
        computed_at=figures.computed_at,
        offers=figures.offers,
        threshold=threshold,
        headline=headline,
        area_total=area_total,
        scotland=_group_row("Scotland", everywhere, places, measure, unmet, ("scotland",)),
        by_class6=classes("class6", URBAN_RURAL_6_LABELS, places.class6),
        by_class8=classes("class8", URBAN_RURAL_8_LABELS, places.class8),
        by_council=by_council,
        places=rows,
        geography=places,
        area_residents=populations.residents(session, flt.council_id),
    )
