"""`sds-market ledger check`: every ledger invariant over the whole database, with a report
naming what is wrong, and an exit status a scheduler or a monitor can act on."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from contracts.ledger_check import check_invariants
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.models import import_all_models
from marketplace.settings import get_settings

ledger_app = typer.Typer(help="The ledger of individual service funds.", no_args_is_help=True)
console = Console()


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@ledger_app.command("check")
def check() -> None:
    """Check every ledger invariant: each transaction has 2 or more postings summing to 0;
    each cached balance equals the sum of its postings; no account is below its floor; no
    idempotency key has two effects; each reversal mirrors its original, once. Exits 1
    with a line for each problem found."""
    settings = get_settings()
    import_all_models()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine), write=False) as session:
            if engine.dialect.name == "postgresql":
                # One snapshot for every check, however long they take beside live writers.
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            report = check_invariants(session)
    finally:
        engine.dispose()
    checked = (
        f"{_plural(report.accounts, 'account')}, {_plural(report.transactions, 'transaction')} "
        f"and {_plural(report.postings, 'posting')}"
    )
    if report.sound:
        console.print(
            f"The ledger is sound: {checked} checked; every invariant holds.", soft_wrap=True
        )
        return
    console.print(
        f"[red]The ledger has {_plural(len(report.violations), 'problem')}[/red] "
        f"({checked} checked):",
        soft_wrap=True,
    )
    for violation in report.violations:
        console.print(f"- {escape(str(violation))}", soft_wrap=True)
    raise typer.Exit(code=1)
