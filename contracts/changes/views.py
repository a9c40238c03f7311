"""What the change-of-use pages show, read now: a request's summary and history, its effect
on the statement, the steps the viewer may take, and the decider's queue as a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.models import (
    ChangeKind,
    ChangeRequest,
    ChangeRoute,
    ChangeStatus,
    PanelSitting,
)
from contracts.funds import service as funds_service
from contracts.funds import views as fund_views
from contracts.funds.models import AgreementParty, BudgetLineKind, FundStatus, IndividualServiceFund
from contracts.funds.statement import Statement, spent_by_line, statement_of
from marketplace.accounts.models import Role, User
from marketplace.errors import DomainError
from marketplace.money import format_pence
from marketplace.tables import Cell, Column, Table
from providers.pricing import describe_minutes

STATUS_COLOURS = {
    ChangeStatus.WAITING: "blue",
    ChangeStatus.MORE_INFORMATION: "orange",
    ChangeStatus.APPROVED: "green",
    ChangeStatus.DECLINED: "red",
    ChangeStatus.WITHDRAWN: "grey",
}


@dataclass(frozen=True)
class Steps:
    """Which forms the viewer sees on a request."""

    withdraw: bool = False
    answer: bool = False
    review: bool = False
    decide: bool = False
    escalate: bool = False
    why_not: str = ""
    """Why a council viewer cannot decide it (shown instead of the forms)."""


def steps_for(session: Session, request: ChangeRequest, viewer: User) -> Steps:
    party = funds_service.party_of(session, request.fund, viewer)
    if party in changes.ASKERS:
        reviewed = session.scalar(
            select(ChangeRequest.id).where(ChangeRequest.review_of_id == request.id)
        )
        return Steps(
            withdraw=request.status.is_open,
            answer=request.status == ChangeStatus.MORE_INFORMATION,
            review=party == AgreementParty.PERSON
            and request.status == ChangeStatus.DECLINED
            and reviewed is None,
        )
    if request.status != ChangeStatus.WAITING or viewer.council_id != request.council_id:
        return Steps()
    if request.route == ChangeRoute.PANEL:
        if viewer.role == Role.PANEL_MEMBER:
            return Steps(decide=True)
        return Steps(why_not="The resource allocation panel decides this request.")
    if viewer.role != Role.BUDGET_HOLDER:
        return Steps()
    if request.review_of is not None and request.review_of.decided_by_id == viewer.id:
        return Steps(
            why_not="You declined the request under review: someone else decides the review."
        )
    problem = changes.authority_problem(session, request.fund, viewer, request.amount_pence)
    return Steps(decide=problem is None, escalate=True, why_not=problem or "")


def what_it_changes(request: ChangeRequest) -> str:
    """The change in one plain sentence."""
    moved = format_pence(request.moved_pence)
    source = f" {moved} from “{request.from_line.title}”" if request.from_line else ""
    if request.kind == ChangeKind.MOVE:
        target = request.line.title if request.line else "another line"
        return f"Move{source} to “{target}”, from {request.starts_on:%-d %B %Y}"
    if request.kind == ChangeKind.NEW_OFFER:
        hours = changes_hours(request.minutes_per_week)
        paid = f", paid for partly by moving{source}" if source else ""
        weekly = format_pence(request.weekly_pence or 0)
        return (
            f"Pay for “{request.title}”, {hours} a week at {weekly} a week, "
            f"from {request.starts_on:%-d %B %Y}{paid}"
        )
    if request.kind == ChangeKind.PURCHASE:
        paid = f", paid for partly by moving{source}" if source else ""
        by = f" by {request.ends_on:%-d %B %Y}" if request.ends_on else ""
        return f"Buy “{request.title}” for {format_pence(request.weekly_pence or 0)}{by}{paid}"
    title = request.line.title if request.line else "a line"
    if request.kind == ChangeKind.HOURS:
        weekly = format_pence(request.weekly_pence or 0)
        hours = (
            f"{changes_hours(request.minutes_per_week)} a week, "
            if request.minutes_per_week
            else ""
        )
        return f"Change “{title}” to {hours}{weekly} a week, from {request.starts_on:%-d %B %Y}"
    if request.kind == ChangeKind.PAUSE:
        return f"Pause “{title}” from {request.starts_on:%-d %B %Y}"
    return f"Start “{title}” again from {request.starts_on:%-d %B %Y}"


def changes_hours(minutes: int | None) -> str:
    return describe_minutes(minutes or 0)


def deadline_text(request: ChangeRequest, today: date) -> str:
    """The deadline as people count it: a date, and working days left (or how late)."""
    due = f"{request.due_on:%A %-d %B %Y}"
    if not request.status.is_open:
        return due
    if request.status == ChangeStatus.MORE_INFORMATION:
        return f"{due}, moved on by each working day until the information is given"
    if request.due_on < today:
        late = change_rules.working_days_between(request.due_on, today)
        return f"{due}: {late} working day{'s' if late != 1 else ''} late"
    left = change_rules.working_days_between(today, request.due_on)
    if left == 0:
        return f"{due}: today"
    return f"{due}: {left} working day{'s' if left != 1 else ''} left"


def effect_now(
    session: Session, fund: IndividualServiceFund, request: ChangeRequest, today: date
) -> changes.Preview | str:
    """The open request's effect on the statement as it stands today, or why it cannot be
    worked out any more (the plan has changed under it)."""
    try:
        return changes.preview(session, fund, request, today=today)[0]
    except DomainError as error:
        return error.message


def request_page(
    session: Session, request: ChangeRequest, viewer: User, today: date
) -> dict[str, Any]:
    fund = request.fund
    shows_person = fund_views.may_see_person(session, fund, viewer)
    effect = (
        effect_now(session, fund, request, today)
        if request.status.is_open and fund.status == FundStatus.ACTIVE
        else None
    )
    sittings = []
    if request.route == ChangeRoute.PANEL and viewer.role == Role.PANEL_MEMBER:
        sittings = [
            (str(s.id), f"{s.sits_on:%-d %B %Y}")
            for s in session.scalars(
                select(PanelSitting)
                .where(PanelSitting.council_id == request.council_id, PanelSitting.sits_on <= today)
                .order_by(PanelSitting.sits_on.desc())
                .limit(12)
            )
        ]
    return {
        "change": request,
        "fund": fund,
        "shows_person": shows_person,
        "what": what_it_changes(request),
        "deadline": deadline_text(request, today),
        "colour": STATUS_COLOURS[request.status],
        "effect": effect if not isinstance(effect, str) else None,
        "effect_problem": effect if isinstance(effect, str) else None,
        "steps": steps_for(session, request, viewer),
        "sittings": sittings,
        "outcomes": [
            o.own_words if shows_person else (o.term.name if o.term else "An outcome")
            for o in request.outcomes
        ],
        "history": [
            {
                "at": event.at,
                "step": event.step.label,
                "by": event.actor.name if event.actor else "The service",
                "words": event.words,
            }
            for event in request.events
        ],
    }


def queue_rows(
    session: Session, requests: list[ChangeRequest], today: date
) -> list[dict[str, Any]]:
    """The queue's entries: each request with what it would do to its fund's projection
    (each fund's statement read once, however many of its requests wait)."""
    read: dict[int, tuple[Statement, dict[int, int]]] = {}
    rows = []
    for change in requests:
        projected: tuple[int, int] | None = None
        fund = change.fund
        if change.status.is_open and fund.status == FundStatus.ACTIVE:
            if fund.id not in read:
                read[fund.id] = (
                    statement_of(session, fund, on=today),
                    spent_by_line(session, fund),
                )
            statement, spent_on = read[fund.id]
            try:
                figures, _ = changes.figures_with(
                    session, fund, change, statement=statement, spent_on=spent_on, today=today
                )
                projected = (statement.projected_end_pence, figures.projected_after_pence)
            except DomainError:
                projected = None  # the plan has changed under it: its page says how
        rows.append(
            {
                "change": change,
                "what": what_it_changes(change),
                "deadline": deadline_text(change, today),
                "colour": STATUS_COLOURS[change.status],
                "late": change.status.is_open and change.due_on < today,
                "projected": projected,
            }
        )
    return rows


RECENT_ON_FUND = 5
"""Requests the fund's own page lists, newest first; its requests page lists them all."""


def recent_on_fund(
    session: Session, fund: IndividualServiceFund, viewer: User, today: date
) -> dict[str, Any] | None:
    """The fund's newest requests as its page tells them: what was asked, where it stands
    (its deadline, or the day it was decided), and a decision's conditions or reasons in
    the decider's words; None when it has none. A request is seen by whoever may see its
    fund (decisions.may_see_request), so one check of the fund answers for all of them."""
    if not funds_service.may_see_fund(session, viewer, fund):
        return None
    found = decisions.recent_requests_on(session, fund, limit=RECENT_ON_FUND)
    if not found.items:
        return None
    return {
        "fund_id": fund.id,
        "total": found.total,
        "requests": [
            {
                "change": change,
                "what": what_it_changes(change),
                "colour": STATUS_COLOURS[change.status],
                "deadline": deadline_text(change, today) if change.status.is_open else None,
            }
            for change in found.items
        ],
    }


def requests_table(requests: list[ChangeRequest], *, today: date, caption: str) -> Table:
    """Requests as the queue and the fund's list show them, soonest deadline first."""
    rows = [
        [
            Cell(f"Request {r.id}", r.id, href=f"/funds/{r.fund_id}/changes/{r.id}"),
            Cell(f"Fund {r.fund_id}", r.fund_id, href=f"/funds/{r.fund_id}"),
            Cell(r.kind.label),
            Cell(format_pence(r.amount_pence), r.amount_pence),
            Cell(r.route.label),
            Cell(r.status.label),
            Cell(deadline_text(r, today), r.due_on.isoformat()),
        ]
        for r in requests
    ]
    return Table(
        name="requests",
        caption=caption,
        columns=(
            Column("Request"),
            Column("Fund"),
            Column("Change"),
            Column("Worth", numeric=True, key="amount_pence"),
            Column("Decided by"),
            Column("Status"),
            Column("Deadline", key="due_on"),
        ),
        rows=rows,
    )


def line_options(
    fund: IndividualServiceFund, *, weekly: bool = False, paused: bool | None = None
) -> list[tuple[str, str]]:
    """The plan's lines to choose from: all, or weekly support only; running or paused."""
    carried_on = {line.replaces_id for line in fund.lines if line.replaces_id}
    options = []
    for line in fund.lines:
        if weekly and not line.kind.is_weekly:
            continue
        is_paused = line.paused_on is not None and line.id not in carried_on
        if paused is not None and is_paused != paused:
            continue
        if paused is None and line.id in carried_on:
            continue  # ended and carried on as a newer line
        label = line.title if line.kind != BudgetLineKind.CONTINGENCY else "Contingency"
        options.append((str(line.id), label))
    return options
