"""The person reads on their fund's own page how their change-of-use requests stand, as the
mail about each decision tells them: what was asked, whether it waits (and until when) or
was decided (and on what day), the conditions of an approval and the reasons for a decline
in the decider's words, each linked to its request, and a link to all of them. Only those
who may see the fund see them; the page reads them in a fixed number of queries."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from sqlalchemy import event
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import views as change_views
from contracts.changes.models import ChangeKind, ChangeRequest
from marketplace.accounts.models import Role
from marketplace.db import today
from tests.contracts.changes.change_builders import (
    Plan,
    ask,
    budget_holder_with,
    plan_running_today,
)
from tests.contracts.funds.test_fund_pages import as_user
from tests.factories import make_user
from tests.helpers import HtmlClient, page

KETTLE = {"kind": ChangeKind.PURCHASE, "title": "A kettle I can lift", "amount_pence": 2_500}
REASON = "My old kettle is too heavy for me to lift safely."


def asked_today(db: Session, plan: Plan, title: str = "A kettle I can lift") -> ChangeRequest:
    return ask(db, plan, on=today(), reason=REASON, **{**KETTLE, "title": title})


def changes_section(soup: BeautifulSoup) -> Tag | None:
    """The fund page's list of requests, under its heading."""
    heading = soup.find("h2", id="changes-of-use")
    if heading is None:
        return None
    listed = heading.find_next_sibling("ul")
    assert isinstance(listed, Tag)
    return listed


def entry(section: Tag, request: ChangeRequest) -> str:
    link = section.find("a", href=f"/funds/{request.fund_id}/changes/{request.id}")
    assert link is not None, f"request {request.id} is not listed"
    item = link.find_parent("li")
    assert item is not None
    return item.get_text(" ", strip=True)


class TestThePersonReadsTheirRequestsOnTheirFund:
    def test_a_waiting_an_approved_and_a_declined_request_each_say_where_they_stand(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        approved = asked_today(db, plan, "A kettle I can lift")
        declined = asked_today(db, plan, "A second kettle")
        waiting = asked_today(db, plan, "A toaster")
        decisions.approve_request(
            db, request=approved, by=holder, conditions="Keep the receipt for the holder"
        )
        decisions.decline_request(
            db, request=declined, by=holder, reasons="The plan already pays for a kettle"
        )

        as_user(client, plan.person)
        soup = page(client.get(f"/funds/{plan.fund.id}"))
        section = changes_section(soup)
        assert section is not None

        shown = entry(section, approved)
        assert "Buy “A kettle I can lift” for £25.00" in shown
        assert "Approved" in shown and f"Decided on {approved.decided_at:%-d %B %Y}" in shown
        assert "Conditions, in the decider's words: “Keep the receipt for the holder”" in shown

        shown = entry(section, declined)
        assert "Declined" in shown
        assert "Reasons, in the decider's words: “The plan already pays for a kettle”" in shown

        shown = entry(section, waiting)
        assert "Waiting for a decision" in shown
        assert f"Decision due by {waiting.due_on:%A %-d %B %Y}" in shown
        assert "Decided on" not in shown

        # Newest first, and a way to all of them.
        links = [str(a["href"]) for a in section.select("h3 a")]
        assert links == [
            f"/funds/{plan.fund.id}/changes/{r.id}" for r in (waiting, declined, approved)
        ]
        everything = soup.find("a", string="All 3 changes of use on this fund")
        assert everything is not None and everything["href"] == f"/funds/{plan.fund.id}/changes"

    def test_only_the_newest_five_are_listed_with_a_link_to_all(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        asked = [asked_today(db, plan, f"Purchase {n}") for n in range(7)]
        as_user(client, plan.person)
        soup = page(client.get(f"/funds/{plan.fund.id}"))
        section = changes_section(soup)
        assert section is not None
        assert [str(a["href"]) for a in section.select("h3 a")] == [
            f"/funds/{plan.fund.id}/changes/{r.id}" for r in reversed(asked[-5:])
        ]
        assert "The newest 5 of 7 requests" in soup.get_text()
        assert soup.find("a", string="All 7 changes of use on this fund") is not None

    def test_a_fund_with_no_requests_has_no_list(self, db: Session, client: HtmlClient) -> None:
        plan = plan_running_today(db)
        as_user(client, plan.person)
        soup = page(client.get(f"/funds/{plan.fund.id}"))
        assert changes_section(soup) is None
        # The way to ask is still there, in the agreement in brief.
        assert soup.find("a", href=f"/funds/{plan.fund.id}/changes") is not None


class TestWhoSeesThem:
    def test_the_holder_and_the_councils_staff_see_them_without_the_persons_words(
        self, db: Session, client: HtmlClient
    ) -> None:
        plan = plan_running_today(db)
        request = asked_today(db, plan)
        finance = make_user(db, role=Role.FINANCE, council="Highland")
        for viewer in (plan.holder, plan.council_side, finance):
            as_user(client, viewer)
            section = changes_section(page(client.get(f"/funds/{plan.fund.id}")))
            assert section is not None, viewer.role
            assert "A kettle I can lift" in entry(section, request)
            assert REASON not in section.get_text()

    def test_another_persons_fund_shows_only_its_own_requests(
        self, db: Session, client: HtmlClient
    ) -> None:
        mine, theirs = plan_running_today(db), plan_running_today(db)
        asked_today(db, theirs, "Their kettle")
        as_user(client, mine.person)
        assert client.get(f"/funds/{theirs.fund.id}").status_code == 404
        assert changes_section(page(client.get(f"/funds/{mine.fund.id}"))) is None

    def test_a_viewer_who_may_not_see_the_fund_is_told_nothing(self, db: Session) -> None:
        plan = plan_running_today(db)
        asked_today(db, plan)
        elsewhere = budget_holder_with(db, per_request_pence=50_000, council="Fife")
        assert change_views.recent_on_fund(db, plan.fund, elsewhere, today()) is None
        assert change_views.recent_on_fund(db, plan.fund, plan.person, today()) is not None


class TestReadingThemIsBounded:
    def test_five_requests_take_as_many_queries_as_one(self, db: Session) -> None:
        one, five = plan_running_today(db), plan_running_today(db)

        def move(plan: Plan, source: str, target: str) -> None:
            ask(
                db,
                plan,
                on=today(),
                kind=ChangeKind.MOVE,
                from_line_id=getattr(plan, source).id,
                line_id=getattr(plan, target).id,
                moved_pence=100,
            )

        move(one, "gym", "swimming")
        for source, target in [
            ("gym", "swimming"),
            ("lunch_club", "gym"),
            ("swimming", "lunch_club"),
            ("contingency", "gym"),
            ("gym", "lunch_club"),
        ]:
            move(five, source, target)
        counts = []
        for plan in (one, five):
            db.expire_all()
            statements: list[str] = []
            connection = db.connection()

            def seen(*args: object, into: list[str] = statements) -> None:
                into.append(str(args[2]))

            event.listen(connection, "before_cursor_execute", seen)
            try:
                recent = change_views.recent_on_fund(db, db.merge(plan.fund), plan.person, today())
            finally:
                event.remove(connection, "before_cursor_execute", seen)
            assert recent is not None
            counts.append(len(statements))
        assert counts[0] == counts[1], counts
