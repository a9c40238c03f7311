"""The `sds-market` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from contracts import bench_pages  # noqa: F401  (adds the money side's pages to `bench pages`)
from contracts.cli import ledger_app
from contracts.spending import bench as ledger_bench  # noqa: F401  (registers `bench ledger`)
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.accounts.passwords import make_hasher
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.errors import DomainError
from marketplace.mail import Mailer, attach_mailer
from marketplace.models import import_all_models
from marketplace.settings import Settings, get_settings
from matching import page_bench  # noqa: F401  (registers `bench pages` on bench_app)
from matching.bench import bench_app
from matching.cli import app as needs_app
from matching.cli import index_app
from matching.gaps import bench as gap_bench  # noqa: F401  (registers `bench gaps` on bench_app)
from matching.gaps.cli import gaps_app
from providers.cli import app as hsds_app

app = typer.Typer(help="The Self-directed Support marketplace.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
geography_app = typer.Typer(help="The shipped reference geography.", no_args_is_help=True)
places_app = typer.Typer(help="Named places beyond the shipped list.", no_args_is_help=True)
population_app = typer.Typer(
    help="Where people live, from official small-area figures.", no_args_is_help=True
)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(geography_app, name="geography")
app.add_typer(places_app, name="places")
app.add_typer(population_app, name="population")
app.add_typer(audit_app, name="audit")
app.add_typer(hsds_app, name="hsds")
mail_app = typer.Typer(help="The mail outbox.", no_args_is_help=True)
app.add_typer(mail_app, name="mail")
checks_app = typer.Typer(help="Providers' checks.", no_args_is_help=True)
app.add_typer(checks_app, name="checks")
app.add_typer(needs_app, name="needs")
app.add_typer(index_app, name="index")
app.add_typer(gaps_app, name="gaps")
app.add_typer(bench_app, name="bench")
app.add_typer(ledger_app, name="ledger")
console = Console()


def _session_factory(settings: Settings) -> sessionmaker[Session]:
    import_all_models()
    return make_sessionmaker(make_engine(settings.database_url))


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def check_serving_address(settings: Settings, host: str) -> None:
    """Outside production the app serves only this machine: the dev outbox page and the
    embedded default's mails hold sign-in links nobody else may read."""
    if settings.is_production or host in LOOPBACK_HOSTS or host.startswith("127."):
        return
    raise typer.BadParameter(
        f"{host} would let other machines reach this {settings.env} server, whose mails "
        "(with their sign-in links) are readable at /dev/outbox. Serve on 127.0.0.1, or set "
        "SDS_ENV=production (with DATABASE_URL, SECRET_KEY and an https BASE_URL).",
        param_hint="--host",
    )


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (only loopback outside production).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart when the code changes.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (not with --reload).")] = 1,
    with_worker: Annotated[
        bool, typer.Option(help="Also run the job worker (mail, daily runs) beside the server.")
    ] = False,
) -> None:
    """Serve the web application."""
    import subprocess
    import sys

    import uvicorn

    from marketplace import serving

    settings = get_settings()  # fail fast on bad configuration, before uvicorn starts
    check_serving_address(settings, host)
    # In a process of its own, so that reading every offer does not swell the workers: they
    # map what it writes and are ready in under a second.
    subprocess.run(
        [sys.executable, "-m", "marketplace.cli", "index", "build", "--when-stale"], check=False
    )
    worker = (
        subprocess.Popen([sys.executable, "-m", "marketplace.cli", "worker"])
        if with_worker
        else None
    )
    try:
        if workers > 1 and not reload and serving.spreads_connections():
            status = serving.supervise(host, port, workers)
            if status:
                raise typer.Exit(status)
            return
        uvicorn.run(
            serving.APP,
            host=host,
            port=port,
            reload=reload,
            reload_includes=["*.py", "*.html"] if reload else None,
            workers=None if reload else workers,
            proxy_headers=True,
            timeout_keep_alive=serving.KEEP_ALIVE_S,
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Tasks run at once in this process.")] = 2,
    periodic: Annotated[
        bool, typer.Option(help="Also start the scheduled runs (give exactly one worker this).")
    ] = True,
) -> None:
    """Run the job worker: sends the mail outbox and starts the daily runs. With REDIS_URL
    set, run one on each machine you like; only one of them with --periodic."""
    import logging

    from marketplace.jobs import Jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    queue = "Redis (REDIS_URL)" if settings.redis_url else str(settings.var_dir / "jobs.sqlite3")
    console.print(
        f"Job worker: queue in {queue}; {'with' if periodic else 'without'} the scheduled runs."
    )
    Jobs(settings).run_worker(workers=threads, periodic=periodic)


@mail_app.command("drain")
def mail_drain() -> None:
    """Send every mail that is due now, here (what the worker does every minute)."""
    from marketplace import outbox

    settings = get_settings()
    factory = _session_factory(settings)
    try:
        done = outbox.drain(factory, Mailer(settings))
    finally:
        factory.kw["bind"].dispose()
    console.print(
        f"Sent {done.sent} mail{'' if done.sent == 1 else 's'}; "
        f"{done.failed} failed and will be retried."
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Bring the database schema up to date (creates it when empty)."""
    from marketplace.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    console.print(f"Database is at revision {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Step the schema back to an earlier revision ('base' empties it)."""
    from marketplace.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    console.print(f"Database is at revision {revision}.")


@app.command()
def demo() -> None:
    """Load the demo data (safe to run again) and print the demo sign-ins."""
    from marketplace.demo import DEMO_PASSWORD, load_demo

    settings = get_settings()
    hasher = make_hasher(settings.security.password_hash_profile)
    with session_scope(_session_factory(settings)) as session:
        attach_mailer(session, Mailer(settings))
        accounts, market = load_demo(session, hasher=hasher)
    console.print(f"Demo data loaded. Sign in at {settings.base_url}/sign-in as:")
    for account in accounts:
        console.print(
            f"  {account.role.label:<20} {account.email:<30} ({account.name})", soft_wrap=True
        )
    console.print(f"Every demo account's password is: {DEMO_PASSWORD}")
    # Totals, not what this run added, so a rerun prints the same (it adds nothing).
    kinds = ", ".join(
        f"{n} {kind.label.lower()}{'' if n == 1 else 's'}"
        for kind, n in market.providers_by_kind.items()
    )
    statuses = ", ".join(
        f"{n} {status.value}" for status, n in market.offers_by_status.items() if n
    )
    console.print(
        f"The marketplace lists {sum(market.providers_by_kind.values())} providers ({kinds}; "
        f"{market.isf_holders} hold individual service funds) and "
        f"{sum(market.offers_by_status.values())} offers ({statuses}; "
        f"{market.stale_published} published with capacity older than 30 days).",
        soft_wrap=True,
    )
    checks = ", ".join(f"{n} {status.value}" for status, n in market.checks_by_status.items() if n)
    console.print(f"Checks: {checks}. Generated providers have no sign-in.", soft_wrap=True)
    console.print("Published offers by where they are based:")
    for row in market.by_class:
        console.print(
            f"  {row.urban_rural.label:<24} {row.published_offers:>4} offers  "
            f"{row.per_100k:>5.1f} per 100,000 people",
            soft_wrap=True,
        )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Their email address.")],
    name: Annotated[str, typer.Option(help="Their full name.")],
    role: Annotated[Role, typer.Option(help="Their role.")],
    password: Annotated[
        str, typer.Option(help="12 characters or more.", prompt=True, hide_input=True)
    ],
    council: Annotated[
        str | None,
        typer.Option(help="Council area name or GSS code (commissioners, budget holders)."),
    ] = None,
) -> None:
    """Create a confirmed account with any role."""
    from marketplace.geography import service as geography_service

    settings = get_settings()
    hasher = make_hasher(settings.security.password_hash_profile)
    try:
        with session_scope(_session_factory(settings)) as session:
            area = (
                geography_service.find_council_area(session, name_or_code=council)
                if council
                else None
            )
            user = accounts_service.create_user(
                session,
                hasher=hasher,
                email=email,
                name=name,
                role=role,
                password=password,
                council=area,
                confirmed=True,
            )
            summary = f"Created account {user.id}: {user.email} ({user.role.label})"
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(code=1) from None
    console.print(summary)


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        bool, typer.Option("--anchor", help="Print the latest hash, to keep somewhere else.")
    ] = False,
    expect: Annotated[
        str | None,
        typer.Option(help="A hash printed by an earlier --anchor: check the chain still has it."),
    ] = None,
) -> None:
    """Check the audit log's hash chain from its first entry; exit 1 naming the first entry
    that was changed, removed or reordered."""
    from marketplace import audit

    settings = get_settings()
    with session_scope(_session_factory(settings), write=False) as session:
        found = audit.verify(session, anchor=expect)
    if not found.intact:
        where = f"entry {found.broken_id}" if found.broken_id is not None else "the log"
        console.print(
            f"[red]The audit log is broken at {where}: {found.problem}.[/red] "
            f"{found.checked} entries before it are intact.",
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    console.print(f"The audit log is intact: {found.checked} entries checked.")
    if anchor:
        console.print(f"Latest hash: {found.latest_hash}", soft_wrap=True)


@geography_app.command("build")
def geography_build() -> None:
    """Rebuild the settlement, postcode and council outline files from their sources (the
    geodata extra and the reference data beside the project)."""
    from marketplace.geography import build, demand, outlines

    with console.status("Reading the postcode directory, the settlements and the census"):
        files = build.build()
        files[build.COUNCIL_RESIDENTS_CSV] = build.build_council_residents()
        files[build.DEMAND_AREAS_CSV] = demand.build_demand_areas(files[build.SETTLEMENTS_CSV])
    with console.status("Simplifying the council outlines"):
        files[outlines.OUTLINES_JSON] = outlines.build_outlines()
    build.write(files)
    for path, content in files.items():
        size = (
            f"{len(content.encode()):,} bytes"
            if path.suffix == ".json"
            else f"{content.count(chr(10)) - 1} rows"
        )
        console.print(f"Wrote {path} ({size})")
    console.print("Run `sds-market db upgrade` to load them.")


@population_app.command("import")
def population_import(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="A CSV file of data zones: code, people, council area and centre.",
        ),
    ],
) -> None:
    """Count the people of the councils the file covers from their official small-area
    population estimates (a row a data zone: DataZone, Population, Council, and Easting and
    Northing or Latitude and Longitude), in place of the census estimate. Other councils
    keep their figures; importing again replaces a council's."""
    from marketplace.geography import populations

    settings = get_settings()
    try:
        with session_scope(_session_factory(settings), write=True) as session:
            done = populations.import_small_areas(session, path)
    except populations.PopulationFileRefused as refused:
        console.print(f"[red]Nothing was imported. {refused}[/red]", soft_wrap=True)
        raise typer.Exit(code=1) from None
    console.print(
        f"Imported {done.small_areas:,} small areas, counted in {done.rural_areas:,} rural "
        "areas and the listed places near them:"
    )
    for council, people in sorted(done.councils.items()):
        console.print(f"  {council}: {people:,} people")
    console.print("Restart the server for its workers to count them.")


@places_app.command("import")
def places_import(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, help="An OS Open Names CSV file, or a folder of them, as OS ships them."
        ),
    ],
) -> None:
    """Import every village, hamlet and suburb in Scotland from OS Open Names (the free
    gazetteer, Open Government Licence), so people can search from places the list of
    500+ leaves out. Importing again changes only what changed."""
    from rich.progress import BarColumn, Progress, TextColumn

    from marketplace.geography import names
    from marketplace.geography.gazetteer import forget

    settings = get_settings()
    with (
        Progress(
            TextColumn("Reading the files"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=console,
        ) as progress,
        session_scope(_session_factory(settings), write=True) as session,
    ):
        task = progress.add_task("read", total=len(names.csv_files(path)))
        done = names.import_named_places(
            session, path, progress=lambda read, _: progress.update(task, completed=read)
        )
    forget()
    console.print(
        f"Named places: {done.added} added, {done.updated} updated, {done.unchanged} unchanged."
    )
    if done.second_names:
        console.print(f"Listed places given their second name: {done.second_names}.")
    for reason, count in done.skipped.most_common():
        console.print(f"  Skipped {count:,}: {reason}")
    console.print("Restart the server for its workers to know the new places.")


@checks_app.command("remind")
def checks_remind() -> None:
    """Mail providers whose checks run out within 30 days or have run out (each reminder
    once). Run it daily, from cron or the job queue."""
    from marketplace.db import today
    from providers import checks as checks_service

    settings = get_settings()
    with session_scope(_session_factory(settings)) as session:
        attach_mailer(session, Mailer(settings))
        sent = checks_service.send_expiry_reminders(session, today=today())
    console.print(f"Sent {sent} reminder{'' if sent == 1 else 's'}.")


if __name__ == "__main__":
    app()
