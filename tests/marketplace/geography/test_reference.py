"""The shipped reference geography: what it contains, how it is loaded, and that it is
what a fresh build from the sources gives."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.geography import build, demand
from marketplace.geography.classify import UrbanRural8
from marketplace.geography.distance import haversine_km
from marketplace.geography.gazetteer import gazetteer
from marketplace.geography.models import (
    CouncilArea,
    LandCell,
    PostcodeDistrict,
    Settlement,
    SettlementKind,
)
from marketplace.geography.reference import load_reference_geography, search_key
from marketplace.geography.rural import FIRST_RURAL_AREA_ID


def settlement(db: Session, name: str) -> Settlement:
    found = db.scalar(
        select(Settlement).where(
            Settlement.name == name, Settlement.kind != SettlementKind.DUPLICATE
        )
    )
    assert found is not None, name
    return found


class TestSettlements:
    def test_every_settlement_of_500_people_with_its_council(self, db: Session) -> None:
        assert (
            db.scalar(
                select(func.count())
                .select_from(Settlement)
                .where(Settlement.kind != SettlementKind.RURAL_AREA)
            )
            == 674
        )
        assert (
            db.scalar(
                select(func.min(Settlement.population)).where(
                    Settlement.kind == SettlementKind.SETTLEMENT
                )
            )
            >= 500
        )
        every_council = set(db.scalars(select(CouncilArea.name)))
        assert {s.council.name for s in db.scalars(select(Settlement))} == every_council

    @pytest.mark.parametrize(
        ("name", "council"),
        [
            ("Portree", "Highland"),
            ("Stornoway", "Na h-Eileanan Siar"),
            ("Kirkwall", "Orkney Islands"),
            ("Lerwick", "Shetland Islands"),
            ("Alloa", "Clackmannanshire"),
            ("Helensburgh", "Argyll and Bute"),
            ("Millport", "North Ayrshire"),
            ("Musselburgh", "East Lothian"),
            ("Hawick", "Scottish Borders"),
        ],
    )
    def test_council_areas_from_the_nearest_postcode(
        self, db: Session, name: str, council: str
    ) -> None:
        assert settlement(db, name).council.name == council

    def test_people_are_counted_once(self, db: Session) -> None:
        duplicate = settlement_any(db, "Meikle Earnock")
        assert duplicate.kind == SettlementKind.DUPLICATE and duplicate.population == 0
        lewis = settlement_any(db, "Isle of Lewis")
        assert lewis.kind == SettlementKind.ISLAND_AREA
        assert (
            lewis.population == 18_500 - settlement(db, "Stornoway").population - 660
        )  # Sandwick, Lewis
        assert lewis.urban_rural != UrbanRural8.OTHER_URBAN
        # The gap figures count every resident once, from the census (demand_areas.csv):
        # at a listed place, or at the rural area where they live, so a second entry and an
        # island's own entry (its countryside) count nobody.
        assert db.scalar(select(func.sum(Settlement.residents))) == build.SCOTLAND_MID_2022
        assert duplicate.residents == 0 and lewis.residents == 0
        assert settlement(db, "Stornoway").residents > 0

    def test_shared_names_are_labelled_with_their_council(self, db: Session) -> None:
        labels = [
            s.label for s in db.scalars(select(Settlement).where(Settlement.name == "Bridgend"))
        ]
        assert len(labels) == 2 and all(label.startswith("Bridgend (") for label in labels)
        labels = list(db.scalars(select(Settlement.label)))
        assert len(set(labels)) == len(labels)  # rural areas' names too

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("Glasgow", UrbanRural8.LARGE_URBAN),
            ("Inverness", UrbanRural8.OTHER_URBAN),
            ("Stornoway", UrbanRural8.VERY_REMOTE_SMALL_TOWN),
            ("Kirkwall", UrbanRural8.VERY_REMOTE_SMALL_TOWN),
            ("Rothesay", UrbanRural8.REMOTE_SMALL_TOWN),
            ("Millport", UrbanRural8.REMOTE_RURAL),
            ("Portree", UrbanRural8.VERY_REMOTE_RURAL),
        ],
    )
    def test_classes_of_well_known_places(
        self, db: Session, name: str, expected: UrbanRural8
    ) -> None:
        assert settlement(db, name).urban_rural == expected

    def test_every_class_occurs(self, db: Session) -> None:
        counts = Counter(s.urban_rural for s in db.scalars(select(Settlement)))
        assert set(counts) == set(UrbanRural8)
        large = [
            s.name
            for s in db.scalars(select(Settlement))
            if s.urban_rural == UrbanRural8.LARGE_URBAN
        ]
        listed = [n for n in large if not n.startswith(("Rural area", "Area "))]
        assert sorted(listed) == ["Aberdeen", "Dundee", "Edinburgh", "Glasgow"]
        # And the people at Glasgow's edge across its boundary, within its built-up area.
        assert [n for n in large if n not in listed] == ["Area 3 km east-south-east of Milngavie"]


class TestRuralAreas:
    def test_the_countryside_is_counted_where_its_people_live(self, db: Session) -> None:
        rural = list(
            db.scalars(select(Settlement).where(Settlement.kind == SettlementKind.RURAL_AREA))
        )
        shipped = [a for a in demand.read_csv(build.DEMAND_AREAS_CSV) if a.place_key is None]
        assert len(rural) == len(shipped)
        assert sum(r.residents for r in rural) == sum(a.estimate for a in shipped)
        assert all(r.population == 0 and r.id >= FIRST_RURAL_AREA_ID for r in rural)
        # Lochinver (58.15, -5.24), in no list of 500+: its people count in a rural area
        # classed as the drive from there makes it, over an hour and a half from Inverness.
        lochinver = min(
            rural, key=lambda r: haversine_km(58.1486, -5.2430, r.latitude, r.longitude)
        )
        assert haversine_km(58.1486, -5.2430, lochinver.latitude, lochinver.longitude) < 3
        assert lochinver.council.name == "Highland"
        assert lochinver.urban_rural == UrbanRural8.VERY_REMOTE_RURAL

    def test_a_rural_area_is_not_a_place_anyone_searches_for(self, db: Session) -> None:
        rural = db.scalars(
            select(Settlement).where(Settlement.kind == SettlementKind.RURAL_AREA).limit(1)
        ).one()
        assert gazetteer(db).suggest(rural.name) == []
        assert rural.id not in gazetteer(db).places


def settlement_any(db: Session, name: str) -> Settlement:
    found = db.scalar(select(Settlement).where(Settlement.name == name))
    assert found is not None
    return found


class TestPostcodeDistricts:
    def test_districts_with_their_centres(self, db: Session) -> None:
        eh1 = db.get(PostcodeDistrict, "EH1")
        assert eh1 is not None and eh1.council.name == "City of Edinburgh"
        assert abs(eh1.latitude - 55.95) < 0.02 and abs(eh1.longitude + 3.19) < 0.03
        assert db.get(PostcodeDistrict, "AB1") is None, "terminated districts are left out"
        td15 = db.get(PostcodeDistrict, "TD15")
        assert td15 is not None and td15.scottish_share < 0.5


class TestLoading:
    def test_loading_again_changes_nothing(self, db: Session) -> None:
        before = [
            (s.id, s.label, s.population, s.residents, s.demand_key, s.urban_rural_8)
            for s in db.scalars(select(Settlement).order_by(Settlement.id))
        ]
        loaded = load_reference_geography(db)
        assert loaded.settlements == 674
        db.expire_all()
        after = [
            (s.id, s.label, s.population, s.residents, s.demand_key, s.urban_rural_8)
            for s in db.scalars(select(Settlement).order_by(Settlement.id))
        ]
        assert after == before
        assert db.scalar(select(func.count()).select_from(LandCell)) == loaded.land_cells

    def test_search_keys_fold_case_accents_and_saint(self) -> None:
        assert search_key("St. Andrews") == search_key("saint andrews") == "st andrews"
        assert search_key("Àird a' Mhachair") == "aird a mhachair"


def test_the_shipped_files_are_a_fresh_build_of_the_sources() -> None:
    fresh = build.build()
    for path, content in fresh.items():
        assert build.read_text(path) == content, (
            f"{path.name} differs from a fresh build; run sds-market geography build"
        )


def test_council_residents_are_a_fresh_build_of_the_census_output_areas() -> None:
    if not (build.REFERENCE_DIR / "scotland_output_areas_2011.csv").exists():
        pytest.skip(f"the shared reference data is not beside the project ({build.REFERENCE_DIR})")
    assert build.COUNCIL_RESIDENTS_CSV.read_text() == build.build_council_residents()


def test_council_residents_add_up_to_the_census_and_the_mid_2022_estimate() -> None:
    with build.COUNCIL_RESIDENTS_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 32
    # The census total (SOURCES.md) and NRS's mid-2022 estimate for Scotland.
    assert sum(int(r["residents_2011"]) for r in rows) == 5_295_403
    assert sum(int(r["estimate_mid_2022"]) for r in rows) == build.SCOTLAND_MID_2022 == 5_447_700
