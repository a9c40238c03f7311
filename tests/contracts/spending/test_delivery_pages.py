"""The pages that spend a fund, as each side uses them: the provider records support or a
purchase on its line; the person confirms or disputes it; whoever recorded it puts a
dispute right or withdraws it; the holder approves (paying from the fund, once) or refuses;
a receipt downloads only for those who may see it. The wrong person is refused as the fund
rules say, bad input gets its message by its field with nothing written, and nothing a
browser or a script can send makes a server error."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds.statement import statement_of
from contracts.models import LedgerTransaction
from contracts.spending import service as spending
from contracts.spending.models import Delivery, DeliveryKind, DeliveryStatus
from marketplace.accounts.models import Role
from marketplace.audit import AuditEvent
from marketplace.db import today
from marketplace.money import format_pence
from tests.contracts.funds.fund_builders import holder_staff
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.page_builders import (
    a_png,
    confirmed,
    line_staff,
    offer_line,
    recorded,
    running_fund,
)
from tests.factories import make_user
from tests.helpers import HtmlClient, page

YESTERDAY = (today() - timedelta(days=1)).isoformat()
A_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def deliveries(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Delivery)) or 0


def transactions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(LedgerTransaction)) or 0


def error_for(response: httpx.Response, field: str) -> str:
    soup = page(response)
    message = soup.select_one(f"#{field}-error")
    assert message is not None, f"no error by {field}: {soup.select_one('#error-summary')}"
    assert soup.select_one(f'#error-summary a[href="#{field}"]') is not None
    return message.get_text(" ", strip=True)


def record_form(client: HtmlClient, fund_id: int, line_id: int) -> dict[str, str]:
    """The hidden fields of the record page's forms, as the browser would send them."""
    soup = page(client.get(f"/funds/{fund_id}/lines/{line_id}/deliveries"))
    return {
        tag["name"]: tag.get("value", "")
        for tag in soup.select('input[type="hidden"]')
        if tag["name"] in ("support_key", "purchase_key")
    }


class TestRecordingSupport:
    def test_the_provider_finds_its_line_and_records_hours(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        listing = page(client.get("/deliveries"))
        assert listing.find("a", href=f"/funds/{fund.id}/lines/{line.id}/deliveries") is not None
        assert fund.person.name in listing.get_text()
        keys = record_form(client, fund.id, line.id)
        answer = client.submit(
            f"/funds/{fund.id}/lines/{line.id}/deliveries",
            {
                "kind": "support",
                "support_key": keys["support_key"],
                "delivered_on": YESTERDAY,
                "hours": "1.5",
                "description": "Swimming at the leisure centre",
            },
        )
        assert (
            answer.status_code == 303 and answer.headers["location"] == "/deliveries?done=recorded"
        )
        delivery = db.scalars(select(Delivery)).one()
        assert (delivery.minutes, delivery.amount_pence) == (90, 3000)
        assert delivery.status == DeliveryStatus.RECORDED
        mine = page(client.get("/deliveries?done=recorded"))
        assert "Swimming at the leisure centre" in mine.select_one("#table-recorded").get_text()

    def test_a_form_sent_twice_records_once(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        keys = record_form(client, fund.id, line.id)
        form = {
            "kind": "support",
            "support_key": keys["support_key"],
            "delivered_on": YESTERDAY,
            "hours": "2",
            "description": "Shopping in town",
        }
        for _ in range(2):
            assert (
                client.submit(f"/funds/{fund.id}/lines/{line.id}/deliveries", form).status_code
                == 303
            )
        assert deliveries(db) == 1

    @pytest.mark.parametrize(
        ("field", "form"),
        [
            ("delivered_on", {"delivered_on": "yesterday"}),
            ("delivered_on", {"delivered_on": "2020-01-01"}),
            # A week on, not tomorrow: the list is made when the tests are collected, and a
            # run that passes midnight would make tomorrow today.
            ("delivered_on", {"delivered_on": (today() + timedelta(days=7)).isoformat()}),
            ("hours", {"hours": ""}),
            ("hours", {"hours": "25"}),
            ("hours", {"hours": "1" + "0" * 400}),
            ("hours", {"hours": "NaN"}),
            ("description", {"description": "   "}),
        ],
    )
    def test_bad_support_is_named_by_its_field_and_nothing_written(
        self, db: Session, client: HtmlClient, field: str, form: dict[str, str]
    ) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        keys = record_form(client, fund.id, line.id)
        sent = {
            "kind": "support",
            "support_key": keys["support_key"],
            "delivered_on": YESTERDAY,
            "hours": "2",
            "description": "Shopping",
        } | form
        answer = client.submit(f"/funds/{fund.id}/lines/{line.id}/deliveries", sent)
        assert answer.status_code == 422
        assert error_for(answer, field)
        assert page(answer).title.get_text().startswith("Error: ")
        assert deliveries(db) == 0

    def test_a_purchase_with_its_receipt(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        keys = record_form(client, fund.id, line.id)
        answer = client.post(
            f"/funds/{fund.id}/lines/{line.id}/deliveries",
            data={
                "csrftoken": client.csrf_token(),
                "kind": "purchase",
                "purchase_key": keys["purchase_key"],
                "bought_on": YESTERDAY,
                "amount": "4.20",
                "what_bought": "Swimming pool entry",
            },
            files={"receipt": ("receipt.pdf", A_PDF, "application/pdf")},
        )
        assert answer.status_code == 303, answer.text[:2000]
        delivery = db.scalars(select(Delivery)).one()
        assert delivery.kind == DeliveryKind.PURCHASE and delivery.amount_pence == 420

    @pytest.mark.parametrize(
        ("receipt", "fields"),
        [
            (None, {"receipt"}),
            (("empty.pdf", b"", "application/pdf"), {"receipt"}),
            (("page.html", b"<html><script>alert(1)</script>", "text/html"), {"receipt"}),
            (("cut.pdf", b"%PDF-1.4\n1 0 obj", "application/pdf"), {"receipt"}),
        ],
    )
    def test_a_receipt_that_is_not_one_is_refused(
        self,
        db: Session,
        client: HtmlClient,
        receipt: tuple[str, bytes, str] | None,
        fields: set[str],
    ) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        keys = record_form(client, fund.id, line.id)
        answer = client.post(
            f"/funds/{fund.id}/lines/{line.id}/deliveries",
            data={
                "csrftoken": client.csrf_token(),
                "kind": "purchase",
                "purchase_key": keys["purchase_key"],
                "bought_on": YESTERDAY,
                "amount": "4.20",
                "what_bought": "Swimming pool entry",
            },
            files={"receipt": receipt} if receipt else {"other": ("x.txt", b"x", "text/plain")},
        )
        assert answer.status_code == 422
        for field in fields:
            assert error_for(answer, field)
        assert deliveries(db) == 0

    def test_every_problem_of_a_purchase_shows_at_once(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        keys = record_form(client, fund.id, line.id)
        answer = client.post(
            f"/funds/{fund.id}/lines/{line.id}/deliveries",
            data={
                "csrftoken": client.csrf_token(),
                "kind": "purchase",
                "purchase_key": keys["purchase_key"],
                "bought_on": "",
                "amount": "lots",
                "what_bought": "",
            },
            files={"receipt": ("empty.png", b"", "image/png")},
        )
        assert answer.status_code == 422
        for field in ("bought_on", "amount", "what_bought", "receipt"):
            assert error_for(answer, field)

    def test_an_upload_past_its_bound_is_refused_unread(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        as_user(client, line_staff(fund))
        answer = client.post(
            f"/funds/{fund.id}/lines/{line.id}/deliveries",
            data={"csrftoken": client.csrf_token(), "kind": "purchase"},
            files={"receipt": ("big.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024), "application/pdf")},
        )
        assert answer.status_code == 413
        assert deliveries(db) == 0

    def test_only_the_provider_that_delivers_the_line_records_on_it(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        line = offer_line(fund)
        path = f"/funds/{fund.id}/lines/{line.id}/deliveries"
        # The holder sees the fund but does not deliver this line: told so.
        as_user(client, holder_staff(fund))
        assert client.get(path).status_code == 403
        # Another provider's staff does not learn the fund exists.
        as_user(client, make_user(db, role=Role.PROVIDER_STAFF))
        assert client.get(path).status_code == 404
        assert client.submit(path, {"kind": "support"}).status_code == 404
        # The person is not a provider at all.
        as_user(client, fund.person)
        assert client.get(path).status_code == 403
        assert client.get(
            f"/funds/{fund.id}/lines/99999999999999999999/deliveries"
        ).status_code in (
            403,
            404,
        )
        assert deliveries(db) == 0


class TestThePersonsSide:
    def test_the_person_sees_what_waits_for_them_first_and_confirms(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        older = recorded(db, fund)
        spending.confirm_delivery(db, delivery=older, by=fund.person)
        waiting = recorded(db, fund, minutes=60)
        soup = page(as_user(client, fund.person).get(f"/funds/{fund.id}/deliveries"))
        items = soup.select("#waiting ~ ul .app-delivery")
        assert len(items) == 1 and "1 hour" in items[0].get_text()
        assert soup.select_one("#table-deliveries") is not None
        answer = client.submit(f"/funds/{fund.id}/deliveries/{waiting.id}/confirm")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/funds/{fund.id}/deliveries?done=confirmed"
        db.refresh(waiting)
        assert waiting.status == DeliveryStatus.CONFIRMED

    def test_a_dispute_needs_words_and_reaches_the_provider(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        as_user(client, fund.person)
        path = f"/funds/{fund.id}/deliveries/{delivery.id}/dispute"
        empty = client.submit(path, {"dispute_reason": "  "})
        assert empty.status_code == 422 and error_for(empty, "dispute_reason")
        db.refresh(delivery)
        assert delivery.status == DeliveryStatus.RECORDED
        assert client.submit(path, {"dispute_reason": "It was 1 hour, not 1.5"}).status_code == 303
        as_user(client, line_staff(fund))
        mine = page(client.get("/deliveries"))
        assert "It was 1 hour, not 1.5" in mine.get_text()
        # The provider puts it right on the delivery's page, with the hours corrected.
        shown = page(client.get(f"/funds/{fund.id}/deliveries/{delivery.id}"))
        assert shown.select_one("form[action$='/resolve']") is not None
        resolve = f"/funds/{fund.id}/deliveries/{delivery.id}/resolve"
        bad = client.submit(resolve, {"resolution": "Sorry", "hours": "30"})
        assert bad.status_code == 422 and error_for(bad, "hours")
        done = client.submit(resolve, {"resolution": "Corrected to 1 hour", "hours": "1"})
        assert done.headers["location"] == f"/funds/{fund.id}/deliveries?done=resolved"
        db.refresh(delivery)
        assert (delivery.status, delivery.minutes, delivery.amount_pence) == (
            DeliveryStatus.RECORDED,
            60,
            2000,
        )

    def test_the_holder_cannot_confirm_for_the_person(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        as_user(client, holder_staff(fund))
        answer = client.submit(f"/funds/{fund.id}/deliveries/{delivery.id}/confirm")
        assert answer.status_code == 403
        db.refresh(delivery)
        assert delivery.status == DeliveryStatus.RECORDED


class TestTheHoldersSide:
    def test_the_holder_approves_and_the_fund_pays_once(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = confirmed(db, fund)
        before = statement_of(db, fund, on=today())
        as_user(client, holder_staff(fund))
        listing = page(client.get(f"/funds/{fund.id}/deliveries"))
        assert listing.select_one(
            f"form[action='/funds/{fund.id}/deliveries/{delivery.id}/approve']"
        )
        path = f"/funds/{fund.id}/deliveries/{delivery.id}/approve"
        posted_before = transactions(db)
        assert client.submit(path).status_code == 303
        assert client.submit(path).status_code == 303  # sent again: nothing more is paid
        assert transactions(db) == posted_before + 1
        after = statement_of(db, fund, on=today())
        assert after.spent_pence == before.spent_pence + 3000
        db.refresh(delivery)
        assert delivery.status == DeliveryStatus.APPROVED

    def test_a_fund_that_holds_too_little_says_so(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db, funded=False)
        delivery = confirmed(db, fund)
        as_user(client, holder_staff(fund))
        answer = client.submit(f"/funds/{fund.id}/deliveries/{delivery.id}/approve")
        assert answer.status_code == 422
        summary = page(answer).select_one("#error-summary").get_text(" ", strip=True)
        assert "The fund holds £0.00 now" in summary
        db.refresh(delivery)
        assert delivery.status == DeliveryStatus.CONFIRMED

    def test_the_holder_refuses_with_a_reason(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        as_user(client, holder_staff(fund))
        path = f"/funds/{fund.id}/deliveries/{delivery.id}/refuse"
        empty = client.submit(path, {"refuse_reason": ""})
        assert empty.status_code == 422 and error_for(empty, "refuse_reason")
        assert client.submit(path, {"refuse_reason": "Not in the plan"}).status_code == 303
        db.refresh(delivery)
        assert delivery.status == DeliveryStatus.REFUSED
        shown = page(as_user(client, fund.person).get(f"/funds/{fund.id}/deliveries"))
        assert "Not in the plan" in shown.select_one("#table-deliveries").get_text()

    def test_the_person_cannot_approve_their_own(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        delivery = confirmed(db, fund)
        as_user(client, fund.person)
        assert (
            client.submit(f"/funds/{fund.id}/deliveries/{delivery.id}/approve").status_code == 403
        )


class TestTheRecordersSide:
    def test_the_recorder_withdraws_with_a_reason(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        as_user(client, line_staff(fund))
        path = f"/funds/{fund.id}/deliveries/{delivery.id}/withdraw"
        empty = client.submit(path, {"withdraw_reason": ""})
        assert empty.status_code == 422 and error_for(empty, "withdraw_reason")
        assert client.submit(path, {"withdraw_reason": "Recorded twice"}).status_code == 303
        db.refresh(delivery)
        assert delivery.status == DeliveryStatus.WITHDRAWN

    def test_the_person_cannot_withdraw_it(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        as_user(client, fund.person)
        answer = client.submit(
            f"/funds/{fund.id}/deliveries/{delivery.id}/withdraw", {"withdraw_reason": "No"}
        )
        assert answer.status_code == 403


class TestWhoSeesWhat:
    def test_strangers_get_the_404_of_a_fund_that_does_not_exist(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        other = running_fund(db)
        paths = [
            f"/funds/{fund.id}/deliveries",
            f"/funds/{fund.id}/deliveries/{delivery.id}",
            f"/funds/{other.id}/deliveries/{delivery.id}",
        ]
        for stranger in (
            make_user(db),
            make_user(db, role=Role.PROVIDER_STAFF),
            make_user(db, role=Role.COMMISSIONER),
            make_user(db, role=Role.FINANCE, council="Fife"),
        ):
            as_user(client, stranger)
            for path in paths:
                assert client.get(path).status_code == 404, (stranger.role, path)
            assert (
                client.submit(f"/funds/{fund.id}/deliveries/{delivery.id}/confirm").status_code
                == 404
            )
        as_user(client, other.person)
        assert client.get(f"/funds/{other.id}/deliveries/{delivery.id}").status_code == 404

    @pytest.mark.parametrize(
        "path",
        [
            "/funds/abc/deliveries",
            "/funds/1/deliveries/99999999999999999999999",
            "/funds/%EF%BC%91/deliveries/1",
            "/funds/1/deliveries/1/receipt",
            "/funds/1/deliveries?table=nothing&format=csv",
        ],
    )
    def test_bad_ids_are_404s(self, db: Session, client: HtmlClient, path: str) -> None:
        running_fund(db)
        as_user(client, make_user(db))
        assert client.get(path).status_code == 404

    def test_finance_reads_the_list_by_number_without_acting(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = confirmed(db, fund)
        disputed = spending.dispute_delivery(
            db, delivery=recorded(db, fund), by=fund.person, reason="My private words"
        )
        as_user(client, make_user(db, role=Role.FINANCE, council="Highland"))
        soup = page(client.get(f"/funds/{fund.id}/deliveries"))
        for words in (fund.person.name, "My private words", "Swimming at the leisure centre"):
            assert words not in soup.get_text()
        one = page(client.get(f"/funds/{fund.id}/deliveries/{disputed.id}")).get_text()
        assert fund.person.name not in one and "My private words" not in one
        assert not soup.select("form[action*='/deliveries/']")
        assert (
            client.submit(f"/funds/{fund.id}/deliveries/{delivery.id}/approve").status_code == 403
        )

    def test_a_providers_records_come_a_page_at_a_time_and_download_whole(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        made = [recorded(db, fund, minutes=30 + n) for n in range(spending.RECORDED_PAGE_SIZE + 1)]
        as_user(client, line_staff(fund))
        first = page(client.get("/deliveries"))
        rows = first.select("#table-recorded tbody tr")
        assert len(rows) == spending.RECORDED_PAGE_SIZE
        assert f"{len(made)} records in all" in first.get_text()
        assert first.select_one(".ds_pagination a[href='?page=2']") is not None
        second = page(client.get("/deliveries?page=2"))
        assert len(second.select("#table-recorded tbody tr")) == 1
        assert client.get("/deliveries?page=3").status_code == 404
        assert client.get("/deliveries?page=abc").status_code == 400
        download = client.get("/deliveries?table=recorded&format=csv")
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert len(download.text.strip().splitlines()) == len(made) + 1  # and its heading

    def test_the_list_downloads_as_csv(self, db: Session, client: HtmlClient) -> None:
        fund = running_fund(db)
        recorded(db, fund)
        answer = as_user(client, fund.person).get(
            f"/funds/{fund.id}/deliveries?table=deliveries&format=csv"
        )
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert "Swimming at the leisure centre" in answer.text
        assert format_pence(3000) not in answer.text and ",3000," in answer.text


class TestReceipts:
    def test_a_receipt_downloads_for_those_who_may_see_it_and_each_read_is_audited(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = spending.record_purchase(
            db,
            fund=fund,
            line_id=offer_line(fund).id,
            by=line_staff(fund),
            delivered_on=today(),
            amount_pence=420,
            description="Pool entry",
            receipt=a_png(),
            today=today(),
        )
        path = f"/funds/{fund.id}/deliveries/{delivery.id}/receipt"
        audited_before = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
        for reader in (fund.person, line_staff(fund), holder_staff(fund)):
            answer = as_user(client, reader).get(path)
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "image/png"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["content-disposition"].startswith("attachment;")
            assert answer.content.startswith(b"\x89PNG")
        audited = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
        assert audited >= audited_before + 3
        for stranger in (make_user(db), make_user(db, role=Role.PROVIDER_STAFF)):
            assert as_user(client, stranger).get(path).status_code == 404
        # A delivery of support has no receipt.
        support = recorded(db, fund)
        as_user(client, fund.person)
        assert client.get(f"/funds/{fund.id}/deliveries/{support.id}/receipt").status_code == 404


class TestTheLinesProvider:
    def test_a_provider_that_does_not_hold_the_fund_sees_only_its_own_deliveries(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        ours = recorded(db, fund)
        as_user(client, line_staff(fund))
        soup = page(client.get(f"/funds/{fund.id}/deliveries"))
        assert ours.description in soup.select_one("#table-deliveries").get_text()
        assert soup.find("a", href=f"/funds/{fund.id}/statement") is None
        assert client.get(f"/funds/{fund.id}/statement").status_code == 404
        assert client.get(f"/funds/{fund.id}").status_code == 404


class TestWithHtmx:
    def test_a_problem_comes_back_as_the_form_and_success_as_a_redirect(
        self, db: Session, client: HtmlClient
    ) -> None:
        fund = running_fund(db)
        delivery = recorded(db, fund)
        as_user(client, fund.person)
        path = f"/funds/{fund.id}/deliveries/{delivery.id}/dispute"
        empty = client.submit(path, {"dispute_reason": ""}, htmx=True)
        assert empty.status_code == 422
        fragment = page(empty)
        assert fragment.select_one("#delivery #dispute_reason-error") is not None
        assert fragment.title.get_text().startswith("Error: ")
        done = client.submit(path, {"dispute_reason": "Only an hour"}, htmx=True)
        assert done.status_code == 204
        assert done.headers["HX-Redirect"] == f"/funds/{fund.id}/deliveries?done=disputed"
