"""The access log keeps paths, never query strings or mailed tokens: checked on the records
a real uvicorn server writes."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from marketplace.logs import ACCESS_LOGGER, StripQueryFilter, redact_target


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def served(app: FastAPI) -> Iterator[tuple[str, Keep]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=True, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(200):
        if server.started:
            break
        started.wait(0.05)  # a bounded poll of server.started
    keep = Keep()
    logging.getLogger(ACCESS_LOGGER).addHandler(keep)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", keep
    finally:
        logging.getLogger(ACCESS_LOGGER).removeHandler(keep)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_searches_and_tokens_reach_the_access_log_without_their_query_or_token(
    served: tuple[str, Keep],
) -> None:
    base, keep = served
    with httpx.Client(base_url=base) as client:
        client.get(
            "/find-support", params={"q": "dementia personal care", "lat": "55.95", "lon": "-3.19"}
        )
        client.get("/confirm-email", params={"token": "SECRET-CONFIRM-TOKEN"})
        client.get("/password-reset/SECRET-OLD-STYLE-TOKEN")
    log = "\n".join(keep.lines)
    assert '"GET /find-support HTTP/1.1"' in log
    assert '"GET /confirm-email HTTP/1.1"' in log
    for secret in (
        "dementia",
        "55.95",
        "-3.19",
        "SECRET-CONFIRM-TOKEN",
        "SECRET-OLD-STYLE-TOKEN",
        "?",
    ):
        assert secret not in log


def test_the_filter_rewrites_a_record_as_uvicorn_makes_it() -> None:
    record = logging.LogRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5555", "GET", "/provider/join/abc123?next=/x", "1.1", 200),
        None,
    )
    assert StripQueryFilter().filter(record)
    assert record.getMessage() == '10.0.0.1:5555 - "GET /provider/join/… HTTP/1.1" 200'
    assert redact_target("/password-reset?token=x") == "/password-reset"
