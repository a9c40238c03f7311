"""The demo's change of use: requests and decisions over last year and this one so far,
made through the real services with the clock in the past, so the public transparency page
shows real figures (and protects the small ones)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.changes.models import (
    ChangeEvent,
    ChangeRequest,
    ChangeRoute,
    ChangeRules,
    ChangeStatus,
    ChangeStep,
    DelegatedAuthority,
)
from contracts.changes.transparency import change_of_use_figures, decided_requests
from contracts.changes.transparency_routes import decisions_table
from marketplace.accounts import service as accounts_service
from marketplace.db import SCOTTISH_TIME, today
from marketplace.demo import DEMO_ACCOUNTS
from marketplace.outbox import QueuedMail
from tests.conftest import DEMO_GROUP, DemoDatabase

pytestmark = DEMO_GROUP
MORAG = DEMO_ACCOUNTS[0].email


@pytest.fixture(scope="module")
def demo(demo_database: DemoDatabase) -> Iterator[Session]:
    connection = demo_database.engine.connect()
    outer = connection.begin()
    yield Session(bind=connection, join_transaction_mode="create_savepoint")
    outer.rollback()
    connection.close()


def requests(demo: Session) -> list[ChangeRequest]:
    return list(demo.scalars(select(ChangeRequest).order_by(ChangeRequest.id)))


def test_every_way_a_request_goes_is_in_the_demo(demo: Session) -> None:
    found = requests(demo)
    statuses = Counter(request.status for request in found)
    routes = Counter(request.route for request in found if request.decided_at is not None)
    assert statuses[ChangeStatus.APPROVED] >= 30 and statuses[ChangeStatus.DECLINED] >= 3
    assert statuses[ChangeStatus.MORE_INFORMATION] == 1
    assert set(routes) == set(ChangeRoute)
    steps = Counter(demo.scalars(select(ChangeEvent.step)))
    for step in (ChangeStep.ASKED, ChangeStep.ANSWERED, ChangeStep.ESCALATED):
        assert steps[step] >= 1, step
    assert steps[ChangeStep.REVIEW_ASKED] == 2  # on the decline and on its review
    assert any(request.conditions for request in found)
    # Still open today: exactly one overdue (escalated to managers, not refused).
    waiting = [request for request in found if request.status == ChangeStatus.WAITING]
    assert len(waiting) >= 3
    assert [request.overdue_at is not None for request in waiting].count(True) == 1
    assert any(request.route == ChangeRoute.PANEL for request in waiting)
    # Morag's declined request, and her review waiting for someone else.
    morag = accounts_service.find_user_by_email(demo, MORAG)
    assert morag is not None
    review = next(request for request in waiting if request.review_of is not None)
    assert review.fund.person_id == morag.id
    assert review.review_of is not None
    assert review.review_of.status == ChangeStatus.DECLINED


def test_decisions_name_the_rules_they_were_made_under(demo: Session) -> None:
    versions = dict(demo.execute(select(ChangeRules.id, ChangeRules.version)).all())
    assert sorted(versions.values()) == [1, 2]
    v2 = demo.scalar(select(ChangeRules).where(ChangeRules.version == 2))
    assert v2 is not None
    for request in requests(demo):
        if request.decided_at is None:
            continue
        assert request.decided_under_id is not None
        under = versions[request.decided_under_id]
        assert under == (2 if request.decided_at >= v2.set_at else 1)
    holders = demo.scalar(select(func.count(func.distinct(DelegatedAuthority.holder_id))))
    assert holders == 2


def test_a_whole_year_of_decisions_is_behind_the_transparency_page(demo: Session) -> None:
    decided = decided_requests(demo)
    quarters = {(one.decided_on.year, (one.decided_on.month - 1) // 3) for one in decided}
    assert len(quarters) >= 4
    assert (today() - min(one.decided_on for one in decided)).days >= 300


def test_late_and_on_time_decisions_both_happen(demo: Session) -> None:
    decided = decided_requests(demo)
    assert {one.on_time for one in decided} == {True, False}
    assert max(one.working_days for one in decided) > 5
    assert all(one.decided_on <= today() for one in decided)


def test_every_late_decision_was_escalated_the_morning_after_its_deadline(
    demo: Session,
) -> None:
    late = [
        request
        for request in requests(demo)
        if request.decided_at is not None
        and request.decided_at.astimezone(SCOTTISH_TIME).date() > request.due_on
    ]
    assert late
    for request in late:
        steps = [event.step for event in request.events]
        assert ChangeStep.OVERDUE in steps, request.id
        escalated = next(e for e in request.events if e.step == ChangeStep.OVERDUE)
        assert escalated.at.astimezone(SCOTTISH_TIME).date() > request.due_on
        assert escalated.at <= request.decided_at
    reminded = [r for r in requests(demo) if ChangeStep.REMINDED in {e.step for e in r.events}]
    assert reminded


def test_the_years_mails_went_out_on_the_days_they_tell_of(demo: Session) -> None:
    """A freshly loaded demo's outbox holds today's mails, not a year's arriving at once."""

    def day(moment: datetime) -> date:
        return moment.astimezone(SCOTTISH_TIME).date()

    mails = list(demo.scalars(select(QueuedMail)))
    past = [mail for mail in mails if day(mail.created_at) < today()]
    assert past and all(mail.sent_at == mail.created_at for mail in past)
    approved_on = {
        day(request.decided_at)
        for request in requests(demo)
        if request.status == ChangeStatus.APPROVED and request.decided_at is not None
    }
    told_on = {day(mail.created_at) for mail in mails if mail.subject.endswith("is approved")}
    assert told_on == approved_on
    assert len(approved_on) > 20


def test_the_transparency_page_shows_real_figures_and_hides_small_ones(demo: Session) -> None:
    figures = change_of_use_figures(demo)
    shown = [row for row in figures.rows if not row.hidden and row.decided]
    assert any(row.route is not None and row.decided >= 10 for row in shown)
    assert all(row.median_working_days is not None for row in shown)
    hidden = [row for row in figures.rows if row.hidden]
    assert hidden and all(row.median_working_days is None for row in hidden)
    assert {row.decided_text for row in hidden} <= {"fewer than 10", "not shown"}
    table = decisions_table(figures.rows, None)
    texts = {cell.text for row in table.rows for cell in row}
    assert "fewer than 10" in texts and "Highland" in texts
