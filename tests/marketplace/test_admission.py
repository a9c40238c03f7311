"""A worker lets in as many requests at once as it is set to, in the order they came; the
rest wait holding nothing, health checks are never held, and a request's place is given
back when its answer starts or when it fails."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send

from marketplace.admission import AdmissionGate
from marketplace.settings import ServerSettings
from tests.event_loops import run_in_own_loop


class SlowPages:
    """An ASGI app whose pages each wait for the test to let them answer."""

    def __init__(self) -> None:
        self.working: list[str] = []
        self.started: list[str] = []
        self.answer: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        self.working.append(path)
        self.started.append(path)
        event = self.answer.setdefault(path, asyncio.Event())
        if path == "/fails":
            await event.wait()
            self.working.remove(path)
            raise RuntimeError("the page failed")
        if path != "/healthz":
            await event.wait()
        self.working.remove(path)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def http(path: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "GET", "headers": []}


async def nothing() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def ask(gate: AdmissionGate, path: str, answers: list[Message]) -> None:
    async def send(message: Message) -> None:
        answers.append(message)

    await gate(http(path), nothing, send)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)  # lets every ready task run; no time passes


def test_one_at_a_time_in_the_order_they_came_and_health_checks_never_wait() -> None:
    async def scenario() -> None:
        pages = SlowPages()
        gate = AdmissionGate(pages, at_once=1)
        answers: list[Message] = []
        asked = [asyncio.create_task(ask(gate, f"/page/{n}", answers)) for n in range(3)]
        await settle()
        assert pages.working == ["/page/0"], "the others wait at the door"

        await ask(gate, "/healthz", answers)  # answered while the door is held
        assert answers[-1]["type"] == "http.response.body"

        for n in range(3):
            pages.answer.setdefault(f"/page/{n}", asyncio.Event()).set()
            await settle()
        await asyncio.gather(*asked)
        assert pages.started == ["/page/0", "/healthz", "/page/1", "/page/2"]
        assert [m["status"] for m in answers if m["type"] == "http.response.start"] == [200] * 4

    run_in_own_loop(scenario())


def test_two_at_once_when_set_so() -> None:
    async def scenario() -> None:
        pages = SlowPages()
        gate = AdmissionGate(pages, at_once=2)
        asked = [asyncio.create_task(ask(gate, f"/page/{n}", [])) for n in range(3)]
        await settle()
        assert pages.working == ["/page/0", "/page/1"]
        pages.answer["/page/1"].set()
        await settle()
        assert pages.working == ["/page/0", "/page/2"]
        for event in pages.answer.values():
            event.set()
        await asyncio.gather(*asked)

    run_in_own_loop(scenario())


def test_a_failing_request_gives_its_place_back() -> None:
    async def scenario() -> None:
        pages = SlowPages()
        gate = AdmissionGate(pages, at_once=1)
        failing = asyncio.create_task(ask(gate, "/fails", []))
        waiting = asyncio.create_task(ask(gate, "/page/after", []))
        await settle()
        assert pages.working == ["/fails"]
        pages.answer["/fails"].set()
        with pytest.raises(RuntimeError):
            await failing
        await settle()
        assert pages.working == ["/page/after"]
        pages.answer["/page/after"].set()
        await waiting

    run_in_own_loop(scenario())


def test_the_setting_allows_at_least_one() -> None:
    assert ServerSettings().requests_at_once == 1
    with pytest.raises(ValidationError):
        ServerSettings(requests_at_once=0)
