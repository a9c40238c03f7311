"""The commissioner pages' tables (marketplace.tables), built once for the page and its
CSV downloads alike."""

from __future__ import annotations

from collections.abc import Callable

from marketplace.tables import Cell, Column, Table
from matching.gaps.report import Count, GapReport, GroupRow

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
        Column(f"Searches that found nothing ({report.period})", numeric=True, key="unmet_searches"),
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
    )


def _group_table(name: str, caption: str, first: str, groups: list[GroupRow], report: GapReport, *, with_total: bool) -> Table:
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
    return _group_table("councils", f"Scotland by council area: {report.kind}", "Council area", report.by_council, report, with_total=True)


def report_tables(report: GapReport, *, place_href: Callable[[int], str] | None = None) -> list[Table]:
    tables = [class_table(report, fold=6), class_table(report, fold=8)]
    if report.by_council:
        tables.append(council_table(report))
    tables.append(places_table(report, place_href=place_href))
    return tables
