"""A council with many change-of-use requests: the budget holder's queue comes a page at a
time, soonest deadline first, with its filters kept on every page; the same in the API;
and no page number anyone types gives an error page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes.models import ChangeKind, ChangeRequest, ChangeRoute, ChangeStatus
from marketplace.accounts.models import User
from marketplace.db import today
from tests.contracts.changes.change_builders import (
    Plan,
    active_plan,
    ask,
    at,
    budget_holder_with,
    plan_running_today,
)
from tests.contracts.funds.test_fund_pages import as_user
from tests.helpers import HtmlClient, page

KETTLE = {"kind": ChangeKind.PURCHASE, "title": "A kettle I can lift", "amount_pence": 2_500}
"""Within the budget holder's authority."""
SCOOTER = {"kind": ChangeKind.PURCHASE, "title": "A mobility scooter", "amount_pence": 90_000}
"""Above it: for the panel."""
FULL_PAGE = decisions.QUEUE_PAGE_SIZE


def many_requests(db: Session, plan: Plan, count: int, *, on: date) -> list[ChangeRequest]:
    """`count` purchases asked for on one day, so all are due the same day."""
    return [ask(db, plan, on=on, **KETTLE) for _ in range(count)]


class TestQueueForPages:
    def test_pages_follow_the_deadline_and_every_request_is_on_exactly_one(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        first_day = date(2027, 6, 1)
        asked = [
            ask(db, plan, on=first_day + timedelta(days=offset), **KETTLE)
            for offset in (2, 0, 1, 0, 2)
        ]
        pages = [
            decisions.queue_for(db, user=holder, page=number, page_size=2) for number in (1, 2, 3)
        ]
        shown = [request for found in pages for request in found.items]
        assert shown == sorted(asked, key=lambda r: (r.due_on, r.id))
        assert [(found.total, found.pages) for found in pages] == [(5, 3)] * 3
        assert [len(found.items) for found in pages] == [2, 2, 1]

    def test_the_filters_choose_the_requests_before_they_are_paged(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        for _ in range(3):
            ask(db, plan, **SCOOTER)
        kettles = many_requests(db, plan, 3, on=date(2027, 6, 1))
        decisions.approve_request(db, request=kettles[0], by=holder, now=at(date(2027, 6, 1)))
        panel = decisions.queue_for(db, user=holder, route=ChangeRoute.PANEL, page_size=2)
        assert (panel.total, panel.pages) == (3, 2)
        assert all(r.route == ChangeRoute.PANEL for r in panel.items)
        approved = decisions.queue_for(db, user=holder, status=ChangeStatus.APPROVED)
        assert approved.items == [kettles[0]] and approved.total == 1

    def test_a_page_past_the_end_is_empty_and_says_how_many_there_are(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        many_requests(db, plan, 3, on=date(2027, 6, 1))
        beyond = decisions.queue_for(db, user=holder, page=40, page_size=2)
        assert (beyond.items, beyond.total, beyond.pages, beyond.page) == ([], 3, 2, 40)


@pytest.fixture
def busy_council(db: Session) -> tuple[Plan, User, list[ChangeRequest]]:
    """A page and one more of waiting requests, all asked for today."""
    plan = plan_running_today(db)
    holder = budget_holder_with(db, per_request_pence=50_000)
    return plan, holder, many_requests(db, plan, FULL_PAGE + 1, on=today())


def request_links(soup) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(a["href"]) for a in soup.select(".app-delivery h2 a")]


class TestQueuePage:
    def test_a_long_queue_comes_a_page_at_a_time_with_previous_and_next(
        self, client: HtmlClient, busy_council: tuple[Plan, User, list[ChangeRequest]]
    ) -> None:
        plan, holder, asked = busy_council
        as_user(client, holder)
        first = page(client.get("/changes"))
        assert len(request_links(first)) == FULL_PAGE
        assert f"{FULL_PAGE + 1} requests: showing 1 to {FULL_PAGE}" in first.get_text()
        pages = first.select_one("nav.ds_pagination")
        assert pages is not None and pages["aria-label"] == "Change-of-use request pages"
        assert pages.find("a", string="Next")["href"] == "?status=&route=&page=2"
        assert pages.find("a", string="Previous") is None

        second = page(client.get("/changes?status=&route=&page=2"))
        last = asked[-1]
        assert request_links(second) == [f"/funds/{plan.fund.id}/changes/{last.id}"]
        nav = second.select_one("nav.ds_pagination")
        assert nav is not None and nav.find("a", string="Previous")["href"].endswith("page=1")
        assert nav.find("a", string="Next") is None

    def test_the_filters_are_kept_in_the_page_links_and_the_download(
        self, client: HtmlClient, busy_council: tuple[Plan, User, list[ChangeRequest]]
    ) -> None:
        _, holder, _ = busy_council
        as_user(client, holder)
        filtered = page(client.get("/changes?status=waiting&route=delegated"))
        nav = filtered.select_one("nav.ds_pagination")
        assert nav is not None
        assert nav.find("a", string="Next")["href"] == "?status=waiting&route=delegated&page=2"
        download = filtered.find("a", string=lambda text: text and "(CSV)" in text)
        assert download["href"] == (
            "/changes?table=requests&format=csv&status=waiting&route=delegated&page=1"
        )
        csv = client.get("/changes?table=requests&format=csv&status=waiting&page=2")
        assert csv.status_code == 200
        assert len(csv.text.strip().splitlines()) == 2  # its heading and the one request

    def test_one_page_of_requests_shows_no_pagination(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        many_requests(db, plan, 2, on=today())
        as_user(client, holder)
        shown = page(client.get("/changes"))
        assert len(request_links(shown)) == 2
        assert shown.select_one("nav.ds_pagination") is None

    @pytest.mark.parametrize(
        "number",
        ["0", "-1", "abc", "\u0661", "\uff11\uff12", "10001", "99999999999999999999", "1e3", ""],
    )
    def test_a_page_number_that_cannot_be_one_is_a_plain_400(
        self, db: Session, client: HtmlClient, number: str
    ) -> None:
        as_user(client, budget_holder_with(db, per_request_pence=50_000))
        assert client.get(f"/changes?page={number}").status_code == 400

    def test_a_page_past_the_end_points_back_to_the_last(
        self, client: HtmlClient, busy_council: tuple[Plan, User, list[ChangeRequest]]
    ) -> None:
        _, holder, _ = busy_council
        as_user(client, holder)
        beyond = client.get("/changes?route=delegated&page=10000")
        assert beyond.status_code == 200
        soup = page(beyond)
        assert request_links(soup) == []
        assert "There is no page 10000" in soup.get_text()
        back = soup.find("a", string="go to the last page")
        assert back["href"] == "/changes?status=&route=delegated&page=2"
        assert soup.select_one("nav.ds_pagination") is None


class TestQueueApi:
    def test_the_api_gives_a_page_with_its_place_in_the_whole(
        self, client: HtmlClient, busy_council: tuple[Plan, User, list[ChangeRequest]]
    ) -> None:
        _, holder, asked = busy_council
        as_user(client, holder)
        first = client.get("/api/v1/changes").json()
        assert {k: first[k] for k in ("page", "pages", "page_size", "total")} == {
            "page": 1,
            "pages": 2,
            "page_size": FULL_PAGE,
            "total": FULL_PAGE + 1,
        }
        second = client.get("/api/v1/changes?status=waiting&page=2").json()
        ids = [c["id"] for c in first["requests"]] + [c["id"] for c in second["requests"]]
        assert ids == [r.id for r in asked]
        for number in ("0", "abc", "\u0661", "10001"):
            refused = client.get(f"/api/v1/changes?page={number}")
            assert refused.status_code in (400, 422), refused.text
