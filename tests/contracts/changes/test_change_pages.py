"""The change-of-use pages as each side uses them: the person chooses a kind of change,
fills it in, sees what it would do to the fund and sends it (once, however often the form
is sent); a budget holder finds it in the queue and decides it; a decline needs reasons
and the person can ask for a review; the panel records a sitting; and nobody outside the
fund's council or holder sees anything."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.changes import service as changes
from contracts.changes.models import ChangeRequest, ChangeRoute, ChangeStatus
from marketplace.accounts.models import Role
from marketplace.audit import AuditAction, AuditEvent
from marketplace.db import today
from tests.contracts.changes.change_builders import (
    budget_holder_with,
    panel_member,
    plan_running_today,
)
from tests.contracts.funds.test_fund_pages import as_user
from tests.factories import make_user
from tests.helpers import HtmlClient, page

TOMORROW = (today() + timedelta(days=1)).isoformat()


def requests_made(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(ChangeRequest)) or 0


def one_time_key(client: HtmlClient, path: str) -> str:
    field = page(client.get(path)).select_one('input[name="key"]')
    assert field is not None
    return str(field["value"])


def address(sent) -> str:  # type: ignore[no-untyped-def]
    """The request's page a send was redirected to, without its message."""
    assert sent.status_code == 303, sent.text[:500]
    return str(sent.headers["location"]).split("?")[0]


def a_purchase(plan, pounds: str = "45.00", **more: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "kind": "purchase",
        "title": "Waterproof walking boots",
        "amount": pounds,
        "starts_on": TOMORROW,
        "outcomes": [str(plan.swimming.outcomes[0].id)],
        "reason": "I walk to the swimming pool along the shore path and my boots leak.",
        **more,
    }


def purchase_sent(client: HtmlClient, plan, pounds: str = "45.00"):  # type: ignore[no-untyped-def]
    """The person asks for a purchase on the page, as the browser sends it: the answer."""
    as_user(client, plan.person)
    key = one_time_key(client, f"/funds/{plan.fund.id}/changes/new?kind=purchase")
    return client.submit(
        f"/funds/{plan.fund.id}/changes", {**a_purchase(plan, pounds=pounds), "key": key}
    )


class TestAskingForAChange:
    def test_the_person_chooses_a_kind_sees_the_preview_then_sends_it_once(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        budget_holder_with(db, per_request_pence=50_000)
        as_user(client, plan.person)
        listing = page(client.get(f"/funds/{plan.fund.id}/changes"))
        assert listing.find("a", href=f"/funds/{plan.fund.id}/changes/new") is not None
        choose = page(client.get(f"/funds/{plan.fund.id}/changes/new"))
        assert choose.select('input[name="kind"]')
        path = f"/funds/{plan.fund.id}/changes/new?kind=purchase"
        key = one_time_key(client, path)
        shown = client.submit(
            f"/funds/{plan.fund.id}/changes/preview", {**a_purchase(plan), "key": key}
        )
        assert shown.status_code == 200, page(shown).select_one("#error-summary")
        preview = page(shown)
        assert "With the change" in preview.get_text()
        assert "A budget holder at the council" in preview.get_text()
        assert preview.find("button", formaction=f"/funds/{plan.fund.id}/changes") is not None
        assert requests_made(db) == 0  # seeing it writes nothing
        sent = client.submit(f"/funds/{plan.fund.id}/changes", {**a_purchase(plan), "key": key})
        assert sent.status_code == 303
        again = client.submit(f"/funds/{plan.fund.id}/changes", {**a_purchase(plan), "key": key})
        assert again.headers["location"] == sent.headers["location"]
        assert requests_made(db) == 1
        request_page = page(client.get(sent.headers["location"]))
        assert "Waiting for a decision" in request_page.get_text()
        assert "working days left" in request_page.get_text()
        assert request_page.select_one("#withdraw") is not None

    def test_a_request_the_fund_cannot_afford_shows_by_how_much_and_is_not_sent(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        as_user(client, plan.person)
        key = one_time_key(client, f"/funds/{plan.fund.id}/changes/new?kind=purchase")
        asked = {**a_purchase(plan, pounds="40000.00"), "key": key}
        shown = client.submit(f"/funds/{plan.fund.id}/changes/preview", asked)
        assert shown.status_code == 422
        assert "beyond its contingency" in page(shown).select_one("#error-summary").get_text()
        sent = client.submit(f"/funds/{plan.fund.id}/changes", asked)
        assert sent.status_code == 422 and requests_made(db) == 0

    def test_bad_input_gets_its_message_by_its_field(self, db: Session, client: HtmlClient) -> None:
        plan = plan_running_today(db)
        as_user(client, plan.person)
        shown = client.submit(
            f"/funds/{plan.fund.id}/changes/preview",
            {**a_purchase(plan), "amount": "lots", "outcomes": [], "starts_on": "31/02/2027"},
        )
        assert shown.status_code == 422
        soup = page(shown)
        for field in ("amount", "starts_on"):
            assert soup.select_one(f"#{field}-error") is not None, field


class TestDeciding:
    def test_a_budget_holder_finds_it_in_the_queue_and_approves_it(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        sent = purchase_sent(client, plan)
        as_user(client, holder)
        queue = page(client.get("/changes"))
        link = queue.find("a", href=address(sent))
        assert link is not None
        assert "my boots leak" in queue.get_text()
        assert "Projected at the end of the fund's period" in queue.get_text()
        decided = client.submit(address(sent) + "/decide", {"decision": "approve"})
        assert decided.status_code == 303
        change = db.scalars(select(ChangeRequest)).one()
        db.refresh(change)
        assert change.status == ChangeStatus.APPROVED and change.new_line_id is not None

    def test_a_decline_needs_reasons_and_the_person_can_ask_for_a_review(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        budget_holder_with(db, per_request_pence=50_000)
        sent = purchase_sent(client, plan)
        where = address(sent)
        as_user(client, holder)
        refused = client.submit(where + "/decide", {"decision": "decline", "reasons": ""})
        assert refused.status_code == 422
        assert page(refused).select_one("#reasons-error") is not None
        client.submit(where + "/decide", {"decision": "decline", "reasons": "Boots are clothing"})
        as_user(client, plan.person)
        declined = page(client.get(where))
        assert "Boots are clothing" in declined.get_text()
        assert declined.select_one("#review") is not None
        review = client.submit(where + "/review", {"review_reason": "They are safety boots"})
        assert address(review) != where
        as_user(client, holder)
        reviewing = page(client.get(address(review)))
        assert reviewing.select_one("#decide") is None
        assert "someone else decides the review" in reviewing.get_text()

    def test_the_panel_records_a_sitting_and_decides_there(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        member = panel_member(db)
        sent = purchase_sent(client, plan, pounds="900.00")
        change = db.scalars(select(ChangeRequest)).one()
        assert change.route == ChangeRoute.PANEL
        as_user(client, member)
        recorded = client.submit(
            "/changes/sittings",
            {"sits_on": today().isoformat(), "members": "A Chair (chair)\nA Finance Officer"},
        )
        assert recorded.status_code == 303
        form = page(client.get(address(sent)))
        [sitting] = [o["value"] for o in form.select('select[name="sitting"] option') if o["value"]]
        decided = client.submit(
            address(sent) + "/decide",
            {
                "decision": "decline",
                "reasons": "Funded by the equipment service",
                "sitting": sitting,
            },
        )
        assert decided.status_code == 303
        db.refresh(change)
        assert change.status == ChangeStatus.DECLINED and change.sitting_id == int(sitting)


class TestTheAuditLog:
    def test_every_read_of_a_request_in_the_queue_or_on_its_page_is_recorded(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        sent = purchase_sent(client, plan)
        change = db.scalars(select(ChangeRequest)).one()

        def reads_by(user) -> int:  # type: ignore[no-untyped-def]
            return (
                db.scalar(
                    select(func.count()).where(
                        AuditEvent.action == AuditAction.RECORD_VIEWED,
                        AuditEvent.actor_id == user.id,
                        AuditEvent.subject_type == changes.SUBJECT,
                        AuditEvent.subject_id == str(change.id),
                    )
                )
                or 0
            )

        as_user(client, holder)
        assert client.get("/changes").status_code == 200
        assert reads_by(holder) == 1
        assert client.get(address(sent)).status_code == 200
        assert reads_by(holder) == 2
        as_user(client, plan.person)
        assert client.get(address(sent)).status_code == 200
        assert reads_by(plan.person) == 1


class TestWhoSeesWhat:
    def test_another_councils_budget_holder_and_another_provider_get_not_found(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        sent = purchase_sent(client, plan)
        where = address(sent)
        for outsider in (
            budget_holder_with(db, per_request_pence=50_000, council="Fife"),
            make_user(db, role=Role.PROVIDER_STAFF),
            make_user(db, role=Role.COMMISSIONER, council="Highland"),
        ):
            as_user(client, outsider)
            assert client.get(where).status_code == 404, outsider.role
            assert client.submit(where + "/decide", {"decision": "approve"}).status_code == 404
        as_user(client, plan.council_side)
        assert client.get(f"/funds/{plan.fund.id}/changes/new").status_code == 403
