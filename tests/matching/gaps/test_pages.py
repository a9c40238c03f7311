"""The commissioner pages' services without HTTP: a Highland commissioner's dashboard is
built from Highland's places only and its links keep the filters; another council is
refused and a filter not in the lists is an error by its field; a place outside the area
is not found; site suggestions wait for a kind of support and then stay in the area."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from marketplace.db import today
from marketplace.errors import DomainError, NotAllowed, NotFound
from marketplace.geography.classify import UrbanRural6
from matching.gaps import pages as gap_pages
from matching.gaps.report import DEFAULT_PERIOD_DAYS
from matching.index import OfferIndex
from tests.factories import make_offer, make_provider
from tests.matching.gaps.gap_builders import commissioner, counted_places, gss, settlement

THRESHOLD = 10


@pytest.fixture
def index() -> OfferIndex:
    return OfferIndex()


def rows_of(table: object) -> list[list[str]]:
    return [[cell.text for cell in row] for row in table.rows]  # type: ignore[attr-defined]


class TestDashboard:
    def test_a_highland_commissioner_gets_highland_s_tables_with_links_keeping_the_filters(
        self, db: Session, index: OfferIndex
    ) -> None:
        provider = make_provider(db, base="Lairg", name="Lairg Home Care")
        make_offer(
            db, provider=provider, title="Personal care in Lairg", radius_km=15, capacity_hours=20
        )
        user = commissioner(db, "Highland")
        shown = gap_pages.dashboard(
            db,
            index=index,
            user=user,
            query={"kind": "personal-care", "period": "365"},
            today=today(),
            threshold=THRESHOLD,
        )

        assert shown.report is not None and shown.asked.errors == []
        assert shown.report.area == "Highland" and shown.report.kind == "personal care"
        assert [table.name for table in shown.tables] == [
            "urban-rural-6",
            "urban-rural-8",
            "places",
        ]
        places = next(table for table in shown.tables if table.name == "places")
        highland = {place.label for place in counted_places(db, "Highland")}
        assert {row[0].text for row in places.rows} == highland
        assert {row[1].text for row in places.rows} == {"Highland"}
        hrefs = [row[0].href or "" for row in places.rows]
        assert all(
            href.startswith("/commissioning/places/")
            and href.endswith("?kind=personal-care&period=365")
            for href in hrefs
        )
        lairg = next(row for row in places.rows if row[0].text == "Lairg")
        assert lairg[6].text == "1", "the one provider reaches Lairg"
        assert shown.choices.councils == [] and shown.choices.own_council == "Highland"
        assert shown.map is not None and shown.asked.query == "kind=personal-care&period=365"

    def test_a_scotland_commissioner_gets_councils_to_choose_and_a_council_table(
        self, db: Session, index: OfferIndex
    ) -> None:
        shown = gap_pages.dashboard(
            db, index=index, user=commissioner(db), query={}, today=today(), threshold=THRESHOLD
        )
        assert shown.report is not None and shown.report.area == "Scotland"
        assert "councils" in [table.name for table in shown.tables]
        assert ("S12000047", "Fife") in shown.choices.councils and shown.choices.own_council is None
        assert shown.asked.form_values["period"] == str(shown.report.filter.period_days)

    def test_another_council_is_refused(self, db: Session, index: OfferIndex) -> None:
        user = commissioner(db, "Highland")
        with pytest.raises(NotAllowed):
            gap_pages.dashboard(
                db,
                index=index,
                user=user,
                query={"council": gss(db, "Fife")},
                today=today(),
                threshold=THRESHOLD,
            )

    def test_filters_not_in_the_lists_are_errors_by_their_field_and_build_nothing(
        self, db: Session, index: OfferIndex
    ) -> None:
        query = {"kind": "juggling", "outcome": "x", "class": "9", "period": "12", "council": "S99"}
        shown = gap_pages.dashboard(
            db, index=index, user=commissioner(db), query=query, today=today(), threshold=THRESHOLD
        )
        assert shown.report is None and shown.tables == [] and shown.map is None
        assert [error.field for error in shown.asked.errors] == [
            "council",
            "kind",
            "outcome",
            "class",
            "period",
        ]
        assert shown.asked.form_values["period"] == "12", "the form shows what was asked"


class TestPlacePage:
    def test_a_place_in_the_area_with_the_filters_carried(
        self, db: Session, index: OfferIndex
    ) -> None:
        lairg = settlement(db, "Lairg")
        shown = gap_pages.place_page(
            db,
            index=index,
            user=commissioner(db, "Highland"),
            settlement_id=lairg.id,
            query={"kind": "personal-care"},
            today=today(),
            threshold=THRESHOLD,
        )
        assert shown.settlement.id == lairg.id and shown.asked.query == "kind=personal-care"
        assert shown.view.tables

    def test_outside_the_area_unknown_or_with_a_bad_filter_is_refused(
        self, db: Session, index: OfferIndex
    ) -> None:
        user = commissioner(db, "Highland")
        for settlement_id in (settlement(db, "Kirkcaldy").id, 999_999):
            with pytest.raises(NotFound):
                gap_pages.place_page(
                    db,
                    index=index,
                    user=user,
                    settlement_id=settlement_id,
                    query={},
                    today=today(),
                    threshold=THRESHOLD,
                )
        with pytest.raises(DomainError, match="Choose a period from the list"):
            gap_pages.place_page(
                db,
                index=index,
                user=user,
                settlement_id=settlement(db, "Lairg").id,
                query={"period": "7x"},
                today=today(),
                threshold=THRESHOLD,
            )


class TestSitesPage:
    def test_nothing_is_suggested_until_a_kind_is_chosen(
        self, db: Session, index: OfferIndex
    ) -> None:
        user = commissioner(db, "Highland")
        first = gap_pages.sites_page(db, index=index, user=user, query={})
        assert first.suggestion is None and first.errors == []
        assert (
            first.values["count"] == "3"
            and first.values["radius"] == "20"
            and first.values["hours"] == "30"
        )
        blank = gap_pages.sites_page(db, index=index, user=user, query={"kind": ""})
        assert [error.field for error in blank.errors] == ["kind"]

    def test_answers_out_of_bounds_are_errors_by_their_field(
        self, db: Session, index: OfferIndex
    ) -> None:
        shown = gap_pages.sites_page(
            db,
            index=index,
            user=commissioner(db, "Highland"),
            query={"kind": "personal-care", "count": "11", "radius": "0", "hours": "x"},
        )
        assert shown.suggestion is None and shown.tables == []
        assert [error.field for error in shown.errors] == ["count", "radius", "hours"]

    def test_bases_are_in_the_commissioner_s_area(self, db: Session, index: OfferIndex) -> None:
        query = {"kind": "personal-care", "count": "2", "radius": "20", "hours": "30"}
        shown = gap_pages.sites_page(
            db, index=index, user=commissioner(db, "Highland"), query=query
        )
        assert shown.errors == [] and shown.suggestion is not None
        assert (
            shown.area == "Highland" and shown.kind == "personal care" and shown.weekly_hours == 30
        )
        assert [table.name for table in shown.tables] == ["sites", "before-after"]
        sites = rows_of(shown.tables[0])
        assert len(sites) == 2 and {row[2] for row in sites} == {"Highland"}
        assert (
            shown.query
            == f"kind=personal-care&period={DEFAULT_PERIOD_DAYS}&count=2&radius=20&hours=30"
        )

    def test_an_urban_rural_class_asked_for_is_kept(self, db: Session, index: OfferIndex) -> None:
        remote = UrbanRural6.REMOTE_RURAL
        query = {"kind": "personal-care", "class": str(int(remote)), "count": "3", "radius": "20"}
        shown = gap_pages.sites_page(
            db, index=index, user=commissioner(db, "Highland"), query=query | {"hours": "30"}
        )
        assert shown.errors == [] and shown.suggestion is not None
        assert shown.area == f"Highland: {remote.label.lower()}s"
        places = gap_pages.figures_now(db, index=index).places
        gained = [p for site in shown.suggestion.sites for p in site.places_gained]
        assert gained, "Highland's remote villages have nothing in reach, so some are gained"
        assert {UrbanRural6(int(places.class6[p])) for p in gained} == {remote}
        everyone = gap_pages.sites_page(
            db, index=index, user=commissioner(db, "Highland"), query=query | {"class": ""}
        )
        assert everyone.suggestion is not None
        assert everyone.suggestion.people_unreached > shown.suggestion.people_unreached
