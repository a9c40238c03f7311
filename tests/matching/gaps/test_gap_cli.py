"""`sds-market gaps report`, run as a commissioner's analyst would against a database of
its own: one row per Highland place for a kind of support, in JSON or CSV with the same
rows; every kind when none is named; small counts protected as the pages protect them;
the progress bar on standard error, so standard output is only the data; and unknown
councils, kinds and periods refused with a message saying what was wrong."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import Engine
from typer.testing import CliRunner

from marketplace.cli import app
from marketplace.db import make_engine, make_sessionmaker, session_scope, today
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import get_settings
from tests.conftest import fresh_database
from tests.factories import make_offer, make_provider
from tests.matching.gaps.gap_builders import (
    counted_places,
    one_offer_hours_per_1000,
    settlement,
    unmet,
)

runner = CliRunner()
KEYS = [
    "place",
    "council",
    "urban_rural_6",
    "urban_rural_8",
    "population",
    "support",
    "accessibility_hours_per_1000",
    "providers_in_reach",
    "unmet_searches",
]


def gaps(*args: str) -> Result:
    return runner.invoke(app, ["gaps", "report", *args])


def rows_of(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def market(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The command's database (one for the module: the report only reads), upgraded, with
    personal care from Lairg reaching Lairg alone, 3 searches for it at Lairg and 20 at
    Ullapool (so Ullapool's would give Lairg's away), and 12 for help at home at Portree
    with 15 more there too long ago for the default three months. Yields what the checks
    need to know. The command finds it through the environment, as cli_database does."""
    folder = tmp_path_factory.mktemp("gaps-cli")
    with fresh_database(backend, folder) as url, pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("SDS_VAR_DIR", str(folder / "var"))
        get_settings.cache_clear()
        try:
            yield built(url)
        finally:
            get_settings.cache_clear()


def built(url: str) -> dict[str, Any]:
    """Upgrade the database and set the market up in it, committed, as a user would."""
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine: Engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        attach_mailer(session, Mailer(get_settings()))
        make_offer(
            session,
            provider=make_provider(session, base="Lairg", name="Lairg Home Care"),
            radius_km=15,
            capacity_hours=20,
        )
        unmet(session, "Lairg", 3)
        unmet(session, "Ullapool", 20)
        unmet(session, "Portree", 12, kinds=("help-at-home",))
        unmet(session, "Portree", 15, kinds=("help-at-home",), on=today() - timedelta(days=200))
        highland = {place.label: place.residents for place in counted_places(session, "Highland")}
        lairg_hours = one_offer_hours_per_1000(
            session, hours=20, base=settlement(session, "Lairg"), radius_km=15
        )
    engine.dispose()
    return {"highland": highland, "lairg_hours_per_1000": lairg_hours}


def test_one_json_row_per_highland_place_with_protected_counts(market: Any) -> None:
    result = gaps("--council", "Highland", "--support", "personal-care", "--format", "json")
    rows = rows_of(result)
    hours = [row["accessibility_hours_per_1000"] for row in rows]
    assert hours == sorted(hours) and hours[-1] > 0, "fewest hours first, as on the page"
    assert sorted(row["place"] for row in rows) == sorted(market["highland"])
    assert all(list(row)[: len(KEYS)] == KEYS for row in rows)
    assert {(row["council"], row["support"]) for row in rows} == {("Highland", "Personal care")}
    assert {row["place"]: row["population"] for row in rows} == market["highland"]

    by_place = {row["place"]: row for row in rows}
    lairg, ullapool, portree = by_place["Lairg"], by_place["Ullapool"], by_place["Portree"]
    assert (lairg["urban_rural_6"], lairg["urban_rural_8"]) == (
        "Remote rural area",
        "Very remote rural area",
    )
    assert lairg["providers_in_reach"] == 1 and ullapool["providers_in_reach"] == 0
    assert lairg["accessibility_hours_per_1000"] == pytest.approx(
        market["lairg_hours_per_1000"], abs=0.001
    )
    assert ullapool["accessibility_hours_per_1000"] == 0
    assert lairg["unmet_searches"] == "fewer than 10"
    assert ullapool["unmet_searches"] == "not shown", "20 beside Highland's 23 would tell Lairg's 3"
    assert portree["unmet_searches"] == 0, "Portree's searches were for help at home"

    # The progress bar is on standard error: standard output parsed alone, above.
    assert "Kinds of support" in result.stderr and "Kinds of support" not in result.stdout

    # The same rows as CSV, header first.
    exported = gaps("--council", "Highland", "--support", "personal-care", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    reader = csv.DictReader(io.StringIO(exported.stdout))
    assert reader.fieldnames is not None and reader.fieldnames[: len(KEYS)] == KEYS
    assert list(reader) == [{key: str(value) for key, value in row.items()} for row in rows]


def test_counts_shown_in_full_where_nothing_small_is_near_and_over_the_period_asked(
    market: Any,
) -> None:
    help_at_home = {
        row["place"]: row
        for row in rows_of(
            gaps("--council", "Highland", "--support", "help-at-home", "--format", "json")
        )
    }
    assert help_at_home["Portree"]["unmet_searches"] == 12
    assert help_at_home["Lairg"]["providers_in_reach"] == 0

    def portree(period: str) -> object:
        rows = rows_of(
            gaps(
                "--council",
                "Highland",
                "--support",
                "help-at-home",
                "--period",
                period,
                "--format",
                "json",
            )
        )
        return next(row["unmet_searches"] for row in rows if row["place"] == "Portree")

    assert (portree("30"), portree("91"), portree("365")) == (12, 12, 27)


def test_the_same_council_by_code_and_the_kind_by_name(market: Any) -> None:
    by_name = rows_of(
        gaps("--council", "Highland", "--support", "personal-care", "--format", "json")
    )
    by_code = rows_of(
        gaps("--council", "S12000017", "--support", "Personal care", "--format", "json")
    )
    assert by_code == by_name


def test_without_a_kind_every_place_for_every_kind(market: Any) -> None:
    rows = rows_of(gaps("--council", "Highland", "--format", "json"))
    kinds = list(dict.fromkeys(row["support"] for row in rows))
    assert len(kinds) == 10 and {"Personal care", "Help at home"} <= set(kinds)
    assert len(rows) == len(market["highland"]) * len(kinds)
    assert {(row["place"], row["support"]) for row in rows} == {
        (place, kind) for place in market["highland"] for kind in kinds
    }
    by_pair = {(row["place"], row["support"]): row for row in rows}
    assert by_pair[("Lairg", "Personal care")]["unmet_searches"] == "fewer than 10"
    assert by_pair[("Portree", "Help at home")]["unmet_searches"] == 12
    assert by_pair[("Lairg", "Help at home")]["providers_in_reach"] == 0

    exported = gaps("--council", "Highland")
    assert exported.exit_code == 0, exported.output
    assert len(list(csv.DictReader(io.StringIO(exported.stdout)))) == len(rows), (
        "CSV is the default"
    )


def test_writes_to_a_file_when_asked(market: Any, tmp_path: Path) -> None:
    target = tmp_path / "highland.json"
    result = gaps(
        "--council",
        "Highland",
        "--support",
        "personal-care",
        "--format",
        "json",
        "--output",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert len(json.loads(target.read_text())) == len(market["highland"])
    assert f"Wrote {len(market['highland'])} rows to" in result.stderr


def said(result: Result) -> str:
    """What the command said on standard error, out of its box and onto one line."""
    return " ".join(result.stderr.replace("│", " ").split())


def test_unknown_councils_kinds_and_outcomes_are_refused_plainly(market: Any) -> None:
    for args, message in (
        (
            ("--council", "Atlantis"),
            "Invalid value for --council: There is no council area called 'Atlantis'",
        ),
        (("--support", "flying"), "'flying' is not one of: personal-care, help-at-home,"),
        (("--outcome", "nope"), "'nope' is not one of: "),
    ):
        result = gaps(*args)
        assert result.exit_code == 2, args
        assert message in said(result), said(result)
        assert result.stdout == "", "nothing half-written where the data goes"


def test_a_period_or_format_not_offered_is_refused_before_any_work(market: Any) -> None:
    period = gaps("--period", "10")
    assert (
        period.exit_code == 2
        and "--period" in said(period)
        and "choose one of 30, 91, 365" in said(period)
    )
    form = gaps("--format", "xml")
    assert form.exit_code == 2 and "'xml' is not one of 'csv', 'json'" in said(form), said(form)


def test_scotland_s_rows_count_every_resident_once(market: Any) -> None:
    rows = rows_of(gaps("--support", "personal-care", "--format", "json"))
    # NRS's mid-2022 estimate for Scotland: the listed places' people and the countryside's.
    assert sum(row["population"] for row in rows) == 5_447_700
    assert len({row["place"] for row in rows}) == len(rows)
    assert any(row["place"].startswith("Rural area") for row in rows)
    remote = [row for row in rows if row["urban_rural_8"] == "Very remote rural area"]
    assert remote and all(row["population"] > 0 for row in remote)
