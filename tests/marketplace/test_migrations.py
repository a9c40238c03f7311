"""The migrations build the schema the models describe, on both databases, and run both
ways; they seed Scotland's 32 council areas."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from marketplace.db import Base
from marketplace.geography.models import CouncilArea
from marketplace.models import import_all_models

SHARED_COUNCILS = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "scottish_council_areas.csv"
)


def test_models_and_migrations_agree(engine: Engine) -> None:
    import_all_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


# Upgrading from empty, down to base and up again (no table left but Alembic's, then the 32
# council areas seeded again) is `test_empty_to_head_to_empty_to_head_then_a_sound_ledger` in
# tests/contracts/test_ledger_migration.py, which checks the ledger on the same round trip,
# so a run builds a database from empty for it once, not twice.


class TestCouncilAreas:
    def test_thirty_two_with_valid_unique_codes(self, db: Session) -> None:
        councils = list(db.scalars(select(CouncilArea)))
        assert len(councils) == 32
        assert all(re.fullmatch(r"S12\d{6}", c.gss_code) for c in councils)
        assert len({c.gss_code for c in councils}) == 32
        assert len({c.name for c in councils}) == 32

    def test_match_the_reference_list(self, db: Session) -> None:
        if not SHARED_COUNCILS.exists():
            pytest.skip(f"the shared reference list is not beside the project ({SHARED_COUNCILS})")
        with SHARED_COUNCILS.open() as f:
            expected = {(row["gss_code"], row["name"]) for row in csv.DictReader(f)}
        stored = {(c.gss_code, c.name) for c in db.scalars(select(CouncilArea))}
        assert stored == expected
