"""A posted need's confirmation tells the truth: how many providers it went to, or that it
went to none and what happens next; and the search's answers come along to the form, so
the person does not type their place, what they need, their hours or times again."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.index import OfferIndex
from matching.needs.models import PostedNeed
from tests.factories import make_offer, make_user, make_verified_provider
from tests.helpers import HtmlClient, error_messages, page
from tests.matching.needs.need_builders import post
from tests.matching.needs.test_need_routes import NEED, as_user


def confirmation(client: HtmlClient, db: Session) -> str:
    person = make_user(db)
    as_user(client, person)
    posted = client.submit("/needs", NEED)
    assert posted.status_code == 303, error_messages(posted)
    notice = page(client.get(posted.headers["location"])).select_one("[role=status]")
    assert notice is not None
    return notice.get_text(" ", strip=True)


class TestConfirmation:
    def test_it_says_how_many_providers_it_went_to(self, client: HtmlClient, db: Session) -> None:
        make_offer(db, provider=make_verified_provider(db, base="Portree"))
        make_offer(db, provider=make_verified_provider(db, base="Broadford"), radius_km=40)
        make_offer(db, provider=make_verified_provider(db, base="Inverness"))  # too far
        text = confirmation(client, db)
        need = db.scalars(select(PostedNeed)).one()
        assert len(need.deliveries) == 2
        assert "sent to 2 providers whose offers reach you" in text

    def test_with_nobody_to_send_it_to_it_says_so_and_what_happens_next(
        self, client: HtmlClient, db: Session
    ) -> None:
        make_offer(db, provider=make_verified_provider(db, base="Inverness"))
        text = confirmation(client, db)
        assert "has not been sent to anyone" in text
        assert "over the next 14 days" in text and "as support that is missing" in text
        assert "We have emailed" not in text and "sent to 1" not in text


class TestCarriedFromSearch:
    def test_an_empty_search_offers_the_need_form_filled_in(
        self, client: HtmlClient, db: Session
    ) -> None:
        as_user(client, make_user(db))
        search = page(
            client.get(
                "/find-support",
                params={
                    "location": "Portree",
                    "kinds_of_support": "personal-care",
                    "outcomes": "feeling-safe",
                    "when": ["0-0", "5-2"],
                    "hours": "4",
                },
            )
        )
        link = next(
            a["href"] for a in search.select("a") if str(a["href"]).startswith("/needs/new")
        )
        form = page(client.get(str(link)))
        assert form.select_one("input[name=location]")["value"] == "Portree"  # type: ignore[index]
        assert form.select_one("input[name=hours]")["value"] == "4"  # type: ignore[index]
        assert {box["value"] for box in form.select("input[name=when][checked]")} == {"0-0", "5-2"}
        assert [box["value"] for box in form.select("input[name=kinds_of_support][checked]")] == [
            "personal-care"
        ]
        assert [box["value"] for box in form.select("input[name=outcomes][checked]")] == [
            "feeling-safe"
        ]

    def test_place_hours_and_times_go_from_search_to_shortlist_compare_offer_and_enquiry(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db, provider=make_verified_provider(db, base="Portree"))
        as_user(client, make_user(db))
        asked = {"location": "Portree", "hours": "3", "when": ["0-0", "1-1"]}
        results = page(client.get("/find-support", params=asked))
        href = str(results.select_one(f"#offer-{offer.id} .ds_search-result__link")["href"])  # type: ignore[index]
        assert href == f"/offers/{offer.id}?location=Portree&hours=3&when=0-0&when=1-1"
        assert client.submit(f"/shortlist/{offer.id}", {"back": "/find-support"}).status_code == 303
        shortlist = page(client.get("/shortlist", params=asked))
        assert shortlist.select_one("input[name=location]")["value"] == "Portree"  # type: ignore[index]
        assert {i["value"] for i in shortlist.select("input[type=hidden][name=when]")} == {
            "0-0",
            "1-1",
        }
        compared = page(client.get("/compare", params={"offer": offer.id, **asked}))
        assert {i["value"] for i in compared.select("input[name=when][checked]")} == {"0-0", "1-1"}
        enquire = compared.select_one(f"a[href^='/offers/{offer.id}/enquire']")
        assert enquire is not None
        form = page(client.get(str(enquire["href"])))
        assert form.select_one("input[name=hours]")["value"] == "3"  # type: ignore[index]
        assert form.select_one("input[type=hidden][name=location]")["value"] == "Portree"  # type: ignore[index]
        assert {box["value"] for box in form.select("input[name=when][checked]")} == {"0-0", "1-1"}
        assert re.search(r"Total a week: £60\.00", form.get_text(" ", strip=True)), (
            "3 hours at £20.00"
        )


class TestDeliveredOnPublish:
    def test_publishing_an_offer_from_its_page_sends_it_the_open_needs_it_fits(
        self, client: HtmlClient, db: Session
    ) -> None:
        need = post(db, OfferIndex())
        offer = make_offer(db, provider=make_verified_provider(db), publish=False)
        assert need.deliveries == []
        as_user(client, offer.provider.members[0].user)
        assert client.submit(f"/provider/offers/{offer.id}/publish").status_code == 303
        db.refresh(need)
        assert [(d.provider_id, d.offer_id) for d in need.deliveries] == [
            (offer.provider_id, offer.id)
        ]
        inbox = page(client.get("/provider/needs")).get_text(" ", strip=True)
        assert "Portree" in inbox
