"""Change of use through /api/v1, as a person's, a holder's or a council's own system would
use it: the same rules as the pages; a preview writes nothing; sending, approving and
declining carry an Idempotency-Key, so a retry has one effect and the first answer and the
same key with other content is refused; nobody reaches a request they may not see; the
panel decides at a sitting; administrators set the rules and delegated authority."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.changes.models import ChangeRequest
from contracts.funds import service as funds_service
from contracts.funds.models import BudgetLine
from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction, AuditEvent
from marketplace.db import today
from marketplace.geography import service as geography_service
from marketplace.idempotency import IdempotentRequest
from tests.contracts.changes.change_builders import (
    Plan,
    administrator,
    budget_holder_with,
    panel_member,
    plan_running_today,
)
from tests.contracts.funds.fund_builders import support_offer
from tests.contracts.funds.test_fund_pages import as_user
from tests.factories import make_provider, make_user
from tests.helpers import HtmlClient

KETTLE = {"kind": "purchase", "title": "A kettle I can lift", "amount_pence": 2_500}
"""Within a £500 delegated authority."""
SCOOTER = {"kind": "purchase", "title": "A mobility scooter", "amount_pence": 90_000}
"""Above it: for the panel."""


def asking(plan: Plan, **fields: Any) -> dict[str, Any]:
    """A request's body, for the outcome 'Keeping fit', starting tomorrow."""
    return {
        "outcome_ids": [plan.swimming.outcomes[0].id],
        "reason": "My old kettle is too heavy for me to lift safely.",
        "starts_on": (today() + timedelta(days=1)).isoformat(),
        **fields,
    }


def post(
    client: HtmlClient, user: User, path: str, body: object = None, *, key: str | None = None
) -> httpx.Response:
    as_user(client, user)
    headers = {"x-csrftoken": client.csrf_token()}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers)


def get(client: HtmlClient, user: User, path: str) -> httpx.Response:
    as_user(client, user)
    return client.get(f"/api/v1{path}")


def send(client: HtmlClient, plan: Plan, key: str, **fields: Any) -> httpx.Response:
    return post(
        client, plan.person, f"/isfs/{plan.fund.id}/changes", asking(plan, **fields), key=key
    )


def count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


class TestSending:
    def test_a_request_sent_with_a_key_and_retried_is_sent_once(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        budget_holder_with(db, per_request_pence=50_000)
        sent = send(client, plan, "change-000001", **KETTLE)
        assert sent.status_code == 201, sent.text
        change = sent.json()
        assert (change["status"], change["route"], change["amount_pence"]) == (
            "waiting",
            "delegated",
            2_500,
        )
        assert [e["step"] for e in change["events"]] == ["sent"]
        assert change["outcomes"] == [{"id": plan.swimming.outcomes[0].id, "name": "Keeping fit"}]
        # The retry answers the same and sends nothing more.
        assert send(client, plan, "change-000001", **KETTLE).json() == change
        assert count(db, ChangeRequest) == 1
        # The same key with other content is refused, and so is a request without a key.
        other = send(client, plan, "change-000001", **{**KETTLE, "amount_pence": 2_600})
        assert other.status_code == 422 and other.json()["error"] == "KeyReused"
        no_key = post(client, plan.person, f"/isfs/{plan.fund.id}/changes", asking(plan, **KETTLE))
        assert no_key.status_code == 422
        assert count(db, ChangeRequest) == 1
        listed = get(client, plan.person, f"/isfs/{plan.fund.id}/changes")
        assert [c["id"] for c in listed.json()] == [change["id"]]

    def test_a_move_between_lines_for_the_same_outcome_is_approved_at_once(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        sent = send(
            client,
            plan,
            "change-000002",
            kind="move",
            from_line_id=plan.swimming.id,
            line_id=plan.gym.id,
            moved_pence=20_000,
        )
        assert (sent.json()["route"], sent.json()["status"]) == ("light_touch", "approved")
        db.refresh(plan.gym)
        assert plan.gym.moved_pence == 20_000

    def test_a_new_offer_is_costed_at_its_price_now_for_the_days_and_times_asked(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        budget_holder_with(db, per_request_pence=50_000)
        offer = support_offer(db, rate_pence=2_000)
        sent = send(
            client,
            plan,
            "change-000009",
            kind="new_offer",
            offer_id=offer.id,
            minutes_per_week=60,
            when=["1-0", "0-0"],
            from_line_id=plan.swimming.id,
            moved_pence=10_000,
        )
        assert sent.status_code == 201, sent.text
        change = sent.json()
        assert (change["offer_id"], change["when"], change["weekly_pence"]) == (
            offer.id,
            ["0-0", "1-0"],
            2_000,
        )

    def test_bad_input_is_refused_by_its_field_and_nothing_is_sent(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        path = f"/isfs/{plan.fund.id}/changes"
        for bad, field in [
            ({"starts_on": "99999-01-01"}, "body.starts_on"),
            ({"starts_on": "2026-02-30"}, "body.starts_on"),
            ({"amount_pence": 12.5}, "body.amount_pence"),
            ({"amount_pence": -1}, "body.amount_pence"),
            ({"outcome_ids": [2**40]}, "body.outcome_ids.0"),
            ({"kind": "teleport"}, "body.kind"),
            ({"reason": "Why\x00not"}, "body.reason"),
            ({"when": [5]}, "body.when.0"),
            ({"when": ["7-0"]}, "body.when.0"),
        ]:
            refused = post(
                client, plan.person, path, asking(plan, **{**KETTLE, **bad}), key="k-0000001"
            )
            assert refused.status_code == 422, (bad, refused.text)
            assert field in [p["field"] for p in refused.json()["detail"]], refused.text
        # The service's own rules answer 422 with their message.
        unknown_line = post(
            client,
            plan.person,
            path,
            asking(plan, kind="pause", line_id=999_999),
            key="k-0000002",
        )
        assert unknown_line.status_code == 422 and "line" in unknown_line.json()["detail"]
        assert count(db, ChangeRequest) == 0


class TestThePreview:
    def test_a_preview_shows_the_statement_before_and_after_and_writes_nothing(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        budget_holder_with(db, per_request_pence=50_000)
        lines = [(line.id, line.moved_pence, line.ends_on) for line in plan.fund.lines]
        shown = post(
            client,
            plan.person,
            f"/isfs/{plan.fund.id}/changes/preview",
            asking(plan, kind="purchase", title="A bike", amount_pence=30_000),
        )
        assert shown.status_code == 200, shown.text
        preview = shown.json()
        before = preview["before"]
        assert preview["committed_after_pence"] == before["committed_pence"] + 30_000
        assert preview["projected_after_pence"] < before["projected_end_pence"] - 30_000
        assert (preview["amount_pence"], preview["route"], preview["overspend_pence"]) == (
            30_000,
            "delegated",
            0,
        )
        assert preview["due_on"] > today().isoformat() and preview["sitting_on"] is None
        db.expire_all()
        assert [(line.id, line.moved_pence, line.ends_on) for line in plan.fund.lines] == lines
        assert count(db, ChangeRequest) == 0 and count(db, IdempotentRequest) == 0

    def test_a_preview_says_by_how_much_a_change_would_overspend_and_it_cannot_be_sent(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        too_much = {"kind": "purchase", "title": "A car", "amount_pence": 9_000_000}
        preview = post(
            client, plan.person, f"/isfs/{plan.fund.id}/changes/preview", asking(plan, **too_much)
        ).json()
        assert preview["overspend_pence"] > 0 and preview["route"] == "panel"
        refused = send(client, plan, "change-000003", **too_much)
        assert refused.status_code == 422 and "overspend the fund" in refused.json()["detail"]
        assert count(db, ChangeRequest) == 0


class TestDeciding:
    def test_a_budget_holder_approves_within_authority_and_the_plan_changes_once(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        change = send(client, plan, "change-000004", **KETTLE).json()
        queue = get(client, holder, "/changes")
        assert [c["id"] for c in queue.json()["requests"]] == [change["id"]], queue.text
        assert queue.json()["requests"][0]["reason"].startswith("My old kettle")
        path = f"/changes/{change['id']}/approve"
        body = {"conditions": "Keep the receipt"}
        assert post(client, holder, path, body).status_code == 422  # no key
        approved = post(client, holder, path, body, key="approve-00001")
        assert approved.status_code == 200, approved.text
        decided = approved.json()
        assert (decided["status"], decided["conditions"], decided["decided_by_id"]) == (
            "approved",
            "Keep the receipt",
            holder.id,
        )
        assert [e["step"] for e in decided["events"]] == ["sent", "approved"]
        lines = count(db, BudgetLine)
        # A retried approval has one effect and answers as the first did.
        assert post(client, holder, path, body, key="approve-00001").json() == decided
        assert count(db, BudgetLine) == lines
        fund = get(client, plan.person, f"/isfs/{plan.fund.id}").json()
        [kettle] = [line for line in fund["plan"]["lines"] if line["id"] == decided["new_line_id"]]
        assert kettle["title"] == "A kettle I can lift"
        assert get(client, holder, "/changes").json()["requests"] == []
        approved_ones = get(client, holder, "/changes?status=approved").json()["requests"]
        assert [c["id"] for c in approved_ones] == [change["id"]]
        # Approving again, with another key, is refused: the request has been decided.
        again = post(client, holder, path, body, key="approve-00002")
        assert again.status_code == 409

    def test_a_decline_needs_reasons_and_the_person_may_ask_for_a_review(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        first = budget_holder_with(db, per_request_pence=50_000)
        second = budget_holder_with(db, per_request_pence=50_000)
        change = send(client, plan, "change-000005", **KETTLE).json()
        path = f"/changes/{change['id']}/decline"
        blank = post(client, first, path, {"reasons": "   "}, key="decline-0001")
        assert blank.status_code == 422
        assert [p["field"] for p in blank.json()["detail"]] == ["body.reasons"]
        declined = post(
            client, first, path, {"reasons": "The plan has a kitchen line"}, key="decline-0001"
        )
        assert declined.json()["status"] == "declined", declined.text
        assert declined.json()["decision_reasons"] == "The plan has a kitchen line"
        review_path = f"/changes/{change['id']}/review"
        # The holder's staff do not ask for reviews; the person does, once.
        assert (
            post(
                client, plan.holder, review_path, {"reason": "Please"}, key="review-0001"
            ).status_code
            == 403
        )
        review = post(
            client,
            plan.person,
            review_path,
            {"reason": "I cannot lift the old one"},
            key="review-0002",
        )
        assert review.status_code == 201, review.text
        assert review.json()["review_of_id"] == change["id"]
        approve = f"/changes/{review.json()['id']}/approve"
        assert post(client, first, approve, {}, key="approve-00003").status_code == 403
        assert post(client, second, approve, {}, key="approve-00004").json()["status"] == "approved"

    def test_more_information_escalation_and_withdrawal(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        change = send(client, plan, "change-000006", **KETTLE).json()
        base = f"/changes/{change['id']}"
        asked = post(client, holder, f"{base}/ask", {"question": "Which kettle?"})
        assert asked.json()["status"] == "more_information", asked.text
        assert asked.json()["clock_stopped_on"] == today().isoformat()
        answered = post(client, plan.person, f"{base}/answer", {"words": "A light one"})
        assert answered.json()["status"] == "waiting", answered.text
        escalated = post(client, holder, f"{base}/escalate", {"reason": "A precedent for others"})
        assert (escalated.json()["route"], escalated.json()["sitting_on"] is not None) == (
            "panel",
            True,
        )
        withdrawn = post(client, plan.person, f"{base}/withdraw", {"reason": "Bought one myself"})
        assert withdrawn.json()["status"] == "withdrawn"
        assert [e["step"] for e in withdrawn.json()["events"]] == [
            "sent",
            "asked",
            "answered",
            "escalated",
            "withdrawn",
        ]
        assert post(client, plan.person, f"{base}/withdraw", {}).status_code == 409


class TestThePanel:
    def test_the_panel_decides_at_a_sitting_it_recorded(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        member = panel_member(db)
        change = send(client, plan, "change-000007", **SCOOTER).json()
        assert change["route"] == "panel" and change["sitting_on"] is not None
        panel_queue = get(client, member, "/changes?route=panel").json()["requests"]
        assert [c["id"] for c in panel_queue] == [change["id"]]
        approve = f"/changes/{change['id']}/approve"
        assert post(client, holder, approve, {}, key="approve-00005").status_code == 403
        no_sitting = post(client, member, approve, {}, key="approve-00006")
        assert no_sitting.status_code == 422 and "sitting" in no_sitting.json()["detail"]
        tomorrow = (today() + timedelta(days=1)).isoformat()
        early = post(client, member, "/panel-sittings", {"sits_on": tomorrow, "members": "Me"})
        assert early.status_code == 422
        sat = post(
            client,
            member,
            "/panel-sittings",
            {"sits_on": today().isoformat(), "members": "A Chair (chair)\nA finance officer"},
        )
        assert sat.status_code == 201, sat.text
        assert sat.json()["members"] == ["A Chair (chair)", "A finance officer"]
        # A budget holder does not record the panel's sittings.
        assert (
            post(
                client, holder, "/panel-sittings", {"sits_on": today().isoformat(), "members": "Me"}
            ).status_code
            == 403
        )
        approved = post(
            client, member, approve, {"sitting_id": sat.json()["id"]}, key="approve-00007"
        )
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["sitting_id"]) == (
            "approved",
            sat.json()["id"],
        )


class TestWhoSeesWhat:
    def test_another_council_and_a_provider_not_holding_the_fund_find_nothing(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        budget_holder_with(db, per_request_pence=50_000)
        change = send(client, plan, "change-000008", **KETTLE).json()
        elsewhere = budget_holder_with(db, per_request_pence=50_000, council="Fife")
        stranger = make_provider(db).members[0].user
        for outsider in (elsewhere, stranger):
            assert get(client, outsider, f"/changes/{change['id']}").status_code == 404
            assert get(client, outsider, f"/isfs/{plan.fund.id}/changes").status_code == 404
            refused = post(
                client, outsider, f"/changes/{change['id']}/approve", {}, key="approve-00008"
            )
            assert refused.status_code == 404
            preview = post(
                client, outsider, f"/isfs/{plan.fund.id}/changes/preview", asking(plan, **KETTLE)
            )
            assert preview.status_code == 404
        assert get(client, elsewhere, "/changes").json()["requests"] == []
        assert get(client, stranger, "/changes").status_code == 403
        # The fund's holder sees it; crafted ids are refused cleanly.
        assert get(client, plan.holder, f"/changes/{change['id']}").status_code == 200
        for bad in ("0", "-1", "99999999999999999999", "1e3", "%20"):
            assert get(client, plan.person, f"/changes/{bad}").status_code == 404

    def test_reads_of_a_funds_requests_are_in_the_audit_log(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        viewed = select(func.count()).where(
            AuditEvent.action == AuditAction.RECORD_VIEWED,
            AuditEvent.actor_id == plan.person.id,
            AuditEvent.subject_type == funds_service.SUBJECT,
            AuditEvent.subject_id == str(plan.fund.id),
        )
        before = db.scalar(viewed) or 0
        assert get(client, plan.person, f"/isfs/{plan.fund.id}/changes").status_code == 200
        assert (db.scalar(viewed) or 0) == before + 1


class TestAdministrators:
    def test_an_administrator_sets_a_councils_rules_and_sees_their_history(
        self, db: Session, client: HtmlClient
    ) -> None:
        admin = administrator(db)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        assert highland is not None
        shown = get(client, admin, f"/change-rules?council_id={highland.id}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["in_force"]["version"] == 1
        rules = {
            "council_id": highland.id,
            "light_touch_limit_pence": 25_000,
            "delegated_days": 3,
            "panel_days": 10,
            "reminder_days": 1,
            "panel_first_sits_on": "2027-01-07",
            "panel_every_days": 14,
            "note": "Faster decisions agreed by the partnership board",
        }
        set_ = post(client, admin, "/change-rules", rules)
        assert set_.status_code == 201, set_.text
        assert set_.json()["in_force"]["light_touch_limit_pence"] == 25_000
        assert [v["version"] for v in set_.json()["history"]] == [2, 1]
        assert set_.json()["in_force"]["set_by_id"] == admin.id
        assert (
            post(client, admin, "/change-rules", {**rules, "delegated_days": 61}).status_code == 422
        )
        assert get(client, admin, "/change-rules?council_id=999999").status_code == 404
        holder = make_user(db, role=Role.BUDGET_HOLDER, council="Highland")
        assert get(client, holder, f"/change-rules?council_id={highland.id}").status_code == 403
        assert post(client, holder, "/change-rules", rules).status_code == 403

    def test_an_administrator_sets_delegated_authority_and_sees_its_history(
        self, db: Session, client: HtmlClient
    ) -> None:
        admin = administrator(db)
        holder = make_user(db, role=Role.BUDGET_HOLDER, council="Highland")
        path = f"/budget-holders/{holder.id}/authority"
        assert get(client, admin, path).json()["in_force"] is None
        limits = {"per_request_pence": 50_000, "per_fund_year_pence": 200_000, "note": "New role"}
        first = post(client, admin, path, limits)
        assert first.status_code == 201, first.text
        raised = post(
            client, admin, path, {**limits, "per_request_pence": 100_000, "note": "Promoted"}
        )
        assert raised.json()["in_force"]["per_request_pence"] == 100_000
        assert [v["note"] for v in raised.json()["history"]] == ["Promoted", "New role"]
        assert get(client, admin, path).json() == raised.json()
        upside_down = post(client, admin, path, {**limits, "per_fund_year_pence": 1})
        assert upside_down.status_code == 422
        person = make_user(db)
        assert get(client, admin, f"/budget-holders/{person.id}/authority").status_code == 404
        assert get(client, holder, path).status_code == 403
        assert post(client, holder, path, limits).status_code == 403
