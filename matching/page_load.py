"""The load driver of `sds-market bench pages`, run as its own process so that timing the
server never shares an event loop (or the GIL) with it:

    python -m matching.page_load PLAN.json

The plan names the server, the users (concurrent clients, no think time), how long to
warm up and to measure, and the addresses of each kind of page with its weight. Each user
keeps one connection open and asks for the next address as soon as the last answer has
fully arrived. It prints one JSON line: per kind, the answers counted in the measured
window, their rate, percentiles of the whole wait, and any answer that was not 200."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


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


@dataclass
class Tally:
    waits_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )


async def _user(plan: Plan, number: int, start: float, tally: Tally) -> None:
    import httpx  # the test extra's, as for the other benches

    rng = random.Random(plan.seed * 1_000 + number)
    kinds = list(plan.weights)
    weights = [plan.weights[kind] for kind in kinds]
    measure_from = start + plan.warm_up_s
    stop_at = measure_from + plan.measure_s
    clients = {
        kind: httpx.AsyncClient(
            base_url=plan.base_url,
            cookies=plan.cookies.get(kind),
            timeout=60.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=False,
        )
        for kind in kinds
    }
    try:
        while time.perf_counter() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            address = rng.choice(plan.addresses[kind])
            began = time.perf_counter()
            try:
                response = await clients[kind].get(address)
                outcome = str(response.status_code)
            except httpx.HTTPError as error:
                outcome = type(error).__name__
            ended = time.perf_counter()
            if began >= measure_from and ended <= stop_at:
                tally.waits_ms[kind].append((ended - began) * 1000)
                if outcome != "200":
                    tally.failures[kind][outcome] += 1
    finally:
        for client in clients.values():
            await client.aclose()


async def drive(plan: Plan) -> dict[str, Any]:
    tally = Tally()
    start = time.perf_counter()
    await asyncio.gather(*(_user(plan, number, start, tally) for number in range(plan.users)))
    report: dict[str, Any] = {"users": plan.users, "seconds": plan.measure_s}
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
