"""A fund's statement, read as people read it: the page's figures are the statement's,
every movement of money is listed with who caused it and the balance after, both tables
download as CSV from the same address, the same figures come as JSON, finance staff see it
by number without the person's name, and nobody who may not see the fund learns it exists."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy.orm import Session

from contracts.funds.funding import post_due_tranches
from contracts.funds.statement import statement_of
from marketplace.accounts.models import Role
from marketplace.db import today
from marketplace.money import format_pence
from tests.contracts.funds.fund_builders import active_fund, budget_holder, requested
from tests.contracts.funds.test_fund_pages import as_user, summary
from tests.factories import make_user
from tests.helpers import HtmlClient, page

JUNE = date(2027, 6, 15)
"""Three monthly tranches in: April, May and June."""


def test_the_person_reads_figures_and_every_movement(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=JUNE)
    expected = statement_of(db, fund, on=today())
    soup = page(as_user(client, fund.person).get(f"/funds/{fund.id}/statement"))
    money = summary(soup, 0)
    assert money["Received from the council"] == format_pence(expected.received_pence)
    assert money["Available now"] == format_pence(expected.available_pence)
    assert (
        soup.select_one(".ds_page-header__label").get_text().startswith(f"For {fund.person.name}")
    )
    rows = soup.select("#table-entries tbody tr")
    assert len(rows) == 3
    assert "tranche 1 of 12" in rows[0].get_text()
    assert rows[-1].select("td")[-1].get_text(strip=True) == format_pence(expected.available_pence)
    agreement = page(client.get(f"/funds/{fund.id}"))
    assert agreement.find("a", href=f"/funds/{fund.id}/statement") is not None


def test_both_tables_download_as_csv_from_the_same_address(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=JUNE)
    as_user(client, fund.person)
    answer = client.get(f"/funds/{fund.id}/statement?table=entries&format=csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["Date", "What", "Who", "Money in", "Money out", "Balance"]
    assert [row[2] for row in rows[1:]] == ["Scheduled"] * 3
    figures = client.get(f"/funds/{fund.id}/statement?table=figures&format=csv")
    by_name = {row[0]: row[1] for row in csv.reader(io.StringIO(figures.text))}
    assert by_name["Available now"] == str(statement_of(db, fund, on=today()).available_pence)
    assert client.get(f"/funds/{fund.id}/statement?table=nothing&format=csv").status_code == 404


def test_the_same_statement_as_json(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=JUNE)
    expected = statement_of(db, fund, on=today())
    body = as_user(client, fund.person).get(f"/api/v1/isfs/{fund.id}/statement").json()
    for field in (
        "budget_pence",
        "received_pence",
        "spent_pence",
        "fees_charged_pence",
        "fees_to_come_pence",
        "contingency_pence",
        "available_pence",
        "committed_pence",
        "projected_end_pence",
    ):
        assert body[field] == getattr(expected, field), field
    # By line and by outcome, each column adding up to the statement's own figures.
    [line] = body["by_line"]
    assert line["name"] == fund.lines[0].title
    assert line["committed_pence"] == expected.committed_pence
    [outcome] = body["by_outcome"]
    assert outcome["name"] == fund.outcomes[0].own_words
    assert outcome["planned_pence"] == line["planned_pence"]
    listed = client.get("/api/v1/isfs").json()
    assert [f["id"] for f in listed] == [fund.id] and listed[0]["person"] == fund.person.name
    detail = client.get(f"/api/v1/isfs/{fund.id}").json()
    assert detail["plan"]["total_pence"] <= detail["plan"]["budget_pence"]
    assert detail["status"] == "active"


def test_finance_follows_the_money_by_number(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=JUNE)
    finance = make_user(db, role=Role.FINANCE, council="Highland")
    soup = page(as_user(client, finance).get(f"/funds/{fund.id}/statement"))
    assert fund.person.name not in soup.get_text()
    assert client.get("/api/v1/isfs").json()[0]["person"] is None


def test_no_statement_before_it_is_active_and_none_for_another_council(
    db: Session, client: HtmlClient
) -> None:
    waiting = requested(db)
    assert as_user(client, waiting.person).get(f"/funds/{waiting.id}/statement").status_code == 404
    fund = active_fund(db)
    as_user(client, budget_holder(db, council="Fife"))
    assert client.get(f"/funds/{fund.id}/statement").status_code == 404
    assert client.get(f"/api/v1/isfs/{fund.id}/statement").status_code == 404
    assert client.get(f"/api/v1/isfs/{fund.id}").status_code == 404
    as_user(client, make_user(db, role=Role.COMMISSIONER, council="Highland"))
    assert client.get(f"/api/v1/isfs/{fund.id}/statement").status_code == 404


def test_the_statement_in_easy_read_says_one_thing_a_line_with_large_numbers(
    db: Session, client: HtmlClient
) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=JUNE)
    expected = statement_of(db, fund, on=today())
    soup = page(as_user(client, fund.person).get(f"/funds/{fund.id}/statement/easy-read"))
    figures = [f.get_text(strip=True) for f in soup.select(".app-easy-read__figure")]
    assert figures[:5] == [
        format_pence(expected.budget_pence),
        format_pence(expected.received_pence),
        format_pence(expected.spent_pence),
        format_pence(expected.fees_charged_pence),
        format_pence(expected.available_pence),
    ]
    assert figures[5] == format_pence(expected.committed_pence + expected.fees_to_come_pence)
    lines = [line.get_text(" ", strip=True) for line in soup.select(".app-easy-read__line")]
    assert all(len(line.split()) <= 16 for line in lines), lines
    statement = page(client.get(f"/funds/{fund.id}/statement"))
    assert statement.find("a", href=f"/funds/{fund.id}/statement/easy-read") is not None
