"""`sds-market needs ...` and `sds-market index ...`: the daily runs for posted needs and
for the offer change log every worker's index reads."""

from __future__ import annotations

import typer
from rich.console import Console

from marketplace.db import make_engine, make_sessionmaker, session_scope, utcnow
from marketplace.mail import Mailer, attach_mailer
from marketplace.models import import_all_models
from marketplace.settings import get_settings
from matching import snapshot
from matching.change_log import KEEP_CHANGES, prune_changes
from matching.index import OfferIndex
from matching.needs import service as needs_service

app = typer.Typer(help="Posted needs.", no_args_is_help=True)
index_app = typer.Typer(help="The offer index each app worker keeps.", no_args_is_help=True)
console = Console()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@app.command("run")
def run() -> None:
    """Count needs nobody responded to within 14 days as unmet demand, and send open needs
    to providers whose offers have come to reach and fit them. Run it daily, from cron or
    the job queue; running it again the same day changes nothing more."""
    settings = get_settings()
    import_all_models()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            attach_mailer(session, Mailer(settings))
            done = needs_service.run_daily(session, index=OfferIndex())
    finally:
        engine.dispose()
    console.print(
        f"Marked {_plural(done.unmet, 'need')} as unmet: nobody "
        f"responded within {needs_service.RESPONSE_DAYS} days."
    )
    console.print(
        f"Sent {_plural(done.needs_reached, 'open need')} "
        f"to {_plural(done.deliveries, 'more provider')}."
    )


@index_app.command("prune")
def prune() -> None:
    """Delete offer changes older than a week, which every running worker's index has read
    (a worker idle for longer reads every offer again). Run it daily."""
    settings = get_settings()
    import_all_models()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            removed = prune_changes(session, now=utcnow())
    finally:
        engine.dispose()
    console.print(
        f"Deleted {_plural(removed, 'offer change')} older than {KEEP_CHANGES.days} days."
    )


@index_app.command("build")
def build(
    when_stale: bool = typer.Option(
        False, "--when-stale", help="Only when the snapshot there cannot be used any more."
    ),
) -> None:
    """Read every published offer and write the index's snapshot under var/offer-index,
    which every worker on this machine maps as it starts (ready in under a second, one copy
    of the columns shared). `serve` runs it with --when-stale before starting its workers."""
    settings = get_settings()
    import_all_models()
    engine = make_engine(settings.database_url)
    directory = snapshot.directory_of(settings)
    try:
        with session_scope(make_sessionmaker(engine), write=False) as session:
            index = OfferIndex(snapshots=directory if when_stale else None)
            index.refresh(session)
            if index.from_snapshot:
                console.print(f"The snapshot in {directory} is usable: nothing to write.")
                return
            written = index.write_snapshot(session, directory)
    finally:
        engine.dispose()
    console.print(f"Wrote the index of {_plural(index.size, 'offer')} to {written}.")
