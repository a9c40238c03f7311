"""The public transparency page on change of use: per council and quarter, how many requests
were decided, how fast, how many on time and how many approved. No sign-in; aggregates
only. The same address downloads the table as CSV (?table=decisions&format=csv)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.changes import transparency
from contracts.changes.rules import DEFAULT_RULES
from contracts.changes.transparency import FigureRow, hidden_text
from marketplace.accounts.policy import Public
from marketplace.deps import AppSettings, DbSession
from marketplace.errors import FieldError
from marketplace.forms import FormPage
from marketplace.tables import Cell, Column, Table, csv_if_asked

router = APIRouter(include_in_schema=False)
PATH = "/transparency/change-of-use"
page = FormPage("contracts/changes/transparency.html", block="figures")


@router.get(PATH, dependencies=[Public])
def change_of_use(request: Request, db: DbSession, settings: AppSettings) -> Response:
    figures = transparency.change_of_use_figures(
        db, threshold=settings.matching.small_number_threshold
    )
    asked = request.query_params.get("council", "").strip()
    names = dict(figures.councils)
    council_id = int(asked) if asked.isascii() and asked.isdecimal() and len(asked) < 10 else None
    context: dict[str, Any] = {
        "councils": [(str(key), name) for key, name in figures.councils],
        "threshold": figures.threshold,
        "rules": DEFAULT_RULES,
        "path": PATH,
    }
    if asked and council_id not in names:
        return page.render(
            request,
            values={"council": asked},
            errors=[FieldError("council", "Choose a council area from the list")],
            status_code=422,
            table=None,
            **context,
        )
    table = decisions_table(
        figures.for_council(council_id), names.get(council_id) if council_id else None
    )
    exported = csv_if_asked(request, [table], "change-of-use")
    if exported is not None:
        return exported
    query = f"council={council_id}&" if council_id else ""
    return page.render(
        request,
        values={"council": asked},
        table=table,
        csv_href=f"{PATH}?{query}table={table.name}&format=csv",
        **context,
    )


COLUMNS = (
    Column("Council area", key="council_area"),
    Column("Quarter", key="quarter"),
    Column("Financial year and quarter", key="financial_quarter"),
    Column("Route", key="route"),
    Column("Requests decided", numeric=True, key="decided"),
    Column("Median working days to a decision", numeric=True, key="median_working_days"),
    Column("Decided on time", numeric=True, key="on_time_percent"),
    Column("Approved", numeric=True, key="approved_percent"),
)


def decisions_table(rows: list[FigureRow], council: str | None) -> Table:
    """The figures as the page shows them and the CSV gives them: percentages and days as
    numbers in the CSV, with the words a hidden figure is shown as."""
    where = council or "every council area"
    return Table(
        name="decisions",
        caption=f"Change-of-use decisions by quarter and route, {where}",
        columns=COLUMNS,
        header_column=False,
        rows=[
            (
                Cell(row.council),
                Cell(row.quarter.label),
                Cell(row.quarter.key),
                Cell(row.route_label),
                Cell(row.decided_text, row.decided_raw),
                _days(row),
                _percent(row, row.on_time_share),
                _percent(row, row.approved_share),
            )
            for row in rows
        ],
    )


def _days(row: FigureRow) -> Cell:
    if row.median_working_days is None:
        return Cell(hidden_text(row))
    days = row.median_working_days
    text = f"{days:g}"
    return Cell(text, int(days) if days.is_integer() else days)


def _percent(row: FigureRow, share: float | None) -> Cell:
    if share is None:
        return Cell(hidden_text(row))
    percent = round(share * 100)
    return Cell(f"{percent}%", percent)
