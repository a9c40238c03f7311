"""How many requests a worker process works on at once: the rest wait at the door, in the
order they came, holding nothing (no thread, no database connection, no lock).

Python runs one thread of a process at a time. Requests let in together take turns on
that one lock, and a thread that hands it over to wait for the database waits again, up
to the interpreter's switch interval, for whichever thread holds it to give it back; so
every page waits on every other, and the worker gets less done. Measured with `sds-market
bench pages`' mix at 50 users on the 2-core development machine (PostgreSQL, 100,000
offers, two workers): 125 pages a second and a search's p95 of 670 to 770 ms with
FastAPI's 40 threads a worker, 150 and 410 to 450 ms with 4, 215 and 300 to 350 ms with
one request at a time. Health and readiness checks are not held at the door: they must answer
while a worker is busy."""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOT_HELD = frozenset({"/healthz", "/readyz"})


class AdmissionGate:
    """ASGI middleware letting `at_once` HTTP requests in at a time. A request's place is
    given up when its answer starts, so a long download does not hold the door."""

    def __init__(self, app: ASGIApp, *, at_once: int) -> None:
        if at_once < 1:
            raise ValueError("at least one request at a time")
        self.app = app
        self.at_once = at_once
        # One semaphore per event loop: an asyncio primitive belongs to the loop it is
        # first used in, and tests run the same app in several.
        self._doors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._doors = weakref.WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NOT_HELD:
            await self.app(scope, receive, send)
            return
        door = self._door()
        await door.acquire()
        inside = True

        def leave() -> None:
            nonlocal inside
            if inside:
                inside = False
                door.release()

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, answering)
        finally:
            leave()

    def _door(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        door = self._doors.get(loop)
        if door is None:
            door = self._doors[loop] = asyncio.Semaphore(self.at_once)
        return door
