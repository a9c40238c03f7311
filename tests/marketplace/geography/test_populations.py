"""A council's own population figures: `sds-market population import` reads data zones
(their people and centres) and counts each council's people from them, in place of the
census estimate, through the same places and rural areas; a bad file changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace.cli import app as cli
from marketplace.geography import populations
from marketplace.geography.models import CouncilArea, PopulationSource, Settlement, SettlementKind
from marketplace.geography.populations import PopulationFileRefused, import_small_areas
from marketplace.geography.reference import load_reference_geography

ORKNEY = "S12000023"
# Three data zones of Orkney, with (made-up) people: one in Kirkwall (58.985, -2.959), one
# by Stromness (58.965, -3.296) and one on Hoy, 14 km south of Stromness and far from any
# listed place. Eastings and northings as NRS gives data zones' centres.
ZONES = """DataZone,Population,Council,Easting,Northing
S01011800,1000,S12000023,344900,1010900
S01011801,500,Orkney Islands,325500,1009000
S01011802,200,S12000023,326000,995000
"""


def orkney(db: Session) -> CouncilArea:
    return db.scalars(select(CouncilArea).where(CouncilArea.gss_code == ORKNEY)).one()


def counted_in(db: Session, council: CouncilArea) -> dict[str, int]:
    return {
        s.name: s.residents
        for s in db.scalars(
            select(Settlement).where(Settlement.council_id == council.id, Settlement.residents > 0)
        )
    }


def zones_file(tmp_path: Path, text: str = ZONES) -> Path:
    path = tmp_path / "orkney-zones.csv"
    path.write_text(text)
    return path


class TestImporting:
    def test_a_council_counts_its_own_figures_and_the_rest_keep_theirs(
        self, db: Session, tmp_path: Path
    ) -> None:
        highland_before = populations.residents(db, _council(db, "Highland").id)
        scotland_before = populations.residents(db, None)
        orkney_before = populations.residents(db, orkney(db).id)

        done = import_small_areas(db, zones_file(tmp_path))

        assert done.councils == {"Orkney Islands": 1700} and done.small_areas == 3
        counted = counted_in(db, orkney(db))
        assert counted["Kirkwall"] == 1000 and counted["Stromness"] == 500
        (hoy,) = [name for name in counted if name not in ("Kirkwall", "Stromness")]
        assert hoy == "Rural area 14 km south of Stromness" and counted[hoy] == 200
        # Orkney's other places and rural areas count nobody now; other councils are as were.
        assert sum(counted.values()) == 1700 == populations.residents(db, orkney(db).id)
        assert populations.residents(db, _council(db, "Highland").id) == highland_before
        assert populations.residents(db, None) == scotland_before - orkney_before + 1700
        source = db.get_one(PopulationSource, orkney(db).id)
        assert (source.residents, source.small_areas, source.source) == (
            1700,
            3,
            "orkney-zones.csv",
        )

    def test_a_reload_of_the_shipped_files_keeps_the_imported_figures(
        self, db: Session, tmp_path: Path
    ) -> None:
        import_small_areas(db, zones_file(tmp_path))
        load_reference_geography(db)
        db.expire_all()
        assert sum(counted_in(db, orkney(db)).values()) == 1700

    def test_importing_again_replaces_the_council_s_figures(
        self, db: Session, tmp_path: Path
    ) -> None:
        import_small_areas(db, zones_file(tmp_path))
        rural_ids = set(
            db.scalars(select(Settlement.id).where(Settlement.kind == SettlementKind.RURAL_AREA))
        )
        import_small_areas(db, zones_file(tmp_path, ZONES.replace(",200,", ",260,")))
        assert counted_in(db, orkney(db))["Rural area 14 km south of Stromness"] == 260
        assert db.get_one(PopulationSource, orkney(db).id).residents == 1760
        again = set(
            db.scalars(select(Settlement.id).where(Settlement.kind == SettlementKind.RURAL_AREA))
        )
        assert again == rural_ids, "the same rural area, found again by its key"

    def test_centres_in_degrees_work_as_eastings_do(self, db: Session, tmp_path: Path) -> None:
        in_degrees = """data_zone,all_ages,council_area,latitude,longitude
S01011800,1000,S12000023,58.985,-2.959
"""
        import_small_areas(db, zones_file(tmp_path, in_degrees))
        assert counted_in(db, orkney(db)) == {"Kirkwall": 1000}


class TestRefusing:
    def test_a_file_that_is_not_text_is_refused(self, db: Session, tmp_path: Path) -> None:
        path = tmp_path / "zones.csv"
        path.write_bytes(ZONES.encode() + b"S01011803,10,S12000023,\xff\xfe,600000\n")
        with pytest.raises(PopulationFileRefused, match="not a CSV file in UTF-8"):
            import_small_areas(db, path)

    @pytest.mark.parametrize(
        ("text", "said"),
        [
            ("", "the file is empty"),
            ("DataZone,Population,Council\n", "the header has no column for the centre"),
            ("Name,People,Easting,Northing\n", "no column for code, council"),
            ("DataZone,Population,Council,Easting,Northing\n", "the file has no rows"),
            (ZONES + "S01011803,lots,S12000023,1,600000\n", "line 5: S01011803: its population"),
            (ZONES + "S01011803,१२,S12000023,1,600000\n", "its population is a whole number"),
            (ZONES + "S01011803,999999,S12000023,1,600000\n", "more than a small area holds"),
            (ZONES + "S01011803,10,E06000001,1,600000\n", "no Scottish council area is called"),
            (ZONES + "S01011803,10,S12000023,530000,180000\n", "its easting is not in Scotland"),
            (ZONES + "S01011803,10,S12000023,nan,600000\n", "its easting is not in Scotland"),
            (ZONES + "S01011803,10,S12000023,1e999,600000\n", "its easting is not in Scotland"),
            (ZONES + "S01011800,10,S12000023,1,600000\n", "S01011800 is given more than once"),
            (ZONES + "<script>,10,S12000023,1,600000\n", "letters and digits, at most 20"),
        ],
    )
    def test_a_wrong_file_is_refused_whole_saying_why(
        self, db: Session, tmp_path: Path, text: str, said: str
    ) -> None:
        before = counted_in(db, orkney(db))
        with pytest.raises(PopulationFileRefused, match=said):
            import_small_areas(db, zones_file(tmp_path, text))
        assert counted_in(db, orkney(db)) == before
        assert db.scalar(select(func.count()).select_from(PopulationSource)) == 0


def test_the_command_says_what_it_counted_or_why_it_refused(
    cli_database: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["population", "import", str(zones_file(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "Imported 3 small areas" in result.output
    assert "Orkney Islands: 1,700 people" in result.output
    refused = runner.invoke(
        cli, ["population", "import", str(zones_file(tmp_path, "DataZone,Population\n"))]
    )
    assert refused.exit_code == 1
    assert "Nothing was imported" in refused.output


def _council(db: Session, name: str) -> CouncilArea:
    return db.scalars(select(CouncilArea).where(CouncilArea.name == name)).one()
