"""Bounded bodies: a request larger than its route accepts is refused with 413 before the app
reads it, whether it declares its length or streams chunks, and before any CSRF check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from marketplace.bodies import FORM_MAX_BYTES
from providers import photos
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

    return asyncio.run(send())


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
        response = post(app, "/provider/photo", sender, {**self.MULTIPART, "content-length": str(length)})
        assert response.status_code in (400, 403)
        assert sender.pulled > 0

    def test_but_not_past_its_own_limit(self, app: FastAPI) -> None:
        chunks = (photos.UPLOAD_MAX_BYTES + FORM_MAX_BYTES) // len(CHUNK) + 10
        sender = Sender(chunks=chunks, opening=self.FILE_PART)
        response = post(app, "/provider/photo", sender, self.MULTIPART)
        assert response.status_code == 413
        assert sender.pulled < chunks
        assert "(10 MB)" in response.text
