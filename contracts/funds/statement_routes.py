"""A fund's statement page: its figures, how far through the period and the budget it is,
any alerts, and every movement of its money, each table downloadable as CSV from the same
address (?table=NAME&format=csv); the same statement in Easy Read; and, for the council's
finance staff, the form that records a top-up or a clawback with its reason."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from contracts.funds import views as fund_views
from contracts.funds.access import ActedFund, SeenFund
from contracts.funds.funding import FundingAdjustment, adjust_funding
from contracts.funds.models import FundStatus, IndividualServiceFund
from contracts.funds.statement import (
    by_line,
    by_outcome,
    entries_table,
    figures_table,
    outcome_names,
    split_table,
    statement_of,
)
from contracts.spending import period_end
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import SignedInUser
from marketplace.db import today
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound
from marketplace.forms import Form, FormPage, Pounds, Text, required
from marketplace.idempotency import IdempotencyKey, new_key, once
from marketplace.tables import csv_if_asked
from marketplace.web import redirect, render

router = APIRouter(include_in_schema=False)

DONE = {
    "adjusted": "The adjustment is recorded.",
    "closed": "The period is closed. What was carried over and what went back is below.",
}
statement_page = FormPage("contracts/funds/statement.html", block="adjust")


class AdjustmentForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "adjustment": "Choose a top-up or a clawback",
        "amount": "Enter the amount in pounds, for example 250",
        "key": "This form is missing its one-time reference. Reload the page and try again.",
    }

    adjustment: FundingAdjustment
    amount: Pounds
    reason: Annotated[Text, required("Say why, in plain words")] = ""
    key: IdempotencyKey


class CloseForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "close_key": "This form is missing its one-time reference. Reload the page and try again."
    }

    close_key: IdempotencyKey
    """Its own key, apart from the adjustment form's on the same page: a resent close has
    the first one's answer."""


def _context(db: Session, fund: IndividualServiceFund, user: User) -> dict[str, Any]:
    if fund.status not in (FundStatus.ACTIVE, FundStatus.CLOSED):
        raise NotFound("A fund has a statement once all three sides have accepted it")
    statement = statement_of(db, fund, on=today())
    shows_person = fund_views.may_see_person(db, fund, user)
    lines = by_line(db, fund, statement)
    outcomes = by_outcome(fund, lines, names=outcome_names(fund, in_own_words=shows_person))
    return {
        "fund": fund,
        "statement": statement,
        "statement_tables": [
            figures_table(statement),
            entries_table(statement),
            split_table(lines, name="lines", caption="By budget line", first="Budget line"),
            split_table(outcomes, name="outcomes", caption="By outcome", first="Outcome"),
        ],
        "shows_person": shows_person,
        "holder_name": fund.holder.name,
        "adjusts": user.role == Role.FINANCE and fund.status == FundStatus.ACTIVE,
        "adjustments": [(a.value, a.label) for a in FundingAdjustment],
        "closing": period_end.closing_of(db, fund),
        "closes": user.role == Role.FINANCE
        and fund.status == FundStatus.ACTIVE
        and fund.period_ends_on is not None
        and today() > fund.period_ends_on,
        "rule": period_end.underspend_rule(db, fund.council),
        # Each form's one-time key: the one it was sent with when the page is shown again
        # with its errors, a fresh one for the other form.
        "fresh_keys": {"key": new_key(), "close_key": new_key()},
    }


@router.get("/funds/{fund_id}/statement")
@audited
def show_statement(
    request: Request, fund: SeenFund, db: DbSession, user: SignedInUser, done: str = ""
) -> Response:
    context = _context(db, fund, user)
    downloaded = csv_if_asked(
        request, context["statement_tables"], filename=f"fund-{fund.id}-statement"
    )
    if downloaded is not None:
        return downloaded
    return statement_page.render(
        request,
        values={},
        done=DONE.get(done),
        **context,
    )


@router.get("/funds/{fund_id}/statement/easy-read")
@audited
def show_easy_read(request: Request, fund: SeenFund, db: DbSession, user: SignedInUser) -> Response:
    """The same statement in Easy Read: short sentences, one idea a line, large numbers."""
    context = _context(db, fund, user)
    return render(request, "contracts/funds/easy_read.html", context)


@router.post("/funds/{fund_id}/adjustments")
async def record_adjustment(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    form = await statement_page.read(request, AdjustmentForm, **_context(db, fund, user))
    adjust_funding(
        db,
        fund=fund,
        by=user,
        adjustment=form.adjustment,
        amount_pence=form.amount,
        reason=form.reason,
        idempotency_key=form.key,
    )
    return redirect(request, f"/funds/{fund.id}/statement?done=adjusted")


@router.post("/funds/{fund_id}/close")
async def close_period(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    """Finance staff close the fund's period under the council's underspend rule."""
    form = await statement_page.read(request, CloseForm, **_context(db, fund, user))
    once(
        db,
        key=form.close_key,
        operation="isf.close_period",
        content={"user": user.id, "fund": fund.id},
        act=lambda: {
            "period_close": period_end.close_period(db, fund=fund, by=user, today=today()).id
        },
    )
    return redirect(request, f"/funds/{fund.id}/statement?done=closed")
