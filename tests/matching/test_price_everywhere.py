"""The week a person asked for costs the same wherever they see it: the search result, the
JSON API, the offer page they follow it to, compare, the enquiry form and the enquiry's
quote, uplifts for their times, travel and the management fee included."""

from __future__ import annotations

import re

import pytest
from bs4 import Tag
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km
from providers import offers as offers_service
from providers.models import Enquiry, Offer, PriceUnit, TravelCharge
from providers.offers import PriceDetails
from providers.pricing import KM_PER_MILE
from tests.factories import make_offer, make_provider, make_user
from tests.helpers import HtmlClient, page
from tests.matching.search.test_routes import change_offer, find, result_item
from tests.providers.test_enquiry_routes import as_user

ALL_TIMES = (1 << 28) - 1
WHEN = ["0-0", "0-2", "5-0", "6-3"]
"""Monday morning, Monday evening, Saturday morning, Sunday night: 4 visits."""
ASKED = {"location": "Portree", "hours": "8", "when": WHEN}


def priced(db: Session, offer: Offer, **price: object) -> Offer:
    change_offer(db, offer, availability=ALL_TIMES)
    offers_service.set_price(
        db,
        offer=offer,
        actor=offer.provider.members[0].user,
        details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2000, **price),
    )  # type: ignore[arg-type]
    db.flush()
    return offer


def total_in(element: Tag | None) -> str:
    assert element is not None
    found = re.search(r"Total a week: (£[\d,]+\.\d\d)", element.get_text(" ", strip=True))
    assert found, element.get_text(" ", strip=True)
    return found.group(1)


def everywhere(client: HtmlClient, db: Session, offer: Offer) -> dict[str, str]:
    """The week's total on every page that shows it, for the same asked place, hours and times."""
    seen = {}
    item = result_item(find(client, **ASKED), offer)
    prices = [dd.get_text(" ", strip=True) for dd in item.select(".ds_metadata__value")]
    seen["search"] = next(
        re.search(r"(£[\d,]+\.\d\d) a week", text).group(1) for text in prices if " a week" in text
    )  # type: ignore[union-attr]
    api = client.get("/api/v1/match", params=ASKED).json()
    seen["api"] = (
        f"£{next(r for r in api['results'] if r['offer_id'] == offer.id)['week_total_pence'] / 100:,.2f}"
    )
    link = item.select_one(".ds_search-result__link")
    assert link is not None
    offer_page = page(client.get(str(link["href"])))
    seen["offer page"] = total_in(offer_page.select_one("#week-total"))
    compared = page(client.get("/compare", params={"offer": offer.id, **ASKED}))
    total = compared.select_one(".app-week-total")
    assert total is not None
    seen["compare"] = total.get_text(strip=True)
    enquire = offer_page.select_one(f"a[href^='/offers/{offer.id}/enquire']")
    assert enquire is not None
    person = make_user(db)
    as_user(client, person)
    form = page(client.get(str(enquire["href"])))
    seen["enquiry form"] = total_in(form.select_one("#week-total"))
    sent = client.submit(
        f"/offers/{offer.id}/enquire",
        {"location": "Portree", "hours": "8", "when": WHEN, "message": "Hello"},
    )
    assert sent.status_code == 303
    seen["enquiry quote"] = total_in(
        page(client.get(sent.headers["location"])).select_one("#week-total")
    )
    client.cookies.clear()
    return seen


class TestTheSameWeekEverywhere:
    def test_uplifts_travel_per_visit_and_a_fee(self, client: HtmlClient, db: Session) -> None:
        """8 hours over 4 times is 2 hours a time, at £20.00 an hour: base 8 x £20 = £160.00.
        Weekend 50% on Saturday morning and Sunday night (4 hours): £40.00. Evening 25% on
        Monday evening (2 hours): £10.00. Night 30% on Sunday night (2 hours): £12.00.
        Travel 4 visits x £3.50 = £14.00. Support £236.00; a 10% fee £23.60. £259.60."""
        offer = priced(
            db,
            make_offer(
                db, provider=make_provider(db, base="Broadford", holds_isf=True), radius_km=40
            ),
            weekend_uplift_bp=5000,
            evening_uplift_bp=2500,
            night_uplift_bp=3000,
            travel_charge=TravelCharge.PER_VISIT,
            travel_charge_pence=350,
            management_fee_bp=1000,
        )
        seen = everywhere(client, db, offer)
        assert seen == dict.fromkeys(seen, "£259.60")
        assert set(seen) == {
            "search",
            "api",
            "offer page",
            "compare",
            "enquiry form",
            "enquiry quote",
        }
        [found] = [
            r
            for r in client.get("/api/v1/match", params=ASKED).json()["results"]
            if r["offer_id"] == offer.id
        ]
        assert [(line["label"], line["pence"]) for line in found["week_lines"]] == [
            ("8 hours at the weekday daytime rate", 16000),
            ("Weekend uplift of 50% on 4 hours", 4000),
            ("Evening uplift of 25% on 2 hours", 1000),
            ("Night uplift of 30% on 2 hours", 1200),
            ("Travel: 4 visits at £3.50 a visit", 1400),
            ("Management fee", 2360),
        ]

    def test_travel_by_the_mile_over_the_distance_to_the_person(
        self, client: HtmlClient, db: Session
    ) -> None:
        """8 hours at £20.00 on weekday mornings only have no uplift: £160.00, plus 4 visits
        of the distance from the offer's centre (Broadford) to Portree at 45p a mile."""
        offer = priced(
            db,
            make_offer(db, provider=make_provider(db, base="Broadford"), radius_km=40),
            travel_charge=TravelCharge.PER_MILE,
            travel_charge_pence=45,
        )
        portree = geography_service.resolve_location(db, text="Portree")
        assert offer.centre_latitude is not None and offer.centre_longitude is not None
        km = geodesic_km(
            portree.latitude, portree.longitude, offer.centre_latitude, offer.centre_longitude
        )
        expected = 16000 + int(45 * 4 * km / KM_PER_MILE + 0.5)
        seen = everywhere(client, db, offer)
        assert seen == dict.fromkeys(seen, f"£{expected / 100:,.2f}")
        enquiry = db.scalars(select(Enquiry).where(Enquiry.offer_id == offer.id)).one()
        assert enquiry.distance_km == pytest.approx(km)

    def test_the_price_filter_and_cheapest_sort_use_the_same_total(
        self, client: HtmlClient, db: Session
    ) -> None:
        """Asked for 2 hours on Saturday morning only. £20.00 an hour with a 50% weekend
        uplift: 2 x £20 + 50% = £60.00, £30.00 an hour. £21.00 an hour without uplifts:
        2 x £21 = £42.00. Dearer by its rate, the second is cheaper for this week, so it
        comes first; and a highest price of £25 an hour keeps only it."""
        priced(db, make_offer(db, title="Dearer at weekends", radius_km=40), weekend_uplift_bp=5000)
        plain = priced(db, make_offer(db, title="Plain", radius_km=40))
        offers_service.set_price(
            db,
            offer=plain,
            actor=plain.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2100),
        )
        db.flush()
        asked = {"location": "Portree", "hours": "2", "when": ["5-0"], "sort": "cheapest"}
        order = [
            a.get_text(strip=True)
            for a in page(find(client, **asked)).select(".ds_search-result__link")
        ]
        assert order == ["Plain", "Dearer at weekends"]
        kept = [
            a.get_text(strip=True)
            for a in page(find(client, **asked, max_price="25")).select(".ds_search-result__link")
        ]
        assert kept == ["Plain"]
