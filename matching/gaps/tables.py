"""The commissioner pages' tables (marketplace.tables), built once for the page and its
CSV downloads alike."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from marketplace.geography.classify import UrbanRural6
from marketplace.tables import Cell, Column, Table
from matching.gaps.catchments import Places
from matching.gaps.report import Count, GapReport, GroupRow
from matching.gaps.sites import Suggestion

HOURS = Column("Hours a week per 1,000 residents", numeric=True, key="accessibility_hours_per_1000")


def hours_cell(hours: float) -> Cell:
    return Cell(f"{hours:,.1f}", round(hours, 3))


def number_cell(value: int) -> Cell:
    return Cell(f"{value:,}", value)


def count_cell(count: Count) -> Cell:
    return Cell(str(count), count.raw)


def share_cell(share: float | None) -> Cell:
    if share is None:
        return Cell("", "")
    return Cell(f"{share:.0%}", round(share, 4))


def _unmet_columns(report: GapReport) -> list[Column]:
    return [
        Column(
            f"Searches that found nothing ({report.period})", numeric=True, key="unmet_searches"
        ),
        Column(f"Posted needs nobody answered ({report.period})", numeric=True, key="unmet_needs"),
    ]


def places_table(report: GapReport, *, place_href: Callable[[int], str] | None = None) -> Table:
    columns = [
        Column("Place", key="place"),
        Column("Council area", key="council"),
        Column("Urban-rural class (6-fold)", key="urban_rural_6"),
        Column("Urban-rural class (8-fold)", key="urban_rural_8"),
        Column("Population", numeric=True, key="population"),
        HOURS,
        Column("Providers in reach", numeric=True, key="providers_in_reach"),
        *_unmet_columns(report),
    ]
    rows = [
        (
            Cell(row.name, href=place_href(row.settlement_id) if place_href else None),
            Cell(row.council),
            Cell(row.class6.label),
            Cell(row.class8.label),
            number_cell(row.population),
            hours_cell(row.hours_per_1000),
            number_cell(row.providers),
            count_cell(row.unmet_searches),
            count_cell(row.unmet_needs),
        )
        for row in report.places
    ]
    where = report.headline.label
    return Table(
        name="places",
        caption=f"Places in {where}: {report.kind}, fewest hours first",
        columns=columns,
        rows=rows,
        shown_rows=PLACES_SHOWN,
    )


def _group_table(
    name: str,
    caption: str,
    first: str,
    groups: list[GroupRow],
    report: GapReport,
    *,
    with_total: bool,
) -> Table:
    columns = [
        Column(first, key=name),
        Column("Places", numeric=True, key="places"),
        Column("Population", numeric=True, key="population"),
        HOURS,
        Column("Against Scotland", numeric=True, key="against_scotland"),
        Column("People with no offer in reach", numeric=True, key="people_without"),
        Column("Share of people with none", numeric=True, key="share_without"),
        *_unmet_columns(report),
    ]
    scotland = report.scotland.hours_per_1000

    def row(group: GroupRow) -> tuple[Cell, ...]:
        return (
            Cell(group.label),
            number_cell(group.places),
            number_cell(group.population),
            hours_cell(group.hours_per_1000),
            share_cell(group.hours_per_1000 / scotland if scotland else None),
            number_cell(group.people_without),
            share_cell(group.share_without),
            count_cell(group.unmet_searches),
            count_cell(group.unmet_needs),
        )

    rows = [row(group) for group in groups]
    if with_total:
        rows.append(row(report.area_total))
    return Table(name=name, caption=caption, columns=columns, rows=rows)


PLACES_SHOWN = 400
"""Places drawn in a page's table, those with least support first: every place of a
council (Highland has the most, 310), and of Scotland's 1,970 the 400 with least, where a
page of them all weighed 1.4 MB. Each place's page is linked from the map too, and the
download lists them all."""


def class_table(report: GapReport, *, fold: int) -> Table:
    groups = report.by_class6 if fold == 6 else report.by_class8
    return _group_table(
        f"urban-rural-{fold}",
        f"{report.area} by {fold}-fold urban-rural class: {report.kind}",
        f"Urban-rural class ({fold}-fold)",
        groups,
        report,
        with_total=True,
    )


def council_table(report: GapReport) -> Table:
    return _group_table(
        "councils",
        f"Scotland by council area: {report.kind}",
        "Council area",
        report.by_council,
        report,
        with_total=True,
    )


def report_tables(
    report: GapReport, *, place_href: Callable[[int], str] | None = None
) -> list[Table]:
    tables = [class_table(report, fold=6), class_table(report, fold=8)]
    if report.by_council:
        tables.append(council_table(report))
    tables.append(places_table(report, place_href=place_href))
    return tables


def sites_table(places: Places, suggestion: Suggestion, *, kind: str) -> Table:
    rows = []
    for rank, site in enumerate(suggestion.sites, start=1):
        names = [places.labels[p] for p in site.places_gained]
        reached = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        rows.append(
            (
                Cell(str(rank), rank),
                Cell(places.labels[site.place]),
                Cell(places.council_names[int(places.council_ids[site.place])]),
                Cell(UrbanRural6(int(places.class6[site.place])).label),
                number_cell(site.people_gained),
                Cell(reached, "; ".join(names)),
            )
        )
    return Table(
        name="sites",
        caption=f"Suggested bases for new providers of {kind}",
        columns=[
            Column("Order", numeric=True, key="order"),
            Column("Base the provider in", key="place"),
            Column("Council area", key="council"),
            Column("Urban-rural class (6-fold)", key="urban_rural_6"),
            Column("People newly in reach", numeric=True, key="people_gained"),
            Column("Places brought into reach", key="places_gained"),
        ],
        rows=rows,
    )


def before_after_table(
    places: Places,
    area: NDArray[np.int64],
    *,
    before: NDArray[np.float64],
    after: NDArray[np.float64],
    providers: NDArray[np.int64],
    suggestion: Suggestion,
    area_name: str,
    kind: str,
) -> Table:
    newly = np.zeros(len(places), dtype=np.bool_)
    for site in suggestion.sites:
        newly[list(site.places_gained)] = True
    rows = []
    for c in UrbanRural6:
        members = area[places.class6[area] == int(c)]
        if not members.size:
            continue
        people = places.population[members]
        without = providers[members] == 0
        rows.append(
            (
                Cell(c.label),
                number_cell(int(people[without].sum())),
                number_cell(int(people[without & ~newly[members]].sum())),
                hours_cell(float((before[members] * people).sum() / people.sum())),
                hours_cell(float((after[members] * people).sum() / people.sum())),
            )
        )
    return Table(
        name="before-after",
        caption=f"{area_name} by urban-rural class: {kind} now and with the new providers",
        columns=[
            Column("Urban-rural class (6-fold)", key="urban_rural_6"),
            Column("People with no offer in reach now", numeric=True, key="people_without_now"),
            Column("With the new providers", numeric=True, key="people_without_after"),
            Column("Hours a week per 1,000 residents now", numeric=True, key="hours_per_1000_now"),
            Column("With the new providers", numeric=True, key="hours_per_1000_after"),
        ],
        rows=rows,
    )
