"""Many people opening audited pages at once, against a real server on a SQLite file: every
GET that writes (an audited read) opens a write transaction and waits its turn instead of
failing with "database is locked"; a GET that writes without saying so is refused."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import audit
from marketplace.accounts.models import Role
from marketplace.app import create_app
from marketplace.audit import AuditAction, AuditEvent
from marketplace.db import WriteInReadTransaction, make_engine, make_sessionmaker, session_scope
from marketplace.deps import DbSession, audited
from marketplace.migrate import upgrade
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user
from tests.helpers import CSRF_COOKIE, HtmlClient

PEOPLE = 24


class LiveServer:
    """The app served by uvicorn in a thread, on a socket bound before it starts, so
    clients can connect at once (the kernel queues them until the server accepts)."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]})

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.socket.close()


@pytest.fixture
def sqlite_file_app(tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    upgrade(url)
    app = create_app(make_settings(url, tmp_path / "var", base_url="http://127.0.0.1"))
    yield app, url
    app.state.engine.dispose()


def sign_in(base_url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=120)
    client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"csrftoken": client.cookies[CSRF_COOKIE], "email": email, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text[:500]
    return client


def test_two_dozen_people_open_audited_pages_at_once(sqlite_file_app: tuple[FastAPI, str]) -> None:
    app, url = sqlite_file_app
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        people = [make_user(session).email for _ in range(PEOPLE - 4)]
        admins = [make_user(session, role=Role.ADMIN).email for _ in range(4)]
    pages = ["/account"] * len(people) + [
        "/admin/users",
        "/admin/reviews",
        "/account",
        "/admin/users",
    ]

    with LiveServer(app) as live:
        base_url = f"http://127.0.0.1:{live.port}"
        clients = [sign_in(base_url, email) for email in people + admins]
        start = threading.Barrier(PEOPLE)
        statuses: list[int] = []

        def open_page(client: httpx.Client, path: str) -> None:
            start.wait()
            statuses.append(client.get(path).status_code)

        threads = [
            threading.Thread(target=open_page, args=pair)
            for pair in zip(clients, pages, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()

    assert sorted(statuses) == [200] * PEOPLE
    with Session(engine) as session:
        views = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == AuditAction.RECORD_VIEWED)
        )
        assert views == PEOPLE
        assert audit.verify(session).intact
    engine.dispose()


def test_a_get_that_writes_must_be_marked(app: FastAPI, db: Session) -> None:
    @app.get("/test-unmarked-write")
    def unmarked(request: Request, session: DbSession) -> PlainTextResponse:
        audit.record(session, actor=None, action=AuditAction.SIGN_IN_FAILED)
        return PlainTextResponse("written")

    @app.get("/test-unmarked-flush")
    def unmarked_flush(request: Request, session: DbSession) -> PlainTextResponse:
        session.add(
            AuditEvent(action=AuditAction.SIGN_IN_FAILED, prev_hash="0" * 64, hash="0" * 64)
        )
        session.flush()
        return PlainTextResponse("written")

    @app.get("/test-marked-write")
    @audited
    def marked(request: Request, session: DbSession) -> PlainTextResponse:
        audit.record(session, actor=None, action=AuditAction.SIGN_IN_FAILED)
        return PlainTextResponse("written")

    with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as client:
        with pytest.raises(WriteInReadTransaction):
            client.get("/test-unmarked-write")
        with pytest.raises(WriteInReadTransaction):
            client.get("/test-unmarked-flush")
        assert client.get("/test-marked-write").text == "written"
