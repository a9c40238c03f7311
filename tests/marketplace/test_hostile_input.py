"""The cases a security review found, each as a journey: ids and pages in other scripts'
digits or too large for any record, dates out of range, a form shown again after its
transaction was rolled back, a representative named twice, htmx errors, and text with
newlines, control characters, markup or 10,000 characters."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Role
from marketplace.errors import Conflict
from marketplace.parsing import MAX_RECORD_ID, ascii_whole_number, parse_date, record_id
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.helpers import HtmlClient, error_messages, page


class TestParsers:
    @pytest.mark.parametrize(
        "text", ["١٢٣", "１２", "0", "-1", "1.0", " ", "", str(MAX_RECORD_ID + 1), "9" * 40, "1e3"]
    )
    def test_an_id_is_ascii_digits_naming_a_possible_record(self, text: str) -> None:
        assert record_id(text) is None

    def test_ids_within_range_are_read(self) -> None:
        assert (record_id("1"), record_id(str(MAX_RECORD_ID)), record_id(" 42 ")) == (
            1,
            MAX_RECORD_ID,
            42,
        )
        assert ascii_whole_number("٣", low=0, high=9) is None

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("99999-01-01", "Enter a date like 2026-03-31"),
            ("0001-01-01", "Enter a date between 1900 and 2200"),
            ("2026-02-30", "Enter a real date, like 2026-03-31"),
            ("٢٠٢٦-٠١-٠١", "Enter a date like 2026-03-31"),
        ],
    )
    def test_dates_are_bounded(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            parse_date(text)


class TestAddresses:
    @pytest.mark.parametrize(
        "offer_id",
        ["١٢٣", "%EF%BC%91%EF%BC%92", "99999999999999999999999", "0", "-1", "2147483648"],
    )
    def test_an_offer_id_that_cannot_be_one_is_page_not_found(
        self, client: HtmlClient, offer_id: str
    ) -> None:
        response = client.get(f"/offers/{offer_id}")
        assert response.status_code == 404
        assert page(response).h1.get_text(strip=True) == "Page not found"

    @pytest.mark.parametrize(
        "query",
        [
            "page=١",
            "page=10001",
            "page=99999999999999999999",
            "since=99999-12-31",
            "until=2026-13-01",
            "actor=99999999999",
        ],
    )
    def test_the_audit_logs_filters_out_of_range_are_a_400_not_a_500(
        self, client: HtmlClient, db: Session, query: str
    ) -> None:
        client.sign_in(make_user(db, role=Role.ADMIN).email, PASSWORD)
        assert client.get(f"/admin/audit?{query}").status_code == 400

    @pytest.mark.parametrize(
        "when",
        [
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2026-01-01T00:00:00+99:00",
            "99999-01-01",
        ],
    )
    def test_a_feed_date_at_the_edge_of_the_calendar_is_not_a_500(
        self, client: HtmlClient, when: str
    ) -> None:
        response = client.get("/openreferral/services", params={"modified_after": when})
        assert response.status_code in (200, 400), response.text[:300]

    def test_an_api_id_that_cannot_be_one_is_a_json_404(self, client: HtmlClient) -> None:
        response = client.get("/openreferral/services/" + "9" * 50)
        assert response.status_code == 404
        assert response.json()["error"] == "NotFound"


class TestForms:
    def test_a_representative_named_twice_is_a_conflict_said_plainly(
        self, client: HtmlClient, db: Session
    ) -> None:
        person, carer = make_user(db), make_user(db, role=Role.REPRESENTATIVE)
        client.sign_in(person.email, PASSWORD)
        answers = {"email": carer.email, "relationship_kind": Relationship.CARER.value}
        assert client.submit("/account/representatives", answers).status_code == 303
        again = client.submit("/account/representatives", answers)
        assert again.status_code == 409
        assert error_messages(again) == ["This person already acts for you"]
        with pytest.raises(Conflict):
            accounts_service.add_representative(
                db,
                supported_person=person,
                representative_email=carer.email,
                relationship_kind=Relationship.CARER,
            )

    def test_a_mistyped_invitation_shows_the_staff_page_again_with_its_records(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        response = client.submit("/provider/staff", {"email": "someone@@example"})
        assert response.status_code == 422
        assert error_messages(response) == [
            "Enter an email address in the correct format, like name@example.com"
        ]
        assert provider.members[0].user.name in response.text, (
            "the staff list, read after the rollback"
        )

    def test_every_problem_is_reported_at_once_with_what_to_do(self, client: HtmlClient) -> None:
        response = client.submit(
            "/sign-up/supported-person", {"name": "n" * 10_000, "email": "not-an-email"}
        )
        assert response.status_code == 422
        assert error_messages(response)[:2] == [
            "Shorten your name to 200 characters or fewer",
            "Enter an email address in the correct format, like name@example.com",
        ]

    def test_markup_in_an_offer_title_is_kept_and_shown_escaped(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db, title="Support <at> home")
        client.sign_in(offer.provider.members[0].user.email, PASSWORD)
        shown = client.get(f"/offers/{offer.id}")
        assert "Support &lt;at&gt; home" in shown.text

    def test_htmx_errors_come_back_as_a_summary_for_the_page_error_region(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(make_user(db).email, PASSWORD)
        response = client.submit("/account/representatives/999999/remove", htmx=True)
        assert response.status_code == 404
        assert response.headers["HX-Retarget"] == "#page-error"
        assert "<html" not in response.text and "ds_error-summary" in response.text
        assert page(client.get("/account")).select_one("#page-error") is not None

    def test_capacity_and_distance_out_of_bounds_say_what_to_enter(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        client.sign_in(offer.provider.members[0].user.email, PASSWORD)
        response = client.submit(
            f"/provider/offers/{offer.id}/capacity", {"capacity_amount": "10000"}
        )
        assert response.status_code == 422
        assert error_messages(response) == ["Enter from 0 to 5,000 hours a week"]
        assistant = make_user(db, role=Role.PERSONAL_ASSISTANT)
        client.sign_in(assistant.email, PASSWORD)
        listing = client.submit("/provider/start", {"radius_km": "-5"})
        assert "Enter a distance of 1 km or more" in error_messages(listing)

    def test_an_offer_form_shown_again_to_htmx_is_its_fragment(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        client.sign_in(offer.provider.members[0].user.email, PASSWORD)
        response = client.submit(f"/provider/offers/{offer.id}", {"title": ""}, htmx=True)
        assert response.status_code == 422
        assert "Enter a title for the offer" in error_messages(response)
        assert "<html" not in response.text
