"""Test fixtures: each run builds its own databases from the migrations (a SQLite file,
and a fresh PostgreSQL database when TEST_DATABASE_URL is set), and every test runs inside
a transaction that is rolled back, so tests never see each other's data."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from marketplace.accounts.passwords import make_hasher
from marketplace.app import create_app
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.demo import load_demo
from marketplace.mail import Mailer, attach_mailer
from marketplace.migrate import upgrade
from marketplace.settings import SecuritySettings, Settings, get_settings
from providers.demo.load import DemoMarketplace
from tests.helpers import HtmlClient

# Properties say what must always hold, not how fast: on a shared two-core machine a first
# example can take longer than hypothesis's 200 ms deadline for reasons of its own.
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")

DEFAULT_MARKS = "not slow and not proof"
"""pyproject's selection: neither soaks and benchmarks nor the long proofs."""


def pytest_configure(config: pytest.Config) -> None:
    # CI sets SDS_LONG_PROOFS=1 to run the long proofs (marked `proof`) with the suite;
    # a selection given on the command line is left as it is.
    if os.environ.get("SDS_LONG_PROOFS") == "1" and config.option.markexpr == DEFAULT_MARKS:
        config.option.markexpr = "not slow"


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """An empty database of this backend, its own: a new SQLite file in `folder`, or a new
    PostgreSQL database on the server in TEST_DATABASE_URL, dropped on the way out."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.sqlite3'}"
        return
    with fresh_postgresql_database() as url:
        yield url


@contextlib.contextmanager
def demo_database_copy(
    backend: str, folder: Path, tmp_path_factory: pytest.TempPathFactory, outbox: Path
) -> Iterator[tuple[str, DemoMarketplace]]:
    """A database of its own holding the demo, as `load_demo` leaves it (committed), with the
    mails that load wrote copied into `outbox`; dropped on the way out. It is a copy of the
    run's demo template (`DemoTemplate`), which is loaded once a run per backend."""
    template = DemoTemplate(backend, tmp_path_factory)
    market = template.ensure_built()
    if template.mails.is_dir():
        shutil.copytree(template.mails, outbox, dirs_exist_ok=True)
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'test.sqlite3'}"
        source = sqlite3.connect(template.sqlite_file)
        copy = sqlite3.connect(folder / "test.sqlite3")
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        yield url, market
        return
    database = fresh_postgresql_database(template=template.postgresql_name())
    with template.lock():
        # CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the template;
        # the lock waits out a worker still building it (only the builder connects to it).
        url = database.__enter__()
    try:
        yield url, market
    finally:
        database.__exit__()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database built by the migrations, once per backend per run, dropped at the end."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


def _postgresql_server() -> URL:
    return make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")


class fresh_postgresql_database:
    """CREATE DATABASE on entry (empty, or a copy of `template`) and DROP it on exit, on the
    server in TEST_DATABASE_URL."""

    def __init__(self, template: str | None = None) -> None:
        self.template = template

    def __enter__(self) -> str:
        server = _postgresql_server()
        self.name = f"sds_test_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT")
        copy_of = f' TEMPLATE "{self.template}"' if self.template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"{copy_of}'))
        return server.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def make_settings(database_url: str, var_dir: Path, **overrides: object) -> Settings:
    fields: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-not-for-use-anywhere-else",
        "base_url": "http://testserver",
        "var_dir": var_dir,
        "security": SecuritySettings(password_hash_profile="cheapest"),
    }
    fields.update(overrides)
    return Settings.model_validate(fields)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "var")


@pytest.fixture
def hasher(settings: Settings):  # type: ignore[no-untyped-def]
    return make_hasher(settings.security.password_hash_profile)


@pytest.fixture
def db(engine: Engine, settings: Settings) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; the code under
    test may commit, which only releases a savepoint."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    attach_mailer(session, Mailer(settings))
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def app(settings: Settings, db: Session) -> Iterator[FastAPI]:
    """The app, whose every request opens its own session (as in production) inside the
    test's transaction, so what a request commits is rolled back with the test."""
    app = create_app(settings)
    app.state.sessionmaker = sessionmaker(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield app
    app.state.engine.dispose()


@dataclass(frozen=True)
class DemoDatabase:
    engine: Engine
    url: str
    market: DemoMarketplace
    """What loading the demo into it reported."""


DEMO_GROUP = pytest.mark.xdist_group("demo-database")
"""Marks the tests that read the shared demo database: one worker runs them all, so one
worker holds each backend's copy of the demo (copied from the run's template)."""


class DemoTemplate:
    """The demo, loaded once a run per backend (whichever worker first needs it loads it,
    under a file lock the others wait on) into a database that is only ever copied: the
    demo database and each worker's live server start from a copy, a new SQLite file made
    with SQLite's backup or a PostgreSQL `CREATE DATABASE ... TEMPLATE`, in a second or two
    rather than the 30 to 60 s a load takes. Loading the demo itself, again and through the
    command line, is still tested (`tests/providers/test_demo.py`, `tests/marketplace/
    test_cli.py`). The PostgreSQL template is dropped when the run ends (`pytest_sessionfinish`)."""

    def __init__(self, backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.backend = backend
        self.folder = run_folder(tmp_path_factory) / "demo-template" / backend
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sqlite_file = self.folder / "demo.sqlite3"
        self.mails = self.folder / "var" / "outbox"
        self._market = self.folder / "market.pickle"
        self._postgresql_name = self.folder / "postgresql-database"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with open(self.folder / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def postgresql_name(self) -> str:
        return self._postgresql_name.read_text()

    def ensure_built(self) -> DemoMarketplace:
        """What loading the demo reported, loading it first if no worker has yet."""
        with self.lock():
            if not self._market.exists():
                self._build()
            market = pickle.loads(self._market.read_bytes())
        assert isinstance(market, DemoMarketplace)
        return market

    def _build(self) -> None:
        if self.backend == "sqlite":
            url = f"sqlite:///{self.sqlite_file}"
        else:
            name = f"sds_test_demo_{uuid.uuid4().hex[:12]}"
            self._postgresql_name.write_text(name)  # before it exists, so the end drops it
            server = _postgresql_server()
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        engine = make_engine(url)
        try:
            with session_scope(make_sessionmaker(engine)) as session:
                attach_mailer(session, Mailer(make_settings(url, self.folder / "var")))
                _, market = load_demo(session, hasher=make_hasher("cheapest"))
        finally:
            engine.dispose()  # no connection left, so the template can be copied
        self._market.write_bytes(pickle.dumps(market))


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's own temporary folder, which every pytest-xdist worker's folder is inside."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the PostgreSQL demo template once the whole run is over: in the pytest-xdist
    controller after every worker has finished, or in the only process without xdist."""
    if hasattr(session.config, "workerinput"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or not os.environ.get("TEST_DATABASE_URL"):
        return
    record = factory.getbasetemp() / "demo-template" / "postgresql" / "postgresql-database"
    if record.exists():
        admin = create_engine(_postgresql_server(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{record.read_text()}" WITH (FORCE)'))
        admin.dispose()


class DemoDatabases:
    """Each backend's demo database, copied from the run's template on first use and kept to
    the end of the run. Kept here rather than in a fixture of the backend parameter, which
    pytest tears down and builds again whenever the order of the tests switches backend."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.built: dict[str, DemoDatabase] = {}
        self.stack = contextlib.ExitStack()

    def of(self, backend: str) -> DemoDatabase:
        if backend not in self.built:
            folder = self.tmp_path_factory.mktemp("demo-db")
            url, market = self.stack.enter_context(
                demo_database_copy(
                    backend, folder, self.tmp_path_factory, folder / "var" / "outbox"
                )
            )
            engine = make_engine(url)
            self.stack.callback(engine.dispose)
            self.built[backend] = DemoDatabase(engine=engine, url=url, market=market)
        return self.built[backend]


@pytest.fixture(scope="session")
def demo_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDatabases]:
    databases = DemoDatabases(tmp_path_factory)
    with databases.stack:
        yield databases


@pytest.fixture(scope="module")
def demo_database(backend: str, demo_databases: DemoDatabases) -> DemoDatabase:
    """A database of its own holding the demo, loaded and committed once per backend per
    run, for tests that read it (each in a transaction it rolls back, as `db` does)."""
    return demo_databases.of(backend)


@pytest.fixture(scope="module")
def shared_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the test module's own whose writes really commit, as in production:
    for tests of several workers, processes or connections on one database."""
    with fresh_database(backend, tmp_path_factory.mktemp("shared")) as url:
        upgrade(url)
        yield url


@pytest.fixture
def cli_database(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database of its own (of the run's backend) that `sds-market` commands are
    pointed at through the environment, as in real use."""

    def point_at(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("SDS_VAR_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("SDS_SECURITY__PASSWORD_HASH_PROFILE", "cheapest")
        get_settings.cache_clear()

    try:
        with fresh_database(backend, tmp_path) as url:
            point_at(url)
            yield url
    finally:
        get_settings.cache_clear()


@pytest.fixture
def client(app: FastAPI, db: Session) -> Iterator[HtmlClient]:
    # The test's own session shares the connection: what it set up is flushed before each
    # request, and what a request changed is read afresh after it.
    with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as client:
        yield client
