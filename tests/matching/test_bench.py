"""`sds-market bench match` runs end to end (at a small size here; the figures in the README
come from the full run) and its naive loop finds exactly the offers the matcher finds."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from marketplace.cli import app


def test_the_benchmark_prints_its_one_json_line() -> None:
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "match",
            "--offers",
            "3000",
            "--naive-offers",
            "1500",
            "--queries",
            "30",
            "--naive-queries",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    line = next(line for line in reversed(result.stdout.splitlines()) if line.startswith("{"))
    figures = json.loads(line)
    assert list(figures)[:8] == [
        "bench",
        "offers",
        "p50_ms",
        "p95_ms",
        "naive_offers",
        "speedup_vs_naive",
        "scan_p95_ms",
        "queries",
    ]
    assert (figures["bench"], figures["offers"], figures["naive_offers"], figures["queries"]) == (
        "match",
        3000,
        1500,
        30,
    )
    assert figures["same_reach_as_naive"] is True
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
