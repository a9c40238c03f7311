"""Pages for change of use: a fund's requests; asking for a change, in two steps (what kind,
then the details with a preview of the statement's figures before sending); a request's
own page with its history and the steps the viewer may take; and the queue that budget
holders and panel members work through, with the panel's sittings.

The rules are the service's (contracts.changes): these routes parse, call it and show the
answer. Who may act is decided there; the pages only choose which forms to draw."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy.orm import Session

from contracts.changes import decisions, views
from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.access import DECIDERS, DeciderUser, PanelUser
from contracts.changes.models import (
    ChangeKind,
    ChangeRequest,
    ChangeRoute,
    ChangeStatus,
    PanelSitting,
)
from contracts.funds import service as funds_service
from contracts.funds.access import ActedFund, SeenFund, record_on_fund
from contracts.funds.models import IndividualServiceFund
from contracts.funds.routes import add_fund_section, offer_named
from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import SignedInUser
from marketplace.db import today
from marketplace.deps import AUDITED_READ, DbSession, audited
from marketplace.errors import FieldError, RuleBroken
from marketplace.forms import (
    Choices,
    Day,
    Form,
    FormPage,
    OptionalDay,
    OptionalHours,
    OptionalPounds,
    Text,
    fields_named,
    form_values,
    parse_choice,
    required,
)
from marketplace.idempotency import IdempotencyKey, new_key, once
from marketplace.parsing import PageNumber, record_id
from marketplace.tables import csv_if_asked
from marketplace.web import redirect, render
from providers.models import DAYS, PERIODS
from providers.public_routes import PageSection
from providers.schemas import Availability

router = APIRouter(include_in_schema=False)

web.add_navigation("Change-of-use requests", "/changes", roles=DECIDERS, order=49)

DONE_MESSAGES = {
    "sent": "Your request is sent. You can follow it here; you will also get an email when "
    "it is decided.",
    "approved": "Approved. The plan has changed, and the person is told.",
    "declined": "Declined. The person is told your reasons and may ask for a review.",
    "asked": "Your question is sent. The clock stops until the person answers.",
    "escalated": "Passed to the resource allocation panel. The person is told when it sits.",
    "withdrawn": "The request is withdrawn.",
    "answered": "Your answer is sent. The clock starts again.",
    "review": "Your request for a review is sent. Someone other than who declined it decides.",
    "sitting": "The sitting is recorded.",
}


# Loading a request -----------------------------------------------------------------------


def _change(request: Request, db: Session, user: User) -> ChangeRequest:
    return record_on_fund(
        request, db, user, ChangeRequest, param="change_id", may_see=decisions.may_see_request
    )


def seen_change(request: Request, db: DbSession, user: SignedInUser) -> ChangeRequest:
    change = _change(request, db, user)
    changes.record_reads(db, user, [change])
    return change


setattr(seen_change, AUDITED_READ, True)


def acted_change(request: Request, db: DbSession, user: SignedInUser) -> ChangeRequest:
    return _change(request, db, user)


SeenChange = Annotated[ChangeRequest, Depends(seen_change)]
ActedChange = Annotated[ChangeRequest, Depends(acted_change)]


def recent_changes_section(
    db: Session, fund: IndividualServiceFund, user: User
) -> PageSection | None:
    """On the fund's page, the person is told how their requests stand and why, as the
    mail about each decision says."""
    recent = views.recent_on_fund(db, fund, user, today())
    if recent is None:
        return None
    return PageSection(template="contracts/changes/partials/recent.html", context=recent)


add_fund_section(recent_changes_section)


# A fund's requests -----------------------------------------------------------------------


@router.get("/funds/{fund_id}/changes")
@audited
def fund_changes(request: Request, fund: SeenFund, db: DbSession, user: SignedInUser) -> Response:
    asked = decisions.requests_on(db, fund)
    table = views.requests_table(asked, today=today(), caption="Changes of use asked for")
    downloaded = csv_if_asked(request, [table], filename=f"fund-{fund.id}-changes")
    if downloaded is not None:
        return downloaded
    party = funds_service.party_of(db, fund, user)
    return render(
        request,
        "contracts/changes/list.html",
        {
            "fund": fund,
            "table": table,
            "may_ask": party in changes.ASKERS and fund.status.value == "active",
        },
    )


# Asking -------------------------------------------------------------------------------------


class ChangeForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "starts_on": "Enter the day it starts, like 2027-06-01",
        "ends_on": "Enter the last day, like 2028-03-31, or leave it blank",
        "moved": "Enter an amount in pounds, for example 300",
        "amount": "Enter an amount in pounds, for example 250",
        "weekly": "Enter what it costs a week in pounds, for example 25.50",
        "hours": "Enter how many hours a week, for example 6 or 2.5",
    }

    kind: ChangeKind
    from_line: str = ""
    line: str = ""
    moved: OptionalPounds = None
    offer: Annotated[str, Field(max_length=300)] = ""
    hours: OptionalHours = None
    when: Availability = 0
    weekly: OptionalPounds = None
    title: Annotated[str, Field(max_length=300)] = ""
    amount: OptionalPounds = None
    starts_on: Day
    ends_on: OptionalDay = None
    outcomes: Choices = Field(default_factory=list)
    reason: Annotated[Text, required("Say why, in your own words")] = ""


class SendForm(ChangeForm):
    messages: ClassVar[dict[str, str]] = {
        **ChangeForm.messages,
        "key": "This form is missing its one-time reference. Reload the page and try again.",
    }

    key: IdempotencyKey


new_page = FormPage("contracts/changes/new.html", block="change")

FIELD_NAMES: dict[str | None, str | None] = {
    "from_line": "from_line",
    "line": "line",
    "moved": "moved",
    "offer": "offer",
}


def _new_context(
    db: Session, fund: IndividualServiceFund, user: User, kind: ChangeKind | None
) -> dict[str, Any]:
    funds_service.must_act_as(db, fund, user, *changes.ASKERS)
    return {
        "fund": fund,
        "kind": kind,
        "kinds": [(k.value, k.label) for k in ChangeKind],
        "all_lines": views.line_options(fund),
        "weekly_lines": views.line_options(fund, weekly=True, paused=False),
        "paused_lines": views.line_options(fund, weekly=True, paused=True),
        "outcome_options": [(str(o.id), o.own_words) for o in fund.outcomes],
        "days": DAYS,
        "periods": PERIODS,
        "fresh_key": new_key(),
        "preview": None,
    }


def _asked(db: Session, form: ChangeForm) -> changes.ChangeAsked:
    offer_id = None
    if form.kind == ChangeKind.NEW_OFFER:
        offer_id = offer_named(db, form.offer).id
    moved = form.amount if form.kind == ChangeKind.MOVE else form.moved
    return changes.ChangeAsked(
        kind=form.kind,
        reason=form.reason,
        # An id that cannot be one is left as 0, which names nothing, so the service
        # refuses it with its own message rather than the page dropping it silently.
        outcome_ids=tuple(record_id(v) or 0 for v in form.outcomes),
        starts_on=form.starts_on,
        line_id=record_id(form.line) or 0 if form.line else None,
        from_line_id=record_id(form.from_line) or 0 if form.from_line else None,
        moved_pence=moved or 0,
        offer_id=offer_id,
        minutes_per_week=form.hours,
        when=form.when,
        weekly_pence=form.weekly,
        title=form.title,
        amount_pence=form.amount,
        ends_on=form.ends_on,
    )


@router.get("/funds/{fund_id}/changes/new")
@audited
def new_change(
    request: Request, fund: SeenFund, db: DbSession, user: SignedInUser, kind: str = ""
) -> Response:
    chosen = parse_choice(ChangeKind, kind) if kind else None
    return new_page.render(
        request,
        values={"starts_on": today().isoformat(), "kind": chosen.value if chosen else ""},
        **_new_context(db, fund, user, chosen),
    )


@router.post("/funds/{fund_id}/changes/preview")
@audited
async def preview_change(
    request: Request, fund: SeenFund, db: DbSession, user: SignedInUser
) -> Response:
    values = await form_values(request)
    chosen = parse_choice(ChangeKind, str(values.get("kind", "")))
    context = _new_context(db, fund, user, chosen)
    form = await new_page.read(request, ChangeForm, **context)
    with fields_named(FIELD_NAMES):
        draft = changes.draft_request(db, fund=fund, by=user, asked=_asked(db, form), today=today())
        shown, _ = changes.preview(db, fund, draft, today=today())
    problem = changes.overspend_problem(shown)
    errors = [] if problem is None else [FieldError(None, problem)]
    context["preview"] = shown
    return new_page.render(
        request, values=values, errors=errors, status_code=422 if errors else 200, **context
    )


@router.post("/funds/{fund_id}/changes")
async def send_change(
    request: Request, fund: ActedFund, db: DbSession, user: SignedInUser
) -> Response:
    values = await form_values(request)
    chosen = parse_choice(ChangeKind, str(values.get("kind", "")))
    form = await new_page.read(request, SendForm, **_new_context(db, fund, user, chosen))
    asked = _asked(db, form)
    with fields_named(FIELD_NAMES):
        answer = once(
            db,
            key=form.key,
            operation="isf.change_of_use",
            content={"user": user.id, "fund": fund.id, "asked": repr(asked)},
            act=lambda: {"change": changes.send_request(db, fund=fund, by=user, asked=asked).id},
        )
    return redirect(request, f"/funds/{fund.id}/changes/{answer.response['change']}?done=sent")


# One request ----------------------------------------------------------------------------------

change_page = FormPage("contracts/changes/change.html", block="change")


def _change_context(db: Session, change: ChangeRequest, user: User) -> dict[str, Any]:
    return views.request_page(db, change, user, today())


@router.get("/funds/{fund_id}/changes/{change_id}")
@audited
def show_change(
    request: Request, change: SeenChange, db: DbSession, user: SignedInUser, done: str = ""
) -> Response:
    return change_page.render(
        request, done=DONE_MESSAGES.get(done), **_change_context(db, change, user)
    )


def _after(request: Request, change: ChangeRequest, done: str) -> Response:
    return redirect(request, f"/funds/{change.fund_id}/changes/{change.id}?done={done}")


class WithdrawForm(Form):
    withdraw_reason: Text = ""


class AnswerForm(Form):
    answer: Annotated[Text, required("Write the information asked for")] = ""


class ReviewForm(Form):
    review_reason: Annotated[Text, required("Say why it should be looked at again")] = ""


class DecisionForm(Form):
    decision: Annotated[str, required("Choose your decision")] = ""
    conditions: Text = ""
    reasons: Text = ""
    question: Text = ""
    escalate_reason: Text = ""
    sitting: str = ""


@router.post("/funds/{fund_id}/changes/{change_id}/withdraw")
async def withdraw_change(
    request: Request, change: ActedChange, db: DbSession, user: SignedInUser
) -> Response:
    form = await change_page.read(request, WithdrawForm, **_change_context(db, change, user))
    changes.withdraw_request(db, request=change, by=user, reason=form.withdraw_reason)
    return _after(request, change, "withdrawn")


@router.post("/funds/{fund_id}/changes/{change_id}/answer")
async def answer_change(
    request: Request, change: ActedChange, db: DbSession, user: SignedInUser
) -> Response:
    form = await change_page.read(request, AnswerForm, **_change_context(db, change, user))
    with fields_named({"words": "answer"}):
        changes.answer_request(db, request=change, by=user, words=form.answer)
    return _after(request, change, "answered")


@router.post("/funds/{fund_id}/changes/{change_id}/review")
async def review_change(
    request: Request, change: ActedChange, db: DbSession, user: SignedInUser
) -> Response:
    form = await change_page.read(request, ReviewForm, **_change_context(db, change, user))
    with fields_named({"reason": "review_reason"}):
        review = decisions.ask_for_review(db, request=change, by=user, reason=form.review_reason)
    return _after(request, review, "review")


@router.post("/funds/{fund_id}/changes/{change_id}/decide")
async def decide_change(
    request: Request, change: ActedChange, db: DbSession, user: SignedInUser
) -> Response:
    """One form for the decision: approve (with any conditions), decline (with reasons), ask
    for more information, or pass to the panel (with why)."""
    form = await change_page.read(request, DecisionForm, **_change_context(db, change, user))
    sitting = None
    if form.sitting:
        sitting = db.get(PanelSitting, record_id(form.sitting) or 0)
    if form.decision == "approve":
        decisions.approve_request(
            db, request=change, by=user, conditions=form.conditions, sitting=sitting
        )
        return _after(request, change, "approved")
    if form.decision == "decline":
        decisions.decline_request(
            db, request=change, by=user, reasons=form.reasons, sitting=sitting
        )
        return _after(request, change, "declined")
    if form.decision == "ask":
        decisions.ask_for_information(db, request=change, by=user, question=form.question)
        return _after(request, change, "asked")
    if form.decision == "escalate":
        with fields_named({"reason": "escalate_reason"}):
            decisions.escalate_request(db, request=change, by=user, reason=form.escalate_reason)
        return _after(request, change, "escalated")
    raise RuleBroken("Choose your decision", field="decision")


# The queue and the panel ------------------------------------------------------------------


@router.get("/changes")
@audited
def queue(
    request: Request,
    db: DbSession,
    user: DeciderUser,
    status: str = "",
    route: str = "",
    page: PageNumber = 1,
) -> Response:
    chosen_status = parse_choice(ChangeStatus, status) if status else None
    chosen_route = parse_choice(ChangeRoute, route) if route else None
    found = decisions.queue_for(db, user=user, status=chosen_status, route=chosen_route, page=page)
    changes.record_reads(db, user, found.items)
    caption = "Change-of-use requests, soonest deadline first"
    if found.pages > 1:
        caption += f": page {found.page} of {found.pages}"
    table = views.requests_table(found.items, today=today(), caption=caption)
    downloaded = csv_if_asked(request, [table], filename="change-of-use-queue")
    if downloaded is not None:
        return downloaded
    values = {
        "status": chosen_status.value if chosen_status else "",
        "route": chosen_route.value if chosen_route else "",
    }
    return render(
        request,
        "contracts/changes/queue.html",
        {
            "rows": views.queue_rows(db, found.items, today()),
            "result": found,
            "table": table,
            "values": values,
            # The filters go with every page link, so paging never drops them.
            "filters_query": urlencode(values) + "&",
            "statuses": [(s.value, s.label) for s in ChangeStatus],
            "routes": [(r.value, r.label) for r in ChangeRoute],
            "error_for": {},
            "is_panel": user.role == Role.PANEL_MEMBER,
            "authority": change_rules.authority_of(db, user.id),
        },
    )


class SittingForm(Form):
    messages: ClassVar[dict[str, str]] = {"sits_on": "Enter the day it sat, like 2027-06-10"}

    sits_on: Day
    members: Annotated[Text, required("Say who sat, one a line")] = ""


sitting_page = FormPage("contracts/changes/sittings.html", block="sittings")


def _sittings_context(db: Session, user: User) -> dict[str, Any]:
    return {"sittings": decisions.sittings_of(db, council_id=user.council_id or 0)}


@router.get("/changes/sittings")
def sittings(request: Request, db: DbSession, user: PanelUser, done: str = "") -> Response:
    return sitting_page.render(
        request,
        values={"sits_on": today().isoformat()},
        done=DONE_MESSAGES.get(done),
        **_sittings_context(db, user),
    )


@router.post("/changes/sittings")
async def record_sitting(request: Request, db: DbSession, user: PanelUser) -> Response:
    form = await sitting_page.read(request, SittingForm, **_sittings_context(db, user))
    if form.sits_on > today():
        raise RuleBroken("Record a sitting once it has sat", field="sits_on")
    decisions.record_sitting(
        db, council_id=user.council_id or 0, sits_on=form.sits_on, members=form.members, by=user
    )
    return redirect(request, "/changes/sittings?done=sitting")
