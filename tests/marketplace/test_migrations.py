"""The migrations build the schema the models describe, on both databases, and run both
ways; they seed Scotland's 32 council areas."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from marketplace.db import Base, make_engine
from marketplace.geography.models import CouncilArea
from marketplace.migrate import downgrade, upgrade
from marketplace.models import import_all_models
from tests.conftest import fresh_postgresql_database

SHARED_COUNCILS = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "scottish_council_areas.csv"
)


def test_models_and_migrations_agree(engine: Engine) -> None:
    import_all_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_downgrade_upgrade_from_empty(backend: str, tmp_path: Path) -> None:
    def round_trip(url: str) -> None:
        upgrade(url)
        downgrade(url, "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            assert len(list(session.scalars(select(CouncilArea)))) == 32
        engine.dispose()

    if backend == "sqlite":
        round_trip(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    else:
        with fresh_postgresql_database() as url:
            round_trip(url)


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
