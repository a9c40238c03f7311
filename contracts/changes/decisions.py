"""Deciding change-of-use requests, on the record: a budget holder within their delegated
authority, or the resource allocation panel at a sitting, approves (perhaps with
conditions), declines with reasons, asks for more information, or escalates to the panel.
An approval changes the plan in the decision's own transaction, under a lock on the fund,
so two approvals racing for the same money cannot both succeed. A decline can be reviewed
once, by someone else. Reminders and escalation of late requests run daily; the clock
never refuses a request."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contracts.changes import rules as change_rules
from contracts.changes.models import (
    ChangeRequest,
    ChangeRoute,
    ChangeStatus,
    ChangeStep,
    PanelSitting,
)
from contracts.changes.plan_change import apply_effect
from contracts.changes.service import (
    add_event,
    authority_problem,
    deciders_of,
    fund_name,
    local_day,
    must_not_be_asker,
    persons_side,
    preview,
    record,
    request_path,
    tell_asker_side,
    tell_deciders,
)
from contracts.funds.models import AgreementParty, FundStatus, IndividualServiceFund
from contracts.funds.service import may_see_fund, must_act_as
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import visibility_rule
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from marketplace.mail import tell
from marketplace.money import format_pence
from marketplace.paging import Page, paginate
from providers.enquiries import check_text


@visibility_rule(ChangeRequest)
def may_see_request(session: Session, viewer: User, request: ChangeRequest) -> bool:
    """Whoever may see the fund: the person's side, the holder's staff, and the staff of
    the fund's council who work with funds (a budget holder of another council sees
    nothing; a provider only requests on the funds it holds)."""
    return may_see_fund(session, viewer, request.fund)


def _as_decider(session: Session, request: ChangeRequest, by: User) -> None:
    """`by` is the council's budget holder (a request for a budget holder) or a panel
    member (a request for the panel); anyone else who may see it is refused, anyone who
    may not gets a 404."""
    if not may_see_request(session, by, request):
        raise NotFound("Page not found")
    role = Role.PANEL_MEMBER if request.route == ChangeRoute.PANEL else Role.BUDGET_HOLDER
    if by.role != role or by.council_id != request.council_id:
        raise NotAllowed(
            "The resource allocation panel decides this request"
            if request.route == ChangeRoute.PANEL
            else "A budget holder of the fund's council decides this request"
        )
    must_not_be_asker(session, request, by)
    reviewed = request.review_of
    if reviewed is not None and reviewed.decided_by_id == by.id:
        raise NotAllowed("A review is decided by someone other than who declined it")
    if request.status != ChangeStatus.WAITING:
        raise Conflict(
            "The person has been asked for more information: wait for their answer"
            if request.status == ChangeStatus.MORE_INFORMATION
            else f"This request is {request.status.label.lower()} already"
        )


def _with_authority(session: Session, request: ChangeRequest, by: User) -> None:
    if request.route == ChangeRoute.DELEGATED:
        problem = authority_problem(session, request.fund, by, request.amount_pence)
        if problem is not None:
            raise NotAllowed(problem + ": escalate it to the panel")


def _sitting_for(request: ChangeRequest, sitting: PanelSitting | None, today: date) -> None:
    if request.route != ChangeRoute.PANEL:
        return
    if sitting is None:
        raise RuleBroken("Record the panel's sitting first", field="sitting")
    if sitting.council_id != request.council_id or sitting.sits_on > today:
        raise RuleBroken("Choose a sitting of this council's panel held by today", field="sitting")
    request.sitting_id = sitting.id


def lock_fund(session: Session, fund_id: int) -> IndividualServiceFund:
    """The fund, read afresh with its lines and locked until the transaction ends: every
    approval takes this lock first, so one waits for the other and then sees its change.
    (SQLite's writing transactions already hold its single write lock.)"""
    fund = session.scalars(
        select(IndividualServiceFund)
        .where(IndividualServiceFund.id == fund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    for line in list(fund.lines):
        session.expire(line)
    session.expire(fund, ["lines"])
    return fund


def _apply(session: Session, request: ChangeRequest, moment: datetime) -> None:
    """Change the plan as approved, if the fund can still afford it."""
    fund = lock_fund(session, request.fund_id)
    if fund.status != FundStatus.ACTIVE:
        raise Conflict("The fund is not active any more, so its plan cannot change")
    shown, effect = preview(session, fund, request, today=local_day(moment))
    if shown.overspend_pence:
        raise Conflict(
            "The fund cannot afford this any more: it would overspend by "
            f"{format_pence(shown.overspend_pence)} beyond its contingency. Decline it, "
            "or ask the person to change it"
        )
    line = apply_effect(session, fund, request, effect)
    request.new_line_id = line.id if line is not None else None


def _decided(
    session: Session,
    request: ChangeRequest,
    by: User | None,
    status: ChangeStatus,
    moment: datetime,
) -> None:
    rules = change_rules.rules_in_force(session, request.council_id)
    request.status = status
    request.decided_by_id = by.id if by is not None else None
    request.decided_at = moment
    request.decided_under_id = rules.id


def approve_request(
    session: Session,
    *,
    request: ChangeRequest,
    by: User,
    conditions: str = "",
    sitting: PanelSitting | None = None,
    now: datetime | None = None,
) -> ChangeRequest:
    """Approve, perhaps with conditions in plain words: the plan changes at once."""
    moment = now or utcnow()
    _as_decider(session, request, by)
    _with_authority(session, request, by)
    _sitting_for(request, sitting, local_day(moment))
    words = conditions.strip()
    if words:
        words = check_text(words, field="conditions", missing="")
    _apply(session, request, moment)
    request.conditions = words
    _decided(session, request, by, ChangeStatus.APPROVED, moment)
    add_event(request, ChangeStep.APPROVED, by, f"Conditions: {words}" if words else "", at=moment)
    session.flush()
    record(session, by, request, "approved")
    tell_asker_side(
        session,
        request,
        subject="Your change of use is approved",
        text="Your request to change how the fund is used is approved, and the plan "
        "has changed." + (f"\n\nIt is approved on these conditions: {words}" if words else ""),
    )
    return request


def approve_light_touch(
    session: Session, *, request: ChangeRequest, now: datetime | None = None
) -> ChangeRequest:
    """Approve at once under the council's light-touch rule, with a notice to the person's
    side and the holder."""
    moment = now or utcnow()
    _apply(session, request, moment)
    _decided(session, request, None, ChangeStatus.APPROVED, moment)
    add_event(
        request,
        ChangeStep.APPROVED,
        None,
        "Approved at once under the council's light-touch rule",
        at=moment,
    )
    session.flush()
    tell_asker_side(
        session,
        request,
        subject="Your change of use is approved",
        text="Your request to move money between lines serving the same outcome is approved "
        "at once under your council's light-touch rule, and the plan has changed.",
    )
    return request


def decline_request(
    session: Session,
    *,
    request: ChangeRequest,
    by: User,
    reasons: str,
    sitting: PanelSitting | None = None,
    now: datetime | None = None,
) -> ChangeRequest:
    """Decline, with reasons in plain words (required). The person may ask for a review."""
    moment = now or utcnow()
    _as_decider(session, request, by)
    _with_authority(session, request, by)
    words = check_text(reasons, field="reasons", missing="Give the reasons, in plain words")
    _sitting_for(request, sitting, local_day(moment))
    request.decision_reasons = words
    _decided(session, request, by, ChangeStatus.DECLINED, moment)
    add_event(request, ChangeStep.DECLINED, by, words, at=moment)
    session.flush()
    record(session, by, request, "declined")
    tell_asker_side(
        session,
        request,
        subject="Your change of use is declined",
        text=f"Your request to change how the fund is used is declined.\n\nThe reasons: "
        f"{words}\n\nYou can ask for someone else to review this decision.",
    )
    return request


def ask_for_information(
    session: Session,
    *,
    request: ChangeRequest,
    by: User,
    question: str,
    now: datetime | None = None,
) -> ChangeRequest:
    """Ask the person for more information: the clock stops until they answer."""
    moment = now or utcnow()
    _as_decider(session, request, by)
    words = check_text(question, field="question", missing="Say what you need to know")
    request.status = ChangeStatus.MORE_INFORMATION
    request.clock_stopped_on = local_day(moment)
    add_event(request, ChangeStep.ASKED, by, words, at=moment)
    record(session, by, request, "status")
    tell_asker_side(
        session,
        request,
        subject="More information is needed on your change of use",
        text=f"Before deciding, the council asks:\n\n{words}",
    )
    return request


def escalate_request(
    session: Session,
    *,
    request: ChangeRequest,
    by: User,
    reason: str,
    now: datetime | None = None,
) -> ChangeRequest:
    """A budget holder passes the request to the resource allocation panel, saying why; it
    is decided at the panel's next sitting, by the panel's deadline from when it was sent
    at the latest."""
    moment = now or utcnow()
    if request.route != ChangeRoute.DELEGATED:
        raise Conflict("Only a request for a budget holder is escalated to the panel")
    _as_decider(session, request, by)
    words = check_text(reason, field="reason", missing="Say why the panel should decide it")
    rules = change_rules.rules_in_force(session, request.council_id)
    sitting = change_rules.next_sitting(rules, local_day(moment))
    sent_on = local_day(request.requested_at)
    request.route = ChangeRoute.PANEL
    request.sitting_on = sitting
    request.due_on = max(
        request.due_on, sitting, change_rules.add_working_days(sent_on, rules.panel_days)
    )
    add_event(request, ChangeStep.ESCALATED, by, words, at=moment)
    record(session, by, request, "route")
    tell_asker_side(
        session,
        request,
        subject="Your change of use goes to the panel",
        text=f"Your request will be decided by the resource allocation panel at its sitting "
        f"on {sitting:%A %-d %B %Y}, by {request.due_on:%-d %B %Y} at the latest.",
    )
    tell_deciders(
        session,
        request,
        subject="A change-of-use request for the panel",
        text=f"{fund_name(request)} ({format_pence(request.amount_pence)}) comes to "
        f"the panel's sitting on {sitting:%-d %B %Y}.",
    )
    return request


def record_sitting(
    session: Session, *, council_id: int, sits_on: date, members: str, by: User
) -> PanelSitting:
    """A panel member records a sitting and who sat (once a day; recording it again
    changes who sat)."""
    if by.role != Role.PANEL_MEMBER or by.council_id != council_id:
        raise NotAllowed("A member of the council's panel records its sittings")
    names = "\n".join(
        line.strip()
        for line in check_text(members, field="members", missing="Say who sat").splitlines()
        if line.strip()
    )
    sitting = session.scalar(
        select(PanelSitting).where(
            PanelSitting.council_id == council_id, PanelSitting.sits_on == sits_on
        )
    )
    if sitting is None:
        sitting = PanelSitting(council_id=council_id, sits_on=sits_on, recorded_by_id=by.id)
        session.add(sitting)
    sitting.members = names
    session.flush()
    return sitting


def ask_for_review(
    session: Session,
    *,
    request: ChangeRequest,
    by: User,
    reason: str,
    now: datetime | None = None,
) -> ChangeRequest:
    """The person (or a representative) asks for a decline to be reviewed by someone else:
    a new request for the same change, decided afresh, at the panel if the panel declined
    it. A decline is reviewed once."""
    from contracts.changes.service import refuse_overspend

    moment = now or utcnow()
    must_act_as(session, request.fund, by, AgreementParty.PERSON)
    if request.status != ChangeStatus.DECLINED:
        raise Conflict("Only a declined request can be reviewed")
    if session.scalar(select(ChangeRequest.id).where(ChangeRequest.review_of_id == request.id)):
        raise Conflict("A review of this decision has already been asked for")
    words = check_text(reason, field="reason", missing="Say why it should be looked at again")
    review = ChangeRequest(
        fund_id=request.fund_id,
        council_id=request.council_id,
        kind=request.kind,
        line_id=request.line_id,
        from_line_id=request.from_line_id,
        moved_pence=request.moved_pence,
        offer_id=request.offer_id,
        offer_price_id=request.offer_price_id,
        minutes_per_week=request.minutes_per_week,
        when=request.when,
        weekly_pence=request.weekly_pence,
        costing=request.costing,
        title=request.title,
        starts_on=max(request.starts_on, local_day(moment)),
        ends_on=request.ends_on,
        reason=f"{request.reason}\n\nAsked for a review: {words}",
        outcomes=list(request.outcomes),
        requested_by_id=by.id,
        requested_at=moment,
        review_of_id=request.id,
        decision_reasons="",
        conditions="",
    )
    review.review_of = request
    shown, _ = preview(session, request.fund, review, today=local_day(moment))
    refuse_overspend(shown)
    route = ChangeRoute.PANEL if request.route == ChangeRoute.PANEL else shown.route
    rules = shown.rules
    today = local_day(moment)
    review.amount_pence = shown.amount_pence
    review.route = route
    review.rules_id = rules.id
    review.sitting_on = (
        change_rules.next_sitting(rules, today) if route == ChangeRoute.PANEL else None
    )
    days = rules.panel_days if route == ChangeRoute.PANEL else rules.delegated_days
    review.due_on = max(change_rules.add_working_days(today, days), review.sitting_on or today)
    review.status = ChangeStatus.WAITING
    session.add(review)
    add_event(review, ChangeStep.REVIEW_ASKED, by, words, at=moment)
    add_event(request, ChangeStep.REVIEW_ASKED, by, words, at=moment)
    session.flush()
    record(session, by, review, "review")
    tell_deciders(
        session,
        review,
        subject="A review of a declined change of use",
        text=f"{fund_name(review)} asks for a review of a declined request. Someone other than "
        f"who declined it decides, by {review.due_on:%A %-d %B %Y}.",
    )
    return review


# Every day: reminders and escalation ------------------------------------------------------


def send_reminders(
    session: Session, *, today: date, now: datetime | None = None
) -> list[ChangeRequest]:
    """Remind those who may decide a waiting request once, the council's set working days
    before its deadline (`now`, the moment of the run, for a run replayed in the past)."""
    moment = now or utcnow()
    due = list(
        session.scalars(
            select(ChangeRequest)
            .where(
                ChangeRequest.status == ChangeStatus.WAITING,
                ChangeRequest.reminded_at.is_(None),
                ChangeRequest.due_on >= today,
            )
            .order_by(ChangeRequest.id)
        )
    )
    reminded = []
    for request in due:
        if change_rules.add_working_days(today, request.rules.reminder_days) < request.due_on:
            continue
        request.reminded_at = moment
        add_event(
            request, ChangeStep.REMINDED, None, f"Due on {request.due_on:%-d %B %Y}", at=moment
        )
        tell_deciders(
            session,
            request,
            subject="A change-of-use decision is due soon",
            text=f"{fund_name(request)} ({format_pence(request.amount_pence)}) is to "
            f"be decided by {request.due_on:%A %-d %B %Y}.",
        )
        reminded.append(request)
    return reminded


def escalate_overdue(
    session: Session, *, today: date, now: datetime | None = None
) -> list[ChangeRequest]:
    """A waiting request whose deadline has passed is escalated once: the council's
    managers (its budget holders of the largest authority) and panel members are told, and
    so is the person, that it is late and still to be decided. Nothing is refused."""
    moment = now or utcnow()
    late = list(
        session.scalars(
            select(ChangeRequest)
            .where(
                ChangeRequest.status == ChangeStatus.WAITING,
                ChangeRequest.overdue_at.is_(None),
                ChangeRequest.due_on < today,
            )
            .order_by(ChangeRequest.id)
        )
    )
    for request in late:
        request.overdue_at = moment
        add_event(
            request,
            ChangeStep.OVERDUE,
            None,
            f"It was due on {request.due_on:%-d %B %Y}",
            at=moment,
        )
        authorities = change_rules.authorities_in_force(session, request.council_id)
        top = authorities[0].per_request_pence if authorities else None
        managers = [a.holder for a in authorities if a.per_request_pence == top]
        tell(
            session,
            [*managers, *deciders_of(session, request)],
            subject="A change-of-use decision is late",
            text=f"{fund_name(request)} was due to be decided by "
            f"{request.due_on:%-d %B %Y} and is still waiting. Please see that it is "
            "decided now.",
            path=request_path(request),
        )
        tell(
            session,
            persons_side(session, request.fund),
            subject="Your change of use is late",
            text=f"Your request was due to be decided by {request.due_on:%-d %B %Y}. It has "
            "not been refused: it has been passed to the council's managers to decide now.",
            path=request_path(request),
        )
    return late


def sittings_of(session: Session, *, council_id: int) -> list[PanelSitting]:
    """The council panel's recorded sittings, newest first."""
    return list(
        session.scalars(
            select(PanelSitting)
            .where(PanelSitting.council_id == council_id)
            .order_by(PanelSitting.sits_on.desc())
            .limit(50)
        )
    )


def requests_on(session: Session, fund: IndividualServiceFund) -> list[ChangeRequest]:
    """A fund's requests, newest first."""
    return list(
        session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.fund_id == fund.id)
            .order_by(ChangeRequest.id.desc())
        )
    )


def recent_requests_on(
    session: Session, fund: IndividualServiceFund, *, limit: int
) -> Page[ChangeRequest]:
    """A fund's newest `limit` requests, with how many it has in all, and the lines that
    say what each changes loaded with them."""
    newest = (
        select(ChangeRequest)
        .where(ChangeRequest.fund_id == fund.id)
        .order_by(ChangeRequest.id.desc())
        .options(selectinload(ChangeRequest.line), selectinload(ChangeRequest.from_line))
    )
    return paginate(session, newest, page=1, page_size=limit)


QUEUE_PAGE_SIZE = 25
"""Requests on one page of the queue: a day's work to read, and each one's projection
worked out from its fund's statement stays quick."""


def queue_for(
    session: Session,
    *,
    user: User,
    status: ChangeStatus | None = None,
    route: ChangeRoute | None = None,
    page: int = 1,
    page_size: int = QUEUE_PAGE_SIZE,
) -> Page[ChangeRequest]:
    """One page of the council's requests a budget holder or panel member works on,
    soonest deadline first (open ones by default)."""
    if user.role not in (Role.BUDGET_HOLDER, Role.PANEL_MEMBER) or user.council_id is None:
        return Page(items=[], total=0, page=max(1, page), page_size=page_size)
    query = select(ChangeRequest).where(ChangeRequest.council_id == user.council_id)
    if status is None:
        query = query.where(ChangeRequest.status.in_([s for s in ChangeStatus if s.is_open]))
    else:
        query = query.where(ChangeRequest.status == status)
    if route is not None:
        query = query.where(ChangeRequest.route == route)
    # The id breaks ties between requests due the same day, so no request is on two pages
    # or on none.
    ordered = query.order_by(ChangeRequest.due_on, ChangeRequest.id).options(
        selectinload(ChangeRequest.fund),
        selectinload(ChangeRequest.line),
        selectinload(ChangeRequest.from_line),
    )
    return paginate(session, ordered, page=page, page_size=page_size)
