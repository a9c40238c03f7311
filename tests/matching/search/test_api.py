"""GET /api/v1/match: the search as JSON, with the page's parameters, order, scores and
reasons; bad parameters answered 422 as {"error", "detail"} naming each field; no unmet
demand recorded for machines."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.geography.distance import geodesic_km
from matching import ranking
from matching.models import UnmetDemand
from tests.helpers import HtmlClient
from tests.matching.search.test_routes import PLACE, REACHING, _place, skye_market, titles


def match(client: HtmlClient, **params: Any) -> Any:
    return client.get("/api/v1/match", params=params)


class TestResults:
    def test_the_offers_that_reach_the_place_in_the_pages_order(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        response = match(client, location=PLACE, hours="6")
        assert response.status_code == 200
        body = response.json()
        assert [r["title"] for r in body["results"]] == REACHING
        assert (body["total"], body["reached"], body["page"], body["pages"], body["page_size"]) == (
            3,
            3,
            1,
            1,
            20,
        )
        assert body["location"] == {
            "label": "Portree",
            "council": "Highland",
            "settlement": "Portree",
        }
        assert body["minutes_per_week"] == 360
        assert body["cheapest_week_pence"] == 12000
        first = body["results"][1]
        assert first["offer_id"] == market["broadford"].id
        assert first["provider_name"] == "Broadford Helpers"
        assert first["url"] == f"/offers/{market['broadford'].id}"
        assert first["rank"] == 2
        assert first["summary"].startswith("2nd of 3, with ")
        assert (
            first["hourly_pence"],
            first["week_support_pence"],
            first["week_fee_pence"],
            first["week_total_pence"],
        ) == (2000, 12000, 0, 12000)
        assert first["distance_km"] == pytest.approx(
            geodesic_km(*_place(db, PLACE), *_place(db, "Broadford")), abs=0.001
        )
        assert [r["factor"] for r in first["reasons"]] == list(ranking.FACTOR_LABELS.values())
        assert [r["out_of"] for r in first["reasons"]] == list(ranking.WEIGHTS.values())
        assert sum(r["points"] for r in first["reasons"]) == pytest.approx(first["score"], abs=0.05)
        assert all(r["text"] for r in first["reasons"])

    def test_filters_and_sort_as_on_the_page(self, client: HtmlClient, db: Session) -> None:
        skye_market(db)
        asked = {
            "location": PLACE,
            "outcomes": "seeing-people",
            "kinds_of_support": ["personal-care", "getting-out-and-about"],
        }
        body = match(client, **asked, sort="nearest").json()
        page = client.get("/find-support", params={**asked, "sort": "nearest"})
        assert [r["title"] for r in body["results"]] == titles(page)
        assert body["sort"] == "nearest"
        assert match(client, location=PLACE, kinds_of_support="help-at-home").json()["total"] == 1

    def test_a_search_that_finds_nothing_is_not_recorded(
        self, client: HtmlClient, db: Session
    ) -> None:
        body = match(client, location="Ullapool").json()
        assert body["total"] == 0 and body["results"] == []
        assert db.scalar(select(func.count()).select_from(UnmetDemand)) == 0


class TestBadParameters:
    def test_every_problem_named_by_its_field(self, client: HtmlClient) -> None:
        response = match(
            client,
            location="Carlisle",
            hours="200",
            sort="zzz",
            page="abc",
            max_price="-3",
            when="99-99",
            outcomes="nope",
        )
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "FormInvalid"
        fields = [item["field"] for item in body["detail"]]
        assert fields == ["location", "outcomes", "when", "hours", "max_price", "sort", None]
        assert body["detail"][3]["message"] == "A week has 168 hours: enter 168 or fewer"

    @pytest.mark.parametrize("location", ["", "54.89, -2.93", "Atlantis"])
    def test_a_place_that_cannot_be_used(self, client: HtmlClient, location: str) -> None:
        response = match(client, location=location)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "location"


class TestDocumented:
    def test_the_openapi_document_lists_the_parameters_and_the_answer(
        self, client: HtmlClient
    ) -> None:
        document = client.get("/api/v1/openapi.json").json()
        operation = document["paths"]["/api/v1/match"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {
            "location",
            "kinds_of_support",
            "outcomes",
            "client_groups",
            "when",
            "hours",
            "language",
            "max_price",
            "isf",
            "verified",
            "sort",
            "page",
        } <= names
        assert "MatchOut" in str(operation["responses"]["200"])
