"""Deciding change of use on the record: approval with conditions, declines with reasons,
more information (the clock stops), escalation to the panel and its sittings, review of a
decline by someone else, reminders and escalation of late requests, and who may do what."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.models import ChangeKind, ChangeRoute, ChangeStatus, ChangeStep
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from tests.contracts.changes.change_builders import (
    TUESDAY,
    active_plan,
    ask,
    at,
    budget_holder_with,
    mails_to,
    panel_member,
)
from tests.factories import make_provider

KETTLE = {"kind": ChangeKind.PURCHASE, "title": "A kettle I can lift", "amount_pence": 2_500}
"""A request within a £500 delegated authority."""
SCOOTER = {"kind": ChangeKind.PURCHASE, "title": "A mobility scooter", "amount_pence": 90_000}
"""A request above it, for the panel."""


def sitting_of(db: Session, member, on: date = TUESDAY):  # type: ignore[no-untyped-def]
    return decisions.record_sitting(
        db,
        council_id=member.council_id,
        sits_on=on,
        members=f"{member.name} (chair)\nA social work team manager\nA finance officer",
        by=member,
    )


class TestBudgetHolderDecisions:
    def test_an_approval_with_conditions_tells_the_person_the_conditions(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)
        decisions.approve_request(
            db, request=request, by=holder, conditions="Keep the receipt", now=at(TUESDAY)
        )
        assert (request.status, request.conditions, request.decided_by_id) == (
            ChangeStatus.APPROVED,
            "Keep the receipt",
            holder.id,
        )
        assert request.new_line is not None and request.new_line.amount_pence == 2_500
        assert mails_to(db, plan.person)[-1] == "Your change of use is approved"
        assert [e.step for e in request.events] == [ChangeStep.SENT, ChangeStep.APPROVED]

    def test_a_decline_needs_reasons_in_plain_words_and_changes_nothing(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)
        lines = len(plan.fund.lines)
        with pytest.raises(RuleBroken) as refused:
            decisions.decline_request(db, request=request, by=holder, reasons="  ")
        assert refused.value.field == "reasons"
        decisions.decline_request(
            db, request=request, by=holder, reasons="The plan already has a kitchen aid line"
        )
        assert request.status == ChangeStatus.DECLINED and len(plan.fund.lines) == lines
        assert mails_to(db, plan.person)[-1] == "Your change of use is declined"

    def test_a_budget_holder_cannot_approve_above_their_own_authority(self, db: Session) -> None:
        plan = active_plan(db)
        budget_holder_with(db, per_request_pence=50_000)
        junior = budget_holder_with(db, per_request_pence=1_000)
        request = ask(db, plan, **KETTLE)
        with pytest.raises(NotAllowed) as refused:
            decisions.approve_request(db, request=request, by=junior, now=at(TUESDAY))
        assert "above your delegated authority of £10.00" in refused.value.message
        assert request.status == ChangeStatus.WAITING

    def test_asking_for_more_information_stops_the_clock_until_the_person_answers(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)
        due = request.due_on
        decisions.ask_for_information(
            db, request=request, by=holder, question="Which kettle?", now=at(TUESDAY)
        )
        assert request.status == ChangeStatus.MORE_INFORMATION
        with pytest.raises(Conflict):
            decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
        # Asked on Tuesday 1 June, answered on Tuesday 8 June: five working days waited.
        changes.answer_request(
            db, request=request, by=plan.person, words="A light one", now=at(date(2027, 6, 8))
        )
        assert request.status == ChangeStatus.WAITING
        assert request.due_on == change_rules.add_working_days(due, 5)
        assert [e.step for e in request.events][-2:] == [ChangeStep.ASKED, ChangeStep.ANSWERED]


class TestThePanel:
    def test_a_request_above_every_authority_is_decided_by_the_panel_at_a_sitting(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        member = panel_member(db)
        request = ask(db, plan, **SCOOTER)
        assert request.route == ChangeRoute.PANEL
        assert mails_to(db, member) == ["A change-of-use request to decide"]
        with pytest.raises(NotAllowed):
            decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
        with pytest.raises(RuleBroken):  # the panel decides at a sitting
            decisions.decline_request(db, request=request, by=member, reasons="Not now")
        sitting = sitting_of(db, member, on=request.sitting_on)  # type: ignore[arg-type]
        decisions.decline_request(
            db,
            request=request,
            by=member,
            reasons="A scooter is funded by the council's equipment service",
            sitting=sitting,
            now=at(request.sitting_on),  # type: ignore[arg-type]
        )
        assert request.sitting_id == sitting.id and request.status == ChangeStatus.DECLINED
        assert "chair" in sitting.members

    def test_a_budget_holder_escalates_to_the_next_sitting_saying_why(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)
        with pytest.raises(RuleBroken):
            decisions.escalate_request(db, request=request, by=holder, reason="")
        decisions.escalate_request(
            db, request=request, by=holder, reason="A precedent for others", now=at(TUESDAY)
        )
        rules = change_rules.DEFAULT_RULES
        assert request.route == ChangeRoute.PANEL
        assert request.sitting_on == change_rules.next_sitting(rules, TUESDAY)
        assert request.due_on >= change_rules.add_working_days(TUESDAY, rules.panel_days)
        assert mails_to(db, plan.person)[-1] == "Your change of use goes to the panel"
        with pytest.raises(Conflict):
            decisions.escalate_request(db, request=request, by=holder, reason="Again")


class TestReview:
    def test_a_decline_is_reviewed_once_by_someone_other_than_who_declined_it(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        first = budget_holder_with(db, per_request_pence=50_000)
        second = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)
        decisions.decline_request(db, request=request, by=first, reasons="Not needed")
        with pytest.raises(NotAllowed):  # the holder's staff do not ask for reviews
            decisions.ask_for_review(db, request=request, by=plan.holder, reason="Please")
        review = decisions.ask_for_review(
            db, request=request, by=plan.person, reason="My old kettle is too heavy to lift"
        )
        assert review.review_of_id == request.id and review.status == ChangeStatus.WAITING
        with pytest.raises(Conflict):
            decisions.ask_for_review(db, request=request, by=plan.person, reason="Again")
        with pytest.raises(NotAllowed):
            decisions.approve_request(db, request=review, by=first, now=at(TUESDAY))
        decisions.approve_request(db, request=review, by=second, now=at(TUESDAY))
        assert review.status == ChangeStatus.APPROVED


class TestTheClock:
    def test_those_who_may_decide_are_reminded_once_the_working_day_before(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)  # due Tuesday 8 June
        assert decisions.send_reminders(db, today=date(2027, 6, 4)) == []
        assert decisions.send_reminders(db, today=date(2027, 6, 7)) == [request]
        assert decisions.send_reminders(db, today=date(2027, 6, 8)) == []
        assert mails_to(db, holder)[-1] == "A change-of-use decision is due soon"

    def test_a_late_request_is_escalated_and_never_refused(self, db: Session) -> None:
        plan = active_plan(db)
        manager = budget_holder_with(db, per_request_pence=200_000)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, **KETTLE)
        assert decisions.escalate_overdue(db, today=request.due_on) == []
        late = decisions.escalate_overdue(db, today=date(2027, 6, 9))
        assert late == [request] and request.status == ChangeStatus.WAITING
        assert request.overdue_at is not None
        assert mails_to(db, manager)[-1] == "A change-of-use decision is late"
        assert mails_to(db, plan.person)[-1] == "Your change of use is late"
        assert decisions.escalate_overdue(db, today=date(2027, 6, 10)) == []
        decisions.approve_request(db, request=request, by=holder, now=at(date(2027, 6, 10)))
        assert request.status == ChangeStatus.APPROVED


class TestWhoSeesWhat:
    def test_a_budget_holder_of_another_council_sees_nothing(self, db: Session) -> None:
        plan = active_plan(db)
        budget_holder_with(db, per_request_pence=50_000)
        elsewhere = budget_holder_with(db, per_request_pence=50_000, council="Fife")
        request = ask(db, plan, **KETTLE)
        assert not decisions.may_see_request(db, elsewhere, request)
        with pytest.raises(NotFound):
            decisions.approve_request(db, request=request, by=elsewhere, now=at(TUESDAY))
        assert decisions.queue_for(db, user=elsewhere).items == []

    def test_a_provider_sees_only_requests_on_funds_it_holds(self, db: Session) -> None:
        plan = active_plan(db)
        request = ask(db, plan, **KETTLE)
        stranger = make_provider(db).members[0].user
        assert decisions.may_see_request(db, plan.holder, request)
        assert not decisions.may_see_request(db, stranger, request)

    def test_the_queue_is_sorted_by_deadline_and_filtered_by_route(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        later = ask(db, plan, on=date(2027, 6, 3), **KETTLE)
        sooner = ask(db, plan, **KETTLE)
        panel = ask(db, plan, **SCOOTER)
        assert decisions.queue_for(db, user=holder).items == [sooner, later, panel]
        assert decisions.queue_for(db, user=holder, route=ChangeRoute.PANEL).items == [panel]
        decisions.approve_request(db, request=sooner, by=holder, now=at(TUESDAY))
        assert decisions.queue_for(db, user=holder, status=ChangeStatus.APPROVED).items == [sooner]
