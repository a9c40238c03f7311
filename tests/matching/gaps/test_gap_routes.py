"""The market-gaps pages as commissioners use them: a Highland commissioner sees Highland
only, with a headline, a map whose every circle is a link, and tables that download as
CSV with the same figures; a commissioner for all of Scotland sees every council and can
choose one; nobody else gets in. A provider near Lairg reaches Lairg and not Ullapool,
and the place pages say so and by how far. Small counts of unmet searches read "fewer
than 10", and a count that would give a small one away by subtraction reads "not shown",
on the page and in the download alike. The figures are worked out again when an offer is
published. Bad filters are answered 422 by their field, and site suggestions bring the
most people into reach."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.db import today
from marketplace.geography import populations
from marketplace.geography.distance import geodesic_km
from marketplace.geography.models import COUNTED, Settlement
from matching.gaps.report import PERIODS
from matching.gaps.tables import PLACES_SHOWN
from providers.models import Provider
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.helpers import HtmlClient, error_messages, page
from tests.matching.gaps.gap_builders import (
    browser,
    commissioner,
    council_id,
    counted_places,
    csv_records,
    csv_rows,
    downloads_table,
    gss,
    one_offer_hours_per_1000,
    same_figure,
    settlement,
    table_header,
    table_records,
    table_rows,
    unmet,
)

PLACES = "Places"
PROVIDERS = "Providers in reach"
HOURS = "Hours a week per 1,000 residents"
SEARCHES = "Searches that found nothing (the last 3 months)"


def lairg_care(db: Session, *, name: str = "Lairg Home Care", capacity_hours: int = 20) -> Provider:
    """A provider based in Lairg whose personal care reaches 15 km: Lairg and the countryside
    around it, and no other listed place."""
    provider = make_provider(db, base="Lairg", name=name)
    make_offer(
        db,
        provider=provider,
        title=f"Personal care from {name}",
        radius_km=15,
        capacity_hours=capacity_hours,
    )
    return provider


def tells_nothing_small(whole: str, part: str) -> bool:
    """Whether a figure less one counted among it (a shorter period, a narrower filter)
    leaves no count from 1 to 9 to be worked out."""
    if not (whole.isdigit() and part.isdigit()):
        return True  # one of them is hidden: nothing to subtract
    return int(whole) - int(part) == 0 or int(whole) - int(part) >= 10


def places_of(response: Any) -> dict[str, dict[str, str]]:
    return table_records(page(response), "places")


class TestAHighlandCommissioner:
    def test_sees_highland_only_with_a_headline_a_map_and_downloads(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning")
        assert response.status_code == 200
        soup = page(response)

        highland = {place.label for place in counted_places(db, "Highland")}
        rows = places_of(response)
        assert set(rows) == highland and len(highland) > 40
        assert {row["Council area"] for row in rows.values()} == {"Highland"}
        assert not {place.label for place in counted_places(db, "Fife")} & set(rows)
        assert (
            soup.select_one("#gap-summary").get_text(" ", strip=True)
            == "Highland: any kind of support"
        )
        assert "Area: Highland" in soup.select_one("#gap-filters").get_text(" ", strip=True)
        assert soup.select_one("select#council") is None, (
            "a council's commissioner has no other area to choose"
        )
        population = sum(place.residents for place in counted_places(db, "Highland"))
        assert soup.select_one("#headline-without").get_text(" ", strip=True) == (
            f"{population:,} of {population:,} (100%), in {len(highland)} of {len(highland)} places"
        ), "with no offers, nobody has one in reach"
        counted = soup.select_one("#headline-counted").get_text(" ", strip=True)
        highland_people = populations.residents(db, council_id(db, "Highland"))
        assert counted.startswith(
            f"{population:,} of the about {highland_people:,} people of Highland "
            f"({population / highland_people:.0%})"
        )
        assert population == highland_people, "the hamlets and crofts are counted too"

        svg = soup.select_one("figure svg")
        links = svg.select("a")
        assert len(links) == len(highland)
        assert all(link.get("aria-label", "").split(":")[0] in highland for link in links)
        place_links = {a["href"] for a in soup.select("#table-places tbody a")}
        assert {link["href"] for link in links} == place_links
        assert len(place_links) == len(highland)

        tables = [table["id"].removeprefix("table-") for table in soup.select("table.ds_table")]
        assert tables == ["urban-rural-6", "urban-rural-8", "places"]
        downloads = [a["href"] for a in soup.select("a[download]")]
        assert len(downloads) == len(tables)
        assert all(
            downloads_table(href, "/commissioning", name)
            for href, name in zip(downloads, tables, strict=True)
        ), downloads
        for href, name in zip(downloads, tables, strict=True):
            header, *body = csv_rows(client.get(href))
            assert header == table_header(soup, name)
            assert len(body) == len(table_rows(soup, name))

    def test_cannot_see_another_council_or_its_places(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        assert (
            client.get("/commissioning", params={"council": gss(db, "Highland")}).status_code == 200
        )
        assert client.get("/commissioning", params={"council": gss(db, "Fife")}).status_code == 403
        assert (
            client.get(
                "/commissioning",
                params={"council": gss(db, "Fife"), "table": "places", "format": "csv"},
            ).status_code
            == 403
        )
        kirkcaldy = settlement(db, "Kirkcaldy")
        assert client.get(f"/commissioning/places/{kirkcaldy.id}").status_code == 404
        assert (
            client.get(f"/commissioning/places/{kirkcaldy.id}?table=kinds&format=csv").status_code
            == 404
        )
        assert client.get("/commissioning/places/999999").status_code == 404
        assert client.get(f"/commissioning/places/{settlement(db, 'Lairg').id}").status_code == 200
        assert (
            client.get(
                "/commissioning/sites", params={"kind": "personal-care", "council": gss(db, "Fife")}
            ).status_code
            == 403
        )


class TestAScotlandCommissioner:
    def test_sees_scotland_by_council_and_can_choose_fife(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db).email, PASSWORD)
        soup = page(client.get("/commissioning"))
        assert (
            soup.select_one("#gap-summary").get_text(" ", strip=True)
            == "Scotland: any kind of support"
        )
        councils = table_rows(soup, "councils")
        assert [row[0] for row in councils[:-1]] == sorted(row[0] for row in councils[:-1])
        assert len(councils) == 32 + 1 and councils[-1][0] == "Scotland"
        assert {"Highland", "Fife", "Glasgow City"} <= {row[0] for row in councils}
        assert any(
            downloads_table(a["href"], "/commissioning", "councils")
            for a in soup.select("a[download]")
        )
        fife = gss(db, "Fife")
        assert fife in [option["value"] for option in soup.select("select#council option")]

        response = client.get("/commissioning", params={"council": fife})
        assert response.status_code == 200
        soup = page(response)
        assert (
            soup.select_one("#gap-summary").get_text(" ", strip=True) == "Fife: any kind of support"
        )
        assert soup.select_one("select#council option[selected]")["value"] == fife
        rows = places_of(response)
        assert set(rows) == {place.label for place in counted_places(db, "Fife")}
        assert soup.select_one("#table-councils") is None
        assert any(
            downloads_table(a["href"], "/commissioning", "places", council=fife)
            for a in soup.select("a[download]")
        )
        assert (
            client.get(f"/commissioning/places/{settlement(db, 'Kirkcaldy').id}").status_code == 200
        )

    def test_back_from_a_place_returns_to_the_figures_they_came_from(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db).email, PASSWORD)
        address = f"/commissioning?council={gss(db, 'Fife')}&kind=personal-care&class=2"
        place = page(client.get(address)).select_one("#table-places tbody a")["href"]
        back = page(client.get(place)).find("a", string="Back to market gaps")["href"]
        assert (
            page(client.get(back)).select_one("#gap-summary").get_text(" ", strip=True)
            == "Fife: other urban areas: personal care"
        )

    def test_the_period_the_filters_show_is_the_period_of_the_figures(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db).email, PASSWORD)
        soup = page(client.get("/commissioning"))
        shown = soup.select_one("#period option[selected]").get_text(strip=True)
        assert (
            soup.select_one("#headline-searches")
            .get_text(" ", strip=True)
            .endswith(f" in {shown.lower()}")
        )


class TestNobodyElse:
    ADDRESSES = (
        "/commissioning",
        "/commissioning?table=places&format=csv",
        "/commissioning/sites?kind=personal-care",
    )

    @pytest.mark.parametrize(
        "role", [Role.SUPPORTED_PERSON, Role.PROVIDER_STAFF, Role.REPRESENTATIVE]
    )
    def test_other_roles_are_refused(self, client: HtmlClient, db: Session, role: Role) -> None:
        client.sign_in(make_user(db, role=role).email, PASSWORD)
        lairg = settlement(db, "Lairg")
        for address in (*self.ADDRESSES, f"/commissioning/places/{lairg.id}"):
            assert client.get(address).status_code == 403, address
        assert "/commissioning" not in [
            a["href"] for a in page(client.get("/")).select(".ds_site-navigation__link")
        ]

    def test_signed_out_people_are_sent_to_sign_in(self, client: HtmlClient, db: Session) -> None:
        lairg = settlement(db, "Lairg")
        for address in (
            "/commissioning",
            f"/commissioning/places/{lairg.id}",
            "/commissioning/sites",
        ):
            response = client.get(address)
            assert response.status_code == 303
            assert response.headers["location"] == f"/sign-in?next={address}"
        assert client.get("/about/gaps").status_code == 200

    def test_a_shared_address_with_filters_is_where_signing_in_lands(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = commissioner(db, "Highland")
        address = "/commissioning?kind=personal-care&period=30"
        sign_in = client.get(address).headers["location"]
        form = page(client.get(sign_in)).select_one("form[action='/sign-in']")
        next_field = form.select_one("input[name=next]") if form else None
        landed = client.submit(
            "/sign-in",
            {
                "email": user.email,
                "password": PASSWORD,
                "next": next_field["value"] if next_field else "",
            },
        )
        assert landed.headers["location"] == address

    def test_the_navigation_offers_commissioners_the_market_gaps(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        current = page(client.get("/commissioning")).select_one(
            ".ds_site-navigation__link[aria-current=page]"
        )
        assert current is not None and current.get_text(strip=True) == "Market gaps"


class TestReach:
    def test_lairg_is_reached_and_ullapool_is_told_how_far_short(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = lairg_care(db)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        lairg, ullapool = settlement(db, "Lairg"), settlement(db, "Ullapool")

        dashboard = client.get("/commissioning", params={"kind": "personal-care"})
        rows = places_of(dashboard)
        assert (rows["Lairg"][PROVIDERS], rows["Ullapool"][PROVIDERS]) == ("1", "0")
        # Scotland's only offer is in Highland, so Highland's average is far above Scotland's
        # while nearly all its people have nothing in reach: the page says how both are true.
        headlines = page(dashboard)
        assert "of Scotland's" in headlines.select_one("#headline-hours").get_text()
        explained = headlines.select_one("#headline-explained")
        assert explained is not None and "an average over all" in explained.get_text()
        with browser(client.app, db, commissioner(db, "Fife")) as fife:
            elsewhere = page(fife.get("/commissioning", params={"kind": "personal-care"}))
            assert elsewhere.select_one("#headline-explained") is None, "0 hours: no puzzle"
        # Lairg's people share the 20 hours with the rural areas' within 15 km.
        expected = one_offer_hours_per_1000(db, hours=20, base=lairg, radius_km=15)
        assert rows["Lairg"][HOURS] == f"{expected:,.1f}"
        assert rows["Ullapool"][HOURS] == "0.0"
        reached = [label for label, row in rows.items() if row[PROVIDERS] != "0"]
        assert "Lairg" in reached and "Ullapool" not in reached
        assert list(rows)[-len(reached) :] == reached, "places with no offer in reach come first"

        soup = page(
            client.get(f"/commissioning/places/{lairg.id}", params={"kind": "personal-care"})
        )
        assert soup.select_one("#place-people").get_text().startswith(f"{lairg.residents:,} ")
        reaching = table_rows(soup, "reaching")
        assert reaching == [["Lairg Home Care", "Micro-provider", "1", "0 km away", "20"]]
        assert soup.select_one("#table-reaching a")["href"] == f"/providers/{provider.id}"
        assert table_rows(soup, "nearest-outside") == [["None."]]
        kinds = table_records(soup, "kinds")
        assert (
            kinds["Personal care"][PROVIDERS],
            kinds["Help at home"][PROVIDERS],
            kinds["Any kind"][PROVIDERS],
        ) == ("1", "0", "1")

        address = f"/commissioning/places/{ullapool.id}?kind=personal-care"
        soup = page(client.get(address))
        assert soup.select_one("#table-reaching") is None
        assert (
            soup.select_one("#no-reach").get_text(" ", strip=True)
            == "No published offer of personal care reaches Ullapool."
        )
        [outside] = table_rows(soup, "nearest-outside")
        exported = csv_records(client.get(address + "&table=nearest-outside&format=csv"))[
            "Lairg Home Care"
        ]
        distance = geodesic_km(
            lairg.latitude, lairg.longitude, ullapool.latitude, ullapool.longitude
        )
        assert float(exported["Distance"]) == pytest.approx(distance, abs=0.5)
        assert float(exported["Short by"]) == pytest.approx(
            float(exported["Distance"]) - 15, abs=0.1
        )
        assert outside == [
            "Lairg Home Care",
            f"{float(exported['Distance']):.0f} km",
            "15 km",
            f"{float(exported['Short by']):.0f} km",
        ]

    def test_an_outcome_counts_only_the_offers_that_help_with_it(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care(db)  # helps with feeling safe
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        assert (
            places_of(client.get("/commissioning?kind=personal-care&outcome=feeling-safe"))[
                "Lairg"
            ][PROVIDERS]
            == "1"
        )
        response = client.get("/commissioning?kind=personal-care&outcome=seeing-people")
        assert places_of(response)["Lairg"][PROVIDERS] == "0"
        assert (
            page(response).select_one("#gap-summary").get_text(" ", strip=True)
            == "Highland: personal care, helping with seeing people"
        )

    def test_a_class_lists_only_its_places(self, client: HtmlClient, db: Session) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning?class=6")
        remote_rural = {
            place.label for place in counted_places(db, "Highland") if place.urban_rural_6 == 6
        }
        assert set(places_of(response)) == remote_rural and "Lairg" in remote_rural
        assert {row["Urban-rural class (6-fold)"] for row in places_of(response).values()} == {
            "Remote rural area"
        }
        assert (
            page(response).select_one("#gap-summary").get_text(" ", strip=True)
            == "Highland: remote rural areas: any kind of support"
        )

    def test_places_with_no_offer_in_reach_come_first(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care(db, capacity_hours=0)  # full for now: it reaches Lairg with no hours to share
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        providers = [
            row[PROVIDERS]
            for row in places_of(client.get("/commissioning?kind=personal-care")).values()
        ]
        assert providers == sorted(providers, key=lambda count: count != "0"), (
            "as the page says: no offer in reach first"
        )

    def test_a_place_page_for_another_kind_says_nothing_reaches(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care(db)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        soup = page(
            client.get(
                f"/commissioning/places/{settlement(db, 'Lairg').id}",
                params={"kind": "help-at-home"},
            )
        )
        assert (
            soup.select_one("#no-reach").get_text(" ", strip=True)
            == "No published offer of help at home reaches Lairg."
        )
        assert table_rows(soup, "nearest-outside") == [["None."]]


class TestCsv:
    def test_scotland_s_page_draws_the_places_with_least_and_the_download_has_all(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care(db)
        client.sign_in(commissioner(db).email, PASSWORD)
        response = client.get("/commissioning", params={"kind": "personal-care"})
        shown = places_of(response)
        counted = db.scalar(
            select(func.count()).select_from(Settlement).where(Settlement.kind.in_(COUNTED))
        )
        assert len(shown) == PLACES_SHOWN < counted
        assert "Lairg" not in shown, "the one place with support is not among the least"
        more = page(response).select_one("#places-more").get_text(" ", strip=True)
        assert more == (
            f"The first {PLACES_SHOWN} of {counted:,} rows are shown: the download has them all."
        )
        exported = csv_records(client.get(f"{response.request.url}&table=places&format=csv"))
        assert len(exported) == counted and "Lairg" in exported
        assert list(exported)[:PLACES_SHOWN] == list(shown)

    def test_the_places_download_has_the_page_s_rows_and_figures(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care(db)
        unmet(db, "Lairg", 3)
        unmet(db, "Portree", 12)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning", params={"kind": "personal-care"})
        soup = page(response)
        [href] = [a["href"] for a in soup.select("a[download]") if "table=places" in a["href"]]
        assert downloads_table(href, "/commissioning", "places", kind="personal-care"), href
        exported = client.get(href)
        assert (
            exported.headers["content-disposition"]
            == 'attachment; filename="market-gaps-places.csv"'
        )
        header, *rows = csv_rows(exported)
        shown = table_rows(soup, "places")
        assert header == table_header(soup, "places")
        assert SEARCHES in header
        assert [row[0] for row in rows] == [row[0] for row in shown]
        for on_page, in_csv in zip(shown, rows, strict=True):
            assert all(same_figure(a, b) for a, b in zip(on_page, in_csv, strict=True)), (
                on_page,
                in_csv,
            )

        pages, csvs = places_of(response), csv_records(exported)
        assert pages["Lairg"][SEARCHES] == csvs["Lairg"][SEARCHES] == "fewer than 10"
        # Highland's total of 15 less Portree's 12 would tell Lairg's 3.
        assert pages["Portree"][SEARCHES] == csvs["Portree"][SEARCHES] == "not shown"
        assert pages["Ullapool"][SEARCHES] == csvs["Ullapool"][SEARCHES] == "0"

    def test_a_small_count_alone_reads_fewer_than_10_everywhere(
        self, client: HtmlClient, db: Session
    ) -> None:
        unmet(db, "Lairg", 3)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning")
        assert places_of(response)["Lairg"][SEARCHES] == "fewer than 10"
        assert (
            page(response).select_one("#headline-searches").get_text(" ", strip=True)
            == "fewer than 10 in the last 3 months"
        )
        assert (
            table_records(page(response), "urban-rural-6")["Remote rural area"][SEARCHES]
            == "fewer than 10"
        )
        assert (
            csv_records(client.get("/commissioning?table=places&format=csv"))["Lairg"][SEARCHES]
            == "fewer than 10"
        )
        assert "3" not in {
            row[SEARCHES]
            for row in csv_records(
                client.get("/commissioning?table=urban-rural-6&format=csv")
            ).values()
        }

    def test_twelve_searches_alone_are_shown(self, client: HtmlClient, db: Session) -> None:
        unmet(db, "Portree", 12)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning")
        assert places_of(response)["Portree"][SEARCHES] == "12"
        assert (
            csv_records(client.get("/commissioning?table=places&format=csv"))["Portree"][SEARCHES]
            == "12"
        )
        assert (
            page(response).select_one("#headline-searches").get_text(" ", strip=True)
            == "12 in the last 3 months"
        )

    def test_a_count_that_would_give_a_small_one_away_is_not_shown(
        self, client: HtmlClient, db: Session
    ) -> None:
        # Lairg and Ullapool are both very remote rural Highland places: every total holding
        # one holds the other, so showing Ullapool's 20 beside the class's 23 tells Lairg's 3.
        lairg, ullapool = settlement(db, "Lairg"), settlement(db, "Ullapool")
        assert (lairg.council_id, lairg.urban_rural_8) == (
            ullapool.council_id,
            ullapool.urban_rural_8,
        )
        unmet(db, "Lairg", 3)
        unmet(db, "Ullapool", 20)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning")
        soup = page(response)
        pages = places_of(response)
        csvs = csv_records(client.get("/commissioning?table=places&format=csv"))
        for rows in (pages, csvs):
            assert (rows["Lairg"][SEARCHES], rows["Ullapool"][SEARCHES]) == (
                "fewer than 10",
                "not shown",
            )
        class_on_page = table_records(soup, "urban-rural-6")
        class_in_csv = csv_records(client.get("/commissioning?table=urban-rural-6&format=csv"))
        for rows in (class_on_page, class_in_csv):
            assert rows["Remote rural area"][SEARCHES] == "23", "the class total is shown"
            assert rows["Highland"][SEARCHES] == "23"
        assert (
            soup.select_one("#headline-searches").get_text(" ", strip=True)
            == "23 in the last 3 months"
        )
        for place, shown in (("Lairg", "fewer than 10"), ("Ullapool", "not shown")):
            address = f"/commissioning/places/{settlement(db, place).id}"
            for kind in ("", "?kind=personal-care"):
                searches = page(client.get(address + kind)).select_one("#place-searches")
                assert searches.get_text(strip=True) == shown, "every page hides the same counts"

    def test_no_small_count_is_told_by_subtracting_one_period_from_a_longer_one(
        self, client: HtmlClient, db: Session
    ) -> None:
        # 20 searches this month and 3 two months ago: the month's 20 is safe to show, but
        # then neither 3 months' nor 12 months' 23 is, since 23 less 20 is 3.
        unmet(db, "Lairg", 20)
        unmet(db, "Lairg", 3, on=today() - timedelta(days=60))
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        shown = {}
        for days, label in PERIODS.items():
            response = client.get("/commissioning", params={"period": str(days)})
            column = f"Searches that found nothing ({label})"
            shown[days] = [
                places_of(response)["Lairg"][column],
                table_records(page(response), "urban-rural-6")["Highland"][column],
            ]
        assert shown[30] == ["20", "20"]
        for shorter, longer in itertools.combinations(PERIODS, 2):
            for short, long in zip(shown[shorter], shown[longer], strict=True):
                assert tells_nothing_small(long, short), (
                    f"{long} in {longer} days less {short} in {shorter}"
                )

    def test_no_small_count_is_told_by_subtracting_a_kind_from_any_kind(
        self, client: HtmlClient, db: Session
    ) -> None:
        # 20 searches for personal care and 3 for help at home: any kind's 23 less personal
        # care's 20 tells that 3 searches at Lairg were for something else.
        unmet(db, "Lairg", 20, kinds=("personal-care",))
        unmet(db, "Lairg", 3, kinds=("help-at-home",))
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        any_kind = places_of(client.get("/commissioning"))["Lairg"][SEARCHES]
        personal_care = places_of(client.get("/commissioning?kind=personal-care"))["Lairg"][
            SEARCHES
        ]
        address = f"/commissioning/places/{settlement(db, 'Lairg').id}"

        def on_place_page(query: str) -> str:
            return (
                page(client.get(address + query)).select_one("#place-searches").get_text(strip=True)
            )

        on_dashboards = (any_kind, personal_care)
        assert (on_place_page(""), on_place_page("?kind=personal-care")) == on_dashboards
        help_at_home = on_place_page("?kind=help-at-home")
        for whole, part in ((any_kind, personal_care), (any_kind, help_at_home)):
            assert tells_nothing_small(whole, part), f"{whole} less {part}"

    def test_no_small_count_is_told_by_subtracting_an_outcome_from_its_kind(
        self, client: HtmlClient, db: Session
    ) -> None:
        unmet(db, "Lairg", 17, kinds=("personal-care",), outcomes=("feeling-safe",))
        unmet(db, "Lairg", 3, kinds=("personal-care",))
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        kind = places_of(client.get("/commissioning?kind=personal-care"))["Lairg"][SEARCHES]
        both = places_of(client.get("/commissioning?kind=personal-care&outcome=feeling-safe"))[
            "Lairg"
        ][SEARCHES]
        assert tells_nothing_small(kind, both), f"{kind} less {both}"

    def test_searches_are_counted_for_their_kind_and_period(
        self, client: HtmlClient, db: Session
    ) -> None:
        unmet(db, "Portree", 12)
        unmet(db, "Portree", 11, on=today() - timedelta(days=90))  # the first of the last 91 days
        unmet(db, "Portree", 15, on=today() - timedelta(days=91))  # the day before
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        assert (
            places_of(client.get("/commissioning?kind=personal-care"))["Portree"][SEARCHES] == "23"
        )
        assert places_of(client.get("/commissioning?kind=help-at-home"))["Portree"][SEARCHES] == "0"
        year = places_of(client.get("/commissioning?period=365"))["Portree"]
        assert year["Searches that found nothing (the last 12 months)"] == "38"

    def test_a_table_the_page_does_not_have_is_not_found(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        assert client.get("/commissioning?table=councils&format=csv").status_code == 404
        assert client.get("/commissioning?table=nope&format=csv").status_code == 404


class TestRecompute:
    def test_a_published_offer_shows_on_the_next_view(
        self, client: HtmlClient, db: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = {"now": datetime(2026, 1, 15, 9, 5, tzinfo=UTC)}
        monkeypatch.setattr("matching.gaps.service.utcnow", lambda: clock["now"])
        lairg_care(db)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)

        def view() -> tuple[str, dict[str, str]]:
            response = client.get("/commissioning", params={"kind": "personal-care"})
            return page(response).select_one("#computed-at").get_text(" ", strip=True), places_of(
                response
            )["Lairg"]

        computed, lairg = view()
        assert computed.startswith("Worked out at 15 January 2026 at 9:05am from the 1 offer")
        assert lairg[PROVIDERS] == "1"

        clock["now"] = datetime(2026, 1, 15, 14, 40, tzinfo=UTC)
        assert view() == (computed, lairg), (
            "nothing changed, so the figures are the ones worked out before"
        )

        lairg_care(db, name="Sutherland Support", capacity_hours=10)
        computed, after = view()
        assert computed.startswith("Worked out at 15 January 2026 at 2:40pm from the 2 offers")
        assert after[PROVIDERS] == "2"
        # The two offers reach the same people, who share their 30 hours.
        shared = one_offer_hours_per_1000(db, hours=30, base=settlement(db, "Lairg"), radius_km=15)
        assert after[HOURS] == f"{shared:,.1f}" != lairg[HOURS]
        soup = page(
            client.get(
                f"/commissioning/places/{settlement(db, 'Lairg').id}",
                params={"kind": "personal-care"},
            )
        )
        assert [row[0] for row in table_rows(soup, "reaching")] == [
            "Lairg Home Care",
            "Sutherland Support",
        ]

    def test_one_offer_is_one_offer(self, client: HtmlClient, db: Session) -> None:
        """Not "from the 1 offers published then"."""
        lairg_care(db)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        computed = (
            page(client.get("/commissioning")).select_one("#computed-at").get_text(" ", strip=True)
        )
        assert "1 offers" not in computed


class TestBadFilters:
    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("kind", "nonsense", "Choose a kind of support from the list"),
            ("outcome", "nope", "Choose an outcome from the list"),
            ("class", "7", "Choose an urban-rural class from the list"),
            ("period", "10", "Choose a period from the list"),
        ],
    )
    def test_are_answered_by_their_field(
        self, client: HtmlClient, db: Session, field: str, value: str, message: str
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning", params={field: value})
        assert response.status_code == 422
        assert error_messages(response) == [message]
        soup = page(response)
        assert soup.select_one(f".ds_error-summary a[href='#{field}']") is not None
        assert soup.select_one(f"#{field}-error").get_text(strip=True) == message
        assert soup.select_one("#gap-summary") is None and soup.select_one("table") is None, (
            "no figures beside an error"
        )

    def test_an_unknown_council_for_a_scotland_commissioner(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db).email, PASSWORD)
        response = client.get("/commissioning", params={"council": "S99999999", "kind": "nonsense"})
        assert response.status_code == 422
        assert error_messages(response) == [
            "Choose a council area from the list",
            "Choose a kind of support from the list",
        ]
        assert page(response).select_one("#council-error") is not None

    def test_a_council_code_with_a_nul_in_it_is_just_not_in_the_list(
        self, client: HtmlClient, db: Session
    ) -> None:
        # PostgreSQL cannot compare text with a NUL: it must never reach the query.
        client.sign_in(commissioner(db).email, PASSWORD)
        response = client.get("/commissioning", params={"council": "S99\x00"})
        assert response.status_code == 422
        assert error_messages(response) == ["Choose a council area from the list"]

    def test_a_place_page_with_a_filter_it_cannot_read_says_so(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get(
            f"/commissioning/places/{settlement(db, 'Lairg').id}", params={"kind": "nonsense"}
        )
        assert response.status_code == 400
        assert "Choose a kind of support from the list" in response.text
        assert page(response).select_one("table") is None, (
            "no figures for a filter it did not understand"
        )


class TestSites:
    ADDRESS = "/commissioning/sites?kind=personal-care&count=3&radius=20&hours=30"

    def test_suggests_up_to_three_bases_and_the_people_they_bring_into_reach(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care(db)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get(self.ADDRESS)
        assert response.status_code == 200
        soup = page(response)
        header, *exported = csv_rows(client.get(self.ADDRESS + "&table=sites&format=csv"))
        assert header == table_header(soup, "sites")
        sites = {row[1]: dict(zip(header, row, strict=True)) for row in exported}
        shown = table_rows(soup, "sites")
        assert 1 <= len(shown) <= 3 and [row[1] for row in shown] == list(sites)
        assert [row[0] for row in shown] == [str(n) for n in range(1, len(shown) + 1)]

        highland = {place.label: place for place in counted_places(db, "Highland")}
        lairg = highland["Lairg"]
        out_of_reach = {
            label: place
            for label, place in highland.items()
            if geodesic_km(lairg.latitude, lairg.longitude, place.latitude, place.longitude) > 15
        }
        gained_before: set[str] = set()
        gains = []
        for base, row in sites.items():
            gained = row["Places brought into reach"].split("; ")
            assert base in highland and not set(gained) & gained_before
            assert "Lairg" not in gained, "Lairg has an offer in reach already"
            where = highland[base]
            assert all(
                geodesic_km(
                    where.latitude,
                    where.longitude,
                    out_of_reach[g].latitude,
                    out_of_reach[g].longitude,
                )
                <= 20.01
                for g in gained
            )
            assert int(row["People newly in reach"]) == sum(
                out_of_reach[g].residents for g in gained
            )
            gains.append(int(row["People newly in reach"]))
            gained_before |= set(gained)
        assert gains == sorted(gains, reverse=True)

        def reachable_from(base: Any) -> int:
            return sum(
                p.residents
                for p in out_of_reach.values()
                if geodesic_km(base.latitude, base.longitude, p.latitude, p.longitude) <= 20
            )

        assert gains[0] == max(reachable_from(base) for base in highland.values()), (
            "the first base is the best single one"
        )
        summary = soup.select_one("#site-summary").get_text(" ", strip=True)
        unreached = sum(p.residents for p in out_of_reach.values())
        assert summary.startswith(
            f"{unreached:,} people in Highland live in places no offer of personal care reaches. "
            f"These bases would bring {sum(gains):,} of them into reach: at least "
        )
        share = int(summary.split("at least ")[1].split("%")[0])
        assert 63 <= share <= 100
        before_after = table_records(soup, "before-after")
        assert (
            before_after["Remote rural area"]["With the new providers"]
            != before_after["Remote rural area"]["People with no offer in reach now"]
        )

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"count": "0"}, "count", "Choose how many new providers, from 1 to 10"),
            ({"radius": "abc"}, "radius", "Enter how far each would travel, from 1 to 100 km"),
        ],
    )
    def test_bad_answers_are_answered_by_their_field(
        self, client: HtmlClient, db: Session, changes: dict[str, str], field: str, message: str
    ) -> None:
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        params = {"kind": "personal-care", "count": "3", "radius": "20", "hours": "30"} | changes
        response = client.get("/commissioning/sites", params=params)
        assert response.status_code == 422
        assert error_messages(response) == [message]
        assert page(response).select_one(f"#{field}-error").get_text(strip=True) == message
        assert page(response).select_one("#site-results") is None

    def test_a_commissioner_for_scotland_gets_bases_anywhere(self, app: Any, db: Session) -> None:
        with browser(app, db, commissioner(db)) as client:
            response = client.get(self.ADDRESS)
        assert response.status_code == 200
        assert (
            page(response).select_one("#site-results h2").get_text(" ", strip=True)
            == "3 bases for personal care in Scotland"
        )
