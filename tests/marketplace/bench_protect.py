"""Small-number protection on the demo's market-gaps views, before and after a change, in
one run: `PYTHONPATH=. .venv/bin/python tests/marketplace/bench_protect.py --against REV`.

It loads the demo into a temporary SQLite database (or reads `--database URL`, which must
hold it), records every call the market-gaps views make to `marketplace.suppression.protect`
(the dashboard's first drawing, then every kind of support's view), and times
`marketplace/suppression.py` as it is against the same file at git revision REV, taking
turns on each call, `--runs` times, keeping each call's median, and says whether both hide
exactly the same figures. It also counts what each hides over the views, each with its own
earlier views (every view is protected against the ones it can be set against, so a
change of rule changes the later calls): the figures hidden, the views that end in the
fall-back (every figure that is not zero hidden, though not every one is small) and those
where the whole table's total (Scotland's) is hidden. `--busy N` keeps N other processes
spinning meanwhile, as tests running beside it do. Prints one JSON line. A script, not a
test: pytest collects `test_*.py`."""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

import matching.gaps.report as report
from marketplace.accounts.passwords import make_hasher
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.demo import load_demo
from marketplace.mail import Mailer, attach_mailer
from marketplace.migrate import upgrade
from marketplace.models import import_all_models
from marketplace.suppression import Protected, protect
from matching.gaps.report import GapFilter, UnmetViews
from matching.gaps.service import gap_figures
from matching.index import OfferIndex
from tests.conftest import make_settings

Call = tuple[np.ndarray, list[list[int]], int, list[Any]]


def before(revision: str, folder: Path) -> ModuleType:
    """marketplace/suppression.py as it was at `revision`, imported under its own name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:marketplace/suppression.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = folder / "suppression_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("suppression_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["suppression_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def recorded_calls(
    url: str, protecting: Callable[..., Any] = protect
) -> tuple[list[Call], list[Any], int]:
    """Every protect call of the dashboard's first drawing (its default view), then of each
    kind of support's view, made with `protecting`; what each returned; and how many the
    first drawing made."""
    calls: list[Call] = []
    results: list[Any] = []
    kept = report.protect

    def recording(
        counts: Sequence[int] | NDArray[np.int64],
        groups: Sequence[Sequence[int]],
        *,
        threshold: int = 10,
        earlier: Sequence[Protected] = (),
    ) -> Protected:
        calls.append((np.array(counts), [list(g) for g in groups], threshold, list(earlier)))
        results.append(protecting(counts, groups, threshold=threshold, earlier=earlier))
        return results[-1]

    report.protect = recording
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine), write=False) as session:
            index = OfferIndex()
            index.refresh(session)
            figures = gap_figures(session, index=index)
            views = UnmetViews(session, figures, today=date.today(), threshold=10)
            views.of(GapFilter())
            first = len(calls)
            for kind_id in figures.kind_ids:
                views.of(GapFilter(kind_id=int(kind_id)))
    finally:
        report.protect = kept
        engine.dispose()
    return calls, results, first


def demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            attach_mailer(session, Mailer(make_settings(url, folder / "var")))
            load_demo(session, hasher=make_hasher("cheapest"))
    finally:
        engine.dispose()
    return url


def timed(function: Callable[..., Any], call: Call) -> tuple[float, Any]:
    counts, groups, threshold, earlier = call
    start = time.perf_counter()
    result = function(counts, groups, threshold=threshold, earlier=earlier)
    return time.perf_counter() - start, result


def hidden_counts(name: str, calls: list[Call], results: list[Any], first: int) -> dict[str, int]:
    """What one revision hid over the views, each protected against its own earlier ones."""
    hidden = fall_backs = first_fall_backs = whole_hidden = 0
    for number, ((counts, groups, threshold, _), result) in enumerate(
        zip(calls, results, strict=True)
    ):
        values = np.concatenate([result.counts, result.totals])
        hides = np.concatenate([result.cells, result.groups])
        hidden += int(hides.sum())
        non_zero = values > 0
        if hides[non_zero].all() and (values[non_zero] >= threshold).any():
            fall_backs += 1
            first_fall_backs += number < first
        whole = [k for k, members in enumerate(groups) if len(set(members)) == counts.size]
        whole_hidden += bool(result.groups[whole].any())
    return {
        f"hidden_{name}": hidden,
        f"fall_backs_{name}": fall_backs,
        f"first_drawing_fall_backs_{name}": first_fall_backs,
        f"whole_total_hidden_{name}": whole_hidden,
    }


def spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the git revision to compare with")
    parser.add_argument("--database", help="a database holding the demo (default: load one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", type=int, default=0, help="processes spinning meanwhile")
    arguments = parser.parse_args()
    import_all_models()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        old = before(arguments.against, folder)
        url = arguments.database or demo_database(folder)
        calls, results, first = recorded_calls(url)
        _, results_before, first_before = recorded_calls(url, old.protect)
        assert first_before == first
        spinners = [
            multiprocessing.Process(target=spin, daemon=True) for _ in range(arguments.busy)
        ]
        for spinner in spinners:
            spinner.start()
        try:
            old_s, new_s, same = [], [], True
            for call in calls:
                olds, news = [], []
                for _ in range(arguments.runs):
                    seconds, was = timed(old.protect, call)
                    olds.append(seconds)
                    seconds, now = timed(protect, call)
                    news.append(seconds)
                same &= bool(
                    np.array_equal(was.cells, now.cells) and np.array_equal(was.groups, now.groups)
                )
                old_s.append(statistics.median(olds))
                new_s.append(statistics.median(news))
        finally:
            for spinner in spinners:
                spinner.terminate()
    print(
        json.dumps(
            {
                "bench": "protect",
                "against": arguments.against,
                "cells": int(calls[0][0].size),
                "groups": len(calls[0][1]),
                "calls": len(calls),
                "first_drawing_calls": first,
                "busy": arguments.busy,
                "runs": arguments.runs,
                "first_drawing_old_ms": round(1000 * sum(old_s[:first]), 1),
                "first_drawing_new_ms": round(1000 * sum(new_s[:first]), 1),
                "first_drawing_ratio": round(sum(old_s[:first]) / sum(new_s[:first]), 1),
                "all_views_old_ms": round(1000 * sum(old_s), 1),
                "all_views_new_ms": round(1000 * sum(new_s), 1),
                "all_views_ratio": round(sum(old_s) / sum(new_s), 1),
                "slowest_old_ms": round(1000 * max(old_s), 1),
                "slowest_new_ms": round(1000 * max(new_s), 1),
                "same_hidden_figures": same,
                **hidden_counts("old", calls, results_before, first),
                **hidden_counts("new", calls, results, first),
            }
        )
    )


if __name__ == "__main__":
    main()
