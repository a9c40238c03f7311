"""Finding where a person is: place names, postcodes (whole, sectors and districts) and
coordinates, with a plain answer for anything that cannot be understood."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from marketplace.errors import RuleBroken
from marketplace.geography import service as geography_service
from marketplace.geography.classify import TOWN_REACH_KM_PER_ROOT_PERSON
from marketplace.geography.distance import haversine_km
from marketplace.geography.models import NAMED, PostcodeDistrict, Settlement, SettlementKind
from marketplace.geography.postcodes import postcode_book
from marketplace.geography.service import LocationKind


def resolve(db: Session, text: str):  # type: ignore[no-untyped-def]
    return geography_service.resolve_location(db, text=text)


def refusal(db: Session, text: str) -> str:
    with pytest.raises(RuleBroken) as refused:
        resolve(db, text)
    assert refused.value.field == "location"
    return refused.value.message


class TestPlaceNames:
    @pytest.mark.parametrize("typed", ["Portree", "portree", "  PORTREE "])
    def test_any_case_and_spacing(self, db: Session, typed: str) -> None:
        location = resolve(db, typed)
        assert (location.kind, location.label, location.council.name) == (
            LocationKind.PLACE,
            "Portree",
            "Highland",
        )

    def test_saint_and_st_are_the_same(self, db: Session) -> None:
        assert resolve(db, "St Andrews").settlement == resolve(db, "Saint Andrews").settlement

    def test_a_shared_name_asks_which(self, db: Session) -> None:
        message = refusal(db, "Bridgend")
        assert "more than one Bridgend" in message
        label = message.split("Enter ")[1].split(" or ")[0]
        assert resolve(db, label).label == label

    def test_a_misspelling_gets_a_suggestion(self, db: Session) -> None:
        assert "Did you mean Edinburgh?" in refusal(db, "Edinbrugh")

    def test_an_unknown_place(self, db: Session) -> None:
        assert "We cannot find a place called Atlantis in Scotland" in refusal(db, "Atlantis")

    def test_suggestions_as_you_type_start_with_the_biggest(self, db: Session) -> None:
        suggested = geography_service.suggest_places(db, text="inv")
        assert suggested[0].name == "Inverness"
        populations = [s.population for s in suggested if s.search_key.startswith("inv")]
        assert populations == sorted(populations, reverse=True)
        assert geography_service.suggest_places(db, text="i") == []
        assert geography_service.suggest_places(db, text="%") == []


LOCHINVER = (58.148, -5.243)
"""Lochinver's harbour, on the map: in IV27 4, a sector about 80 km across."""
CASTLEBAY = (56.955, -7.487)
"""Castlebay on Barra, in HS9 5."""


class TestWholePostcodes:
    @pytest.mark.parametrize(("typed", "village"), [("IV27 4JY", LOCHINVER), ("hs95xd", CASTLEBAY)])
    def test_a_postcode_is_placed_at_its_own_point(
        self, db: Session, typed: str, village: tuple[float, float]
    ) -> None:
        location = resolve(db, typed)
        assert location.kind == LocationKind.POSTCODE
        assert haversine_km(location.latitude, location.longitude, *village) < 2

    def test_in_a_wide_sector_that_is_far_truer_than_the_sectors_centre(self, db: Session) -> None:
        sector = resolve(db, "IV27 4")
        assert haversine_km(sector.latitude, sector.longitude, *LOCHINVER) > 10
        district = resolve(db, "IV27")
        assert haversine_km(district.latitude, district.longitude, *LOCHINVER) > 10

    def test_only_a_kilometre_of_it_is_kept_and_that_reads_back_the_same(self, db: Session) -> None:
        location = resolve(db, "IV27 4JY")
        assert location.label == "IV27 4JY"  # the person's own search says what they typed
        kept = location.kept_label
        assert "IV27 4JY" not in kept and kept.endswith("(in IV27 4)")
        assert (round(location.latitude, 2), round(location.longitude, 2)) == (
            location.latitude,
            location.longitude,
        )
        again = resolve(db, kept)
        assert (again.latitude, again.longitude) == (location.latitude, location.longitude)
        assert again.kept_label.startswith(kept.split(" (")[0])

    def test_one_we_do_not_know_is_placed_at_its_sector(self, db: Session) -> None:
        assert postcode_book().point("IV27 4ZZ") is None
        location = resolve(db, "IV27 4ZZ")
        assert (location.kind, location.label) == (LocationKind.POSTCODE_SECTOR, "IV27 4")

    def test_one_in_england_is_refused(self, db: Session) -> None:
        assert "is in England" in refusal(db, "TD15 1AA")


class TestPostcodeSectors:
    def test_a_sector(self, db: Session) -> None:
        location = resolve(db, "iv27 4")
        assert (location.kind, location.label, location.council.name) == (
            LocationKind.POSTCODE_SECTOR,
            "IV27 4",
            "Highland",
        )

    def test_a_sector_we_do_not_know(self, db: Session) -> None:
        assert "We do not know the postcode sector IV27 7" in refusal(db, "IV27 7")
        assert "We do not know the postcode district ZZ9" in refusal(db, "ZZ9 1")


class TestPostcodeDistricts:
    @pytest.mark.parametrize("typed", ["IV51", "iv51"])
    def test_a_district(self, db: Session, typed: str) -> None:
        location = resolve(db, typed)
        assert (location.kind, location.label) == (LocationKind.POSTCODE_DISTRICT, "IV51")
        assert location.settlement.name == "Portree"

    @pytest.mark.parametrize("typed", ["EH999", "K1Y2Z", "IV5199"])
    def test_malformed_postcodes_are_explained(self, db: Session, typed: str) -> None:
        assert "is not a postcode we know the form of" in refusal(db, typed)

    def test_a_well_formed_district_we_do_not_know(self, db: Session) -> None:
        assert "We do not know the postcode district ZZ9" in refusal(db, "ZZ9")

    def test_a_district_mostly_in_england(self, db: Session) -> None:
        assert "Most of TD15 is in England" in refusal(db, "TD15")


class TestCoordinates:
    def test_coordinates_on_land_are_kept_to_about_a_kilometre(self, db: Session) -> None:
        location = resolve(db, "57.41234, -6.19876")
        assert location.kind == LocationKind.COORDINATES
        assert (location.latitude, location.longitude) == (57.41, -6.2)
        assert location.settlement.name == "Portree"

    @pytest.mark.parametrize(
        "typed",
        [
            "54.89, -2.94",  # Carlisle
            "56.0, -7.5",  # the Atlantic west of Mull
            "-6.19, 57.41",  # the right numbers the wrong way round
            "51.5, -0.12",  # London
        ],
    )
    def test_anywhere_but_scottish_land_is_refused(self, db: Session, typed: str) -> None:
        assert "is not on land in Scotland" in refusal(db, typed)

    def test_islands_count_as_scotland(self, db: Session) -> None:
        assert resolve(db, "60.15, -1.15").council.name == "Shetland Islands"
        assert resolve(db, "58.21, -6.39").council.name == "Na h-Eileanan Siar"

    def test_impossible_coordinates(self, db: Session) -> None:
        assert "latitude, longitude" in refusal(db, "95, 200")


def test_nothing_typed(db: Session) -> None:
    assert refusal(db, "   ").startswith("Enter a town or village")


@pytest.mark.parametrize(
    ("district", "settlement"),
    [
        ("G45", "Glasgow"),
        ("G32", "Glasgow"),
        ("EH10", "Edinburgh"),
        ("AB15", "Aberdeen"),
        ("IV51", "Portree"),
        ("KW15", "Kirkwall"),
    ],
)
def test_a_district_belongs_to_the_town_it_is_part_of(
    db: Session, district: str, settlement: str
) -> None:
    """A city's edge districts are nearer some village's centre than the city's; the city
    still wins, because a town reaches out with its size."""
    assert resolve(db, district).settlement.name == settlement


class TestInMemory:
    """The gazetteer each worker holds answers as the database would, without asking it."""

    def test_placing_people_sends_no_sql_once_read(self, db: Session) -> None:
        resolve(db, "Portree")  # the first look-up in this process may read the reference
        sent: list[str] = []
        connection = db.connection()

        def count(*args: object) -> None:
            sent.append(str(args[2]))

        event.listen(connection, "before_cursor_execute", count)
        try:
            for typed in (
                "Ullapool",
                "IV27",
                "IV27 4HH",
                "57.9, -5.16",
                "Bridgend (West Lothian)",
            ):
                resolve(db, typed)
            for typed in ("Bridgend", "Durnes", "XX99", "51.5, -0.1"):
                refusal(db, typed)
        finally:
            event.remove(connection, "before_cursor_execute", count)
        assert sent == []

    def test_every_district_is_placed_at_the_settlement_the_database_would_give(
        self, db: Session
    ) -> None:
        settlements = db.scalars(
            # Rural areas count people; they are not places a postcode is said to be near.
            select(Settlement).where(Settlement.kind.in_(NAMED - {SettlementKind.DUPLICATE}))
        ).all()

        def around(latitude: float, longitude: float) -> int:
            # The rule written out plainly over the rows: nearest, less a town's reach.
            return min(
                settlements,
                key=lambda s: (
                    haversine_km(latitude, longitude, s.latitude, s.longitude)
                    - TOWN_REACH_KM_PER_ROOT_PERSON * math.sqrt(s.population)
                ),
            ).id

        districts = db.scalars(
            select(PostcodeDistrict).where(PostcodeDistrict.scottish_share >= 0.5)
        ).all()
        assert len(districts) > 400
        for district in districts:
            location = resolve(db, district.code)
            assert (location.council.id, location.settlement.id) == (
                district.council_id,
                around(district.latitude, district.longitude),
            ), district.code
