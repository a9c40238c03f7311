"""Comparing offers side by side, as a person does from their shortlist: the same place and
hours for each, prices as they would pay them, and every bad choice named by its field."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from marketplace.geography.distance import geodesic_km
from providers import offers as offers_service
from providers.models import CheckKind, Offer, PriceUnit
from providers.offers import PriceDetails
from tests.helpers import HtmlClient, error_messages, page
from tests.matching.search.test_routes import PLACE, _place, skye_market, verify


class TestCompare:
    def three(self, db: Session) -> list[Offer]:
        market = skye_market(db)
        offer = market["kyle"]
        offer.provider.holds_isf = True
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=1800, management_fee_bp=1250),
        )
        verify(db, market["portree"].provider, CheckKind.PVG, "1234567890123456")
        db.flush()
        return [market["portree"], market["broadford"], market["kyle"]]

    def rows(self, response: httpx.Response) -> dict[str, list[str]]:
        table = page(response).select_one("table.ds_table")
        return {
            row.select_one("th[scope=row]").get_text(" ", strip=True): [
                cell.get_text(" ", strip=True) for cell in row.select("td")
            ]
            for row in table.select("tbody tr")
        }

    def test_three_offers_side_by_side_for_the_persons_place_and_hours(
        self, client: HtmlClient, db: Session
    ) -> None:
        offers = self.three(db)
        query = "&".join(f"offer={o.id}" for o in offers) + "&location=Portree&hours=6"
        response = client.get(f"/compare?{query}")
        assert response.status_code == 200
        table = page(response).select_one("table.ds_table")
        assert table.caption is not None
        assert [th.get_text(" ", strip=True) for th in table.select("thead th[scope=col]")] == [
            "Care at home in Portree Portree Care",
            "Getting out from Broadford Broadford Helpers",
            "Support from Kyle Lochalsh Support",
        ]
        rows = self.rows(response)
        assert rows["Price an hour"] == ["£20.00", "£20.00", "£18.00"]
        assert rows["Support a week for 6 hours"] == [
            f"6 hours at the weekday daytime rate: {p}" for p in ("£120.00", "£120.00", "£108.00")
        ]
        assert rows["Management fee a week"] == ["None", "None", "£13.50 (12.5%)"]
        assert rows["Total a week"] == ["£120.00", "£120.00", "£121.50"]
        assert rows["What it helps with"] == ["Feeling safe", "Seeing people", "Feeling safe"]
        assert rows["Kinds of support"] == [
            "Personal care",
            "Getting out and about",
            "Personal care Help at home",
        ]
        assert rows["Checks verified by us"] == ["PVG scheme membership", "None yet", "None yet"]
        assert rows["Days and times"][0].startswith("Monday: morning, afternoon")
        assert rows["Space"][0].startswith("20 hours a week")
        here = _place(db, PLACE)
        assert rows["Distance from you"] == [
            f"{geodesic_km(*here, *_place(db, name)):.1f} km"
            for name in ("Portree", "Broadford", "Kyle of Lochalsh")
        ]
        links = [
            a["href"]
            for a in page(response).select("a")
            if a.get_text(strip=True).startswith("Send an enquiry")
        ]
        assert links == [f"/offers/{o.id}/enquire?location=Portree&hours=6" for o in offers], (
            "the place and hours go along"
        )

    def test_without_a_place_there_is_no_distance_and_prices_are_for_ten_hours(
        self, client: HtmlClient, db: Session
    ) -> None:
        offers = self.three(db)
        response = client.get("/compare?" + "&".join(f"offer={o.id}" for o in offers[:2]))
        assert response.status_code == 200
        rows = self.rows(response)
        assert "Distance from you" not in rows
        assert rows["Total a week"] == ["£200.00", "£200.00"]

    def test_more_than_three_is_refused_plainly(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        response = client.get("/compare?" + "&".join(f"offer={o.id}" for o in market.values()))
        assert response.status_code == 422
        assert error_messages(response) == ["You can compare up to 3 offers at a time. You chose 5"]
        assert page(response).select_one("table.ds_table") is None

    def test_unknown_paused_and_malformed_offers_are_named_and_the_rest_compared(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        paused = market["kyle"]
        offers_service.pause_offer(db, offer=paused, actor=paused.provider.members[0].user)
        db.flush()
        response = client.get(
            f"/compare?offer={market['portree'].id}&offer=999999&offer={paused.id}"
        )
        assert response.status_code == 422
        assert error_messages(response) == [
            "Offer 999999 is not available any more, so it cannot be compared",
            f"Offer {paused.id} is not available any more, so it cannot be compared",
        ]
        compared = page(response).select_one("table.ds_table")
        assert [th.get_text(" ", strip=True) for th in compared.select("thead th[scope=col]")] == [
            "Care at home in Portree Portree Care"
        ]
        malformed = client.get("/compare?offer=abc")
        assert malformed.status_code == 422
        assert error_messages(malformed) == [
            "'abc' is not an offer number. Choose offers from your shortlist"
        ]

    def test_a_bad_place_or_hours_is_shown_by_its_field(
        self, client: HtmlClient, db: Session
    ) -> None:
        offers = self.three(db)
        response = client.get(f"/compare?offer={offers[0].id}&location=Carlisle&hours=0")
        assert response.status_code == 422
        soup = page(response)
        assert (
            soup.select_one("#location-error")
            .get_text(strip=True)
            .startswith("We cannot find a place called Carlisle")
        )
        assert soup.select_one("#hours-error").get_text(strip=True) == "Enter more than 0 hours"
        assert soup.select_one("#location")["value"] == "Carlisle"

    def test_with_nothing_chosen_it_says_how_to_choose(self, client: HtmlClient) -> None:
        response = client.get("/compare")
        assert response.status_code == 200
        assert "/shortlist" in [a["href"] for a in page(response).select("main a")]
        assert client.get("/compare?location=Portree").status_code == 422
