"""The load driver of `sds-market bench pages`, run as its own process so that timing the
server never shares an event loop (or the GIL) with it:

    python -m matching.page_load PLAN.json

The plan names the server, the users (concurrent clients, no think time), how long to
warm up and to measure, and the addresses of each kind of page with its weight. Each user
keeps one connection open for every kind of page it asks for and asks for the next address
as soon as the last answer has fully arrived. It prints one JSON line: per kind, the
answers counted in the measured window, their rate, percentiles of the whole wait, and any
answer that was not 200."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from marketplace.parsing import ascii_whole_number


@dataclass(frozen=True)
class Plan:
    base_url: str
    users: int
    warm_up_s: float
    measure_s: float
    addresses: dict[str, list[str]]
    """Kind of page -> addresses to ask for, taken in turn at random."""
    weights: dict[str, int]
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    """Kind of page -> the cookies of a signed-in session it needs (the commissioner's)."""
    seed: int = 1
    server_pids: list[int] = field(default_factory=list)
    """The server's worker processes: the CPU time they spend in the measured window is
    shared among its answers, a figure that a busy machine's noise moves less than a rate."""


@dataclass
class Tally:
    waits_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )


MAX_BODY_BYTES = 64 * 1024 * 1024
"""No page the bench asks for comes near this; an answer claiming more is a broken one."""
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]{1,8})(;[^\r\n]*)?\r\n")


def _bounded(number: int | None) -> int:
    """A number read from the answer, or ValueError (counted as a failed answer)."""
    if number is None:
        raise ValueError("the server's answer is not HTTP/1.1 as the driver reads it")
    return number


def _chunk_size(line: bytes) -> int:
    found = _CHUNK_SIZE.fullmatch(line)
    return _bounded(int(found[1], 16) if found else None)


class Connection:
    """One kept-alive HTTP/1.1 connection asking for pages in turn, keeping the cookies the
    server sets as a browser would: all a user of the bench needs, at a fraction of a
    general client's CPU a request, which on a small machine is CPU the server would lose."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies = dict(cookies or {})
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, address: str, cookies: dict[str, str] | None = None) -> int:
        """Ask for `address` and read the whole answer; its status. The cookies sent, and
        set by the answer, are `cookies` when given (a user's jar for one kind of page),
        else the connection's own."""
        jar = self.cookies if cookies is None else cookies
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"GET {address} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: text/html"]
        if jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *header_lines = head[:-4].split("\r\n")
        length, chunked, close = 0, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = _bounded(ascii_whole_number(value, low=0, high=MAX_BODY_BYTES))
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                close = value.lower() == "close"
            elif name == "set-cookie":
                pair = value.split(";", 1)[0]
                cookie_name, _, cookie_value = pair.partition("=")
                jar[cookie_name.strip()] = cookie_value.strip()
        if chunked:
            while size := _chunk_size(await self.reader.readuntil(b"\r\n")):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")  # the end of the (empty) trailers
        elif length:
            await self.reader.readexactly(length)
        if close:
            await self.close()
        return _bounded(ascii_whole_number(status_line[9:12], low=100, high=599))

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _user(plan: Plan, number: int, start: float, tally: Tally) -> None:
    rng = random.Random(plan.seed * 1_000 + number)
    kinds = list(plan.weights)
    weights = [plan.weights[kind] for kind in kinds]
    measure_from = start + plan.warm_up_s
    stop_at = measure_from + plan.measure_s
    # One connection a user, as a browser keeps one to a site, so that every kind of page a
    # user asks for queues at the same worker and the kinds' waits can be compared; each
    # kind keeps its own cookies (the gap pages' are a commissioner's session).
    connection = Connection(plan.base_url, None)
    jars = {kind: dict(plan.cookies.get(kind, {})) for kind in kinds}
    try:
        while time.perf_counter() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            address = rng.choice(plan.addresses[kind])
            began = time.perf_counter()
            try:
                outcome = str(await connection.get(address, jars[kind]))
            except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                outcome = type(error).__name__
                await connection.close()
            ended = time.perf_counter()
            if began >= measure_from and ended <= stop_at:
                tally.waits_ms[kind].append((ended - began) * 1000)
                if outcome != "200":
                    tally.failures[kind][outcome] += 1
    finally:
        await connection.close()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far, as Linux counts it."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            # After the command's closing parenthesis: state is field 3, utime 14, stime 15.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def _server_cpu_in_window(plan: Plan, start: float) -> float:
    """The server's CPU seconds between the measured window's start and end (a timer, not
    a wait for something to happen)."""
    await asyncio.sleep(max(0.0, start + plan.warm_up_s - time.perf_counter()))
    before = cpu_seconds(plan.server_pids)
    await asyncio.sleep(max(0.0, start + plan.warm_up_s + plan.measure_s - time.perf_counter()))
    return cpu_seconds(plan.server_pids) - before


async def drive(plan: Plan) -> dict[str, Any]:
    tally = Tally()
    start, cpu_start = time.perf_counter(), time.process_time()
    server_cpu = asyncio.ensure_future(_server_cpu_in_window(plan, start))
    await asyncio.gather(*(_user(plan, number, start, tally) for number in range(plan.users)))
    answers = sum(len(waits) for waits in tally.waits_ms.values())
    report: dict[str, Any] = {
        "users": plan.users,
        "seconds": plan.measure_s,
        # The share of one core the driver itself took, which the server did not have.
        "driver_cpu_share": round(
            (time.process_time() - cpu_start) / (time.perf_counter() - start), 3
        ),
        "server_cpu_ms_per_answer": round(await server_cpu * 1000 / answers, 3)
        if plan.server_pids and answers
        else None,
    }
    for kind in plan.weights:
        waits = tally.waits_ms.get(kind, [])
        report[kind] = {
            "count": len(waits),
            "rps": round(len(waits) / plan.measure_s, 1),
            "p50_ms": round(float(np.percentile(waits, 50)), 1) if waits else None,
            "p95_ms": round(float(np.percentile(waits, 95)), 1) if waits else None,
            "failures": dict(tally.failures.get(kind, {})),
        }
    return report


def main(argv: list[str]) -> None:
    raw = json.loads(Path(argv[1]).read_text())
    plan = Plan(**raw)
    try:
        import uvloop  # uvicorn[standard] brings it: a lighter driver leaves more CPU to serve

        report = uvloop.run(drive(plan))
    except ImportError:
        report = asyncio.run(drive(plan))
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv)
