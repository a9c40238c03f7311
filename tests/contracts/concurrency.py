"""Requests released at the same moment, each in a thread of its own, for tests of what
writers running side by side may and may not do."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable


def all_at_once(count: int, work: Callable[[int], object]) -> Counter[str]:
    """Run `work(0..count-1)` in `count` threads released together by a barrier; count
    what each returns (as text), or the name of what it raised and why."""
    start = threading.Barrier(count)
    outcomes: list[str] = []

    def run(n: int) -> None:
        start.wait()
        try:
            outcomes.append(str(work(n)))
        except Exception as error:  # counted, so the assertion shows which and how often
            outcomes.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)
