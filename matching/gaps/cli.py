"""`sds-market gaps report`: the commissioner's place figures as CSV or JSON, one row per
place and kind of support, with small counts protected exactly as the pages protect them."""

from __future__ import annotations

import csv
import json
import sys
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from marketplace.db import make_engine, make_sessionmaker, session_scope, today
from marketplace.errors import DomainError
from marketplace.geography import service as geography_service
from marketplace.models import import_all_models
from marketplace.settings import get_settings
from marketplace.tables import Column, safe_cell
from matching.gaps.report import DEFAULT_PERIOD_DAYS, PERIODS, GapFilter, build_report
from matching.gaps.service import GapFigures, gap_figures
from matching.gaps.tables import places_table
from matching.index import OfferIndex
from providers.models import Taxonomy

gaps_app = typer.Typer(help="The gap analysis commissioners see.", no_args_is_help=True)
errors = Console(stderr=True)


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


def _term(figures: GapFigures, taxonomy: Taxonomy, wanted: str, option: str) -> int:
    term_id = figures.term_named(taxonomy, wanted)
    if term_id is None:
        known = ", ".join(
            code for t, code in figures.term_codes.items() if figures.term_taxonomy[t] == taxonomy
        )
        raise typer.BadParameter(f"{wanted!r} is not one of: {known}", param_hint=option)
    return term_id


@gaps_app.command("report")
def report(
    council: Annotated[
        str | None,
        typer.Option(help="Council area name or GSS code; all of Scotland when left out."),
    ] = None,
    support: Annotated[
        str | None, typer.Option(help="Kind of support (code or name); every kind when left out.")
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option(help="Only offers helping with this personal outcome (code or name)."),
    ] = None,
    period: Annotated[
        int,
        typer.Option(
            help="Count unmet searches and needs over this "
            f"many days: {', '.join(map(str, PERIODS))}."
        ),
    ] = DEFAULT_PERIOD_DAYS,
    format: Annotated[Format, typer.Option("--format", help="csv or json.")] = Format.CSV,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """One row per place and kind of support: population, hours a week per 1,000
    residents, providers in reach and unmet demand (counts under the threshold shown as
    "fewer than 10")."""
    if period not in PERIODS:
        raise typer.BadParameter(
            f"choose one of {', '.join(map(str, PERIODS))}", param_hint="--period"
        )
    settings = get_settings()
    import_all_models()
    engine = make_engine(settings.database_url)
    rows: list[dict[str, object]] = []
    columns: list[Column] = []
    try:
        with (
            session_scope(make_sessionmaker(engine), write=False) as session,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=errors,
                transient=False,
            ) as progress,
        ):
            step = progress.add_task("Reading the offers", total=None)
            index = OfferIndex()
            index.refresh(session)
            progress.update(step, description="Working out the figures")
            figures = gap_figures(session, index=index)
            try:
                council_id = (
                    geography_service.find_council_area(session, name_or_code=council).id
                    if council
                    else None
                )
            except DomainError as error:
                raise typer.BadParameter(error.message, param_hint="--council") from error
            kinds = (
                [_term(figures, Taxonomy.KIND_OF_SUPPORT, support, "--support")]
                if support
                else list(figures.kind_ids)
            )
            outcome_id = (
                _term(figures, Taxonomy.PERSONAL_OUTCOME, outcome, "--outcome") if outcome else None
            )
            progress.update(step, description="Kinds of support", total=len(kinds), completed=0)
            for kind_id in kinds:
                flt = GapFilter(
                    kind_id=kind_id,
                    outcome_id=outcome_id,
                    period_days=period,
                    council_id=council_id,
                )
                table = places_table(
                    build_report(
                        session,
                        figures,
                        flt,
                        today=today(),
                        threshold=settings.matching.small_number_threshold,
                    )
                )
                columns = list(table.columns)
                for record in table.records():
                    rows.append(_with_support(record, figures.term_names[kind_id]))
                progress.advance(step)
    finally:
        engine.dispose()
    names = [c.name for c in columns[:5]] + ["support"] + [c.name for c in columns[5:]]
    with (
        output.open("w", newline="", encoding="utf-8") if output else nullcontext(sys.stdout)
    ) as out:
        if format == Format.JSON:
            json.dump(rows, out, indent=1)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    if output:
        errors.print(f"Wrote {len(rows):,} rows to {output}")


def _with_support(record: dict[str, object], support: str) -> dict[str, object]:
    items = list(record.items())
    return dict([*items[:5], ("support", support), *items[5:]])
