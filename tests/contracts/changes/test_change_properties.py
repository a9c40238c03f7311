"""Change of use against a model of itself: Hypothesis asks for moves, purchases, new
offers, new hours, pauses and restarts, and decides them (approve, decline, ask for more,
answer, escalate, withdraw, review) as budget holders of different authority and the panel,
in any order, while days pass. After every step each request is in the state the model
says, what the plan commits never exceeds what the budget leaves (the contingency
included), every statement adds up, and every ledger invariant holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import service as changes
from contracts.changes.models import ChangeKind, ChangeRequest, ChangeStatus
from contracts.funds.models import BudgetLine
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from marketplace.accounts.models import User
from marketplace.errors import DomainError
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import Settings
from providers.models import PriceUnit
from tests.contracts.changes.change_builders import (
    TUESDAY,
    active_plan,
    at,
    budget_holder_with,
    panel_member,
)
from tests.contracts.funds.fund_builders import MONDAY_MORNING, adds_up
from tests.factories import make_offer

POUNDS = st.integers(min_value=1, max_value=2_500).map(lambda pounds: pounds * 100)
"""From £1 to £2,500: across the light-touch limit, both budget holders' authority and
what the fund can afford."""


class ChangeMachine(RuleBasedStateMachine):
    def __init__(self, engine: Engine, app_settings: Settings) -> None:
        super().__init__()
        self.connection = engine.connect()
        self.outer = self.connection.begin()
        self.db = Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        attach_mailer(self.db, Mailer(app_settings))
        self.plan = active_plan(self.db)
        self.deciders: list[User] = [
            budget_holder_with(self.db, per_request_pence=30_000),
            budget_holder_with(self.db, per_request_pence=150_000, per_fund_year_pence=300_000),
            panel_member(self.db),
        ]
        self.offer = make_offer(self.db, title="Art class", rate_pence=2_500, unit=PriceUnit.HOUR)
        self.day = TUESDAY
        self.sitting = decisions.record_sitting(
            self.db,
            council_id=self.plan.fund.council_id,
            sits_on=self.day,
            members="The panel",
            by=self.deciders[2],
        )
        self.statuses: dict[int, ChangeStatus] = {}

    def teardown(self) -> None:
        self.db.close()
        self.outer.rollback()
        self.connection.close()

    # Helpers -----------------------------------------------------------------------------

    def attempt(self, act: object) -> object:
        """Run a step in its own savepoint, rolled back if it is refused."""
        try:
            with self.db.begin_nested():
                return act()  # type: ignore[operator]
        except DomainError as refusal:
            return refusal

    def lines(self) -> list[BudgetLine]:
        return sorted(self.plan.fund.lines, key=lambda line: line.id)

    def request(self, data: st.DataObject) -> ChangeRequest:
        """A request: as often as not one still open, so runs reach decisions."""
        open_ones = sorted(i for i, status in self.statuses.items() if status.is_open)
        if open_ones and data.draw(st.booleans()):
            return self.db.get_one(ChangeRequest, data.draw(st.sampled_from(open_ones)))
        return self.db.get_one(ChangeRequest, data.draw(st.sampled_from(sorted(self.statuses))))

    def decider(self, data: st.DataObject, request: ChangeRequest) -> User:
        """Who decides: as often as not the one who may (the panel, or the budget holder
        of larger authority), otherwise anyone (to be refused, or not)."""
        if data.draw(st.booleans()):
            return self.deciders[2 if request.route.value == "panel" else 1]
        return data.draw(st.sampled_from(self.deciders))

    def settle(self, result: object, request: ChangeRequest | None = None) -> None:
        """Note in the model what a step did: a new request (and a review) by its status."""
        if isinstance(result, ChangeRequest):
            self.statuses[result.id] = result.status
        if request is not None:
            self.db.refresh(request)
            self.statuses[request.id] = request.status

    # Asking ------------------------------------------------------------------------------

    @rule(data=st.data(), kind=st.sampled_from(ChangeKind), pence=POUNDS)
    def ask(self, data: st.DataObject, kind: ChangeKind, pence: int) -> None:
        lines = self.lines()
        some_line = st.sampled_from([line.id for line in lines])
        outcome = self.plan.swimming.outcomes[0].id
        starts_on = self.day + timedelta(days=data.draw(st.integers(0, 60)))
        fields: dict[str, object] = {}
        if kind == ChangeKind.MOVE:
            fields = {
                "from_line_id": data.draw(some_line),
                "line_id": data.draw(some_line),
                "moved_pence": pence,
            }
        elif kind == ChangeKind.PURCHASE:
            fields = {"title": "Something useful", "amount_pence": pence}
        elif kind == ChangeKind.NEW_OFFER:
            fields = {"offer_id": self.offer.id, "minutes_per_week": 60, "when": MONDAY_MORNING}
        elif kind == ChangeKind.HOURS:
            fields = {"line_id": data.draw(some_line), "minutes_per_week": 120, "weekly_pence": 500}
        else:
            fields = {"line_id": data.draw(some_line)}
        if kind in (ChangeKind.PURCHASE, ChangeKind.NEW_OFFER) and data.draw(st.booleans()):
            fields |= {"from_line_id": data.draw(some_line), "moved_pence": pence}
        asked = changes.ChangeAsked(
            kind=kind,
            reason="It suits me better",
            outcome_ids=(outcome,),
            starts_on=starts_on,
            **fields,  # type: ignore[arg-type]
        )
        self.settle(
            self.attempt(
                lambda: changes.send_request(
                    self.db, fund=self.plan.fund, by=self.plan.person, asked=asked, now=at(self.day)
                )
            )
        )

    # Deciding ----------------------------------------------------------------------------

    @precondition(lambda self: self.statuses)
    @rule(data=st.data(), conditions=st.sampled_from(["", "Keep it"]))
    def approve(self, data: st.DataObject, conditions: str) -> None:
        request = self.request(data)
        decider = self.decider(data, request)
        result = self.attempt(
            lambda: decisions.approve_request(
                self.db,
                request=request,
                by=decider,
                conditions=conditions,
                sitting=self.sitting,
                now=at(self.day),
            )
        )
        self.settle(result, request)

    @precondition(lambda self: self.statuses)
    @rule(data=st.data())
    def decline(self, data: st.DataObject) -> None:
        request = self.request(data)
        decider = self.decider(data, request)
        result = self.attempt(
            lambda: decisions.decline_request(
                self.db,
                request=request,
                by=decider,
                reasons="Not this year",
                sitting=self.sitting,
                now=at(self.day),
            )
        )
        self.settle(result, request)

    @precondition(lambda self: self.statuses)
    @rule(data=st.data())
    def ask_for_more(self, data: st.DataObject) -> None:
        request = self.request(data)
        decider = self.decider(data, request)
        result = self.attempt(
            lambda: decisions.ask_for_information(
                self.db,
                request=request,
                by=decider,
                question="Which one?",
                now=at(self.day),
            )
        )
        self.settle(result, request)

    @precondition(lambda self: self.statuses)
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        request = self.request(data)
        result = self.attempt(
            lambda: changes.answer_request(
                self.db, request=request, by=self.plan.person, words="This one", now=at(self.day)
            )
        )
        self.settle(result, request)

    @precondition(lambda self: self.statuses)
    @rule(data=st.data(), decider=st.integers(0, 1))
    def escalate(self, data: st.DataObject, decider: int) -> None:
        request = self.request(data)
        result = self.attempt(
            lambda: decisions.escalate_request(
                self.db,
                request=request,
                by=self.deciders[decider],
                reason="A precedent",
                now=at(self.day),
            )
        )
        self.settle(result, request)

    @precondition(lambda self: self.statuses)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        request = self.request(data)
        self.settle(
            self.attempt(
                lambda: changes.withdraw_request(self.db, request=request, by=self.plan.person)
            ),
            request,
        )

    @precondition(lambda self: self.statuses)
    @rule(data=st.data())
    def review(self, data: st.DataObject) -> None:
        request = self.request(data)
        result = self.attempt(
            lambda: decisions.ask_for_review(
                self.db,
                request=request,
                by=self.plan.person,
                reason="Please look again",
                now=at(self.day),
            )
        )
        self.settle(result, request)

    @rule(days=st.integers(min_value=1, max_value=30))
    def days_pass(self, days: int) -> None:
        if self.day + timedelta(days=days) > date(2028, 3, 1):
            return
        self.day += timedelta(days=days)
        self.sitting = decisions.record_sitting(
            self.db,
            council_id=self.plan.fund.council_id,
            sits_on=self.day,
            members="The panel",
            by=self.deciders[2],
        )
        decisions.send_reminders(self.db, today=self.day)
        decisions.escalate_overdue(self.db, today=self.day)

    # After every step --------------------------------------------------------------------

    @invariant()
    def the_plan_never_commits_more_than_the_budget_leaves(self) -> None:
        statement = statement_of(self.db, self.plan.fund, on=self.day)
        assert statement.projected_end_pence >= 0, statement
        assert adds_up(statement)
        for request_id, status in self.statuses.items():
            request = self.db.get_one(ChangeRequest, request_id)
            assert request.status == status
            if status == ChangeStatus.APPROVED:
                assert request.decided_under_id is not None
        carried_on = [line.replaces_id for line in self.lines() if line.replaces_id]
        assert len(carried_on) == len(set(carried_on))  # a line carries on once at most
        report = check_invariants(self.db)
        assert report.sound, report.violations


def run_machine(engine: Engine, app_settings: Settings, *, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: ChangeMachine(engine, app_settings),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_change_of_use_behaves_like_its_model(engine: Engine, settings: Settings) -> None:
    run_machine(engine, settings, examples=8, steps=25)


@pytest.mark.proof
@pytest.mark.timeout(3_600)
def test_change_of_use_behaves_like_its_model_at_length(engine: Engine, settings: Settings) -> None:
    run_machine(engine, settings, examples=100, steps=50)
