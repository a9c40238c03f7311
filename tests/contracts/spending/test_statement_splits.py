"""The statement by budget line and by outcome: approved support is spent on its line,
each line's cost from today is committed on it, a line serving two outcomes is shared
between them to the penny, and every column adds up to the statement's own figures, on
the page, in the CSV, and never counting a pound twice."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from contracts.funds.models import BudgetLineKind, IndividualServiceFund
from contracts.funds.statement import (
    NO_OUTCOME,
    Split,
    by_line,
    by_outcome,
    outcome_names,
    statement_of,
)
from contracts.spending import service as spending
from marketplace.accounts.models import Role
from marketplace.db import today
from tests.contracts.funds.fund_builders import holder_staff
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.page_builders import a_png, confirmed, running_fund
from tests.factories import make_user
from tests.helpers import HtmlClient, page


def spent_on_both(db: Session) -> IndividualServiceFund:
    """£30 of swimming and a £5.01 taxi approved, on a plan whose taxi line serves both
    of its outcomes."""
    fund = running_fund(db, shared_line=True)
    holder = holder_staff(fund)
    spending.approve_delivery(db, delivery=confirmed(db, fund), by=holder)
    taxi = next(line for line in fund.lines if line.kind == BudgetLineKind.DESCRIBED)
    bought = spending.record_purchase(
        db,
        fund=fund,
        line_id=taxi.id,
        by=holder,
        delivered_on=today(),
        amount_pence=501,
        description="Taxi to the lunch club and back",
        receipt=a_png(),
        today=today(),
    )
    spending.confirm_delivery(db, delivery=bought, by=fund.person)
    spending.approve_delivery(db, delivery=bought, by=holder)
    return fund


def totals(rows: list[Split]) -> tuple[int, int, int]:
    return (
        sum(row.planned_pence for row in rows),
        sum(row.spent_pence for row in rows),
        sum(row.committed_pence for row in rows),
    )


def test_lines_and_outcomes_add_up_to_the_statement(db: Session) -> None:
    fund = spent_on_both(db)
    statement = statement_of(db, fund, on=today())
    lines = by_line(db, fund, statement)
    spent = {row.name: row.spent_pence for row in lines}
    assert spent["Taxi to the lunch club"] == 501 and sum(spent.values()) == 3501
    assert totals(lines)[1] == statement.spent_pence
    assert totals(lines)[2] == statement.committed_pence
    contingency = next(row for row in lines if row.planned_pence == 10_000)
    assert (contingency.spent_pence, contingency.committed_pence) == (0, 0)
    outcomes = by_outcome(fund, lines, names=outcome_names(fund, in_own_words=True))
    assert totals(outcomes) == totals(lines)
    fit, friends, loose = outcomes
    # The taxi's £5.01 is shared: 251p to the first outcome of the plan, 250p to the other.
    assert (fit.name, fit.spent_pence) == ("Keeping fit", 3000 + 251)
    assert (friends.name, friends.spent_pence) == ("Seeing my friends", 250)
    assert (loose.name, loose.planned_pence) == (NO_OUTCOME, 10_000)


def test_the_page_shows_both_tables_and_they_download(db: Session, client: HtmlClient) -> None:
    fund = spent_on_both(db)
    soup = page(as_user(client, fund.person).get(f"/funds/{fund.id}/statement"))
    lines = soup.select_one("#table-lines").get_text(" ", strip=True)
    assert "Taxi to the lunch club" in lines and "£5.01" in lines
    outcomes = soup.select_one("#table-outcomes").get_text(" ", strip=True)
    assert "Seeing my friends" in outcomes and "£2.50" in outcomes
    answer = client.get(f"/funds/{fund.id}/statement?table=outcomes&format=csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:4] == [
        "Outcome",
        "Planned for the period",
        "Spent so far",
        "Committed from today",
    ]
    assert rows[-1][0] == "Total" and int(rows[-1][2]) == 3501
    lines_csv = list(
        csv.reader(
            io.StringIO(client.get(f"/funds/{fund.id}/statement?table=lines&format=csv").text)
        )
    )
    assert int(lines_csv[-1][2]) == 3501


def test_finance_reads_outcomes_by_their_names_not_the_persons_words(
    db: Session, client: HtmlClient
) -> None:
    fund = spent_on_both(db)
    as_user(client, make_user(db, role=Role.FINANCE, council="Highland"))
    outcomes = page(client.get(f"/funds/{fund.id}/statement")).select_one("#table-outcomes")
    text = outcomes.get_text(" ", strip=True)
    assert "Keeping fit" not in text and "Seeing my friends" not in text
    assert "(outcome 1)" in text and "Outcome 2, in the person's words" in text
