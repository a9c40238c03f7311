"""A fund's statement page: its figures, how far through the period and the budget it is,
any alerts, and every movement of its money, each table downloadable as CSV from the same
address (?table=NAME&format=csv)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.funds import views as fund_views
from contracts.funds.access import SeenFund
from contracts.funds.models import FundStatus
from contracts.funds.statement import entries_table, figures_table, statement_of
from marketplace.accounts.policy import SignedInUser
from marketplace.db import today
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound
from marketplace.tables import csv_if_asked
from marketplace.web import render

router = APIRouter(include_in_schema=False)


@router.get("/funds/{fund_id}/statement")
@audited
def show_statement(request: Request, fund: SeenFund, db: DbSession, user: SignedInUser) -> Response:
    if fund.status != FundStatus.ACTIVE:
        raise NotFound("A fund has a statement once all three sides have accepted it")
    statement = statement_of(db, fund, on=today())
    tables = [figures_table(statement), entries_table(statement)]
    downloaded = csv_if_asked(request, tables, filename=f"fund-{fund.id}-statement")
    if downloaded is not None:
        return downloaded
    return render(
        request,
        "contracts/funds/statement.html",
        {
            "fund": fund,
            "statement": statement,
            "entries": tables[1],
            "shows_person": fund_views.may_see_person(db, fund, user),
            "holder_name": fund.holder.name,
        },
    )
