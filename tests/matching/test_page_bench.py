"""`sds-market bench pages` runs end to end against a real server (at a small size and
for seconds here; the README's figures come from the full run on PostgreSQL): every page
it drives answers 200 (the money side's, signed in, among them), and it refuses to build
its market over a database holding another. Marked slow: it starts server processes and loads them for a minute."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from marketplace.cli import app

pytestmark = pytest.mark.slow


def run_bench(*options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["bench", "pages", *options])
    return result.exit_code, result.output


def test_the_benchmark_drives_every_page_and_prints_its_line(cli_database: str) -> None:
    code, output = run_bench(
        "--offers", "400", "--workers", "2", "--seconds", "2", "--warm-up", "0.5"
    )
    assert code == 0, output
    figures = json.loads(
        next(line for line in reversed(output.splitlines()) if line.startswith("{"))
    )
    assert (figures["bench"], figures["offers"], figures["workers"]) == ("pages", 400, 2)
    assert figures["failures"] == {}, "every page answered 200"
    assert figures["search_rps"] > 0 and figures["healthz_rps"] > 0
    # The workers' CPU time per answer, and the ratio read from it.
    assert figures["search_cpu_ms"] > 0 and figures["healthz_cpu_ms"] > 0
    assert figures["cpu_ratio_search_to_healthz"] == pytest.approx(
        figures["healthz_cpu_ms"] / figures["search_cpu_ms"], abs=0.001
    )
    assert 0 < figures["search_p50_ms"] <= figures["search_p95_ms"]
    assert 0 < figures["offer_p50_ms"] <= figures["offer_p95_ms"]
    assert 0 < figures["search_p50_ms_mixed"] <= figures["search_p95_ms_mixed"]
    assert figures["sql_per_search"] > 0 and figures["ready_after_start_s"] > 0
    # The bench writes the index's snapshot first, as a deploy does, and the workers map it.
    assert figures["index_build_s"] > 0 and figures["worker_index_from"] == "snapshot"
    assert figures["worker_index_load_s"] is not None
    # The money side's pages, signed in as the demo's budget holder, answered 200 too.
    for kind in ("statement", "queue"):
        assert 0 < figures[f"{kind}_p50_ms"] <= figures[f"{kind}_p95_ms"]

    again, output = run_bench("--offers", "500", "--seconds", "1")
    assert again != 0 and "holds 400 published offers" in output
