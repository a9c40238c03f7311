"""The job worker's daily run reminds those who may decide and escalates a late request,
as the worker runs it: a request sent eight working days ago to a budget holder with five
is escalated, once, and is still waiting to be decided."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from contracts.changes import rules as change_rules
from contracts.changes.models import ChangeKind, ChangeRequest, ChangeStatus, ChangeStep
from marketplace.db import make_engine, make_sessionmaker, session_scope, today
from marketplace.jobs import Jobs
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import JobSettings
from tests.conftest import make_settings
from tests.contracts.changes.change_builders import (
    ask,
    budget_holder_with,
    plan_running_today,
)


def test_the_daily_run_escalates_a_late_request_once(shared_database: str, tmp_path: Path) -> None:
    settings = make_settings(shared_database, tmp_path / "var", jobs=JobSettings(immediate=False))
    engine = make_engine(shared_database)
    factory = make_sessionmaker(engine)
    sent_on = today() - timedelta(days=14)
    while not change_rules.is_working_day(sent_on):
        sent_on -= timedelta(days=1)
    with session_scope(factory) as db:
        attach_mailer(db, Mailer(settings))
        plan = plan_running_today(db)
        budget_holder_with(db, per_request_pence=50_000)
        request = ask(
            db, plan, kind=ChangeKind.PURCHASE, title="A kettle", amount_pence=2_500, on=sent_on
        )
        request_id = request.id
        assert request.due_on < today()
    jobs = Jobs(settings)
    daily = next(t for t in jobs.huey._registry.periodic_tasks if t.name == "funds_daily")
    for _ in range(2):  # a second run the same day finds nothing more to do
        jobs.huey.execute(daily)
    with session_scope(factory, write=False) as db:
        late = db.get_one(ChangeRequest, request_id)
        assert late.status == ChangeStatus.WAITING and late.overdue_at is not None
        assert [e.step for e in late.events].count(ChangeStep.OVERDUE) == 1
    engine.dispose()
