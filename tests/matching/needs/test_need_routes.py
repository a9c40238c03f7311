"""Posted-need pages as people use them: a person posts a need from the form, a provider
whose offer reaches them finds it in their inbox (never with the person's name or email)
and responds, the person sees the response with a way to enquire and closes the need;
bad input is explained by its field and in the error summary with a 422, and nothing is
written; htmx gets fragments; strangers get the same 404 as for no need at all; every
view is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction, AuditEvent
from marketplace.settings import Settings
from matching.index import OfferIndex
from matching.needs import service as needs_service
from matching.needs.models import NeedStatus, PostedNeed
from providers import offers as offers_service
from tests.factories import PASSWORD, make_user, make_verified_provider
from tests.helpers import HtmlClient, error_messages, page
from tests.matching.needs.need_builders import (
    DESCRIPTION,
    mails_to,
    make_trusted_offer,
    need_count,
    post,
)
from tests.providers.test_enquiries import represented

NEED = {
    "location": "Portree",
    "kinds_of_support": ["personal-care"],
    "outcomes": ["feeling-safe", "seeing-people"],
    "when": ["0-0", "2-1"],
    "hours": "2.5",
    "description": DESCRIPTION,
}


def as_user(client: HtmlClient, user: User) -> HtmlClient:
    client.cookies.clear()
    client.sign_in(user.email, PASSWORD)
    return client


def summary(soup: BeautifulSoup) -> dict[str, str]:
    """The first summary list on the page, key to value."""
    return {
        item.select_one(".ds_summary-list__key").get_text(" ", strip=True): item.select_one(
            ".ds_summary-list__value"
        ).get_text(" ", strip=True)
        for item in soup.select(".ds_summary-list")[0].select(".ds_summary-list__item")
    }


def views_of(db: Session, need: PostedNeed, viewer: User) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.actor_id == viewer.id,
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.subject_type == "posted_need",
                AuditEvent.subject_id == str(need.id),
            )
        )
        or 0
    )


class TestTheWholeJourney:
    def test_post_find_respond_enquire_and_close(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        offer = make_trusted_offer(db, title="Morning care")
        member = offer.provider.members[0].user
        person = make_user(db, name="Morag Lindsay", email="morag@example.org")

        # The person posts a need from the form.
        as_user(client, person)
        assert page(client.get("/needs")).select_one("a[href='/needs/new']") is not None
        form = page(client.get("/needs/new"))
        assert form.select_one("form[action='/needs'][method=post]") is not None
        assert len(form.select("input[type=checkbox][name=when]")) == 28
        assert form.select("input[name=kinds_of_support][value=personal-care]")
        posted = client.submit("/needs", NEED)
        assert posted.status_code == 303, error_messages(posted)
        need = db.scalars(select(PostedNeed).where(PostedNeed.person_id == person.id)).one()
        assert posted.headers["location"] == f"/needs/{need.id}?done=posted"
        mine = page(client.get(posted.headers["location"]))
        assert "Your need has been posted" in mine.get_text()
        shown = summary(mine)
        assert shown["Where"] == "Portree" and shown["Hours a week"] == "2 hours 30 minutes"
        assert shown["What matters"] == "Feeling safe, Seeing people"
        assert (
            "Wednesday: afternoon" in shown["Days and times"] and shown["Sent to"] == "1 provider"
        )
        assert mine.select_one(f"form[action='/needs/{need.id}/close']") is not None
        assert [m.subject for m in mails_to(settings, member)] == [
            "Someone near Portree needs support"
        ]

        # The provider finds it in the inbox, without the person's name or email.
        as_user(client, member)
        inbox = client.get("/provider/needs")
        [row] = page(inbox).select("#results tbody tr")
        assert row.select_one("a")["href"] == f"/provider/needs/{need.id}"
        assert "Personal care near Portree" in row.get_text()
        theirs = client.get(f"/provider/needs/{need.id}")
        # Only what, when, how long and where, until the person shares the rest.
        assert DESCRIPTION not in theirs.text and "Feeling safe" not in theirs.text
        assert "has not shared what they wrote" in theirs.text
        for response in (inbox, theirs):
            assert (
                "Morag" not in response.text
                and "Lindsay" not in response.text
                and "morag@" not in response.text
            )
        chosen = page(theirs).select_one("select[name=offer] option[selected]")
        assert chosen is not None and chosen["value"] == str(offer.id)

        # ... and responds with its offer.
        answered = client.submit(
            f"/provider/needs/{need.id}/responses",
            {"offer": str(offer.id), "message": "We can help on Mondays."},
        )
        assert answered.status_code == 303, error_messages(answered)
        assert answered.headers["location"] == f"/provider/needs/{need.id}?done=responded"
        assert need.status == NeedStatus.ANSWERED
        after = page(client.get(answered.headers["location"]))
        assert "We can help on Mondays." in after.get_text() and not after.select(
            "form[action$='/responses']"
        )
        assert f"{offer.provider.name} has responded to your need" in [
            m.subject for m in mails_to(settings, person)
        ]

        # The person sees the response, with the offer and a way to enquire.
        as_user(client, person)
        mine = page(client.get(f"/needs/{need.id}"))
        assert (
            "We can help on Mondays." in mine.get_text() and offer.provider.name in mine.get_text()
        )
        assert mine.select_one(f"a[href='/offers/{offer.id}']") is not None
        assert (
            mine.select_one(f"a[href='/offers/{offer.id}/enquire']")
            .get_text(" ", strip=True)
            .startswith("Send an enquiry")
        )
        [listed] = page(client.get("/needs")).select("tbody tr")
        assert (
            "Answered" in listed.get_text() and listed.select("td")[-1].get_text(strip=True) == "1"
        )

        # ... chooses to share their details with that provider, who can then read them.
        share = mine.select_one(f"form[action='/needs/{need.id}/share']")
        assert share is not None and "Share my details with this provider" in share.get_text()
        shared = client.submit(f"/needs/{need.id}/share", {"provider": str(offer.provider_id)})
        assert shared.headers["location"] == f"/needs/{need.id}?done=shared", error_messages(shared)
        assert not page(client.get(f"/needs/{need.id}")).select(
            f"form[action='/needs/{need.id}/share']"
        )
        assert "has shared their details with you" in mails_to(settings, member)[-1].subject
        as_user(client, member)
        now_shared = client.get(f"/provider/needs/{need.id}").text
        assert (
            DESCRIPTION in now_shared and "Feeling safe" in now_shared and "Morag" not in now_shared
        )
        as_user(client, person)

        # ... and closes the need.
        closed = client.submit(f"/needs/{need.id}/close")
        assert closed.headers["location"] == f"/needs/{need.id}?done=closed"
        assert need.status == NeedStatus.CLOSED
        assert not page(client.get(f"/needs/{need.id}")).select(
            f"form[action='/needs/{need.id}/close']"
        )

    def test_a_representative_posts_for_the_person_they_act_for(
        self, client: HtmlClient, db: Session
    ) -> None:
        make_trusted_offer(db)
        person, carer = represented(db)
        as_user(client, carer)
        form = page(client.get("/needs/new"))
        assert [o["value"] for o in form.select("select[name=person] option") if o["value"]] == [
            str(person.id)
        ]
        stranger = make_user(db)
        refused = client.submit("/needs", NEED | {"person": str(stranger.id)})
        assert refused.status_code == 422 and error_messages(refused) == [
            "Choose a person you act for"
        ]
        posted = client.submit("/needs", NEED | {"person": str(person.id)})
        assert posted.status_code == 303
        need = db.scalars(select(PostedNeed).where(PostedNeed.posted_by_id == carer.id)).one()
        assert need.person_id == person.id
        assert person.name in page(client.get("/needs")).select_one("tbody tr").get_text()

    def test_a_representative_nobody_has_named_is_told_why_there_is_no_form(
        self, client: HtmlClient, db: Session
    ) -> None:
        as_user(client, make_user(db, role=Role.REPRESENTATIVE))
        shown = page(client.get("/needs/new"))
        assert (
            not shown.select("form[action='/needs']")
            and "named you as their representative" in shown.get_text()
        )


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "field", "message"),
        [
            ({"hours": "0"}, "hours", "Enter more than 0 hours"),
            ({"hours": "200"}, "hours", "A week has 168 hours: enter 168 or fewer"),
            (
                {"location": "Atlantis"},
                "location",
                "We cannot find a place called Atlantis in Scotland.",
            ),
            (
                {"location": "51.50, -0.12"},
                "location",
                "51.5000, -0.1200 is not on land in Scotland.",
            ),
            ({"kinds_of_support": []}, "kinds_of_support", "Choose at least one kind of support"),
            ({"outcomes": []}, "outcomes", "Choose at least one thing that matters to you"),
            ({"when": []}, "when", "Tick at least one day and time you need support"),
            (
                {"description": "I need\x00 help"},
                "description",
                "Remove the special characters from this answer",
            ),
            (
                {"kinds_of_support": ["no-such-kind"]},
                "kinds_of_support",
                "Choose from the list given",
            ),
        ],
    )
    def test_is_explained_by_the_field_and_in_the_summary_and_nothing_is_written(
        self, client: HtmlClient, db: Session, change: dict[str, Any], field: str, message: str
    ) -> None:
        as_user(client, make_user(db))
        before = need_count(db)
        response = client.submit("/needs", NEED | change)
        assert response.status_code == 422
        [summary_message] = error_messages(response)
        assert summary_message.startswith(message)
        shown = page(response)
        assert shown.select_one(f"#{field}-error").get_text(strip=True) == summary_message
        assert shown.select_one(".ds_error-summary a")["href"] == f"#{field}"
        assert shown.select_one(f"#{field}") is not None
        assert need_count(db) == before

    def test_every_problem_shows_at_once_in_page_order_and_answers_are_kept(
        self, client: HtmlClient, db: Session
    ) -> None:
        as_user(client, make_user(db))
        response = client.submit(
            "/needs",
            {
                "location": "Atlantis",
                "kinds_of_support": ["personal-care"],
                "hours": "0",
                "description": "",
            },
        )
        assert response.status_code == 422
        assert [a["href"] for a in page(response).select(".ds_error-summary a")] == [
            "#location",
            "#outcomes",
            "#when",
            "#hours",
            "#description",
        ]
        shown = page(response)
        assert shown.select_one("#location")["value"] == "Atlantis"
        assert shown.select_one("input[name=kinds_of_support][value=personal-care]").has_attr(
            "checked"
        )

    def test_htmx_gets_the_form_fragment_with_its_errors(
        self, client: HtmlClient, db: Session
    ) -> None:
        as_user(client, make_user(db))
        before = need_count(db)
        response = client.submit("/needs", NEED | {"hours": "200"}, htmx=True)
        assert response.status_code == 422
        assert "<html" not in response.text and response.text.startswith(
            "<title>Error: Post a need"
        )
        fragment = page(response)
        assert fragment.select_one("#need-form .ds_error-summary") is not None
        assert (
            fragment.select_one("#hours-error").get_text(strip=True)
            == "A week has 168 hours: enter 168 or fewer"
        )
        assert need_count(db) == before

    def test_a_response_without_a_message_is_refused(self, client: HtmlClient, db: Session) -> None:
        offer = make_trusted_offer(db)
        need = post(db, OfferIndex())
        as_user(client, offer.provider.members[0].user)
        response = client.submit(
            f"/provider/needs/{need.id}/responses",
            {"offer": str(offer.id), "message": ""},
            htmx=True,
        )
        assert response.status_code == 422
        assert (
            page(response).select_one("#message-error").get_text(strip=True)
            == "Enter a message for the person"
        )
        assert need.responses == [] and need.status == NeedStatus.OPEN

    def test_a_response_with_someone_elses_offer_is_refused(
        self, client: HtmlClient, db: Session
    ) -> None:
        mine, theirs = make_trusted_offer(db), make_trusted_offer(db)
        need = post(db, OfferIndex())
        as_user(client, mine.provider.members[0].user)
        response = client.submit(
            f"/provider/needs/{need.id}/responses",
            {"offer": str(theirs.id), "message": "We can help."},
        )
        assert response.status_code == 422 and error_messages(response) == [
            "Choose one of your published offers"
        ]
        assert need.responses == []


class TestHtmx:
    def test_a_posted_need_sends_htmx_to_its_page(self, client: HtmlClient, db: Session) -> None:
        as_user(client, make_user(db))
        response = client.submit("/needs", NEED, htmx=True)
        assert response.status_code == 204
        assert response.headers["HX-Redirect"].startswith("/needs/") and response.headers[
            "HX-Redirect"
        ].endswith("?done=posted")

    def test_the_inbox_filter_answers_with_the_results_fragment(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_trusted_offer(db)
        index = OfferIndex()
        answered = post(db, index)
        waiting = post(db, index)
        as_user(client, offer.provider.members[0].user)
        client.submit(
            f"/provider/needs/{answered.id}/responses",
            {"offer": str(offer.id), "message": "We can help."},
        )
        response = client.get("/provider/needs?status=open", headers={"HX-Request": "true"})
        assert response.status_code == 200 and "<html" not in response.text
        fragment = page(response)
        assert fragment.select_one("#results") is not None and fragment.select_one("form") is None
        assert [a["href"] for a in fragment.select("tbody a")] == [f"/provider/needs/{waiting.id}"]
        full = page(client.get("/provider/needs?status=answered"))
        assert [a["href"] for a in full.select("#results tbody a")] == [
            f"/provider/needs/{answered.id}"
        ]
        assert "Responded" in full.select_one("#results tbody tr").get_text()

    def test_an_unknown_status_is_a_clear_422(self, client: HtmlClient, db: Session) -> None:
        as_user(client, make_user(db, role=Role.PERSONAL_ASSISTANT))
        assert client.get("/provider/needs?status=nonsense").status_code == 422


class TestWhoSeesWhat:
    def test_others_get_the_same_404_as_for_no_need(self, client: HtmlClient, db: Session) -> None:
        make_trusted_offer(db)
        far = make_trusted_offer(db, provider=make_verified_provider(db, base="Inverness"))
        need = post(db, OfferIndex())
        as_user(client, make_user(db))
        theirs, missing = client.get(f"/needs/{need.id}"), client.get("/needs/999999")
        assert theirs.status_code == missing.status_code == 404
        assert page(theirs).main == page(missing).main
        assert client.submit(f"/needs/{need.id}/close").status_code == 404
        as_user(client, far.provider.members[0].user)
        theirs, missing = (
            client.get(f"/provider/needs/{need.id}"),
            client.get("/provider/needs/999999"),
        )
        assert theirs.status_code == missing.status_code == 404
        assert page(theirs).main == page(missing).main
        assert (
            client.submit(
                f"/provider/needs/{need.id}/responses", {"offer": str(far.id), "message": "Hi"}
            ).status_code
            == 404
        )
        assert need.status == NeedStatus.OPEN and need.responses == []

    def test_administrators_see_the_need_and_every_view_is_audited(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_trusted_offer(db)
        person = make_user(db, name="Morag Lindsay")
        need = post(db, OfferIndex(), poster=person)
        admin = make_user(db, role=Role.ADMIN)
        member = offer.provider.members[0].user
        as_user(client, admin)
        shown = page(client.get(f"/needs/{need.id}"))
        assert "Morag Lindsay" in shown.get_text() and not shown.select("form[action$='/close']")
        assert shown.select_one(".ds_page-header__label").get_text(strip=True) == "A posted need"
        as_user(client, member)
        client.get("/provider/needs")
        client.get(f"/provider/needs/{need.id}")
        as_user(client, person)
        client.get("/needs")
        client.get(f"/needs/{need.id}")
        assert (
            views_of(db, need, admin),
            views_of(db, need, member),
            views_of(db, need, person),
        ) == (1, 2, 2)

    def test_a_paused_offer_in_a_response_shows_no_enquiry_button(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_trusted_offer(db)
        need = post(db, OfferIndex())
        member = offer.provider.members[0].user
        as_user(client, member)
        client.submit(
            f"/provider/needs/{need.id}/responses",
            {"offer": str(offer.id), "message": "We can help."},
        )
        offers_service.pause_offer(db, offer=offer, actor=member)
        as_user(client, need.person)
        shown = page(client.get(f"/needs/{need.id}"))
        assert not shown.select(f"a[href='/offers/{offer.id}/enquire']")
        assert "not taking enquiries now" in shown.get_text()


class TestWhenTimeIsUp:
    def test_an_unmet_need_says_so_to_both_sides_and_takes_no_more(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_trusted_offer(db)
        index = OfferIndex()
        need = post(db, index)
        needs_service.run_daily(db, index=index, now=need.respond_by)
        as_user(client, need.person)
        mine = page(client.get(f"/needs/{need.id}"))
        assert summary(mine)["Status"] == "No responses"
        assert "No provider responded within 14 days" in mine.get_text()
        assert not mine.select(f"form[action='/needs/{need.id}/close']")
        as_user(client, offer.provider.members[0].user)
        theirs = page(client.get(f"/provider/needs/{need.id}"))
        assert "no longer taking responses" in theirs.get_text() and not theirs.select(
            "form[action$='/responses']"
        )
        refused = client.submit(
            f"/provider/needs/{need.id}/responses", {"offer": str(offer.id), "message": "Hello."}
        )
        assert refused.status_code == 409 and error_messages(refused) == [
            "This need is no longer taking responses"
        ]
