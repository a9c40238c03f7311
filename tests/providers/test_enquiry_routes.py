"""Enquiry and review pages as people use them: a person enquires from an offer, the
provider replies and arranges, the person reviews, the provider replies once, an
administrator hides the review; representatives act only for the people they act for;
strangers get the same 404 as for nothing at all; bad input is explained by its field and
nothing is written; mails go out only when a request commits."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction, AuditEvent
from marketplace.mail import read_outbox
from marketplace.settings import Settings
from marketplace.web import templates
from providers import enquiries as enquiries_service
from providers import offers as offers_service
from providers import reviews as reviews_service
from providers.models import Enquiry, EnquiryStatus, PriceUnit, Review
from providers.offers import PriceDetails
from providers.schemas import availability_values
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.helpers import HtmlClient, error_messages, page
from tests.providers.test_enquiries import arranged, enquire, member_of, represented

ENQUIRY = {"hours": "2.5", "when": ["0-0", "2-1"], "message": "Help getting to the shops, please."}


def as_user(client: HtmlClient, user: User) -> HtmlClient:
    client.cookies.clear()
    client.sign_in(user.email, PASSWORD)
    return client


def enquiry_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Enquiry)) or 0


def summary(soup: BeautifulSoup) -> dict[str, str]:
    """The first summary list on the page, key to value."""
    return {
        item.select_one(".ds_summary-list__key").get_text(" ", strip=True): item.select_one(
            ".ds_summary-list__value"
        ).get_text(" ", strip=True)
        for item in soup.select(".ds_summary-list")[0].select(".ds_summary-list__item")
    }


def mails_to(settings: Settings, user: User) -> list[str]:
    return [m.subject for m in read_outbox(settings.outbox_dir) if m.to == user.email]


class TestTheWholeJourney:
    def test_enquire_reply_arrange_review_reply_and_hide(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        offer = make_offer(db, title="Getting out and about", rate_pence=2000)
        member = offer.provider.members[0].user
        person = make_user(db, name="Morag Lindsay")

        # The person asks about the offer.
        as_user(client, person)
        form = page(client.get(f"/offers/{offer.id}/enquire"))
        assert form.select_one(f"form[action='/offers/{offer.id}/enquire']") is not None
        assert len(form.select("input[type=checkbox][name=when]")) == 28
        sent = client.submit(f"/offers/{offer.id}/enquire", ENQUIRY)
        assert sent.status_code == 303
        enquiry = db.scalars(select(Enquiry).where(Enquiry.offer_id == offer.id)).one()
        assert sent.headers["location"] == f"/enquiries/{enquiry.id}?done=sent"
        assert (enquiry.minutes_per_week, enquiry.status) == (150, EnquiryStatus.NEW)
        assert availability_values(enquiry.availability) == ["0-0", "2-1"]
        mine = page(client.get(sent.headers["location"]))
        assert "Your enquiry has been sent" in mine.get_text()
        assert summary(mine)["Hours a week"] == "2 hours 30 minutes"
        assert "Monday: morning" in summary(mine)["Days and times"]
        quote = (
            page(client.get(f"/enquiries/{enquiry.id}"))
            .select(".ds_summary-list")[1]
            .get_text(" ", strip=True)
        )
        assert "£20.00 an hour" in quote and "Total a week: £50.00" in quote
        assert mails_to(settings, member) == ["New enquiry about Getting out and about"]

        # The provider finds it in the inbox and replies.
        as_user(client, member)
        inbox = page(client.get("/provider/enquiries"))
        [row] = inbox.select("#results tbody tr")
        assert "Morag Lindsay" in row.get_text() and row.select_one(".ds_tag").get_text() == "New"
        assert row.select_one("a")["href"] == f"/provider/enquiries/{enquiry.id}"
        theirs = page(client.get(f"/provider/enquiries/{enquiry.id}"))
        assert "Help getting to the shops, please." in theirs.get_text()
        replied = client.submit(
            f"/provider/enquiries/{enquiry.id}/messages", {"body": "We can do Monday mornings."}
        )
        assert replied.headers["location"] == f"/provider/enquiries/{enquiry.id}?done=replied"
        assert enquiry.status == EnquiryStatus.REPLIED
        assert mails_to(settings, person) == [f"{offer.provider.name} has replied to your enquiry"]

        # ... and marks it arranged.
        done = client.submit(f"/provider/enquiries/{enquiry.id}/arrange")
        assert done.headers["location"] == f"/provider/enquiries/{enquiry.id}?done=arranged"
        assert enquiry.status == EnquiryStatus.ARRANGED
        assert f"{offer.provider.name} has arranged your support" in mails_to(settings, person)
        assert not page(client.get(f"/provider/enquiries/{enquiry.id}")).select(
            "form[action$='/arrange']"
        )

        # The person sees the reply and reviews the provider.
        as_user(client, person)
        mine = page(client.get(f"/enquiries/{enquiry.id}"))
        assert "We can do Monday mornings." in mine.get_text()
        assert mine.select_one(f"a[href='/enquiries/{enquiry.id}/review']") is not None
        assert page(client.get(f"/enquiries/{enquiry.id}/review")).select_one(
            f"form[action='/enquiries/{enquiry.id}/review']"
        )
        reviewed = client.submit(
            f"/enquiries/{enquiry.id}/review",
            {
                "outcomes": "5",
                "reliability": "4",
                "respect": "5",
                "comment": "Always on time and very kind.",
            },
        )
        assert reviewed.headers["location"] == f"/enquiries/{enquiry.id}?done=reviewed"
        review = db.scalars(select(Review).where(Review.enquiry_id == enquiry.id)).one()
        assert "Always on time and very kind." in client.get(f"/enquiries/{enquiry.id}").text
        assert mails_to(settings, member)[0] == f"A new review of {offer.provider.name}"

        # The provider replies once; a second reply is refused.
        as_user(client, member)
        assert client.get(f"/provider/reviews/{review.id}/reply").status_code == 200
        first = client.submit(
            f"/provider/reviews/{review.id}/reply", {"reply": "Thank you, Morag."}
        )
        assert (
            first.headers["location"] == f"/provider/reviews/{review.id}/reply?done=review-replied"
        )
        again = client.submit(f"/provider/reviews/{review.id}/reply", {"reply": "One more thing."})
        assert again.status_code == 409
        assert error_messages(again) == [
            "You have already replied to this review, and a reply cannot be changed"
        ]
        assert review.reply == "Thank you, Morag."

        # An administrator hides it, with a note; it shows to nobody else.
        as_user(client, make_user(db, role=Role.ADMIN))
        listed = page(client.get("/admin/reviews"))
        assert listed.select_one(f"form[action='/admin/reviews/{review.id}/hide']") is not None
        hidden = client.submit(
            f"/admin/reviews/{review.id}/hide", {"note": "Names a member of staff"}
        )
        assert hidden.headers["location"] == "/admin/reviews?done=hidden"
        assert review.hidden_at is not None and review.moderation_note == "Names a member of staff"
        assert reviews_service.published_reviews(db, provider_id=offer.provider_id) == []
        as_user(client, member)
        assert client.get(f"/provider/reviews/{review.id}/reply").status_code == 404
        assert "Always on time" not in client.get(f"/provider/enquiries/{enquiry.id}").text
        as_user(client, person)
        assert "Always on time" not in client.get(f"/enquiries/{enquiry.id}").text


class TestEnquiring:
    def test_htmx_gets_the_form_back_with_the_errors(self, client: HtmlClient, db: Session) -> None:
        offer = make_offer(db)
        as_user(client, make_user(db))
        response = client.submit(
            f"/offers/{offer.id}/enquire", {"hours": "", "message": ""}, htmx=True
        )
        assert response.status_code == 422
        fragment = page(response)
        assert (
            fragment.html is None
            and fragment.select_one("#enquiry-form .ds_error-summary") is not None
        )
        assert fragment.title.get_text() == f"Error: Ask about {offer.title} - SDS Marketplace"

    def test_a_plain_form_without_javascript_works(self, client: HtmlClient, db: Session) -> None:
        offer = make_offer(db)
        as_user(client, make_user(db))
        soup = page(client.get(f"/offers/{offer.id}/enquire"))
        form = soup.select_one("main form")
        assert (form["method"], form["action"]) == ("post", f"/offers/{offer.id}/enquire")
        assert form.select_one("input[name=csrftoken]") is not None

    @pytest.mark.parametrize(
        ("fields", "messages", "field"),
        [
            ({"hours": "0"}, ["Enter more than 0 hours"], "hours"),
            ({"hours": "200"}, ["A week has 168 hours: enter 168 or fewer"], "hours"),
            ({"hours": "lots"}, ["Enter the hours as a number, for example 6 or 2.5"], "hours"),
            ({"when": []}, ["Tick at least one day and time you need support"], "when"),
            ({"when": ["9-9"]}, ["Choose from the days and times given"], "when"),
            (
                {"message": "Help\x00"},
                ["Remove the special characters from this answer"],
                "message",
            ),
            (
                {"hours": "0", "when": [], "message": ""},
                [
                    "Enter more than 0 hours",
                    "Tick at least one day and time you need support",
                    "Enter a message for the provider",
                ],
                "hours",
            ),
        ],
    )
    def test_bad_input_is_explained_by_its_field_and_nothing_is_written(
        self,
        client: HtmlClient,
        db: Session,
        settings: Settings,
        fields: dict[str, Any],
        messages: list[str],
        field: str,
    ) -> None:
        offer = make_offer(db)
        as_user(client, make_user(db))
        before = enquiry_count(db)
        response = client.submit(f"/offers/{offer.id}/enquire", ENQUIRY | fields)
        assert response.status_code == 422
        assert error_messages(response) == messages
        soup = page(response)
        assert soup.select_one(".ds_error-summary__list a")["href"] == f"#{field}"
        assert soup.select_one(f"#{field}") is not None, "the summary links to the field"
        assert soup.select_one(f"#{field}").find_parent(class_="ds_question--error") is not None
        assert enquiry_count(db) == before
        assert read_outbox(settings.outbox_dir) == []

    def test_what_was_typed_and_ticked_is_kept(self, client: HtmlClient, db: Session) -> None:
        offer = make_offer(db)
        as_user(client, make_user(db))
        soup = page(client.submit(f"/offers/{offer.id}/enquire", ENQUIRY | {"hours": "200"}))
        assert soup.select_one("#hours")["value"] == "200"
        assert [box["value"] for box in soup.select("input[name=when][checked]")] == ["0-0", "2-1"]
        assert soup.select_one("#message").get_text() == ENQUIRY["message"]

    @pytest.mark.parametrize("state", ["draft", "paused", "withdrawn"])
    def test_an_offer_that_is_not_published_is_not_found(
        self, client: HtmlClient, db: Session, state: str
    ) -> None:
        offer = make_offer(db, publish=state != "draft")
        actor = offer.provider.members[0].user
        if state == "paused":
            offers_service.pause_offer(db, offer=offer, actor=actor)
        elif state == "withdrawn":
            offers_service.withdraw_offer(db, offer=offer, actor=actor)
        as_user(client, make_user(db))
        assert client.get(f"/offers/{offer.id}/enquire").status_code == 404
        assert client.submit(f"/offers/{offer.id}/enquire", ENQUIRY).status_code == 404
        assert enquiry_count(db) == 0

    def test_the_quote_stays_after_a_price_change(self, client: HtmlClient, db: Session) -> None:
        offer = make_offer(db, rate_pence=2000)
        person = make_user(db)
        as_user(client, person)
        client.submit(f"/offers/{offer.id}/enquire", ENQUIRY | {"hours": "6"})
        enquiry = db.scalars(select(Enquiry).where(Enquiry.offer_id == offer.id)).one()
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2600),
        )
        quote = (
            page(client.get(f"/enquiries/{enquiry.id}"))
            .select(".ds_summary-list")[1]
            .get_text(" ", strip=True)
        )
        assert "£20.00 an hour" in quote and "Total a week: £120.00" in quote
        assert "£26.00" not in quote
        assert "£26.00 an hour" in client.get(f"/offers/{offer.id}/enquire").text, (
            "new enquiries see the new price"
        )

    def test_the_management_fee_shows_as_an_amount_and_a_percentage(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, holds_isf=True))
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2400, management_fee_bp=1000),
        )
        enquiry = enquire(db, offer=offer, minutes_per_week=6 * 60)
        as_user(client, enquiry.person)
        quote = {
            item.select_one(".ds_summary-list__key").get_text(strip=True): item.select_one(
                ".ds_summary-list__value"
            ).get_text(strip=True)
            for item in page(client.get(f"/enquiries/{enquiry.id}"))
            .select(".ds_summary-list")[1]
            .select(".ds_summary-list__item")
        }
        week = quote["A week of 6 hours at the times asked"]
        assert "6 hours at the weekday daytime rate: £144.00" in week
        assert "Management fee: £14.40" in week and "10% of the support" in week
        assert "Total a week: £158.40" in week


class TestRepresentatives:
    def test_a_representative_enquires_for_the_person_they_act_for(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        person, carer = represented(db)
        offer = make_offer(db)
        as_user(client, carer)
        soup = page(client.get(f"/offers/{offer.id}/enquire"))
        options = [(o["value"], o.get_text()) for o in soup.select("#person option") if o["value"]]
        assert options == [(str(person.id), person.name)]
        sent = client.submit(f"/offers/{offer.id}/enquire", ENQUIRY | {"person": str(person.id)})
        assert sent.status_code == 303
        enquiry = db.scalars(select(Enquiry).where(Enquiry.offer_id == offer.id)).one()
        assert (enquiry.person_id, enquiry.sent_by_id) == (person.id, carer.id)
        listed = page(client.get("/enquiries"))
        assert person.name in listed.select_one("tbody tr").get_text()
        as_user(client, person)
        assert client.get(f"/enquiries/{enquiry.id}").status_code == 200
        assert "(sent by" in page(client.get(f"/enquiries/{enquiry.id}")).get_text()

    @pytest.mark.parametrize("chosen", ["stranger", "", "999999", "nonsense"])
    def test_and_not_for_anyone_else(
        self, client: HtmlClient, db: Session, settings: Settings, chosen: str
    ) -> None:
        _, carer = represented(db)
        stranger = make_user(db)
        offer = make_offer(db)
        as_user(client, carer)
        person = str(stranger.id) if chosen == "stranger" else chosen
        response = client.submit(f"/offers/{offer.id}/enquire", ENQUIRY | {"person": person})
        assert response.status_code == 422
        assert error_messages(response) == ["Choose a person you act for"]
        assert enquiry_count(db) == 0
        assert read_outbox(settings.outbox_dir) == []

    def test_a_representative_nobody_has_named_is_told_how(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        as_user(client, make_user(db, role=Role.REPRESENTATIVE))
        soup = page(client.get(f"/offers/{offer.id}/enquire"))
        assert soup.select("main form") == []
        assert "Nobody has named you yet" in soup.get_text()


class TestStrangers:
    def test_someone_elses_enquiry_is_the_same_404_as_none(
        self, client: HtmlClient, db: Session
    ) -> None:
        enquiry = arranged(db)
        review = reviews_service.leave_review(
            db,
            enquiry=enquiry,
            author=enquiry.person,
            ratings=reviews_service.Ratings(4, 4, 4),
            comment="Good.",
        )
        cases = [
            (make_user(db), f"/enquiries/{enquiry.id}", "/enquiries/999999"),
            (make_user(db), f"/enquiries/{enquiry.id}/review", "/enquiries/999999/review"),
            (
                make_user(db, role=Role.REPRESENTATIVE),
                f"/enquiries/{enquiry.id}",
                "/enquiries/999999",
            ),
            (
                make_provider(db).members[0].user,
                f"/provider/enquiries/{enquiry.id}",
                "/provider/enquiries/999999",
            ),
            (
                make_provider(db).members[0].user,
                f"/provider/reviews/{review.id}/reply",
                "/provider/reviews/999999/reply",
            ),
        ]
        for stranger, theirs, missing in cases:
            as_user(client, stranger)
            seen, nothing = client.get(theirs), client.get(missing)
            assert seen.status_code == nothing.status_code == 404, theirs
            assert page(seen).main == page(nothing).main
        as_user(client, make_provider(db).members[0].user)
        for action in ("messages", "arrange", "decline"):
            assert (
                client.submit(
                    f"/provider/enquiries/{enquiry.id}/{action}", {"body": "Hello"}
                ).status_code
                == 404
            )
        as_user(client, make_user(db))
        assert (
            client.submit(f"/enquiries/{enquiry.id}/messages", {"body": "Hello"}).status_code == 404
        )
        assert [m.body for m in enquiry.messages] == ["We can help."]

    def test_someone_elses_enquiries_are_not_listed(self, client: HtmlClient, db: Session) -> None:
        enquire(db)
        as_user(client, make_user(db))
        assert "No enquiries yet" in client.get("/enquiries").text
        as_user(client, make_provider(db).members[0].user)
        assert page(client.get("/provider/enquiries")).select("#results tbody tr") == []


class TestProviderInbox:
    def test_filter_by_status_with_a_plain_form_or_htmx(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        new, declined = enquire(db, offer=offer), enquire(db, offer=offer)
        enquiries_service.decline(db, enquiry=declined, actor=member_of(declined))
        as_user(client, offer.provider.members[0].user)
        soup = page(client.get("/provider/enquiries"))
        form = soup.select_one("form[action='/provider/enquiries']")
        assert (form["method"], form["hx-get"], form["hx-target"]) == (
            "get",
            "/provider/enquiries",
            "#results",
        )
        links = [a["href"] for a in soup.select("#results tbody a")]
        assert links == [f"/provider/enquiries/{declined.id}", f"/provider/enquiries/{new.id}"], (
            "newest first"
        )
        plain = page(client.get("/provider/enquiries?status=declined"))
        assert [a["href"] for a in plain.select("#results tbody a")] == [
            f"/provider/enquiries/{declined.id}"
        ]
        assert plain.select_one("#status option[selected]")["value"] == "declined"
        fragment = client.get("/provider/enquiries?status=new", headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
        soup = page(fragment)
        assert soup.html is None
        assert [a["href"] for a in soup.select("#results tbody a")] == [
            f"/provider/enquiries/{new.id}"
        ]
        assert client.get("/provider/enquiries?status=lost").status_code == 422

    def test_a_member_with_no_provider_is_told_so(self, client: HtmlClient, db: Session) -> None:
        as_user(client, make_user(db, role=Role.PERSONAL_ASSISTANT))
        response = client.get("/provider/enquiries")
        assert response.status_code == 200
        assert "not on the staff of any provider yet" in response.text

    def test_arranging_before_replying_and_changing_a_final_status_are_refused(
        self, client: HtmlClient, db: Session
    ) -> None:
        enquiry = enquire(db)
        as_user(client, member_of(enquiry))
        early = client.submit(f"/provider/enquiries/{enquiry.id}/arrange")
        assert early.status_code == 409
        assert error_messages(early) == [
            "Reply to the person before you mark the support as arranged"
        ]
        assert page(early).title.get_text().startswith("Error: Enquiry about")
        assert enquiry.status == EnquiryStatus.NEW
        assert client.submit(f"/provider/enquiries/{enquiry.id}/decline").status_code == 303
        late = client.submit(f"/provider/enquiries/{enquiry.id}/arrange", htmx=True)
        assert late.status_code == 409
        assert "already been marked as declined, and that cannot be changed" in late.text
        assert page(late).select_one("#enquiry .ds_error-summary") is not None
        assert enquiry.status == EnquiryStatus.DECLINED

    def test_an_empty_reply_is_explained_and_nothing_is_sent(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        enquiry = enquire(db)
        as_user(client, member_of(enquiry))
        response = client.submit(
            f"/provider/enquiries/{enquiry.id}/messages", {"body": "  "}, htmx=True
        )
        assert response.status_code == 422
        assert "Enter your message" in response.text
        assert enquiry.status == EnquiryStatus.NEW and enquiry.messages == []
        assert mails_to(settings, enquiry.person) == []

    def test_every_view_is_audited(self, client: HtmlClient, db: Session) -> None:
        enquiry = enquire(db)
        member = member_of(enquiry)
        as_user(client, member)
        client.get(f"/provider/enquiries/{enquiry.id}")
        as_user(client, enquiry.person)
        client.get(f"/enquiries/{enquiry.id}")
        viewers = db.scalars(
            select(AuditEvent.actor_id)
            .where(
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.subject_type == "enquiry",
                AuditEvent.subject_id == str(enquiry.id),
            )
            .order_by(AuditEvent.id)
        ).all()
        assert viewers == [member.id, enquiry.person_id]


class TestReviewPages:
    def test_a_declined_enquiry_cannot_be_reviewed(self, client: HtmlClient, db: Session) -> None:
        enquiry = enquire(db)
        enquiries_service.decline(db, enquiry=enquiry, actor=member_of(enquiry))
        as_user(client, enquiry.person)
        shown = page(client.get(f"/enquiries/{enquiry.id}/review"))
        assert shown.select("main form") == []
        assert "once they have marked the support as arranged" in shown.get_text()
        response = client.submit(
            f"/enquiries/{enquiry.id}/review",
            {"outcomes": "5", "reliability": "5", "respect": "5", "comment": "Great"},
        )
        assert response.status_code == 422
        assert error_messages(response) == [
            "You can review the provider once they have marked the support as arranged"
        ]
        assert db.scalar(select(func.count()).select_from(Review)) == 0

    def test_a_second_review_is_refused(self, client: HtmlClient, db: Session) -> None:
        enquiry = arranged(db)
        as_user(client, enquiry.person)
        fields = {"outcomes": "4", "reliability": "4", "respect": "4", "comment": "Good."}
        assert client.submit(f"/enquiries/{enquiry.id}/review", fields).status_code == 303
        again = client.submit(
            f"/enquiries/{enquiry.id}/review", fields | {"comment": "Even better."}
        )
        assert again.status_code == 409
        assert error_messages(again) == [
            "A review has already been left for this enquiry, and there can be only one"
        ]
        assert db.scalars(select(Review.comment).where(Review.enquiry_id == enquiry.id)).all() == [
            "Good."
        ]

    def test_missing_ratings_and_markup_are_explained_by_field(
        self, client: HtmlClient, db: Session
    ) -> None:
        enquiry = arranged(db)
        as_user(client, enquiry.person)
        response = client.submit(
            f"/enquiries/{enquiry.id}/review",
            {"outcomes": "9", "respect": "3", "comment": "Bold\x1b"},
        )
        assert response.status_code == 422
        assert error_messages(response) == [
            "Choose how well the support helped with what matters to you",
            "Choose how reliable the support was",
            "Remove the special characters from this answer",
        ]
        assert page(response).select_one("input[name=respect][checked]")["value"] == "3"
        assert db.scalar(select(func.count()).select_from(Review)) == 0

    def test_an_administrator_must_say_why_and_can_show_it_again(
        self, client: HtmlClient, db: Session
    ) -> None:
        first_enquiry, second_enquiry = arranged(db), arranged(db)
        first = reviews_service.leave_review(
            db,
            enquiry=first_enquiry,
            author=first_enquiry.person,
            ratings=reviews_service.Ratings(3, 3, 3),
            comment="Older.",
        )
        second = reviews_service.leave_review(
            db,
            enquiry=second_enquiry,
            author=second_enquiry.person,
            ratings=reviews_service.Ratings(5, 5, 5),
            comment="Newer.",
        )
        as_user(client, make_user(db, role=Role.ADMIN))
        listed = page(client.get("/admin/reviews"))
        actions = [f["action"] for f in listed.select("#reviews form")]
        assert actions[:2] == [
            f"/admin/reviews/{second.id}/hide",
            f"/admin/reviews/{first.id}/hide",
        ], "newest first"
        refused = client.submit(f"/admin/reviews/{first.id}/hide", {"note": ""}, htmx=True)
        assert refused.status_code == 422
        soup = page(refused)
        assert soup.select_one("#note").find_parent(class_="ds_question--error") is not None
        assert soup.select_one(".ds_error-summary__list a")["href"] == "#note"
        assert first.hidden_at is None
        assert (
            client.submit(f"/admin/reviews/{first.id}/hide", {"note": "Abusive"}).status_code == 303
        )
        assert page(client.get("/admin/reviews")).select_one(
            f"form[action='/admin/reviews/{first.id}/show']"
        )
        assert (
            client.submit(
                f"/admin/reviews/{first.id}/show", {"note": "Checked again: fine"}
            ).status_code
            == 303
        )
        assert first.hidden_at is None and first.moderation_note == "Checked again: fine"
        assert (
            client.submit(f"/admin/reviews/{first.id}/show", {"note": "Again"}).status_code == 409
        )


class TestTheListPartial:
    def test_it_renders_published_reviews_with_the_providers_reply_and_no_names(
        self, db: Session
    ) -> None:
        enquiry = arranged(db)
        review = reviews_service.leave_review(
            db,
            enquiry=enquiry,
            author=enquiry.person,
            ratings=reviews_service.Ratings(5, 4, 3),
            comment="Lovely people.",
        )
        reviews_service.reply_to_review(
            db, review=review, member=member_of(enquiry), text="Thank you!"
        )
        html = templates.env.get_template("providers/reviews/_list.html").render(
            reviews=reviews_service.published_reviews(db, provider_id=enquiry.provider_id)
        )
        soup = BeautifulSoup(html, "html.parser")
        assert [dd.get_text() for dd in soup.select(".ds_metadata__value")] == [
            "5 out of 5",
            "4 out of 5",
            "3 out of 5",
        ]
        assert "Lovely people." in soup.get_text() and "Thank you!" in soup.get_text()
        assert enquiry.person.name not in html
        assert "No reviews yet" in templates.env.get_template(
            "providers/reviews/_list.html"
        ).render(reviews=[])


class TestReviewsOnThePublicPages:
    def test_pages_show_the_newest_reviews_and_the_rest_are_a_page_away(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        shown = reviews_service.REVIEWS_SHOWN
        written = [
            reviews_service.leave_review(
                db,
                enquiry=enquiry,
                author=enquiry.person,
                ratings=reviews_service.Ratings(5, 4, 3),
                comment=f"Review number {number}.",
            )
            for number, enquiry in enumerate(
                (arranged(db, offer=offer) for _ in range(shown + 2)), start=1
            )
        ]
        newest_first = [f"review-{r.id}" for r in reversed(written)]
        for path in (f"/offers/{offer.id}", f"/providers/{offer.provider_id}"):
            soup = page(client.get(path))
            assert [li["id"] for li in soup.select("li[id^=review-]")] == newest_first[:shown]
            link = soup.find("a", string=f"Read all {shown + 2} reviews of {offer.provider.name}")
            assert link is not None and link["href"] == f"/providers/{offer.provider_id}/reviews"
        every = page(client.get(f"/providers/{offer.provider_id}/reviews"))
        assert [li["id"] for li in every.select("li[id^=review-]")] == newest_first
        assert f"{shown + 2} reviews from people who arranged support" in every.get_text()

    def test_a_page_past_the_last_or_not_a_number_is_not_found(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        assert client.get(f"/providers/{offer.provider_id}/reviews").status_code == 200
        for page_number in ("2", "-1", "0x10", "9" * 40):
            response = client.get(f"/providers/{offer.provider_id}/reviews?page={page_number}")
            assert 400 <= response.status_code < 500, page_number
        assert client.get("/providers/999999/reviews").status_code == 404


class TestNavigation:
    @pytest.mark.parametrize(
        ("role", "label", "path"),
        [
            (Role.SUPPORTED_PERSON, "Your enquiries", "/enquiries"),
            (Role.REPRESENTATIVE, "Your enquiries", "/enquiries"),
            (Role.PROVIDER_STAFF, "Enquiries", "/provider/enquiries"),
            (Role.PERSONAL_ASSISTANT, "Enquiries", "/provider/enquiries"),
        ],
    )
    def test_the_header_links_to_the_enquiries(
        self, client: HtmlClient, db: Session, role: Role, label: str, path: str
    ) -> None:
        as_user(client, make_user(db, role=role))
        links = {
            a.get_text(strip=True): a["href"]
            for a in page(client.get("/")).select(".ds_site-navigation__link")
        }
        assert links.get(label) == path

    def test_others_do_not_see_them(self, client: HtmlClient, db: Session) -> None:
        as_user(client, make_user(db, role=Role.COMMISSIONER))
        labels = [
            a.get_text(strip=True)
            for a in page(client.get("/")).select(".ds_site-navigation__link")
        ]
        assert "Enquiries" not in labels and "Your enquiries" not in labels
