"""Two budget holders approving, at the same moment, two requests that the fund can afford
one at a time but not both: each in a thread with its own connection that really commits.
Exactly one approval changes the plan; the other is refused and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from contracts.changes import decisions
from contracts.changes.models import ChangeKind, ChangeRequest, ChangeStatus
from contracts.funds.models import BudgetLineKind, IndividualServiceFund
from contracts.funds.statement import statement_of
from marketplace.accounts.models import User
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import Settings
from tests.contracts.changes.change_builders import (
    TUESDAY,
    active_plan,
    ask,
    at,
    budget_holder_with,
)
from tests.contracts.concurrency import all_at_once


@dataclass(frozen=True)
class Race:
    fund_id: int
    requests: tuple[int, int]
    holders: tuple[int, int]


@pytest.fixture
def writers(shared_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(shared_database, poolclass=NullPool)
    yield make_sessionmaker(engine)
    engine.dispose()


def set_up_race(factory: sessionmaker[Session], settings: Settings) -> Race:
    """Two purchases of 60% of what the fund can still take each, both sent (each fits on
    its own), and two budget holders who may each approve either."""
    with session_scope(factory) as db:
        attach_mailer(db, Mailer(settings))
        plan = active_plan(db)
        room = statement_of(db, plan.fund, on=TUESDAY).projected_end_pence
        amount = room * 6 // 10
        holders = [budget_holder_with(db, per_request_pence=amount) for _ in (1, 2)]
        sent = [
            ask(db, plan, kind=ChangeKind.PURCHASE, title=f"Purchase {n}", amount_pence=amount)
            for n in (1, 2)
        ]
        return Race(
            plan.fund.id,
            (sent[0].id, sent[1].id),
            (holders[0].id, holders[1].id),
        )


def approve(factory: sessionmaker[Session], settings: Settings, race: Race, n: int) -> str:
    with session_scope(factory) as db:
        attach_mailer(db, Mailer(settings))
        request = db.get_one(ChangeRequest, race.requests[n])
        decisions.approve_request(
            db, request=request, by=db.get_one(User, race.holders[n]), now=at(TUESDAY)
        )
        return "approved"


def test_two_approvals_for_the_same_money_cannot_both_succeed(
    writers: sessionmaker[Session], settings: Settings
) -> None:
    for _ in range(3):
        race = set_up_race(writers, settings)
        outcomes = all_at_once(2, lambda n, race=race: approve(writers, settings, race, n))
        assert outcomes["approved"] == 1, outcomes
        [refusal] = [text for text in outcomes if text != "approved"]
        assert refusal.startswith("Conflict: The fund cannot afford this any more"), outcomes
        with session_scope(writers, write=False) as db:
            fund = db.get_one(IndividualServiceFund, race.fund_id)
            statuses = sorted(db.get_one(ChangeRequest, r).status for r in race.requests)
            purchases = [line for line in fund.lines if line.kind == BudgetLineKind.PURCHASE]
            assert statuses == sorted([ChangeStatus.APPROVED, ChangeStatus.WAITING])
            assert len(purchases) == 1
            assert statement_of(db, fund, on=TUESDAY).projected_end_pence >= 0
