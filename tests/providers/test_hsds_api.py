"""The Open Referral (HSDS 3.0) feed, as an aggregator or a council's directory reads it:
only published offers, as services that validate against the standard's own schemas,
with prices in pounds to the penny, areas, taxonomies, capacity and languages; paging as
the standard says; bad query input answered with a clear JSON error."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import FormatChecker
from jsonschema.validators import Draft202012Validator
from sqlalchemy.orm import Session

from marketplace.geography import service as geography_service
from providers import offers as offers_service
from providers import service as providers_service
from providers.models import (
    AreaType,
    FeePeriod,
    Offer,
    PriceUnit,
    ProviderKind,
    Taxonomy,
    TravelCharge,
)
from providers.offers import OfferDetails, PriceDetails
from tests.factories import WEEKDAY_DAYTIMES, make_offer, make_provider, term_ids
from tests.helpers import HtmlClient

HSDS = Path(__file__).parents[3] / "shared" / "hsds"


def compiled_schema(name: str) -> Draft202012Validator:
    path = HSDS / "schema" / "compiled" / name
    if not path.exists():
        pytest.skip(f"the HSDS 3.0 schemas are not at {HSDS} (CI always has ../shared/hsds)")
    return Draft202012Validator(json.loads(path.read_text()), format_checker=FormatChecker())


def assert_valid(validator: Draft202012Validator, record: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(record)
    ]
    assert not errors, errors


def get_json(client: HtmlClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["access-control-allow-origin"] == "*"
    # Amounts are read as Decimal, so a test sees the digits the feed wrote.
    return json.loads(response.text, parse_float=Decimal)


def service_id(client: HtmlClient, offer: Offer) -> str:
    page = get_json(client, f"/openreferral/services?search={offer.title}")
    (found,) = [s for s in page["contents"] if s["name"] == offer.title]
    return found["id"]


def priced(db: Session, offer: Offer, **price: Any) -> Offer:
    offers_service.set_price(
        db, offer=offer, actor=offer.provider.members[0].user, details=PriceDetails(**price)
    )
    return offer


class TestTheRootDocument:
    def test_says_the_hsds_version_and_where_the_openapi_document_is(
        self, client: HtmlClient
    ) -> None:
        root = get_json(client, "/openreferral/")
        assert root["version"] == "3.0"
        assert root["openapi_url"] == "http://testserver/api/v1/openapi.json"
        openapi = client.get("/api/v1/openapi.json").json()
        assert "/openreferral/services/{id}" in openapi["paths"]
        assert openapi["paths"]["/openreferral/services"]["get"]["tags"] == [
            "Open Referral (HSDS 3.0)"
        ]


class TestServices:
    def test_only_published_offers_are_services(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db, name="Glen Support")
        published = make_offer(db, provider=provider, title="Company on the croft")
        make_offer(db, provider=provider, title="Still a draft", publish=False)
        paused = make_offer(db, provider=provider, title="Paused for the winter")
        offers_service.pause_offer(db, offer=paused, actor=provider.members[0].user)

        page = get_json(client, "/openreferral/services?per_page=100")
        names = {s["name"] for s in page["contents"]}
        assert published.title in names
        assert not names & {"Still a draft", "Paused for the winter"}
        item = compiled_schema("service_list.json")
        for service in page["contents"]:
            assert_valid(item, service)
            assert service["status"] == "active"

    def test_a_service_in_full_validates_and_carries_price_area_terms_capacity_and_languages(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db, name="Skye Care Co-operative", base="Portree", holds_isf=True)
        providers_service.set_languages(provider, ["English", "Gaelic"])
        provider.contact_email = "hello@skye-care.example.org"
        offer = make_offer(
            db,
            provider=provider,
            title="Help at home in Trotternish",
            kinds=("help-at-home",),
            outcomes=("living-where-you-want", "feeling-safe"),
            radius_km=25,
            capacity_hours=14,
        )
        priced(
            db,
            offer,
            unit=PriceUnit.HOUR,
            rate_pence=2_285,
            evening_uplift_bp=2_500,
            weekend_uplift_bp=5_000,
            travel_charge=TravelCharge.PER_MILE,
            travel_charge_pence=45,
            included="Shopping and cooking",
            management_fee_bp=800,
            management_fee_fixed_pence=1_500,
            management_fee_period=FeePeriod.MONTH,
        )

        service = get_json(client, f"/openreferral/services/{service_id(client, offer)}")

        assert_valid(compiled_schema("service.json"), service)
        assert service["organization"]["name"] == "Skye Care Co-operative"
        assert service["email"] == "hello@skye-care.example.org"
        weekday, evenings, weekends = service["cost_options"]
        assert (weekday["currency"], weekday["amount"]) == ("GBP", Decimal("22.85"))
        assert (evenings["option"], evenings["amount"]) == (
            "Evenings",
            Decimal("28.56"),
        )  # 22.85 * 1.25, half up
        assert (weekends["option"], weekends["amount"]) == ("Weekends", Decimal("34.28"))
        described = weekday["amount_description"]
        for words in (
            "£22.85 per hour, on weekday days",
            "Evenings 25% more",
            "weekends 50% more",
            "£0.45 a mile",
            "8% of what is spent plus £15.00 a month",
            "Includes: Shopping and cooking",
        ):
            assert words in described
        (area,) = service["service_areas"]
        assert area["name"] == "Within 25 km of Portree"
        extent = json.loads(area["extent"])
        assert extent["properties"]["radius_km"] == 25
        assert extent["geometry"]["type"] == "Polygon"
        terms = {(a["link_type"], a["taxonomy_term"]["name"]) for a in service["attributes"]}
        assert terms == {
            ("kind_of_support", "Help at home"),
            ("personal_outcome", "Living where and as you want"),
            ("personal_outcome", "Feeling safe"),
        }
        (capacity,) = service["capacities"]
        assert (capacity["available"], capacity["unit"]["name"]) == (14, "Hours a week")
        assert capacity["updated"].startswith(offer.capacity_updated_at.date().isoformat())
        assert [(lang["name"], lang.get("code")) for lang in service["languages"]] == [
            ("English", "en"),
            ("Gaelic", "gd"),
        ]
        assert {s["byday"] for s in service["schedules"]} == {"MO,TU,WE,TH,FR"}
        (at_location,) = service["service_at_locations"]
        assert at_location["location"]["name"] == "Portree"

    def test_amounts_are_pounds_to_the_penny_whatever_the_unit(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db, title="Sleepover support", kinds=("overnight-support",))
        priced(db, offer, unit=PriceUnit.NIGHT, rate_pence=12_001, unit_minutes=600)
        service = get_json(client, f"/openreferral/services/{service_id(client, offer)}")
        (night,) = service["cost_options"]
        assert night["amount"] == Decimal("120.01")
        assert night["amount_description"].startswith(
            "£120.01 per night of 10 hours, on weekday days."
        )

    def test_council_and_settlement_areas_are_named(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        actor = provider.members[0].user
        offer = make_offer(db, provider=provider, title="Across two councils")
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        moray = geography_service.find_council_area(db, name_or_code="Moray")
        details = OfferDetails(
            title=offer.title,
            description="",
            availability=WEEKDAY_DAYTIMES,
            area_type=AreaType.COUNCILS,
            council_ids=[highland.id, moray.id],
            term_ids=[t.id for t in offer.terms],
        )
        offers_service.update_offer(db, offer=offer, actor=actor, details=details)
        service = get_json(client, f"/openreferral/services/{service_id(client, offer)}")
        assert [(a["name"], a["uri"][-9:]) for a in service["service_areas"]] == [
            ("Highland", highland.gss_code),
            ("Moray", moray.gss_code),
        ]

        portree = geography_service.resolve_location(db, text="Portree").settlement
        offers_service.update_offer(
            db,
            offer=offer,
            actor=actor,
            details=replace(details, area_type=AreaType.SETTLEMENTS, settlement_ids=[portree.id]),
        )
        service = get_json(client, f"/openreferral/services/{service_id(client, offer)}")
        assert [a["name"] for a in service["service_areas"]] == ["Portree"]

    def test_filters_narrow_the_list_together(self, client: HtmlClient, db: Session) -> None:
        first, second = (
            make_provider(db, name="Ness Helpers"),
            make_provider(db, name="Tay Helpers"),
        )
        care = make_offer(db, provider=first, title="Morning care", kinds=("personal-care",))
        make_offer(db, provider=first, title="Breaks for carers", kinds=("short-breaks",))
        make_offer(db, provider=second, title="Care in Perth", kinds=("personal-care",))
        terms = get_json(client, "/openreferral/taxonomy_terms?search=Personal care")["contents"]
        (personal_care,) = [t for t in terms if t["code"] == "personal-care"]
        organization_id = get_json(client, f"/openreferral/services/{service_id(client, care)}")[
            "organization_id"
        ]

        page = get_json(
            client,
            f"/openreferral/services?taxonomy_term_id={personal_care['id']}&organization_id={organization_id}",
        )

        assert [s["name"] for s in page["contents"]] == ["Morning care"]
        unknown = get_json(client, "/openreferral/services?taxonomy_term_id=not-one-of-ours")
        assert unknown["total_items"] == 0 and unknown["empty"] is True

    def test_modified_after_keeps_what_changed_since(self, client: HtmlClient, db: Session) -> None:
        offer = make_offer(db, title="Recently changed")
        changed = offer.updated_at.replace(microsecond=0)
        since = (changed - timedelta(minutes=1)).isoformat()
        later = (
            (changed + timedelta(days=1)).replace(tzinfo=None).isoformat()
        )  # no offset: taken as UTC

        recent = get_json(
            client, f"/openreferral/services?modified_after={quote(since)}&format=json&per_page=100"
        )
        none_yet = get_json(client, f"/openreferral/services?modified_after={quote(later)}")

        assert offer.title in {s["name"] for s in recent["contents"]}
        assert none_yet["contents"] == []

    def test_minimal_gives_ids_and_dates_only(self, client: HtmlClient, db: Session) -> None:
        make_offer(db)
        page = get_json(client, "/openreferral/services?minimal=true")
        assert page["contents"] and all(set(s) == {"id", "last_modified"} for s in page["contents"])


class TestPaging:
    def test_pages_carry_the_header_the_standard_asks_for(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db)
        for number in range(3):
            make_offer(db, provider=provider, title=f"Paged offer {number}")
        total = get_json(client, "/openreferral/services")["total_items"]

        first = get_json(client, f"/openreferral/services?per_page={total - 1}")
        last = get_json(client, f"/openreferral/services?per_page={total - 1}&page=2")

        assert {k: v for k, v in first.items() if k != "contents"} == {
            "total_items": total,
            "total_pages": 2,
            "page_number": 1,
            "size": total - 1,
            "first_page": True,
            "last_page": False,
            "empty": False,
        }
        assert (last["page_number"], last["size"], last["first_page"], last["last_page"]) == (
            2,
            1,
            False,
            True,
        )
        ids = [s["id"] for s in first["contents"] + last["contents"]]
        assert len(set(ids)) == total

    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ("page=0", "page"),
            ("page=abc", "page"),
            ("per_page=100000", "per_page"),
            ("per_page=0", "per_page"),
            ("format=ndjson", "format"),
            ("modified_after=yesterday", "modified_after"),
            ("full=perhaps", "full"),
        ],
    )
    def test_bad_query_input_is_a_clear_json_error(
        self, client: HtmlClient, query: str, parameter: str
    ) -> None:
        for path in (
            "/openreferral/services",
            "/openreferral/service_at_locations",
            "/openreferral/organizations",
        ):
            if parameter == "modified_after" and path.endswith("organizations"):
                continue
            if parameter == "full" and path.endswith("organizations"):
                parameter_here = "full"
            else:
                parameter_here = parameter
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            body = response.json()
            assert body["error"] == "BadQuery"
            assert [d["parameter"] for d in body["detail"]] == [parameter_here]

    def test_unknown_ids_are_json_404s(self, client: HtmlClient) -> None:
        for path in (
            "services",
            "organizations",
            "taxonomies",
            "taxonomy_terms",
            "service_at_locations",
        ):
            response = client.get(f"/openreferral/{path}/00000000-0000-8000-8000-000000000000")
            assert response.status_code == 404, path
            assert response.json()["error"] == "NotFound"

    def test_a_draft_is_not_found_by_its_id_either(self, client: HtmlClient, db: Session) -> None:
        offer = make_offer(db, title="Soon to be paused")
        found = service_id(client, offer)
        offers_service.pause_offer(db, offer=offer, actor=offer.provider.members[0].user)
        assert client.get(f"/openreferral/services/{found}").status_code == 404


class TestOrganizations:
    def test_providers_and_personal_assistants_with_published_offers(
        self, client: HtmlClient, db: Session
    ) -> None:
        organisation = make_provider(db, name="Cairngorm Community Care")
        organisation.phone = "01479 000000"
        make_offer(db, provider=organisation, title="Lunch club")
        assistant = make_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT, name="Morag PA")
        assistant.phone = "07700 900000"
        assistant.contact_email = "morag@example.org"
        make_offer(db, provider=assistant, title="Personal assistant in Badenoch")
        make_provider(db, name="Nothing published yet")

        page = get_json(client, "/openreferral/organizations?per_page=100")

        listed = {o["name"]: o for o in page["contents"]}
        assert {"Cairngorm Community Care", "Morag PA"} <= set(listed)
        assert "Nothing published yet" not in listed
        item = compiled_schema("organization_list.json")
        for record in page["contents"]:
            assert_valid(item, record)
        pa = get_json(
            client, f"/openreferral/organizations/{listed['Morag PA']['id']}?full_service=true"
        )
        assert_valid(compiled_schema("organization.json"), pa)
        assert pa["legal_status"] == "Self-employed personal assistant (sole trader)"
        assert "email" not in pa and "phones" not in pa, (
            "a PA's own contact details stay out of the open feed"
        )
        assert [s["name"] for s in pa["services"]] == ["Personal assistant in Badenoch"]
        organisation_record = get_json(
            client, f"/openreferral/organizations/{listed['Cairngorm Community Care']['id']}"
        )
        assert [p["number"] for p in organisation_record["phones"]] == ["01479 000000"]
        assert set(organisation_record["services"][0]) == {"id", "name", "status"}


class TestTaxonomies:
    def test_three_taxonomies_whose_terms_are_the_ones_offers_use(
        self, client: HtmlClient, db: Session
    ) -> None:
        taxonomies = get_json(client, "/openreferral/taxonomies")["contents"]
        assert [t["name"] for t in taxonomies] == [
            "Personal outcomes",
            "Kinds of support",
            "Who it suits",
        ]
        outcomes = taxonomies[0]
        assert get_json(client, f"/openreferral/taxonomies/{outcomes['id']}") == outcomes

        terms = get_json(
            client, f"/openreferral/taxonomy_terms?taxonomy_id={outcomes['id']}&per_page=100"
        )
        assert [t["name"] for t in terms["contents"]][:2] == ["Feeling safe", "Having things to do"]
        assert terms["total_items"] == 6
        (feeling_safe,) = [t for t in terms["contents"] if t["code"] == "feeling-safe"]
        assert (
            get_json(client, f"/openreferral/taxonomy_terms/{feeling_safe['id']}")[
                "taxonomy_detail"
            ]
            == outcomes
        )
        assert (
            get_json(client, f"/openreferral/taxonomy_terms?parent_id={feeling_safe['id']}")[
                "empty"
            ]
            is True
        )

        offer = make_offer(db, outcomes=("feeling-safe",))
        service = get_json(client, f"/openreferral/services/{service_id(client, offer)}")
        assert feeling_safe["id"] in {a["taxonomy_term_id"] for a in service["attributes"]}
        assert term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("feeling-safe",))


class TestServiceAtLocations:
    def test_each_service_at_the_place_its_support_starts_from(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(
            db, provider=make_provider(db, base="Ullapool"), title="Outings from Ullapool"
        )
        page = get_json(client, "/openreferral/service_at_locations?search=Outings from Ullapool")
        (record,) = page["contents"]
        assert_valid(compiled_schema("service_at_location_list.json"), record)
        assert (record["location"]["name"], record["service"]["name"]) == ("Ullapool", offer.title)
        full = get_json(client, f"/openreferral/service_at_locations/{record['id']}")
        assert_valid(compiled_schema("service_at_location.json"), full)
        assert full["service"]["cost_options"]

    def test_a_postcode_finds_the_services_whose_area_covers_it(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye = make_offer(
            db, provider=make_provider(db, base="Portree"), title="Skye outings", radius_km=20
        )
        make_offer(
            db, provider=make_provider(db, base="Ullapool"), title="Ullapool outings", radius_km=20
        )
        highland = make_offer(
            db, provider=make_provider(db, base="Inverness"), title="Highland-wide advice"
        )
        offers_service.update_offer(
            db,
            offer=highland,
            actor=highland.provider.members[0].user,
            details=OfferDetails(
                title=highland.title,
                description="",
                availability=WEEKDAY_DAYTIMES,
                area_type=AreaType.COUNCILS,
                council_ids=[geography_service.find_council_area(db, name_or_code="Highland").id],
                term_ids=[t.id for t in highland.terms],
            ),
        )

        covering = get_json(
            client, "/openreferral/service_at_locations?postcode=IV51 9EH&per_page=100"
        )
        nearby = get_json(
            client, "/openreferral/service_at_locations?postcode=IV51&proximity=50000&per_page=100"
        )

        names = {r["service"]["name"] for r in covering["contents"]}
        assert {skye.title, highland.title} <= names
        assert "Ullapool outings" not in names
        assert covering["total_items"] == len(covering["contents"])
        assert {r["service"]["name"] for r in nearby["contents"]} >= {skye.title}
        assert highland.title not in {r["service"]["name"] for r in nearby["contents"]}, (
            "based in Inverness"
        )

    def test_an_unknown_postcode_or_a_proximity_alone_is_a_clear_error(
        self, client: HtmlClient
    ) -> None:
        unknown = client.get("/openreferral/service_at_locations?postcode=ZZ99")
        alone = client.get("/openreferral/service_at_locations?proximity=1000")
        assert (unknown.status_code, alone.status_code) == (422, 422)
        assert "ZZ99" in unknown.json()["detail"]
        assert "postcode" in alone.json()["detail"]
