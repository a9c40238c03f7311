"""`sds-market hsds ...`: Open Referral (HSDS 3.0) data in and out of the marketplace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.models import import_all_models
from marketplace.settings import get_settings
from providers.hsds import importer as hsds_importer
from providers.hsds import sources as hsds_sources
from providers.hsds.fields import Rejection
from providers.hsds.importer import ImportReport
from providers.hsds.sources import SourceError

app = typer.Typer(help="Open Referral (HSDS 3.0) data.", no_args_is_help=True)
console = Console()


class ImporterMissing(Exception):
    pass


def _importer(session: Session, email: str | None) -> User:
    """The administrator the import is recorded as done by: the one named, or else the
    first administrator account."""
    if email:
        user = accounts_service.find_user_by_email(session, accounts_service.normalise_email(email))
        if user is None or user.role != Role.ADMIN:
            raise ImporterMissing(f"There is no administrator account {email}")
        return user
    user = session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    if user is None:
        raise ImporterMissing(
            "Imports are recorded as done by an administrator, and there is none. Create one with "
            "`sds-market users create --role admin ...`, or name one with --by."
        )
    return user


@app.command("import")
def import_file(
    path: Annotated[
        Path,
        typer.Argument(exists=True, help="An HSDS JSON file, or a data package folder or zip."),
    ],
    by: Annotated[
        str | None,
        typer.Option(
            help="The administrator's email the import is recorded under (default: the first)."
        ),
    ] = None,
) -> None:
    """Import organizations as unclaimed provider listings and their services as offers.
    Importing the same file again changes nothing; see providers/hsds/importer.py."""
    try:
        bundles, unplaced = hsds_sources.read_source(path)
    except (SourceError, OSError) as error:
        console.print(f"[red]Cannot read {path}: {error}[/red]")
        raise typer.Exit(code=1) from None
    import_all_models()
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            actor = _importer(session, by)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("Importing", total=hsds_importer.count_records(bundles))
                report = hsds_importer.import_hsds(
                    session, bundles=bundles, actor=actor, on_record=lambda: progress.advance(task)
                )
            report.rejected[:0] = unplaced
            who = actor.email
    except ImporterMissing as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from None
    _print_report(report, who=who)


def _print_report(report: ImportReport, *, who: str) -> None:
    console.print(
        f"Imported as {who}: {report.providers_created} providers "
        f"created, {report.providers_updated} updated; "
        f"{report.offers_created} offers created, {report.offers_updated} updated; "
        f"{report.published} published, {report.not_published} not published.",
        soft_wrap=True,
    )
    _print_table("Rejected", report.rejected, style="red")
    _print_table("Notes", report.notes, style="yellow")


def _print_table(title: str, rows: list[Rejection], *, style: str) -> None:
    if not rows:
        console.print(f"{title}: none.")
        return
    table = Table(title=f"{title} ({len(rows)})", title_style=style, show_lines=False)
    table.add_column("Record", overflow="fold")
    table.add_column("Why", overflow="fold")
    for row in rows:
        table.add_row(row.record, row.reason)
    console.print(table)
