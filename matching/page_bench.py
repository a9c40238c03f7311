"""`sds-market bench pages`: what people wait for, the whole request, at national scale and
under load. It builds the market of `bench match` in the configured database, starts the
real server (`sds-market serve`) with its workers, and drives it from a separate process
(matching.page_load) with a fixed number of users and no think time:

- `/healthz` alone, the ceiling of the server and the machine;
- searches alone (towns by population, villages evenly, postcode districts; varied kinds,
  outcomes, days and hours), for search throughput and waits;
- searches, offer pages and the commissioner's gap page mixed 6:4:1, at 10 and 50 users;
- the pages later packages add (`add_signed_in_pages`: the money side's fund statements
  and change-of-use queue, read by the demo's budget holder), signed in, at 10 users.

It prints one JSON line. The machine is shared and noisy, so compare a run's figures with
its own `/healthz` ceiling (the ratio), not with another day's run. Rates move with what
else the machine is doing; the workers' CPU time per answer (read from Linux over each
measured window) moves less, and gives the ratio a second reading."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import typer
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.accounts.passwords import make_hasher
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.errors import DomainError
from marketplace.geography import service as geography_service
from marketplace.geography.models import PostcodeDistrict, Settlement, SettlementKind
from marketplace.migrate import upgrade
from marketplace.models import import_all_models
from marketplace.settings import Settings, get_settings
from matching.bench import BENCH_BASE_LABEL, SEED, bench_app, build_market
from matching.page_load import Plan
from providers.models import Offer, OfferStatus, Provider, Taxonomy, TaxonomyTerm

COMMISSIONER_EMAIL = "bench-commissioner@example.org"
COMMISSIONER_PASSWORD = "bench pages commissioner"


@dataclass(frozen=True)
class SignedInPages:
    """Pages of one kind that an account reads signed in, for the bench to load."""

    email: str
    password: str
    addresses: list[str]


SignedInPagesOf = Callable[[Session], dict[str, SignedInPages]]
_MORE_PAGES: list[SignedInPagesOf] = []


def add_signed_in_pages(prepare: SignedInPagesOf) -> None:
    """Put a later package's pages in the bench (the money side's, which matching may not
    import): `prepare` makes what they need in the bench's database, if it is not there
    yet, and names the pages by kind. They are loaded on their own, 10 users, after the
    mix."""
    _MORE_PAGES.append(prepare)


SEARCH_ADDRESSES = 600
OFFER_ADDRESSES = 2_000
MIX = {"search": 6, "offer": 4, "gaps": 1}
READY_WITHIN_S = 600.0


@bench_app.command("pages")
def bench_pages(
    offers: int = typer.Option(100_000, help="Published offers in the market it builds."),
    workers: int = typer.Option(2, help="Server worker processes."),
    seconds: float = typer.Option(20.0, help="Measured seconds of each load."),
    warm_up: float = typer.Option(3.0, help="Unmeasured seconds before each load."),
    port: int = typer.Option(0, help="Port to serve on (0: any free one)."),
) -> None:
    """Serve the app with its workers over a national market and time whole pages."""
    settings = get_settings()
    import_all_models()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        _market_of(session, offers)
        _commissioner(session, settings)
        signed_in = {
            kind: pages for prepare in _MORE_PAGES for kind, pages in prepare(session).items()
        }
    with engine.begin() as connection:
        # The planner's statistics, as autovacuum keeps them on a server that runs it (some
        # do not): without them a bulk-loaded market is planned as an empty one.
        connection.exec_driver_sql("ANALYZE")
    with session_scope(sessions, write=False) as session:
        addresses = {
            "search": search_addresses(session, SEARCH_ADDRESSES),
            "offer": offer_addresses(session, OFFER_ADDRESSES),
            "gaps": ["/commissioning"],
            "healthz": ["/healthz"],
            **{kind: pages.addresses for kind, pages in signed_in.items()},
        }
    engine.dispose()
    sql_per_search = statements_per_search(settings, addresses["search"][:20])

    build_s = _build_index_snapshot()
    port = port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with _served(port, workers) as server:
        ready = wait_until_ready(server, base_url, workers)
        server_pids = _descendants(server.pid)
        cookies = {
            "gaps": _signed_in(base_url, COMMISSIONER_EMAIL, COMMISSIONER_PASSWORD),
            **{
                kind: _signed_in(base_url, pages.email, pages.password)
                for kind, pages in signed_in.items()
            },
        }

        def load(users: int, weights: dict[str, int]) -> dict[str, Any]:
            plan = Plan(
                base_url=base_url,
                users=users,
                warm_up_s=warm_up,
                measure_s=seconds,
                addresses={kind: addresses[kind] for kind in weights},
                weights=weights,
                cookies={kind: cookies[kind] for kind in weights if kind in cookies},
                server_pids=server_pids,
            )
            return _drive(plan)

        typer.echo("Load: /healthz alone, 10 users", err=True)
        healthz = load(10, {"healthz": 1})
        typer.echo("Load: searches alone, 10 users", err=True)
        searches = load(10, {"search": 1})
        typer.echo("Load: searches, offer pages and gaps, 10 users", err=True)
        mixed = load(10, MIX)
        typer.echo("Load: searches, offer pages and gaps, 50 users", err=True)
        crowded = load(50, MIX)
        more: dict[str, Any] = {}
        if signed_in:
            typer.echo(f"Load: {', '.join(signed_in)} pages, 10 users", err=True)
            more = load(10, dict.fromkeys(signed_in, 1))
        memory = _worker_memory(server.pid)
    failures = {
        name: {kind: report[kind]["failures"] for kind in report if isinstance(report[kind], dict)}
        for name, report in (
            ("healthz", healthz),
            ("search", searches),
            ("mixed_10", mixed),
            ("mixed_50", crowded),
            ("signed_in", more),
        )
    }
    search_rps = searches["search"]["rps"]
    healthz_rps = healthz["healthz"]["rps"]
    search_cpu_ms = searches["server_cpu_ms_per_answer"]
    healthz_cpu_ms = healthz["server_cpu_ms_per_answer"]
    print(
        json.dumps(
            {
                "bench": "pages",
                "offers": offers,
                "workers": workers,
                "search_rps": search_rps,
                "search_p50_ms": searches["search"]["p50_ms"],
                "search_p95_ms": searches["search"]["p95_ms"],
                "offer_p95_ms": mixed["offer"]["p95_ms"],
                "search_p95_ms_mixed": mixed["search"]["p95_ms"],
                # The middle of the mix too: its tails are mostly waits behind gap pages.
                "offer_p50_ms": mixed["offer"]["p50_ms"],
                "search_p50_ms_mixed": mixed["search"]["p50_ms"],
                "search_p95_ms_at_50": crowded["search"]["p95_ms"],
                "offer_p95_ms_at_50": crowded["offer"]["p95_ms"],
                "gaps_p95_ms": mixed["gaps"]["p95_ms"],
                "gaps_p95_ms_at_50": crowded["gaps"]["p95_ms"],
                "healthz_rps": healthz_rps,
                "ratio_search_to_healthz_rps": round(search_rps / healthz_rps, 3)
                if healthz_rps
                else None,
                "search_cpu_ms": search_cpu_ms,
                "healthz_cpu_ms": healthz_cpu_ms,
                "cpu_ratio_search_to_healthz": round(healthz_cpu_ms / search_cpu_ms, 3)
                if search_cpu_ms and healthz_cpu_ms
                else None,
                "sql_per_search": sql_per_search,
                "driver_cpu_share_searching": searches["driver_cpu_share"],
                **{
                    f"{kind}_{figure}": more[kind][figure]
                    for kind in signed_in
                    for figure in ("p50_ms", "p95_ms")
                },
                "rss_mb_per_worker": memory["rss_mb"],
                "pss_mb_per_worker": memory["pss_mb"],
                "index_build_s": build_s,
                "ready_after_start_s": ready.after_start_s,
                "worker_index_load_s": ready.worker_load_s,
                "worker_index_from": ready.source,
                "failures": {
                    name: kinds for name, kinds in failures.items() if any(kinds.values())
                },
            }
        )
    )


# The market ------------------------------------------------------------------------------


def _market_of(session: Session, offers: int) -> None:
    # The bench's own offers: the pages it adds may bring others (the demo's, for funds).
    published = session.scalar(
        select(func.count())
        .select_from(Offer)
        .join(Provider, Provider.id == Offer.provider_id)
        .where(Offer.status == OfferStatus.PUBLISHED, Provider.base_label == BENCH_BASE_LABEL)
    )
    if published == 0:
        typer.echo(f"Building {offers:,} published offers in the configured database", err=True)
        build_market(session, offers=offers)
    elif published != offers:
        raise typer.BadParameter(
            f"The database holds {published:,} published offers. Point DATABASE_URL at an "
            "empty database (the bench builds its market there) or at one it built before "
            "with the same --offers.",
            param_hint="--offers",
        )


def _commissioner(session: Session, settings: Settings) -> None:
    if accounts_service.find_user_by_email(session, COMMISSIONER_EMAIL) is not None:
        return
    accounts_service.create_user(
        session,
        hasher=make_hasher(settings.security.password_hash_profile),
        email=COMMISSIONER_EMAIL,
        name="Bench Commissioner",
        role=Role.COMMISSIONER,
        password=COMMISSIONER_PASSWORD,
        council=geography_service.find_council_area(session, name_or_code="Highland"),
        confirmed=True,
    )


def search_addresses(session: Session, count: int, seed: int = SEED) -> list[str]:
    """Searches as people type them: a town picked by population, a village picked evenly,
    or a postcode district; most with a kind of support, many with outcomes, half with
    weekday mornings, and a few hours a week."""
    rng = np.random.default_rng([seed, count, 11])
    settlements = list(
        session.scalars(
            select(Settlement)
            .where(Settlement.kind == SettlementKind.SETTLEMENT)
            .order_by(Settlement.id)
        )
    )
    names = [s.name for s in settlements if _resolves(session, s.name)]
    population = {s.name: s.population for s in settlements}
    weights = np.array([population[name] for name in names], dtype=np.float64)
    districts = list(session.scalars(select(PostcodeDistrict.code).order_by(PostcodeDistrict.code)))
    codes = {
        taxonomy: list(
            session.scalars(
                select(TaxonomyTerm.code)
                .where(TaxonomyTerm.taxonomy == taxonomy)
                .order_by(TaxonomyTerm.position)
            )
        )
        for taxonomy in (Taxonomy.KIND_OF_SUPPORT, Taxonomy.PERSONAL_OUTCOME)
    }
    addresses = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.4:
            place = names[rng.choice(len(names), p=weights / weights.sum())]
        elif draw < 0.7:
            place = names[rng.integers(len(names))]
        else:
            place = districts[rng.integers(len(districts))]
        query: list[tuple[str, str]] = [("location", place)]
        if rng.random() < 0.7:
            query.append(("kinds_of_support", str(rng.choice(codes[Taxonomy.KIND_OF_SUPPORT]))))
        outcomes = codes[Taxonomy.PERSONAL_OUTCOME]
        for outcome in rng.choice(outcomes, size=int(rng.integers(0, 3)), replace=False):
            query.append(("outcomes", str(outcome)))
        if rng.random() < 0.5:
            query += [("when", f"{day}-0") for day in range(5)]
        query.append(("hours", str(rng.choice([2, 6, 10, 15]))))
        addresses.append("/find-support?" + urlencode(query))
    return addresses


def _resolves(session: Session, name: str) -> bool:
    try:
        geography_service.resolve_location(session, text=name)
    except DomainError:
        return False  # a name shared by two places asks which one: not a one-step search
    return True


def offer_addresses(session: Session, count: int, seed: int = SEED) -> list[str]:
    ids = session.scalars(
        select(Offer.id).where(Offer.status == OfferStatus.PUBLISHED).order_by(Offer.id)
    ).all()
    rng = np.random.default_rng([seed, count, 13])
    return [f"/offers/{ids[i]}" for i in rng.choice(len(ids), size=min(count, len(ids)))]


# Counting SQL ----------------------------------------------------------------------------


def statements_per_search(settings: Settings, addresses: list[str]) -> float:
    """The SQL statements one search page sends once its worker is warm, on average, counted
    in this process on an app of its own over the same database."""
    from fastapi.testclient import TestClient

    from marketplace.app import create_app

    app = create_app(settings)
    counted = [0]

    def count(*_: object) -> None:
        counted[0] += 1

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        with TestClient(app) as client:
            for address in addresses[:3]:  # warm: the index loads on the first search
                client.get(address)
            counted[0] = 0
            for address in addresses:
                assert client.get(address).status_code == 200, address
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
        app.state.engine.dispose()
    return round(counted[0] / len(addresses), 1)


# The server ------------------------------------------------------------------------------


def _build_index_snapshot() -> float:
    """Seconds `sds-market index build` takes, as a deploy would run it before serving."""
    started = time.monotonic()
    command = [sys.executable, "-m", "marketplace.cli", "index", "build"]
    subprocess.run(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, check=True)
    return round(time.monotonic() - started, 2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _served(port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "marketplace.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    server = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL)
    try:
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@dataclass(frozen=True)
class Readiness:
    after_start_s: float
    """From starting `serve` (its snapshot check included) until every worker is ready."""
    worker_load_s: float | None
    """The longest a worker took to load its index, by its own /readyz."""
    source: str | None
    """Where the workers loaded it from: "snapshot" or "database"."""


def wait_until_ready(server: subprocess.Popen[bytes], base_url: str, workers: int) -> Readiness:
    """Until /readyz answers 200 from every worker: the same number of answers in a row as
    there are workers, twice over, on fresh connections (so the kernel spreads them among
    the workers)."""
    import httpx  # the test extra's, as for the other benches

    started, in_a_row = time.monotonic(), 0
    loads: list[float] = []
    sources: set[str] = set()
    while time.monotonic() - started < READY_WITHIN_S:
        if server.poll() is not None:
            raise SystemExit(f"The server stopped (exit {server.returncode}) before ready")
        try:
            answer = httpx.get(base_url + "/readyz", timeout=10.0)
            ready = answer.status_code == 200
        except httpx.TransportError:
            ready = False
        if ready:
            told = answer.json()
            loads += [told["loaded_in_s"]] if told.get("loaded_in_s") is not None else []
            sources.add(told["offer_index"])
        in_a_row = in_a_row + 1 if ready else 0
        if in_a_row >= 2 * workers:
            return Readiness(
                after_start_s=round(time.monotonic() - started, 2),
                worker_load_s=max(loads, default=None),
                source="+".join(sorted(sources)) or None,
            )
        if not ready:
            time.sleep(0.05)  # polling a starting server, not synchronising on a guess
    raise SystemExit("The server was not ready within 10 minutes")


def _signed_in(base_url: str, email: str, password: str) -> dict[str, str]:
    import httpx  # the test extra's, as for the other benches

    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        client.get("/sign-in")
        token = client.cookies["csrftoken"]
        answer = client.post(
            "/sign-in", data={"email": email, "password": password, "csrftoken": token}
        )
        if answer.status_code != 303:
            raise SystemExit(f"{email} could not sign in to the bench ({answer.status_code})")
        return dict(client.cookies)


def _drive(plan: Plan) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(asdict(plan), file)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "matching.page_load", file.name],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        Path(file.name).unlink()
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _worker_memory(pid: int) -> dict[str, float | None]:
    """Resident and proportional memory of each worker process (the server's descendants,
    the largest `workers` of them), in MB, the largest worker's figure."""
    rss, pss = [], []
    for child in _descendants(pid):
        status = _read(f"/proc/{child}/status")
        rollup = _read(f"/proc/{child}/smaps_rollup")
        rss.append(_kilobytes(status, "VmRSS:"))
        pss.append(_kilobytes(rollup, "Pss:"))
    if not rss:
        return {"rss_mb": None, "pss_mb": None}
    return {"rss_mb": round(max(rss) / 1024, 1), "pss_mb": round(max(pss) / 1024, 1)}


def children(pid: int) -> list[int]:
    """The process's own child processes, as Linux lists them."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").glob("*")
        for child in _read(str(task / "children")).split()
    ]


def _descendants(pid: int) -> list[int]:
    found, waiting = [], [pid]
    while waiting:
        below = children(waiting.pop())
        found += below
        waiting += below
    return found


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _kilobytes(text: str, label: str) -> float:
    for line in text.splitlines():
        if line.startswith(label):
            return float(line.split()[1])
    return 0.0
