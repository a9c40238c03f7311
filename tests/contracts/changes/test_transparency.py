"""The public change-of-use figures: working days to a decision across a weekend and a
Scottish public holiday, the clock stopped while more information was asked for, the share
decided on time and approved, small numbers protected with the gap analysis's rule, and
the page (no sign-in) whose CSV download is its table."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import service as changes
from contracts.changes.models import ChangeKind, ChangeRoute
from contracts.changes.transparency import (
    Decided,
    Quarter,
    change_of_use_figures,
    decided_requests,
    figures_of,
)
from tests.contracts.changes.change_builders import (
    TUESDAY,
    active_plan,
    ask,
    at,
    budget_holder_with,
)
from tests.helpers import HtmlClient, page

KETTLE = {"kind": ChangeKind.PURCHASE, "title": "A kettle I can lift", "amount_pence": 2_500}
FRIDAY_BEFORE_HOLIDAY = date(2027, 5, 28)
"""Monday 31 May 2027 is Scotland's spring bank holiday, so the next working day is Tuesday
1 June (TUESDAY)."""
PATH = "/transparency/change-of-use"


def one(
    route: ChangeRoute = ChangeRoute.DELEGATED,
    *,
    council_id: int = 1,
    council: str = "Highland",
    on: date = TUESDAY,
    days: int = 3,
    approved: bool = True,
    on_time: bool = True,
) -> Decided:
    return Decided(council_id, council, route, approved, on, days, on_time)


class TestWorkingDaysToADecision:
    def test_a_weekend_and_a_public_holiday_are_not_counted(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, on=FRIDAY_BEFORE_HOLIDAY, **KETTLE)
        decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
        [decided] = decided_requests(db)
        # Friday to Tuesday: Saturday, Sunday and the spring holiday left out.
        assert (decided.working_days, decided.on_time, decided.approved) == (1, True, True)
        assert decided.route == ChangeRoute.DELEGATED
        assert decided.decided_on == TUESDAY

    def test_the_clock_stopped_while_more_information_was_asked_is_not_counted(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)  # Tuesday 1 June, due Tuesday 8 June
        decisions.ask_for_information(
            db, request=request, by=holder, question="Which kettle?", now=at(date(2027, 6, 2))
        )
        changes.answer_request(
            db, request=request, by=plan.person, words="A light one", now=at(date(2027, 6, 7))
        )
        # Stopped Wednesday to Monday: three working days; the deadline moves to 11 June.
        assert request.due_on == date(2027, 6, 11)
        decisions.approve_request(db, request=request, by=holder, now=at(date(2027, 6, 10)))
        [decided] = decided_requests(db)
        # 1 June to 10 June is 7 working days, less the 3 stopped.
        assert (decided.working_days, decided.on_time) == (4, True)

    def test_a_decision_after_the_deadline_is_late(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        late = ask(db, plan, **KETTLE)  # due Tuesday 8 June
        decisions.decline_request(
            db, request=late, by=holder, reasons="Not needed", now=at(date(2027, 6, 9))
        )
        [decided] = decided_requests(db)
        assert (decided.working_days, decided.on_time, decided.approved) == (6, False, False)

    def test_withdrawn_and_waiting_requests_are_not_decided(self, db: Session) -> None:
        plan = active_plan(db)
        budget_holder_with(db, per_request_pence=50_000)
        ask(db, plan, **KETTLE)
        withdrawn = ask(db, plan, **KETTLE)
        changes.withdraw_request(db, request=withdrawn, by=plan.person)
        assert decided_requests(db) == []
        assert change_of_use_figures(db).rows == []


class TestFigures:
    def test_median_on_time_and_approved_shares_by_route_and_all_routes(self) -> None:
        decided = [
            one(days=2),
            one(days=4, on_time=False),
            one(days=9, approved=False),
            one(ChangeRoute.LIGHT_TOUCH, days=0),
        ]
        rows = figures_of(decided, threshold=1).rows
        by_route = {row.route: row for row in rows}
        assert [row.route for row in rows] == [
            ChangeRoute.LIGHT_TOUCH,
            ChangeRoute.DELEGATED,
            ChangeRoute.PANEL,
            None,
        ]
        delegated = by_route[ChangeRoute.DELEGATED]
        assert (delegated.decided, delegated.median_working_days) == (3, 4)
        assert delegated.on_time_share == 2 / 3 and delegated.approved_share == 2 / 3
        every = by_route[None]
        assert (every.decided, every.median_working_days) == (4, 3)  # 0 2 4 9
        assert every.on_time_share == 3 / 4 and every.approved_share == 3 / 4
        panel = by_route[ChangeRoute.PANEL]
        assert (panel.decided, panel.median_working_days, panel.on_time_share) == (0, None, None)

    def test_quarters_are_the_financial_years(self) -> None:
        decided = [one(on=date(2028, 1, 4)), one(on=date(2027, 4, 1)), one(on=date(2027, 6, 30))]
        rows = figures_of(decided, threshold=1).rows
        quarters = list(dict.fromkeys(row.quarter for row in rows))
        assert [(q.key, q.label) for q in quarters] == [
            ("2027-28-Q1", "April to June 2027"),
            ("2027-28-Q4", "January to March 2028"),
        ]
        assert Quarter.of(date(2027, 12, 31)).key == "2027-28-Q3"

    def test_small_numbers_are_protected_with_the_gap_analysis_rule(self) -> None:
        # 12 by a budget holder and 1 light-touch: the 1 is small, and with the total of 13
        # shown the 12 would give it away, so it is hidden too.
        decided = [one() for _ in range(12)] + [one(ChangeRoute.LIGHT_TOUCH, days=0)]
        rows = {row.route: row for row in figures_of(decided, threshold=10).rows}
        light, delegated = rows[ChangeRoute.LIGHT_TOUCH], rows[ChangeRoute.DELEGATED]
        assert (light.decided_text, light.median_working_days) == ("fewer than 10", None)
        assert (delegated.decided_text, delegated.on_time_share) == ("not shown", None)
        assert rows[None].decided_text == "13" and rows[None].median_working_days == 3
        assert rows[ChangeRoute.PANEL].decided_text == "0"

    def test_a_council_quarter_with_few_decisions_shows_none_of_them(self) -> None:
        decided = [one(), one(), *(one(council_id=2, council="Moray") for _ in range(10))]
        figures = figures_of(decided, threshold=10)
        highland = figures.for_council(1)
        assert {row.decided_text for row in highland} == {"fewer than 10", "0"}
        assert all(row.median_working_days is None for row in highland)
        moray = {row.route: row for row in figures.for_council(2)}
        assert moray[None].decided_text == "10" and moray[None].approved_share == 1
        assert figures.councils == [(1, "Highland"), (2, "Moray")]


class TestThePage:
    def _decided(self, db: Session) -> int:
        """Two requests decided in Highland; returns its council id."""
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        for _ in range(2):
            request = ask(db, plan, **KETTLE)
            decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
        return plan.fund.council_id

    def test_anyone_sees_the_figures_with_small_numbers_hidden(
        self, client: HtmlClient, db: Session
    ) -> None:
        council_id = self._decided(db)
        response = client.get(PATH)
        assert response.status_code == 200
        soup = page(response)
        assert soup.h1 is not None and soup.h1.get_text(strip=True) == "Change-of-use decisions"
        rows = [
            [cell.get_text(strip=True) for cell in row.find_all(["th", "td"])]
            for row in soup.select("#table-decisions tbody tr")
        ]
        assert rows[1][:5] == [
            "Highland",
            "April to June 2027",
            "2027-28-Q1",
            "Budget holder",
            "fewer than 10",
        ]
        assert rows[1][5:] == ["not shown"] * 3
        assert "Scotland's public holidays" in response.text
        assert soup.select_one(f'#council option[value="{council_id}"]') is not None
        assert 'href="/transparency/change-of-use"' in response.text  # in the footer

    def test_the_csv_from_the_same_address_is_the_table(
        self, client: HtmlClient, db: Session
    ) -> None:
        self._decided(db)
        soup = page(client.get(PATH))
        shown = [
            [cell.get_text(strip=True) for cell in row.find_all(["th", "td"])]
            for row in soup.select("#table-decisions tbody tr")
        ]
        link = soup.select_one(".app-table-download a")
        assert link is not None
        response = client.get(str(link["href"]))
        assert response.headers["content-type"].startswith("text/csv")
        header, *records = list(csv.reader(io.StringIO(response.text)))
        assert header[:4] == ["Council area", "Quarter", "Financial year and quarter", "Route"]
        assert len(records) == len(shown) == 4
        for record, row in zip(records, shown, strict=True):
            # The same figures; the CSV gives percentages as numbers.
            assert record == [text.removesuffix("%") for text in row]

    def test_it_is_filtered_to_one_council_and_refuses_another_value(
        self, client: HtmlClient, db: Session
    ) -> None:
        council_id = self._decided(db)
        filtered = page(client.get(f"{PATH}?council={council_id}"))
        caption = filtered.select_one("#table-decisions caption")
        assert caption is not None and caption.get_text(strip=True).endswith("Highland")
        refused = client.get(f"{PATH}?council=999999")
        assert refused.status_code == 422
        assert "Choose a council area from the list" in refused.text

    def test_with_no_decisions_it_says_so(self, client: HtmlClient) -> None:
        soup = page(client.get(PATH))
        assert soup.select_one("#no-decisions") is not None
