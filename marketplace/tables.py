"""Tables of figures that a page shows and that download as CSV from the same address, so
the two can never disagree: a page builds each table once, the template's `figures`
macro draws it, and `csv_response` writes it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from marketplace.errors import NotFound

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these runs as a formula in a spreadsheet (CSV injection)."""


NUMERIC_FROM_MOST = 6
"""app.css has .app-figures--numeric-from-2 to -6."""


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False
    key: str = ""
    """The field name in machine-readable exports; the label, folded, when not given."""

    @property
    def name(self) -> str:
        return self.key or re.sub(r"[^a-z0-9]+", "_", self.label.lower()).strip("_")


@dataclass(frozen=True)
class Cell:
    text: str
    """As the page shows it."""
    value: object = None
    """As exports give it (a number, or the words a hidden count is shown as); the text
    when None."""
    href: str | None = None

    @property
    def exported(self) -> object:
        return self.text if self.value is None else self.value


@dataclass(frozen=True)
class Table:
    name: str
    """Unique on its page: ?table=<name>&format=csv downloads it."""
    caption: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]] = ()
    header_column: bool = True
    """The first column names the row (a th with scope=row)."""
    shown_rows: int | None = None
    """At most this many rows are drawn on the page; the download has them all."""

    @property
    def numeric_from(self) -> int | None:
        """The first numeric column (counting from 1) when every column after it is numeric
        too: the page then aligns them by one class on the table, not one on each cell (a
        council's 310 places would carry 1,550 of them)."""
        flags = [column.numeric for column in self.columns]
        if True not in flags:
            return None
        first = flags.index(True)
        return first + 1 if all(flags[first:]) and 2 <= first + 1 <= NUMERIC_FROM_MOST else None

    @property
    def rows_shown(self) -> Sequence[Sequence[Cell]]:
        return self.rows if self.shown_rows is None else self.rows[: self.shown_rows]

    @property
    def rows_left_out(self) -> int:
        return len(self.rows) - len(self.rows_shown)

    def records(self) -> list[dict[str, object]]:
        names = [column.name for column in self.columns]
        return [dict(zip(names, (cell.exported for cell in row), strict=True)) for row in self.rows]


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow([safe_cell(cell.exported) for cell in row])
    return buffer.getvalue()


def csv_response(table: Table, *, filename: str) -> Response:
    return Response(
        csv_text(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def find_table(tables: Sequence[Table], name: str) -> Table | None:
    return next((table for table in tables if table.name == name), None)


def csv_if_asked(request: Request, tables: Sequence[Table], filename: str) -> Response | None:
    """The table the address asks for (?table=NAME&format=csv) as CSV, or None when it
    asks for the page."""
    if request.query_params.get("format") != "csv":
        return None
    table = find_table(tables, request.query_params.get("table", ""))
    if table is None:
        raise NotFound("There is no such table on this page")
    return csv_response(table, filename=f"{filename}-{table.name}")
