"""An approved one-off purchase is bought, end to end through the services the pages use:
the person asks to buy a shower stool with money moved from their gym line, a budget
holder approves it and a purchase line appears in the plan, the fund's holder records the
purchase against that line with its receipt, the person confirms it, the holder approves
it, and the statement shows it spent on that line and no longer committed. A purchase line
is bought within its day and within what was approved."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes.models import ChangeKind, ChangeRequest, ChangeStatus
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import BudgetLine, BudgetLineKind
from contracts.funds.statement import by_line, statement_of
from contracts.ledger_check import check_invariants
from contracts.spending import service as spending
from contracts.spending.models import Delivery, DeliveryStatus
from marketplace.db import today
from marketplace.errors import RuleBroken
from tests.contracts.changes.change_builders import (
    TUESDAY,
    Plan,
    active_plan,
    ask,
    at,
    budget_holder_with,
    plan_running_today,
)
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.page_builders import a_png
from tests.helpers import HtmlClient, page

STOOL_PENCE = 4_000
"""The shower stool the council approved: £40."""
BUY_BY = date(2027, 6, 30)
BOUGHT_ON = date(2027, 6, 7)
TODAY = date(2027, 6, 10)


def approved_stool(db: Session, plan: Plan) -> tuple[ChangeRequest, BudgetLine]:
    """The person asks for the stool, paid for by moving £40 from the gym line, and a
    budget holder approves it: the purchase line it added to the plan."""
    holder = budget_holder_with(db, per_request_pence=50_000)
    request = ask(
        db,
        plan,
        kind=ChangeKind.PURCHASE,
        title="A shower stool",
        amount_pence=STOOL_PENCE,
        ends_on=BUY_BY,
        from_line_id=plan.gym.id,
        moved_pence=STOOL_PENCE,
        reason="I cannot stand in the shower for long since my fall.",
    )
    decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
    assert request.status == ChangeStatus.APPROVED
    line = request.new_line
    assert line is not None
    return request, line


def bought(db: Session, plan: Plan, line: BudgetLine, pence: int, **more: object) -> Delivery:
    fields: dict[str, object] = {
        "delivered_on": BOUGHT_ON,
        "description": "A shower stool from the mobility shop in Dingwall",
        "receipt": a_png(),
        "today": TODAY,
        **more,
    }
    return spending.record_purchase(
        db,
        fund=plan.fund,
        line_id=line.id,
        by=plan.holder,
        amount_pence=pence,
        **fields,  # type: ignore[arg-type]
    )


def line_row(db: Session, plan: Plan, line: BudgetLine, on: date = TODAY):  # type: ignore[no-untyped-def]
    statement = statement_of(db, plan.fund, on=on)
    rows = {row.name: row for row in by_line(db, plan.fund, statement)}
    return statement, rows[line.title]


class TestBuyingAnApprovedPurchase:
    def test_the_purchase_is_recorded_confirmed_approved_and_spent_on_its_line(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        post_due_tranches(db, today=TODAY)
        _, line = approved_stool(db, plan)
        assert (line.kind, line.title, line.amount_pence) == (
            BudgetLineKind.PURCHASE,
            "A shower stool",
            STOOL_PENCE,
        )
        assert (line.starts_on, line.ends_on) == (TUESDAY, BUY_BY)
        assert plan.gym.moved_pence == -STOOL_PENCE

        # The holder finds the new line among those it records on.
        assert (plan.fund, line) in spending.lines_to_record(db, user=plan.holder)
        before, row = line_row(db, plan, line)
        assert (row.spent_pence, row.committed_pence) == (0, STOOL_PENCE)

        # It cost £38.50 in the end, with the receipt to show it.
        delivery = bought(db, plan, line, 3_850)
        assert delivery.line_id == line.id and delivery.provider_id == plan.fund.holder_id
        assert delivery.receipt is not None
        spending.confirm_delivery(db, delivery=delivery, by=plan.person)
        spending.approve_delivery(db, delivery=delivery, by=plan.holder)
        assert delivery.status == DeliveryStatus.APPROVED

        after, row = line_row(db, plan, line)
        assert row.spent_pence == 3_850
        # What is left of the approval stays committed until its day, and no more.
        assert row.committed_pence == STOOL_PENCE - 3_850
        assert after.spent_pence - before.spent_pence == 3_850
        assert before.committed_pence - after.committed_pence == 3_850
        assert any(entry.amount_pence < 0 for entry in after.entries)
        # After its day, nothing more is planned on it.
        _, row = line_row(db, plan, line, on=date(2027, 7, 1))
        assert (row.spent_pence, row.committed_pence) == (3_850, 0)
        assert check_invariants(db).violations == []


class TestAPurchaseLineIsBoughtAsApproved:
    def test_not_after_its_day_nor_before_it_starts(self, db: Session) -> None:
        plan = active_plan(db)
        post_due_tranches(db, today=TODAY)
        _, line = approved_stool(db, plan)
        for day in (date(2027, 7, 1), date(2027, 5, 31)):
            with pytest.raises(RuleBroken) as refused:
                bought(db, plan, line, 3_850, delivered_on=day, today=date(2027, 7, 2))
            assert refused.value.field == "delivered_on"

    def test_not_for_more_than_is_left_of_what_was_approved(self, db: Session) -> None:
        plan = active_plan(db)
        post_due_tranches(db, today=TODAY)
        _, line = approved_stool(db, plan)
        with pytest.raises(RuleBroken) as refused:
            bought(db, plan, line, STOOL_PENCE + 1)
        assert refused.value.field == "amount"
        assert "£40.00" in refused.value.message
        # A first part waiting to be confirmed counts against what is left.
        bought(db, plan, line, 3_000)
        with pytest.raises(RuleBroken) as refused:
            bought(db, plan, line, 1_500)
        assert "£10.00" in refused.value.message
        bought(db, plan, line, 1_000, description="The stool's rubber feet")

    def test_what_was_withdrawn_or_refused_frees_it_again(self, db: Session) -> None:
        plan = active_plan(db)
        post_due_tranches(db, today=TODAY)
        _, line = approved_stool(db, plan)
        first = bought(db, plan, line, STOOL_PENCE)
        spending.withdraw_delivery(db, delivery=first, by=plan.holder, reason="Wrong receipt")
        bought(db, plan, line, STOOL_PENCE, description="The stool, with the right receipt")

    def test_a_dispute_cannot_correct_it_beyond_what_was_approved(self, db: Session) -> None:
        plan = active_plan(db)
        post_due_tranches(db, today=TODAY)
        _, line = approved_stool(db, plan)
        delivery = bought(db, plan, line, 3_000)
        spending.dispute_delivery(db, delivery=delivery, by=plan.person, reason="It was £45")
        with pytest.raises(RuleBroken) as refused:
            spending.resolve_dispute(
                db,
                delivery=delivery,
                by=plan.holder,
                resolution="Yes, it was £45",
                amount_pence=4_500,
            )
        assert refused.value.field == "amount"
        spending.resolve_dispute(
            db, delivery=delivery, by=plan.holder, resolution="It was £40", amount_pence=4_000
        )
        assert delivery.amount_pence == 4_000


class TestOnTheHoldersPages:
    def test_the_holder_is_offered_the_new_line_and_records_the_purchase_on_it(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(
            db,
            plan,
            on=today(),
            kind=ChangeKind.PURCHASE,
            title="A shower stool",
            amount_pence=STOOL_PENCE,
            from_line_id=plan.gym.id,
            moved_pence=STOOL_PENCE,
        )
        decisions.approve_request(db, request=request, by=holder)
        line = request.new_line
        assert line is not None
        record = f"/funds/{plan.fund.id}/lines/{line.id}/deliveries"

        as_user(client, plan.holder)
        listed = page(client.get("/deliveries"))
        assert listed.find("a", href=record) is not None
        form = page(client.get(record))
        assert "£40.00 of it is left to record" in form.get_text(" ", strip=True)
        assert form.select_one("#support") is None  # no hours on a purchase
        key = form.select_one('input[name="purchase_key"]')
        assert key is not None

        def send(amount: str, what: str) -> httpx.Response:
            return client.post(
                record,
                data={
                    "csrftoken": client.csrf_token(),
                    "kind": "purchase",
                    "purchase_key": str(key["value"]),
                    "bought_on": today().isoformat(),
                    "amount": amount,
                    "what_bought": what,
                },
                files={"receipt": ("receipt.png", a_png(), "image/png")},
            )

        too_much = send("45.00", "A shower stool and a bath mat")
        assert too_much.status_code == 422
        assert "approved for £40.00 more" in page(too_much).select_one("#amount-error").get_text()
        assert send("38.50", "A shower stool").status_code == 303
        assert "£1.50 of it is left to record" in page(client.get(record)).get_text(" ", strip=True)
