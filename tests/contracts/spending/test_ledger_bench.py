"""`sds-market bench ledger` runs end to end at a small size (the README's figures come from
the full run on PostgreSQL): every approval it asked for is paid, once, the raw inserts it
compares with are written and dropped, and the ledger stays sound. Marked slow: it loads
the demo first."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from contracts.ledger_check import check_invariants
from contracts.models import LedgerTransaction, ReferenceKind
from marketplace.cli import app
from marketplace.db import make_engine, make_sessionmaker, session_scope

pytestmark = pytest.mark.slow


def test_the_ledger_bench_approves_what_it_says_and_prints_its_line(cli_database: str) -> None:
    result = CliRunner().invoke(app, ["bench", "ledger", "--writers", "4", "--approvals", "40"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert (figures["bench"], figures["writers"], figures["approvals"]) == ("ledger", 4, 40)
    assert figures["approvals_per_s"] > 0 and figures["raw_inserts_per_s"] > 0
    assert figures["ratio"] == pytest.approx(
        figures["approvals_per_s"] / figures["raw_inserts_per_s"], rel=0.01
    )
    engine = make_engine(cli_database)
    try:
        assert not {"bench_raw_posting", "bench_raw_transaction"} & set(
            inspect(engine).get_table_names()
        )
        with session_scope(make_sessionmaker(engine), write=False) as db:
            approvals = select(func.count()).where(
                LedgerTransaction.reference_kind == ReferenceKind.DELIVERY,
                LedgerTransaction.reason.like("%30 min%"),
            )
            assert db.scalar(approvals) == 40
            assert check_invariants(db).sound
    finally:
        engine.dispose()
