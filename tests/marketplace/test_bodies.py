"""Bounded bodies: a request larger than its route accepts is refused with 413 before the app
reads it, whether it declares its length or streams chunks, and before any CSRF check."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from marketplace.bodies import FORM_MAX_BYTES
from providers import photos
from tests.event_loops import run_in_own_loop
from tests.helpers import check_page

CHUNK = b"a" * 1024


class Sender:
    """A request body sent in 1 KB chunks, counting how many the server pulled."""

    def __init__(self, chunks: int, *, opening: bytes = b"") -> None:
        self.chunks = chunks
        self.opening = opening
        self.pulled = 0

    async def body(self) -> AsyncIterator[bytes]:
        if self.opening:
            yield self.opening
        for _ in range(self.chunks):
            self.pulled += 1
            yield CHUNK


def post(app: FastAPI, path: str, sender: Sender, headers: dict[str, str]) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post(path, content=sender.body(), headers=headers)

    return run_in_own_loop(send())


FORM = {"content-type": "application/x-www-form-urlencoded"}


class TestStreamedBodies:
    def test_a_chunked_form_past_the_limit_is_cut_off_with_413(self, app: FastAPI) -> None:
        sender = Sender(chunks=1000)  # 1 MB, no Content-Length: sent chunked
        response = post(app, "/sign-in", sender, FORM)
        # 413, not the CSRF refusal's 403: the limit is met before the form is read.
        assert response.status_code == 413
        assert sender.pulled <= FORM_MAX_BYTES // len(CHUNK) + 1
        assert "larger than this page accepts (64 KB)" in check_page(response.text).get_text()

    def test_a_small_chunked_form_still_reaches_the_csrf_check(self, app: FastAPI) -> None:
        sender = Sender(chunks=3)
        assert post(app, "/sign-in", sender, FORM).status_code == 403
        assert sender.pulled == 3


class TestDeclaredLengths:
    def test_a_declared_length_past_the_limit_is_refused_unread(self, app: FastAPI) -> None:
        sender = Sender(chunks=100)
        response = post(app, "/sign-in", sender, {**FORM, "content-length": str(100 * 1024)})
        assert response.status_code == 413
        assert sender.pulled == 0

    def test_the_api_answers_in_json(self, app: FastAPI) -> None:
        sender = Sender(chunks=100)
        headers = {"content-type": "application/json", "content-length": str(100 * 1024)}
        response = post(app, "/api/v1/me", sender, headers)
        assert response.status_code == 413
        assert response.json()["error"] == "BodyTooLarge"
        assert sender.pulled == 0


class TestUploadRoutes:
    MULTIPART = {"content-type": "multipart/form-data; boundary=x"}
    # A well-formed start of a file part, so the upload is parsed as it streams in.
    FILE_PART = (
        b'--x\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    )

    def test_an_upload_route_accepts_more_than_a_form(self, app: FastAPI) -> None:
        # 1 MB is within the photo route's declared limit: the request goes on to the upload's
        # own CSRF check (which refuses it: no token), instead of a 413.
        sender = Sender(chunks=1024, opening=self.FILE_PART)
        length = len(self.FILE_PART) + 1024 * 1024
        response = post(
            app, "/provider/photo", sender, {**self.MULTIPART, "content-length": str(length)}
        )
        assert response.status_code in (400, 403)
        assert sender.pulled > 0

    def test_but_not_past_its_own_limit(self, app: FastAPI) -> None:
        chunks = (photos.UPLOAD_MAX_BYTES + FORM_MAX_BYTES) // len(CHUNK) + 10
        sender = Sender(chunks=chunks, opening=self.FILE_PART)
        response = post(app, "/provider/photo", sender, self.MULTIPART)
        assert response.status_code == 413
        assert sender.pulled < chunks
        assert "(10 MB)" in response.text


def read_until_closed(connection: socket.socket) -> bytes:
    """The whole answer: the server closes the connection after a 413, resetting it when
    part of the body was never read (which is the point)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


class TestThroughARealServer:
    """The same refusals through uvicorn and a raw socket, as a script would send them."""

    @pytest.fixture
    def port(self, app: FastAPI) -> Iterator[int]:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started = threading.Event()
        for _ in range(200):
            if server.started:
                break
            started.wait(0.05)  # a bounded poll of server.started, not a sleep to synchronise on
        assert server.started
        yield sock.getsockname()[1]
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    def test_a_chunked_flood_is_answered_413(self, port: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(
                b"POST /sign-in HTTP/1.1\r\nHost: testserver\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            sent = 0
            # Up to 1 MB in 1 KB chunks, stopping as soon as the server answers (a short
            # wait for an answer between chunks gives the server's thread its turn).
            while sent < 1000 and not select.select([connection], [], [], 0.005)[0]:
                connection.sendall(b"400\r\n" + CHUNK + b"\r\n")
                sent += 1
            answer = read_until_closed(connection)
        assert sent < 1000, "the server answered before the whole body was sent"
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"connection: close" in answer.lower()

    def test_a_declared_length_is_answered_before_the_body_is_sent(self, port: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(
                b"POST /api/v1/me HTTP/1.1\r\nHost: testserver\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
            )
            answer = read_until_closed(connection)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b'"error":"BodyTooLarge"' in answer
