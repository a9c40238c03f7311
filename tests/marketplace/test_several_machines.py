"""The app on several machines against one PostgreSQL, as the README deploys it: two real
servers (`sds-market serve`, one of them with two workers), each with its own var folder as
a machine has, answering from one database. An offer paused through one is gone from the
other's search on the next request, and back when published again; with the throttles in
Redis, sign-in failures on one machine count on the other."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup

from marketplace.accounts.models import Role
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.migrate import upgrade
from matching.page_bench import wait_until_ready
from tests.conftest import fresh_postgresql_database
from tests.factories import PASSWORD, make_offer, make_provider, make_user

pytestmark = pytest.mark.xdist_group("several-machines")  # one pair of servers a run
REDIS = os.environ.get("TEST_REDIS_URL")


@dataclass(frozen=True)
class Machine:
    base_url: str
    process: subprocess.Popen[bytes]
    workers: int

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0)


@dataclass(frozen=True)
class Market:
    offer_id: int
    title: str
    provider_email: str


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """Once a run, whichever backend the other tests are on: only PostgreSQL serves
    several machines (SQLite is the one-machine default)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("several machines share one PostgreSQL: set TEST_DATABASE_URL")
    with fresh_postgresql_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def market(database: str) -> Market:
    engine = make_engine(database)
    with session_scope(make_sessionmaker(engine)) as session:
        # Throttles in Redis outlive a run: an address of this run's own.
        email = f"machines-{uuid.uuid4().hex[:12]}@example.org"
        owner = make_user(session, role=Role.PROVIDER_STAFF, email=email)
        offer = make_offer(
            session,
            provider=make_provider(session, owner=owner, base="Lairg"),
            title="Support across machines",
        )
        found = Market(offer_id=offer.id, title=offer.title, provider_email=owner.email)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def machines(
    database: str, market: Market, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Machine, Machine]]:
    started = [
        _serve(database, tmp_path_factory.mktemp(f"machine-{name}"), workers=workers)
        for name, workers in (("a", 2), ("b", 1))
    ]
    try:
        for machine in started:
            wait_until_ready(machine.process, machine.base_url, machine.workers)
        yield started[0], started[1]
    finally:
        for machine in started:
            machine.process.terminate()
        for machine in started:
            try:
                machine.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                machine.process.kill()


def test_an_offer_changed_through_one_machine_is_seen_by_the_other_on_the_next_request(
    machines: tuple[Machine, Machine], market: Market
) -> None:
    one, other = machines
    with other.client() as person:
        assert market.title in _search(person)
        with one.client() as provider:
            assert _sign_in(provider, market.provider_email, PASSWORD).status_code == 303
            _change(provider, market.offer_id, "pause")
            assert market.title not in _search(person)
            _change(provider, market.offer_id, "publish")
            assert market.title in _search(person)


@pytest.mark.skipif(REDIS is None, reason="throttles shared between machines need Redis")
def test_sign_in_failures_on_one_machine_count_on_the_other(
    machines: tuple[Machine, Machine], market: Market
) -> None:
    one, other = machines
    with one.client() as first, other.client() as second:
        for _ in range(5):  # SecuritySettings.sign_in_failures_allowed
            assert "too many times" not in _sign_in(first, market.provider_email, "wrong").text
        refused = _sign_in(second, market.provider_email, "wrong")
        assert "You have tried to sign in too many times" in refused.text


# Machines ----------------------------------------------------------------------------------


def _serve(database: str, var_dir: Path, *, workers: int) -> Machine:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    environment = {
        **os.environ,
        "DATABASE_URL": database,
        "SDS_VAR_DIR": str(var_dir),
        "SECRET_KEY": "the same secret on every machine",
        "SDS_SECURITY__PASSWORD_HASH_PROFILE": "cheapest",
        "SDS_SECURITY__RATE_LIMIT_STORAGE": REDIS or "memory://",
    }
    command = [sys.executable, "-m", "marketplace.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Machine(base_url=f"http://127.0.0.1:{port}", process=process, workers=workers)


def _search(client: httpx.Client) -> str:
    answer = client.get("/find-support", params={"location": "Lairg"})
    assert answer.status_code == 200
    titles = BeautifulSoup(answer.text, "html.parser").select(".ds_search-result__title")
    return " | ".join(title.get_text(strip=True) for title in titles)


def _sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrftoken": client.cookies["csrftoken"]},
    )


def _change(client: httpx.Client, offer_id: int, change: str) -> None:
    answer = client.post(
        f"/provider/offers/{offer_id}/{change}",
        data={"csrftoken": client.cookies["csrftoken"]},
    )
    assert answer.status_code == 303, answer.text[:500]
