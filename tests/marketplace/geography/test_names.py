"""Importing OS Open Names: the villages, hamlets and suburbs the list of 500+ leaves out
become places people can search from, suggest, post needs at and be counted by, from files
in the layout OS ships (no header, 34 columns, British National Grid) that the tests write."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyproj
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace.cli import app as cli
from marketplace.errors import RuleBroken
from marketplace.geography import gazetteer as gazetteer_module
from marketplace.geography import names
from marketplace.geography import service as geography_service
from marketplace.geography.classify import UrbanRural8
from marketplace.geography.models import Settlement, SettlementKind
from matching.gaps.catchments import read_places
from tests.factories import make_offer, make_provider
from tests.helpers import HtmlClient, page

TO_GRID = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

# (name, local type, latitude, longitude, council as OS names it, postcode district)
VILLAGES = [
    ("Lochinver", "Village", 58.148, -5.243, "Highland", "IV27"),
    ("Tongue", "Village", 58.480, -4.418, "Highland", "IV27"),
    ("Durness", "Village", 58.567, -4.746, "Highland", "IV27"),
    ("Castlebay", "Village", 56.955, -7.487, "Na h-Eileanan an Iar", "HS9"),
    ("Partick", "Suburban Area", 55.870, -4.310, "Glasgow City", "G11"),
]
LISTED_ALREADY = ("Portree", "Town", 57.412, -6.196, "Highland", "IV51")


def os_row(
    os_id: str,
    name: str,
    local_type: str,
    latitude: float,
    longitude: float,
    council: str,
    district: str,
    *,
    kind: str = "populatedPlace",
    country: str = "Scotland",
) -> list[str]:
    easting, northing = TO_GRID.transform(longitude, latitude)
    row = [""] * names.COLUMNS
    row[names.ID] = os_id
    row[names.NAME1] = name
    row[names.TYPE] = kind
    row[names.LOCAL_TYPE] = local_type
    row[names.X], row[names.Y] = f"{easting:.0f}", f"{northing:.0f}"
    row[names.POSTCODE_DISTRICT] = district
    row[names.COUNTY_UNITARY] = council
    row[names.COUNTRY] = country
    return row


SECOND_NAMES = {"Tongue": "Tunga", "Castlebay": "Bàgh a' Chaisteil"}


def village_rows() -> list[list[str]]:
    rows = [os_row(f"osgb40000000{i:08d}", *v) for i, v in enumerate(VILLAGES)]
    for row in rows:
        row[names.NAME2] = SECOND_NAMES.get(row[names.NAME1], "")
    return rows


def other_rows() -> list[list[str]]:
    portree = os_row("osgb4000000090000001", *LISTED_ALREADY)
    portree[names.NAME2] = "Port Rìgh"
    return [
        portree,
        os_row(
            "osgb4000000090000002",
            "A837",
            "Named Road",
            58.15,
            -5.2,
            "Highland",
            "IV27",
            kind="transportNetwork",
        ),
        os_row(
            "osgb4000000090000003",
            "Quinag",
            "Hill Or Mountain",
            58.21,
            -5.1,
            "Highland",
            "IV27",
            kind="landform",
        ),
        os_row(
            "osgb4000000090000004",
            "Wooler",
            "Town",
            55.547,
            -2.011,
            "Northumberland",
            "NE71",
            country="England",
        ),
    ]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture
def os_files(tmp_path: Path) -> Path:
    """Two files in a folder, as OS ships one per 10 km square, and a header file beside."""
    folder = tmp_path / "opname"
    folder.mkdir()
    write(folder / "NC10.csv", village_rows()[:3] + other_rows()[:2])
    write(folder / "NF60.csv", village_rows()[3:] + other_rows()[2:])
    write(folder / "OS_Open_Names_Header.csv", [["ID", "NAMES_URI", "NAME1"]])
    return folder


@pytest.fixture
def fresh_gazetteer() -> Iterator[None]:
    # The test's import is rolled back with it: nobody else may keep its places in memory.
    gazetteer_module.forget()
    yield
    gazetteer_module.forget()


@pytest.fixture
def imported(db: Session, os_files: Path, fresh_gazetteer: None) -> names.Imported:
    done = names.import_named_places(db, os_files)
    gazetteer_module.forget()
    return done


class TestImport:
    def test_keeps_the_populated_places_of_scotland_and_says_why_it_left_out_the_rest(
        self, imported: names.Imported
    ) -> None:
        assert imported.added == len(VILLAGES)
        assert imported.skipped == {
            "in the settlement list already": 1,
            "not a populated place (a road, hill, water or other feature)": 2,
            "outside Scotland": 1,
            f"not a row of {names.COLUMNS} columns (a header, or another file)": 1,
        }

    def test_importing_again_changes_nothing(
        self, db: Session, imported: names.Imported, os_files: Path
    ) -> None:
        count = db.scalar(select(func.count()).select_from(Settlement))
        again = names.import_named_places(db, os_files)
        assert (again.added, again.updated, again.unchanged) == (0, 0, len(VILLAGES))
        assert db.scalar(select(func.count()).select_from(Settlement)) == count

    def test_one_file_is_read_as_a_folder_is(
        self, db: Session, tmp_path: Path, fresh_gazetteer: None
    ) -> None:
        one = write(tmp_path / "all.csv", village_rows() + other_rows())
        assert names.import_named_places(db, one).added == len(VILLAGES)

    def test_a_place_changed_by_os_is_updated(
        self, db: Session, imported: names.Imported, tmp_path: Path
    ) -> None:
        moved = village_rows()
        moved[0][names.NAME1] = "Loch Inver"
        again = names.import_named_places(db, write(tmp_path / "new.csv", moved))
        assert (again.added, again.updated) == (0, 1)
        assert db.scalar(select(Settlement).where(Settlement.name == "Loch Inver")) is not None


class TestSecondNames:
    def test_a_place_is_found_by_its_second_name_too(self, db: Session, imported: None) -> None:
        assert geography_service.resolve_location(db, text="Tunga").label == "Tongue"
        castlebay = geography_service.resolve_location(db, text="bagh a chaisteil")
        assert castlebay.label == "Castlebay"
        assert "Tongue" in [p.name for p in geography_service.suggest_places(db, text="tun")]

    def test_a_listed_place_is_given_the_second_name_os_knows_it_by(
        self, db: Session, imported: names.Imported
    ) -> None:
        assert imported.second_names == 1
        assert geography_service.resolve_location(db, text="Port Righ").label == "Portree"


class TestWhatTheyAre:
    def test_council_areas_as_the_list_names_them(self, db: Session, imported: None) -> None:
        assert geography_service.resolve_location(db, text="Castlebay").council.name == (
            "Na h-Eileanan Siar"
        )

    def test_a_suburb_is_part_of_its_city_and_a_village_far_from_towns_is_very_remote(
        self, db: Session, imported: None
    ) -> None:
        glasgow = geography_service.resolve_location(db, text="Glasgow").settlement
        partick = geography_service.resolve_location(db, text="Partick").settlement
        assert partick.urban_rural == glasgow.urban_rural == UrbanRural8.LARGE_URBAN
        # Lochinver is about 80 km from Inverness as the crow flies: well over an hour.
        lochinver = geography_service.resolve_location(db, text="Lochinver").settlement
        assert lochinver.urban_rural == UrbanRural8.VERY_REMOTE_RURAL
        assert lochinver.kind == SettlementKind.NAMED_PLACE and lochinver.population == 0

    def test_their_people_are_counted_in_the_place_they_lie_nearest(
        self, db: Session, imported: None
    ) -> None:
        places = read_places(db)
        lochinver = geography_service.resolve_location(db, text="Lochinver").settlement
        assert lochinver.id not in set(places.ids.tolist())
        counted_at = places.position()[lochinver.id]
        assert places.population[counted_at] > 0


class TestSearchingFromThem:
    def test_before_an_import_the_village_is_unknown_and_a_postcode_is_asked_for(
        self, db: Session, fresh_gazetteer: None
    ) -> None:
        with pytest.raises(RuleBroken) as refused:
            geography_service.resolve_location(db, text="Lochinver")
        assert "Enter your postcode instead" in refused.value.message

    def test_search_and_suggestions_know_them(
        self, client: HtmlClient, db: Session, imported: None
    ) -> None:
        make_offer(
            db, provider=make_provider(db, base="Lochinver"), title="Lochinver help", radius_km=5
        )
        answer = page(client.get("/find-support", params={"location": "lochinver"}))
        assert [a.get_text(strip=True) for a in answer.select(".ds_search-result__link")] == [
            "Lochinver help"
        ]
        assert "Lochinver" in [p.name for p in geography_service.suggest_places(db, text="Lochin")]


def test_the_command_reports_what_it_did(
    cli_database: str, os_files: Path, fresh_gazetteer: None
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["places", "import", str(os_files)])
    assert result.exit_code == 0, result.output
    assert f"{len(VILLAGES)} added, 0 updated, 0 unchanged" in result.output
    assert "Skipped 2: not a populated place" in result.output
    again = runner.invoke(cli, ["places", "import", str(os_files)])
    assert f"0 added, 0 updated, {len(VILLAGES)} unchanged" in again.output
