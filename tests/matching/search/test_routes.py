"""The pages a supported person or representative uses to find support, as they use them:
searching from Portree on Skye (a very remote rural place) among offers that reach it and
offers that do not; each filter narrowing the results; sorting and pages; htmx asking for
the results only; the address giving the same results to anyone; every kind of bad input
answered 422 with the message by its field; searches that find nothing counted once; and
how the ranking is explained. Comparing offers side by side is in tests/matching/shortlist."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from bs4 import BeautifulSoup
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from marketplace import web
from marketplace.accounts.models import Role
from marketplace.db import today, utcnow
from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km
from matching import ranking
from matching.models import UnmetDemand
from matching.search.models import CountedSearch
from providers import checks as checks_service
from providers import offers as offers_service
from providers import reviews as reviews_service
from providers import service as providers_service
from providers.checks import CheckDetails
from providers.models import (
    CARE_INSPECTORATE_THEMES,
    CheckKind,
    Offer,
    PriceUnit,
    Provider,
    Taxonomy,
    availability_bit,
)
from providers.offers import OfferDetails, PriceDetails
from tests.factories import PASSWORD, make_offer, make_provider, make_user, term_ids
from tests.helpers import HtmlClient, error_messages, page
from tests.providers.test_enquiries import arranged

PLACE = "Portree"


def skye_market(db: Session) -> dict[str, Offer]:
    """Offers around Portree at the same price: three reach it (from Portree itself, from
    Broadford about 25 km away and from Kyle of Lochalsh about 32 km away), two do not
    (Broadford's short radius, and Inverness, 118 km away)."""
    return {
        "portree": make_offer(
            db,
            provider=make_provider(db, base="Portree", name="Portree Care"),
            title="Care at home in Portree",
            radius_km=20,
        ),
        "broadford": make_offer(
            db,
            provider=make_provider(db, base="Broadford", name="Broadford Helpers"),
            title="Getting out from Broadford",
            radius_km=40,
            kinds=("getting-out-and-about",),
            outcomes=("seeing-people",),
        ),
        "kyle": make_offer(
            db,
            provider=make_provider(db, base="Kyle of Lochalsh", name="Lochalsh Support"),
            title="Support from Kyle",
            radius_km=50,
            kinds=("personal-care", "help-at-home"),
        ),
        "short": make_offer(
            db,
            provider=make_provider(db, base="Broadford", name="Broadford Short Trips"),
            title="Short trips",
            radius_km=10,
        ),
        "inverness": make_offer(
            db,
            provider=make_provider(db, base="Inverness", name="Inverness Care"),
            title="Care in Inverness",
            radius_km=20,
        ),
    }


REACHING = ["Care at home in Portree", "Getting out from Broadford", "Support from Kyle"]


def change_offer(db: Session, offer: Offer, **changes: Any) -> None:
    """Edit an offer as its provider would, changing only what is given."""
    details = OfferDetails(
        title=offer.title,
        description=offer.description,
        term_ids=[t.id for t in offer.terms],
        area_type=offer.area_type,
        radius_km=offer.radius_km,
        availability=offer.availability,
        capacity_amount=offer.capacity_amount,
        typical_week_hours=offer.typical_week_hours,
    )
    offers_service.update_offer(
        db, offer=offer, actor=offer.provider.members[0].user, details=replace(details, **changes)
    )
    db.flush()


def verify(
    db: Session,
    provider: Provider,
    kind: CheckKind,
    reference: str,
    grades: dict[str, int] | None = None,
) -> None:
    check = checks_service.declare_check(
        db,
        provider=provider,
        actor=provider.members[0].user,
        details=CheckDetails(kind=kind, reference=reference, grades=grades),
        today=today(),
    )
    checks_service.verify_check(db, check=check, admin=make_user(db, role=Role.ADMIN))
    db.flush()


def find(client: HtmlClient, htmx: bool = False, **params: Any) -> httpx.Response:
    return client.get(
        "/find-support", params=params, headers={"HX-Request": "true"} if htmx else {}
    )


def titles(response: httpx.Response) -> list[str]:
    return [a.get_text(strip=True) for a in page(response).select(".ds_search-result__link")]


def heading(response: httpx.Response) -> str:
    found = page(response).select_one(".ds_search-results__title")
    return found.get_text(" ", strip=True) if found else ""


def result_item(response: httpx.Response, offer: Offer) -> Any:
    item = page(response).select_one(f"#offer-{offer.id}")
    assert item is not None, f"{offer.title} is not in the results"
    return item


def metadata(item: Any) -> dict[str, str]:
    return {
        row.select_one(".ds_metadata__key").get_text(strip=True): row.select_one(
            ".ds_metadata__value"
        ).get_text(" ", strip=True)
        for row in item.select(".ds_metadata__item")
    }


def why_rows(response: httpx.Response) -> list[list[str]]:
    """The rows of a "why it is ranked here" page's table: factor, why, points."""
    assert response.status_code == 200
    return [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in page(response).select("table.ds_table tbody tr")
    ]


def unmet_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(UnmetDemand)) or 0


class TestResults:
    def test_only_offers_that_reach_the_place_best_first(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        response = find(client, location=PLACE)
        assert response.status_code == 200
        assert titles(response) == REACHING
        assert heading(response) == "Showing 1 to 3 of 3 offers near Portree"

    def test_each_result_says_where_what_it_costs_its_checks_space_reviews_and_why(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        item = result_item(find(client, location=PLACE, hours="6"), market["broadford"])
        assert (
            item.select_one(".ds_search-result__link")["href"]
            == f"/offers/{market['broadford'].id}?location={PLACE}&hours=6"
        )
        assert (
            item.select_one(".ds_search-result__sub-title").get_text(strip=True)
            == "Broadford Helpers, micro-provider"
        )
        shown = metadata(item)
        distance = geodesic_km(*_place(db, PLACE), *_place(db, "Broadford"))
        assert shown["Where"] == f"{distance:.1f} km from Portree, within the 40 km it travels"
        assert (
            shown["Price"] == "£20.00 an hour; £120.00 a week for 6 hours, with no management fee"
        )
        assert shown["Checks"] == "None verified yet"
        assert shown["Space"].startswith("20 hours a week, as told to us on")
        assert "May be out of date" not in shown["Space"]
        assert shown["Reviews"] == "No reviews yet"
        assert (
            item.select_one(".ds_search-result__summary")
            .get_text(strip=True)
            .startswith("2nd of 3, with ")
        )
        (why,) = [a for a in item.select("a") if a.get_text().startswith("Why it is ranked here")]
        assert why.get_text(" ", strip=True) == "Why it is ranked here : Getting out from Broadford"
        assert why["href"] == f"/find-support/why/{market['broadford'].id}?location={PLACE}&hours=6"
        # The reasons are on their own page, not drawn twenty times in the results.
        assert item.select_one("table") is None
        rows = why_rows(client.get(why["href"]))
        assert rows[2][1].startswith(f"{distance:.1f} km from Portree")
        assert item.select_one(f"form[action='/shortlist/{market['broadford'].id}']") is not None

    def test_the_shortlist_button_is_the_one_the_shortlist_swaps_in(
        self, client: HtmlClient, db: Session
    ) -> None:
        # Search results write the "Add to shortlist" form out rather than call the macro
        # that htmx's answers draw; the two must not drift apart.
        offer = skye_market(db)["broadford"]
        response = find(client, location=PLACE, hours="6")
        shown = result_item(response, offer).select_one(f"#shortlist-{offer.id} form")
        macro = web.templates.env.get_template("matching/partials/shortlist.html").module
        token = shown.select_one("input[name=csrftoken]")["value"]
        back = f"/find-support?location={PLACE}&hours=6#offer-{offer.id}"
        drawn = BeautifulSoup(str(macro.controls(offer, [], back, token)), "html.parser").form

        def described(form: Any) -> list[tuple[str, dict[str, Any], str]]:
            return [
                (tag.name, dict(tag.attrs), tag.get_text(" ", strip=True))
                for tag in [form, *form.find_all(True)]
            ]

        assert described(shown) == described(drawn)

    def test_the_management_fee_shows_as_an_amount_and_a_percentage(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(
            db, provider=make_provider(db, base="Portree", holds_isf=True), title="Managed support"
        )
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2000, management_fee_bp=1000),
        )
        db.flush()
        shown = metadata(result_item(find(client, location=PLACE, hours="6"), offer))
        assert (
            shown["Price"]
            == "£20.00 an hour; £132.00 a week for 6 hours, including a management fee of £12.00 (10%)"
        )

    def test_verified_checks_grades_stale_space_and_reviews_are_shown(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(
            db, provider=make_provider(db, base="Portree", name="Graded Care"), title="Graded care"
        )
        verify(db, offer.provider, CheckKind.PVG, "1234567890123456")
        grades = dict(zip(CARE_INSPECTORATE_THEMES[:3], (5, 4, 5), strict=True))
        verify(db, offer.provider, CheckKind.CARE_INSPECTORATE, "CS2012301234", grades)
        offer.capacity_updated_at = utcnow() - timedelta(days=40)
        enquiry = arranged(db, offer=offer)
        reviews_service.leave_review(
            db,
            enquiry=enquiry,
            author=enquiry.sent_by,
            comment="Kind and on time.",
            ratings=reviews_service.Ratings(outcomes=4, reliability=5, respect=5),
        )
        db.flush()
        shown = metadata(result_item(find(client, location=PLACE), offer))
        assert shown["Checks"] == (
            "PVG membership verified Care Inspectorate registration verified Care Inspectorate grades 4 to 5 out of 6"
        )
        assert shown["Space"].endswith("May be out of date")
        assert shown["Reviews"] == "1 review; out of 5: outcomes 4.0, reliability 5.0, respect 5.0"

    def test_fair_price_context_and_the_pay_warning(self, client: HtmlClient, db: Session) -> None:
        offers = [
            make_offer(
                db,
                provider=make_provider(db, base="Portree"),
                title=f"Care {rate}",
                rate_pence=rate,
            )
            for rate in (1600, 1800, 2000, 2200, 2400)
        ]
        cheap = make_offer(
            db,
            provider=make_provider(db, base="Portree"),
            title="Cheap help",
            kinds=("help-at-home",),
            rate_pence=1200,
        )
        response = find(client, location=PLACE, kinds_of_support=["help-at-home", "personal-care"])
        context = (
            result_item(response, offers[0]).select_one(".ds_inset-text").get_text(" ", strip=True)
        )
        assert context.startswith("Compared with 5 offers of personal care")
        assert (
            "the middle half charge £18.00 to £22.00 an hour, and the median is £20.00" in context
        )
        assert "At £16.00 an hour" in context
        lonely = result_item(response, cheap)
        assert lonely.select_one(".ds_inset-text") is None, (
            "one offer of its kind is too few to compare"
        )
        assert "less than £13.45 an hour" in lonely.select_one(".ds_warning-text").get_text(
            " ", strip=True
        )
        assert result_item(response, offers[2]).select_one(".ds_warning-text") is None
        assert "/about/prices" in [a["href"] for a in page(response).select("#search-results a")]

    def test_results_link_to_how_we_rank(self, client: HtmlClient, db: Session) -> None:
        skye_market(db)
        links = [a["href"] for a in page(find(client, location=PLACE)).select("#search-results a")]
        assert "/about/ranking" in links

    def test_offers_are_read_in_the_same_number_of_queries_however_many_results(
        self, client: HtmlClient, db: Session, engine: Engine
    ) -> None:
        provider = make_provider(db, base="Portree")
        for number in range(3):
            make_offer(db, provider=make_provider(db, base="Portree"), title=f"Offer {number}")
        few = _statements(client, engine)
        for number in range(9):
            make_offer(
                db,
                provider=provider if number % 2 else make_provider(db, base="Portree"),
                title=f"More {number}",
            )
        many = _statements(client, engine)
        assert len(titles(find(client, location=PLACE))) == 12
        assert len(many) == len(few)
        # The change log's newest number, the offers with their providers and current
        # prices, the providers' checks and their reviews: nothing else, per result or not.
        assert len(many) <= 4, many


def _statements(client: HtmlClient, engine: Engine) -> list[str]:
    client.get("/find-support", params={"location": PLACE})  # the index is now current
    counted: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The test's savepoints, which stand in for the request's own transaction, aside.
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/find-support", params={"location": PLACE})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counted


def _place(db: Session, name: str) -> tuple[float, float]:
    found = geography_service.resolve_location(db, text=name)
    return found.latitude, found.longitude


class TestFilters:
    def test_kinds_of_support_keep_offers_giving_one_of_them(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        assert titles(find(client, location=PLACE, kinds_of_support="getting-out-and-about")) == [
            "Getting out from Broadford"
        ]
        assert titles(
            find(client, location=PLACE, kinds_of_support=["help-at-home", "getting-out-and-about"])
        ) == [
            "Getting out from Broadford",
            "Support from Kyle",
        ]

    def test_outcomes_change_the_order_but_hide_nothing(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        assert titles(find(client, location=PLACE, outcomes="seeing-people")) == [
            "Getting out from Broadford",
            "Care at home in Portree",
            "Support from Kyle",
        ]

    def test_who_it_suits_keeps_offers_listing_every_group(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        groups = term_ids(db, Taxonomy.CLIENT_GROUP, ("older-people", "dementia"))
        change_offer(db, market["kyle"], term_ids=[t.id for t in market["kyle"].terms] + groups)
        change_offer(
            db, market["portree"], term_ids=[t.id for t in market["portree"].terms] + groups[:1]
        )
        assert titles(find(client, location=PLACE, client_groups="older-people")) == [
            "Care at home in Portree",
            "Support from Kyle",
        ]
        assert titles(find(client, location=PLACE, client_groups=["older-people", "dementia"])) == [
            "Support from Kyle"
        ]

    def test_days_and_times_keep_offers_available_at_one_of_them(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        change_offer(
            db, market["kyle"], availability=availability_bit(5, 0) | availability_bit(6, 0)
        )
        assert titles(find(client, location=PLACE, when="5-0")) == ["Support from Kyle"]
        assert titles(find(client, location=PLACE, when=["0-0", "6-0"])) == REACHING

    def test_language_keeps_providers_who_speak_it(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        providers_service.set_languages(market["broadford"].provider, ["English", "Gaelic"])
        db.flush()
        response = find(client, location=PLACE, language="Gaelic")
        assert titles(response) == ["Getting out from Broadford"]
        options = [o["value"] for o in page(response).select("#language option")]
        assert options[:4] == ["", "English", "Gaelic", "British Sign Language"]

    def test_highest_price_keeps_offers_at_or_under_it(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        make_offer(
            db, provider=make_provider(db, base="Portree"), title="Dearer care", rate_pence=2600
        )
        assert len(titles(find(client, location=PLACE))) == 4
        assert titles(find(client, location=PLACE, max_price="20")) == REACHING
        assert titles(find(client, location=PLACE, max_price="19.99")) == []

    def test_isf_holders_only(self, client: HtmlClient, db: Session) -> None:
        skye_market(db)
        make_offer(
            db,
            provider=make_provider(db, base="Broadford", holds_isf=True),
            title="Held for you",
            radius_km=40,
        )
        assert titles(find(client, location=PLACE, isf="yes")) == ["Held for you"]

    def test_verified_checks_only(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        verify(db, market["kyle"].provider, CheckKind.PVG, "1234567890123456")
        assert titles(find(client, location=PLACE, verified="yes")) == ["Support from Kyle"]

    def test_the_form_keeps_what_was_asked(self, client: HtmlClient, db: Session) -> None:
        skye_market(db)
        soup = page(
            find(
                client,
                location=PLACE,
                kinds_of_support="personal-care",
                when="0-0",
                hours="6",
                isf="yes",
                sort="nearest",
            )
        )
        assert soup.select_one("#location")["value"] == PLACE
        assert soup.select_one("#hours")["value"] == "6"
        assert [box["value"] for box in soup.select("input[name=kinds_of_support][checked]")] == [
            "personal-care"
        ]
        assert [box["value"] for box in soup.select("input[name=when][checked]")] == ["0-0"]
        assert soup.select_one("input[name=isf]").has_attr("checked")
        assert soup.select_one("#sort option[selected]")["value"] == "nearest"
        assert soup.select_one("details.ds_details").has_attr("open"), (
            "answered filters stay in view"
        )


class TestSortAndPages:
    def test_sort_nearest_and_cheapest(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        offers_service.set_price(
            db,
            offer=market["kyle"],
            actor=market["kyle"].provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=1500),
        )
        db.flush()
        asked = {"location": PLACE, "outcomes": "seeing-people"}
        assert titles(find(client, **asked))[0] == "Getting out from Broadford"
        assert titles(find(client, **asked, sort="nearest")) == REACHING
        assert titles(find(client, **asked, sort="cheapest"))[0] == "Support from Kyle"

    def test_twenty_a_page_with_page_links_that_keep_the_search(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db, base="Portree")
        for number in range(23):
            make_offer(db, provider=provider, title=f"Offer {number:02d}")
        first = find(client, location=PLACE, kinds_of_support="personal-care")
        assert len(titles(first)) == 20
        assert heading(first) == "Showing 1 to 20 of 23 offers near Portree"
        links = [a["href"] for a in page(first).select(".ds_pagination a")]
        assert "?location=Portree&kinds_of_support=personal-care&page=2" in links
        second = client.get("/find-support?location=Portree&kinds_of_support=personal-care&page=2")
        assert heading(second) == "Showing 21 to 23 of 23 offers near Portree"
        assert page(second).select_one(".ds_search-results__list")["start"] == "21"
        assert set(titles(first)).isdisjoint(titles(second))
        assert len(set(titles(first)) | set(titles(second))) == 23


class TestHtmx:
    def test_htmx_gets_the_search_region_and_the_plain_address_the_whole_page(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        plain = find(client, location=PLACE, kinds_of_support="personal-care")
        fragment = find(client, htmx=True, location=PLACE, kinds_of_support="personal-care")
        assert fragment.status_code == plain.status_code == 200
        assert "<html" not in fragment.text and "<html" in plain.text
        assert (
            page(fragment).h1 is None and page(fragment).select_one("#search-results") is not None
        )
        assert titles(fragment) == titles(plain) == ["Care at home in Portree", "Support from Kyle"]
        assert "HX-Request" in fragment.headers["vary"] and "HX-Request" in plain.headers["vary"]

    def test_the_form_asks_htmx_for_the_results_and_pushes_a_shareable_address(
        self, client: HtmlClient
    ) -> None:
        form = page(client.get("/find-support")).select_one("form#search-form")
        assert (form["method"], form["action"], form["hx-get"]) == (
            "get",
            "/find-support",
            "/find-support",
        )
        assert form["hx-target"] == "#search-results" and form["hx-push-url"] == "true"
        assert form["hx-status:422"] == "target:#search select:#search swap:outerHTML"

    def test_the_same_address_gives_anyone_the_same_results(
        self, client: HtmlClient, db: Session, app: Any
    ) -> None:
        skye_market(db)
        address = "/find-support?location=Portree&outcomes=seeing-people&hours=6&sort=best"
        mine = titles(
            find(
                client, htmx=True, location=PLACE, outcomes="seeing-people", hours="6", sort="best"
            )
        )
        with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as stranger:
            theirs = stranger.get(address)
        assert theirs.status_code == 200
        assert titles(theirs) == mine
        assert page(theirs).select_one("#hours")["value"] == "6"

    def test_one_persons_shortlist_and_token_never_show_in_anothers_results(
        self, client: HtmlClient, db: Session, app: Any
    ) -> None:
        # What is kept between searches (the offers, the form's choices) is nobody's own.
        kyle = skye_market(db)["kyle"]
        client.submit(f"/shortlist/{kyle.id}", {"back": "/find-support"})
        mine = result_item(find(client, location=PLACE, hours="6"), kyle)
        assert "Added to your shortlist" in mine.get_text(" ", strip=True)
        with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as stranger:
            theirs = result_item(
                stranger.get("/find-support", params={"location": PLACE, "hours": "6"}), kyle
            )
        assert "Add Support from Kyle to shortlist" in theirs.get_text(" ", strip=True)
        assert "Added to your shortlist" not in theirs.get_text(" ", strip=True)
        token = "input[name=csrftoken]"
        assert theirs.select_one(token)["value"] != mine.select_one(token)["value"]


class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            (
                {"location": "Atlantis"},
                "location",
                "We cannot find a place called Atlantis in Scotland",
            ),
            (
                {"location": "Carlisle"},
                "location",
                "We cannot find a place called Carlisle in Scotland",
            ),
            (
                {"location": "54.89, -2.93"},
                "location",
                "54.8900, -2.9300 is not on land in Scotland",
            ),
            ({"location": PLACE, "hours": "0"}, "hours", "Enter more than 0 hours"),
            (
                {"location": PLACE, "hours": "200"},
                "hours",
                "A week has 168 hours: enter 168 or fewer",
            ),
            (
                {"location": PLACE, "hours": "lots"},
                "hours",
                "Enter the hours as a number, for example 6 or 2.5",
            ),
            (
                {"location": PLACE, "kinds_of_support": "flying"},
                "kinds_of_support",
                "Choose from the list given",
            ),
            ({"location": PLACE, "outcomes": "nope"}, "outcomes", "Choose from the list given"),
            (
                {"location": PLACE, "client_groups": "nope"},
                "client_groups",
                "Choose from the list given",
            ),
            ({"location": PLACE, "when": "99-99"}, "when", "Choose from the days and times given"),
            ({"location": PLACE, "max_price": "-3"}, "max_price", "Enter an amount of £0 or more"),
            (
                {"location": PLACE, "max_price": "abc"},
                "max_price",
                "Enter an amount in pounds, for example 120.50",
            ),
            (
                {"location": PLACE, "max_price": "0"},
                "max_price",
                "Enter a highest price of more than £0 an hour, like 25",
            ),
            (
                {"location": PLACE, "language": "Klingon"},
                "language",
                "Choose a language from the list",
            ),
            ({"location": PLACE, "isf": "maybe"}, "isf", "Tick the box or leave it empty"),
            (
                {"location": PLACE, "sort": "zzz"},
                "sort",
                "Choose how to sort the results from the list",
            ),
            (
                {"location": PLACE, "page": "abc"},
                None,
                "The page number in the address must be a whole number, like 2",
            ),
            (
                {"kinds_of_support": "personal-care"},
                "location",
                "Enter a town or village, or a postcode like IV27 4JB",
            ),
        ],
    )
    def test_is_refused_with_the_message_by_its_field(
        self,
        client: HtmlClient,
        db: Session,
        params: dict[str, str],
        field: str | None,
        message: str,
    ) -> None:
        skye_market(db)
        response = find(client, **params)
        assert response.status_code == 422
        assert any(shown.startswith(message) for shown in error_messages(response)), error_messages(
            response
        )
        soup = page(response)
        if field is not None:
            by_field = soup.select_one(f"#{field}-error")
            assert by_field is not None and by_field.get_text(strip=True).startswith(message)
            assert soup.select_one(f".ds_error-summary a[href='#{field}']") is not None
        assert titles(response) == [], "no results beside an error"
        assert unmet_count(db) == 0

    def test_every_problem_shows_at_once_and_the_answers_are_kept(
        self, client: HtmlClient, db: Session
    ) -> None:
        response = find(
            client, location="Carlisle", hours="200", sort="zzz", when="99-99", max_price="abc"
        )
        assert response.status_code == 422
        assert len(error_messages(response)) == 5
        soup = page(response)
        assert soup.select_one("#location")["value"] == "Carlisle"
        assert soup.select_one("#hours")["value"] == "200"
        assert soup.select_one("#max_price")["value"] == "abc"
        assert soup.title.get_text().startswith("Error: Find support")

    def test_htmx_gets_the_whole_search_with_the_errors(self, client: HtmlClient) -> None:
        response = find(client, htmx=True, location="Carlisle")
        assert response.status_code == 422
        soup = page(response)
        assert soup.select_one("#search .ds_error-summary") is not None
        form = soup.select_one("form#search-form")
        assert (form["hx-target"], form["hx-select"]) == ("#search", "#search"), (
            "the next search clears the messages"
        )
        assert soup.title.get_text().startswith("Error: Find support")

    @pytest.mark.parametrize(
        "address",
        ["/find-support", "/find-support?location=&hours=&max_price=&language=&sort=best"],
    )
    def test_an_empty_form_shows_just_the_form(self, client: HtmlClient, address: str) -> None:
        response = client.get(address)
        assert response.status_code == 200
        assert error_messages(response) == []
        assert page(response).select_one("#search-results").get_text(strip=True) == ""


class TestUnmetSearches:
    def test_a_search_that_finds_nothing_is_recorded_once_a_day_per_address(
        self, client: HtmlClient, db: Session, app: Any
    ) -> None:
        skye_market(db)
        nothing = find(
            client, location="Ullapool", kinds_of_support="personal-care", outcomes="feeling-safe"
        )
        assert nothing.status_code == 200
        assert heading(nothing) == "No offers found near Ullapool"
        assert (
            "/needs/new?location=Ullapool&kinds_of_support=personal-care&outcomes=feeling-safe"
            in [a["href"] for a in page(nothing).select("#search-results a")]
        ), "the search's answers go along to the need form"
        record = db.scalars(select(UnmetDemand)).one()
        assert record.settlement.name == "Ullapool"
        assert record.recorded_on == today()
        assert sorted(t.code for t in record.terms) == ["feeling-safe", "personal-care"]

        find(client, location="Ullapool", kinds_of_support="personal-care", outcomes="feeling-safe")
        find(
            client,
            htmx=True,
            location="Ullapool",
            kinds_of_support="personal-care",
            outcomes="feeling-safe",
            hours="4",
        )
        assert unmet_count(db) == 1, "reloads and htmx updates count once"

        find(client, location="Ullapool", kinds_of_support="overnight-support")
        assert unmet_count(db) == 2, "other kinds of support are another search"

        with HtmlClient(
            app, before_request=db.flush, after_request=db.expire_all
        ) as script_without_cookies:
            script_without_cookies.get(
                "/find-support?location=Ullapool&kinds_of_support=personal-care&outcomes=feeling-safe"
            )
        assert unmet_count(db) == 2, "a fresh client from the same address is not a new search"

        with HtmlClient(
            app, before_request=db.flush, after_request=db.expire_all, client=("192.0.2.7", 50000)
        ) as someone_elsewhere:
            someone_elsewhere.get(
                "/find-support?location=Ullapool&kinds_of_support=personal-care&outcomes=feeling-safe"
            )
        assert unmet_count(db) == 3, "a person at another address counts"

    def test_a_script_counts_once_a_day_however_it_varies_the_search(
        self, client: HtmlClient, db: Session
    ) -> None:
        for hours in range(1, 30):
            client.cookies.clear()
            find(client, location="Ullapool", kinds_of_support="personal-care", hours=str(hours))
        assert unmet_count(db) == 1

    def test_adding_a_kind_counts_only_the_new_kind(self, client: HtmlClient, db: Session) -> None:
        find(client, location="Ullapool", kinds_of_support="personal-care")
        find(client, location="Ullapool", kinds_of_support=["personal-care", "overnight-support"])
        codes = [
            sorted(t.code for t in record.terms)
            for record in db.scalars(select(UnmetDemand).order_by(UnmetDemand.id))
        ]
        assert codes == [["personal-care"], ["overnight-support"]]

    def test_the_next_day_counts_again_and_yesterdays_addresses_are_forgotten(
        self, client: HtmlClient, db: Session
    ) -> None:
        with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=UTC), tick=False):
            find(client, location="Ullapool")
            assert db.scalar(select(func.count()).select_from(CountedSearch)) == 1
        with time_machine.travel(datetime(2026, 6, 2, 12, tzinfo=UTC), tick=False):
            find(client, location="Ullapool")
            assert [c.counted_on for c in db.scalars(select(CountedSearch))] == [date(2026, 6, 2)]
        assert unmet_count(db) == 2

    def test_another_sites_embedded_search_does_not_count(
        self, client: HtmlClient, db: Session
    ) -> None:
        embedded = {
            "Sec-Fetch-Site": "cross-site",
            "Sec-Fetch-Mode": "no-cors",
            "Sec-Fetch-Dest": "image",
        }
        response = client.get(
            "/find-support?location=Ullapool&kinds_of_support=personal-care", headers=embedded
        )
        assert response.status_code == 200
        assert unmet_count(db) == 0
        followed_link = {
            "Sec-Fetch-Site": "cross-site",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document",
        }
        client.get(
            "/find-support?location=Ullapool&kinds_of_support=personal-care", headers=followed_link
        )
        assert unmet_count(db) == 1, "a person following a link from another site is a real search"

    def test_the_address_is_not_stored(self, client: HtmlClient, db: Session) -> None:
        find(client, location="Ullapool")
        counted = db.scalars(select(CountedSearch)).one()
        assert "testclient" not in counted.address_key
        assert len(counted.address_key) == 32

    def test_filters_that_leave_nothing_say_so_and_count(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        response = find(client, location=PLACE, kinds_of_support="overnight-support")
        assert heading(response) == "No offers found near Portree"
        assert "3 offers reach Portree, but none fits everything you asked for" in page(
            response
        ).get_text(" ", strip=True)
        assert unmet_count(db) == 1

    def test_a_search_that_finds_something_is_not_recorded(
        self, client: HtmlClient, db: Session
    ) -> None:
        skye_market(db)
        find(client, location=PLACE)
        assert unmet_count(db) == 0


class TestWhyRankedHere:
    def test_says_each_factors_points_and_why_for_the_search_asked(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        offer = market["broadford"]
        params = {"location": PLACE, "outcomes": "seeing-people", "hours": "6"}
        response = client.get(f"/find-support/why/{offer.id}", params=params)
        rows = why_rows(response)
        assert [row[0] for row in rows] == list(ranking.FACTOR_LABELS.values())
        assert [row[2].split(" of ")[1] for row in rows] == [
            str(points) for points in ranking.WEIGHTS.values()
        ]
        assert rows[0][1] == "Helps with the outcome you chose: seeing people"
        assert rows[0][2] == "30.0 of 30"
        shown = page(response)
        assert shown.select_one("h1").get_text(" ", strip=True) == (
            "Why Getting out from Broadford is ranked here"
        )
        # Its place is the one the results gave it, and it leads back to them.
        place = result_item(find(client, **params), offer).select_one(".ds_search-result__summary")
        assert (
            shown.select_one(".ds_leader")
            .get_text(" ", strip=True)
            .startswith(place.get_text(strip=True).rstrip("."))
        )
        links = {a.get_text(" ", strip=True): a["href"] for a in shown.select("main a")}
        assert links["Back to your results"] == (
            f"/find-support?location={PLACE}&outcomes=seeing-people&hours=6#offer-{offer.id}"
        )
        assert links["See the offer"] == f"/offers/{offer.id}?location={PLACE}&hours=6"

    def test_follows_the_sort_and_the_page(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        nearest = client.get(
            f"/find-support/why/{market['kyle'].id}", params={"location": PLACE, "sort": "nearest"}
        )
        assert (
            page(nearest).select_one(".ds_leader").get_text(" ", strip=True).startswith("3rd of 3")
        )
        # Not on the page asked for: said plainly, not another offer's reasons.
        elsewhere = client.get(
            f"/find-support/why/{market['inverness'].id}", params={"location": PLACE}
        )
        assert elsewhere.status_code == 404
        assert "no longer on that page of your results" in elsewhere.text
        assert page(elsewhere).select_one("main a")["href"] == f"/find-support?location={PLACE}"

    def test_a_search_with_a_problem_goes_back_to_the_search(self, client: HtmlClient) -> None:
        response = client.get(
            "/find-support/why/1",
            params={"location": PLACE, "hours": "lots"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/find-support?location={PLACE}&hours=lots"
        nothing = client.get("/find-support/why/1", follow_redirects=False)
        assert nothing.headers["location"] == "/find-support"

    def test_is_read_without_counting_an_unmet_search(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Inverness"), radius_km=5)
        client.get(f"/find-support/why/{offer.id}", params={"location": PLACE})
        assert unmet_count(db) == 0


class TestHowWeRank:
    def test_lists_every_factor_with_its_points_and_how(self, client: HtmlClient) -> None:
        response = client.get("/about/ranking")
        assert response.status_code == 200
        table = page(response).select_one("table.ds_table")
        rows = [
            [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
            for row in table.select("tbody tr")
        ]
        assert rows == [
            [factor.label, str(factor.points), factor.how] for factor in ranking.FACTORS
        ]
        assert table.select_one("tfoot td").get_text(strip=True) == "100"
        text = page(response).get_text(" ", strip=True)
        for words in ("WGS-84", "council areas", "towns and villages", "great-circle"):
            assert words in text


class TestNavigation:
    def test_everyone_can_find_support(self, client: HtmlClient, db: Session) -> None:
        links = [
            a.get_text(strip=True)
            for a in page(client.get("/")).select(".ds_site-navigation__link")
        ]
        assert links[0] == "Find support"
        assert "/find-support" in [a["href"] for a in page(client.get("/")).select("main a")]
        client.sign_in(make_user(db, role=Role.REPRESENTATIVE).email, PASSWORD)
        links = [
            a.get_text(strip=True)
            for a in page(client.get("/find-support")).select(".ds_site-navigation__link")
        ]
        assert links[:3] == ["Find support", "Your support", "Your shortlist"]
        current = page(client.get("/find-support")).select_one(
            ".ds_site-navigation__link[aria-current=page]"
        )
        assert current.get_text(strip=True) == "Find support"
