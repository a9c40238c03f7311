"""Browser fixtures: one live server per worker that runs browser tests, each on its own
fresh database (of the run's browser backend, below) with the demo data loaded, and Debian's
chromium driven through Playwright.

Every page a test opens is watched: a Content Security Policy violation reported on the
console, or any uncaught error in the page's scripts, fails the test."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import make_hasher
from marketplace.app import create_app
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.mail import Mailer, attach_mailer
from marketplace.models import import_all_models
from marketplace.settings import Settings
from tests.conftest import demo_database_copy, make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 20
ACTION_TIMEOUT_MS = 10_000
# Assertions wait as long as actions do (Playwright's own default is 5 s): a commissioner's
# first page after signing in works out the day's protected counts, which beside the rest
# of the suite on two cores has taken over 5 s.
expect.set_options(timeout=ACTION_TIMEOUT_MS)
BROWSER_DIR = Path(__file__).parent


BROWSER_BACKEND = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
"""The one database the browser tests run against in a run: PostgreSQL, production's, when
the run has it, else SQLite. What they protect is the pages in a browser (layout at 320 and
1280 px, JavaScript on and off, axe, focus, htmx); the services and queries behind those
pages run on both databases in the HTTP tests (`client`), so a second browser pass over the
other database would repeat the browser's side at twice the cost."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Hooks in a conftest see every collected item, so act only on the ones in this folder.
    # The browser tests are not grouped onto one worker: each worker that draws one starts
    # its own live server (its own database holding the demo) and chromium, so the page
    # sweeps and journeys spread over the cores instead of queueing on one.
    kept, other_database = [], []
    for item in items:
        if BROWSER_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            callspec = getattr(item, "callspec", None)
            backend = callspec.params.get("database_url") if callspec else None
            if backend not in (None, BROWSER_BACKEND):
                other_database.append(item)
                continue
        kept.append(item)
    if other_database:
        config.hook.pytest_deselected(items=other_database)
        items[:] = kept


# --- the live server ---------------------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    outbox: Path
    settings: Settings
    sessions: sessionmaker[Session]

    def url(self, path: str) -> str:
        return self.base_url + path

    def create_user(self, *, email: str, name: str, role: Role, password: str) -> int:
        """A confirmed account made directly in the server's database, for a journey that
        needs someone to act on; the journey itself still signs in through the form."""
        hasher = make_hasher("cheapest")
        with session_scope(self.sessions) as session:
            attach_mailer(session, Mailer(self.settings))
            user = accounts_service.create_user(
                session,
                hasher=hasher,
                email=email,
                name=name,
                role=role,
                password=password,
                confirmed=True,
            )
            return user.id

    def user_id(self, email: str) -> int:
        with session_scope(self.sessions, write=False) as session:
            user = accounts_service.find_user_by_email(session, email)
            assert user is not None, f"no account {email}"
            return user.id

    def role_of(self, email: str) -> Role:
        with session_scope(self.sessions, write=False) as session:
            user = accounts_service.find_user_by_email(session, email)
            assert isinstance(user, User)
            return user.role


def _listening_socket() -> socket.socket:
    """Bound before uvicorn starts, so the port cannot be taken in between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app served by uvicorn in a background thread, on its own database (of the same
    backend as `database_url`) holding the demo data, a copy of the run's demo template as
    loaded (`tests.conftest.DemoTemplate`). Mails land in its outbox."""
    backend = make_url(database_url).get_backend_name()
    folder = tmp_path_factory.mktemp("browser-db")
    var_dir = tmp_path_factory.mktemp(f"browser-var-{backend}")
    sock = _listening_socket()
    port = sock.getsockname()[1]
    with demo_database_copy(backend, folder, tmp_path_factory, var_dir / "outbox") as (
        url,
        _market,
    ):
        settings = make_settings(url, var_dir, base_url=f"http://127.0.0.1:{port}")
        assert settings.outbox_dir == var_dir / "outbox"

        import_all_models()
        demo_engine = make_engine(url)
        sessions = make_sessionmaker(demo_engine)

        app = create_app(settings)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"live-server-{backend}",
            daemon=True,
        )
        thread.start()
        try:
            _wait_until_started(server, thread)
            yield LiveServer(
                base_url=settings.base_url,
                outbox=settings.outbox_dir,
                settings=settings,
                sessions=sessions,
            )
        finally:
            server.should_exit = True
            thread.join(timeout=SERVER_START_SECONDS)
            sock.close()
            app.state.engine.dispose()
            demo_engine.dispose()
        assert not thread.is_alive(), "the live server did not stop"


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    stopped = threading.Event()
    for _ in range(SERVER_START_SECONDS * 20):
        if server.started:
            return
        if not thread.is_alive():
            break
        stopped.wait(0.05)  # a bounded poll of server.started, not a sleep to synchronise on
    pytest.fail(
        "the live server did not start"
        + (" (its thread has died; see the captured log)" if not thread.is_alive() else "")
    )


# --- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file() or not shutil.which(str(CHROMIUM)):
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM}, which is missing. "
            "Install it with `make chromium` (apt-get install -y chromium). "
            "Do not run `playwright install`.",
            pytrace=False,
        )
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except Exception as error:
        pytest.fail(f"Could not start {CHROMIUM} through Playwright: {error}", pytrace=False)
    yield browser
    browser.close()


@dataclass
class PageWatch:
    """What a page reported on its console and as uncaught errors."""

    name: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"[{message.type}] {message.text}")

    def on_page_error(self, error: object) -> None:
        self.errors.append(str(error))

    def problems(self) -> list[str]:
        csp = [
            line
            for line in self.console
            if "Content Security Policy" in line or "Refused to" in line
        ]
        return [f"CSP violation: {line}" for line in csp] + [
            f"page error: {error}" for error in self.errors
        ]


WATCHES = pytest.StashKey[list[PageWatch]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test itself (not its teardown) when a page it drove broke the CSP or threw."""
    result = yield
    problems = [
        f"{watch.name}: {problem}"
        for watch in item.stash.get(WATCHES, [])
        for problem in watch.problems()
    ]
    if problems:
        pytest.fail("The browser reported:\n  " + "\n  ".join(problems), pytrace=False)
    return result


def _watched_page(
    browser: Browser, request: pytest.FixtureRequest, *, javascript: bool, name: str
) -> tuple[BrowserContext, Page]:
    """A page in a fresh browser context (no cookies) whose CSP violations and script
    errors fail the test."""
    context: BrowserContext = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    watch = PageWatch(name)
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    request.node.stash.setdefault(WATCHES, []).append(watch)
    return context, page


def _open_page(
    browser: Browser, request: pytest.FixtureRequest, *, javascript: bool
) -> Iterator[Page]:
    context, page = _watched_page(
        browser, request, javascript=javascript, name="page" if javascript else "page_no_js"
    )
    yield page
    context.close()


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page with JavaScript on, in a fresh browser context (no cookies)."""
    yield from _open_page(browser, request, javascript=True)


@pytest.fixture
def page_no_js(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page with JavaScript off, in a fresh browser context (no cookies)."""
    yield from _open_page(browser, request, javascript=False)


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return request.param


@pytest.fixture
def any_page(javascript: bool, request: pytest.FixtureRequest) -> Page:
    """The journey once with JavaScript on (htmx enhancing the forms) and once with it off."""
    return request.getfixturevalue("page" if javascript else "page_no_js")


@dataclass
class Contexts:
    """Opens another browser context (another person at another computer), with the same
    JavaScript setting, watched like the fixtures' own pages."""

    browser: Browser
    request: pytest.FixtureRequest
    javascript: bool
    _open: list[BrowserContext] = field(default_factory=list)

    def new_page(self, who: str) -> Page:
        context, page = _watched_page(
            self.browser,
            self.request,
            javascript=self.javascript,
            name=f"{who} ({'js' if self.javascript else 'no-js'})",
        )
        self._open.append(context)
        return page

    def close(self) -> None:
        for context in self._open:
            context.close()


@pytest.fixture
def contexts(
    browser: Browser, javascript: bool, request: pytest.FixtureRequest
) -> Iterator[Contexts]:
    """Other people's browsers, with the journey's JavaScript setting."""
    opened = Contexts(browser, request, javascript)
    yield opened
    opened.close()
