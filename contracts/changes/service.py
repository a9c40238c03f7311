"""Asking for a change of use: the person, a representative or the fund's holder says what
should change, which outcomes it serves and why; sees its effect on the statement before
sending; and, once sent, the request is routed by the council's rules (light-touch,
a budget holder, or the resource allocation panel) with a deadline in working days.
Requests can be withdrawn before a decision, and answered when more is asked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.changes import rules as change_rules
from contracts.changes.models import (
    ChangeEvent,
    ChangeKind,
    ChangeRequest,
    ChangeRoute,
    ChangeRules,
    ChangeStatus,
    ChangeStep,
)
from contracts.changes.plan_change import Effect, effect_of, line_of
from contracts.funds.models import (
    AgreementParty,
    BudgetLineKind,
    FundStatus,
    IndividualServiceFund,
)
from contracts.funds.service import check_hours, must_act_as, outcomes_chosen
from contracts.funds.statement import Statement, committed_pence, spent_by_line, statement_of
from contracts.spending.fees import fee_on_pence
from marketplace import audit
from marketplace.accounts.models import Representation, Role, User
from marketplace.db import SCOTTISH_TIME, utcnow
from marketplace.errors import Conflict, NotAllowed, RuleBroken, Rules
from marketplace.mail import tell
from marketplace.money import format_pence
from providers.enquiries import check_text, quote
from providers.models import Offer, OfferPrice, OfferStatus

SUBJECT = "change_request"
ASKERS = (AgreementParty.PERSON, AgreementParty.HOLDER)
MAX_PURCHASE_PENCE = 10_000_000
"""£100,000: more than any one-off purchase a fund makes, so a slip of the keyboard is
caught."""


@dataclass(frozen=True)
class ChangeAsked:
    """What someone asks to change, as the form or the API gives it (parsed, bounded)."""

    kind: ChangeKind
    reason: str
    outcome_ids: tuple[int, ...]
    starts_on: date
    line_id: int | None = None
    """The line moved to, or whose hours change, or paused or started again."""
    from_line_id: int | None = None
    """The line money is moved from (a move, or towards a new line or a purchase)."""
    moved_pence: int = 0
    offer_id: int | None = None
    minutes_per_week: int | None = None
    when: int = 0
    weekly_pence: int | None = None
    """A described line's new weekly cost (its hours changing)."""
    title: str = ""
    amount_pence: int | None = None
    """A purchase's cost."""
    ends_on: date | None = None
    """A new line's last day, or the day a purchase is to be made by."""


@dataclass(frozen=True)
class Preview:
    """The statement as it is, and as it would be with the change: what the person sees
    before sending, and what is checked again when it is approved."""

    statement: Statement
    committed_after_pence: int
    fees_to_come_after_pence: int
    amount_pence: int
    route: ChangeRoute
    due_on: date
    sitting_on: date | None
    rules: ChangeRules
    notes: tuple[str, ...] = field(default=())

    @property
    def projected_after_pence(self) -> int:
        return Figures(
            self.statement, self.committed_after_pence, self.fees_to_come_after_pence
        ).projected_after_pence

    @property
    def overspend_pence(self) -> int:
        """By how much it would take the projection below zero (beyond the contingency,
        which the projection keeps) where it makes the projection worse; else 0."""
        after = self.projected_after_pence
        if after >= 0 or after >= self.statement.projected_end_pence:
            return 0
        return -after


def local_day(moment: datetime) -> date:
    return moment.astimezone(SCOTTISH_TIME).date()


# Building a request ----------------------------------------------------------------------


def draft_request(
    session: Session,
    *,
    fund: IndividualServiceFund,
    by: User,
    asked: ChangeAsked,
    today: date,
) -> ChangeRequest:
    """The request as it would be sent (not added to the session): checked, with a new
    line's cost worked out at the offer's price now or the line's agreed price."""
    must_act_as(session, fund, by, *ASKERS)
    if fund.status != FundStatus.ACTIVE:
        raise Conflict("Changes of use are asked for on an active fund")
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    request = ChangeRequest(
        fund_id=fund.id,
        council_id=fund.council_id,
        kind=asked.kind,
        from_line_id=asked.from_line_id,
        moved_pence=asked.moved_pence if asked.from_line_id is not None else 0,
        line_id=asked.line_id,
        starts_on=asked.starts_on,
        requested_by_id=by.id,
        when=0,
        costing="",
        title="",
        decision_reasons="",
        conditions="",
    )
    with Rules() as rules:
        try:
            request.reason = check_text(
                asked.reason, field="reason", missing="Say why, in your own words"
            )
        except RuleBroken as error:
            rules.broken(error.message, field="reason")
        try:
            request.outcomes = outcomes_chosen(
                fund, asked.outcome_ids, missing="Tick the outcomes the change serves"
            )
        except RuleBroken as error:
            rules.broken(error.message, field="outcomes")
        if not today <= asked.starts_on <= fund.period_ends_on:
            rules.broken(
                f"Choose a day from today to the end of the period, "
                f"{fund.period_ends_on:%-d %B %Y}",
                field="starts_on",
            )
    if asked.kind == ChangeKind.NEW_OFFER:
        _cost_new_offer(session, fund, request, asked)
    elif asked.kind == ChangeKind.PURCHASE:
        _cost_purchase(fund, request, asked)
    elif asked.kind == ChangeKind.HOURS:
        _cost_new_hours(session, fund, request, asked)
    elif asked.kind == ChangeKind.PAUSE:
        request.ends_on = line_of(fund, asked.line_id, field="line").ends_on
    return request


def _weekly_cost(price: OfferPrice, offer: Offer, minutes: int, when: int) -> tuple[int, str]:
    quoted = quote(
        price, minutes_per_week=minutes, typical_week_hours=offer.typical_week_hours, when=when
    )
    if quoted.cost is None:
        raise RuleBroken("This offer has a one-off price: ask for a purchase", field="offer")
    lines = [f"{line.label}: {format_pence(line.pence)}" for line in quoted.cost.support_lines]
    return quoted.cost.support_pence, "\n".join(lines + list(quoted.cost.notes))


def _cost_new_offer(
    session: Session, fund: IndividualServiceFund, request: ChangeRequest, asked: ChangeAsked
) -> None:
    offer = session.get(Offer, asked.offer_id) if asked.offer_id is not None else None
    if offer is None or offer.status != OfferStatus.PUBLISHED or offer.price is None:
        raise RuleBroken("Choose a published offer with a price", field="offer")
    minutes = check_hours(asked.minutes_per_week, asked.when)
    request.offer = offer
    request.offer_id = offer.id
    request.offer_price_id = offer.price.id
    request.minutes_per_week, request.when = minutes, asked.when
    request.weekly_pence, request.costing = _weekly_cost(offer.price, offer, minutes, asked.when)
    request.title = f"{offer.title}, {offer.provider.name}"[:200]
    request.ends_on = _last_day(fund, asked)


def _cost_purchase(fund: IndividualServiceFund, request: ChangeRequest, asked: ChangeAsked) -> None:
    title = check_text(asked.title, field="title", missing="Say what is to be bought")[:200]
    amount = asked.amount_pence
    if amount is None or not 0 < amount <= MAX_PURCHASE_PENCE:
        raise RuleBroken(
            f"Enter what it costs, from £0.01 to {format_pence(MAX_PURCHASE_PENCE)}",
            field="amount",
        )
    request.title = title
    request.weekly_pence = amount  # a purchase's amount, in the one column for a cost
    request.ends_on = _last_day(fund, asked)


def _last_day(fund: IndividualServiceFund, asked: ChangeAsked) -> date:
    assert fund.period_ends_on is not None
    ends_on = asked.ends_on or fund.period_ends_on
    if not asked.starts_on <= ends_on <= fund.period_ends_on:
        raise RuleBroken(
            f"Choose a last day from the first day to {fund.period_ends_on:%-d %B %Y}",
            field="ends_on",
        )
    return ends_on


def _cost_new_hours(
    session: Session, fund: IndividualServiceFund, request: ChangeRequest, asked: ChangeAsked
) -> None:
    line = line_of(fund, asked.line_id, field="line")
    if line.kind == BudgetLineKind.OFFER:
        price = session.get(OfferPrice, line.offer_price_id)
        assert price is not None and line.offer is not None
        minutes = check_hours(asked.minutes_per_week, asked.when or line.when)
        when = asked.when or line.when
        request.minutes_per_week, request.when = minutes, when
        # At the price the line was agreed at: a change of hours is not a new price.
        request.weekly_pence, request.costing = _weekly_cost(price, line.offer, minutes, when)
    elif line.kind == BudgetLineKind.DESCRIBED:
        if asked.weekly_pence is None or not 0 < asked.weekly_pence <= MAX_PURCHASE_PENCE:
            raise RuleBroken("Enter what it will cost a week", field="weekly")
        request.weekly_pence = asked.weekly_pence
    else:
        raise RuleBroken("Choose a line of weekly support", field="line")
    request.ends_on = line.ends_on


# What it would do ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What a fund's statement would say with a request's change to its plan."""

    statement: Statement
    committed_after_pence: int
    fees_to_come_after_pence: int

    @property
    def projected_after_pence(self) -> int:
        s = self.statement
        return (
            s.budget_pence
            - s.spent_pence
            - s.fees_charged_pence
            - self.committed_after_pence
            - self.fees_to_come_after_pence
        )


def figures_with(
    session: Session,
    fund: IndividualServiceFund,
    request: ChangeRequest,
    *,
    statement: Statement,
    spent_on: dict[int, int],
    today: date,
) -> tuple[Figures, Effect]:
    """The statement's figures with the request's change (`statement` and `spent_on` read
    once for a fund, however many of its requests are worked out)."""
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    effect = effect_of(session, fund, request, spent_on=spent_on)
    from_day = min(max(today, fund.period_starts_on), fund.period_ends_on + timedelta(days=1))
    committed_after = committed_pence(
        effect.lines_after(fund), from_day, fund.period_ends_on, spent_on=spent_on
    )
    fixed_to_come = statement.fees_to_come_pence - fee_on_pence(fund, statement.committed_pence)
    return (
        Figures(
            statement=statement,
            committed_after_pence=committed_after,
            fees_to_come_after_pence=fee_on_pence(fund, committed_after) + fixed_to_come,
        ),
        effect,
    )


def preview(
    session: Session,
    fund: IndividualServiceFund,
    request: ChangeRequest,
    *,
    today: date,
) -> tuple[Preview, Effect]:
    """The request's effect on the statement, the route it takes and its deadline."""
    figures, effect = figures_with(
        session,
        fund,
        request,
        statement=statement_of(session, fund, on=today),
        spent_on=spent_by_line(session, fund),
        today=today,
    )
    rules = change_rules.rules_in_force(session, fund.council_id)
    route, notes = route_for(session, fund, request, effect, rules)
    days = {ChangeRoute.LIGHT_TOUCH: 0, ChangeRoute.DELEGATED: rules.delegated_days}
    due = change_rules.add_working_days(today, days.get(route, rules.panel_days))
    sitting = change_rules.next_sitting(rules, today) if route == ChangeRoute.PANEL else None
    return (
        Preview(
            statement=figures.statement,
            committed_after_pence=figures.committed_after_pence,
            fees_to_come_after_pence=figures.fees_to_come_after_pence,
            amount_pence=effect.amount_pence,
            route=route,
            due_on=max(due, sitting) if sitting else due,
            sitting_on=sitting,
            rules=rules,
            notes=tuple(notes),
        ),
        effect,
    )


def route_for(
    session: Session,
    fund: IndividualServiceFund,
    request: ChangeRequest,
    effect: Effect,
    rules: ChangeRules,
) -> tuple[ChangeRoute, list[str]]:
    """Light-touch when the council's rule allows it; else a budget holder when one has the
    authority; else the panel. With the reasons, in plain words."""
    if request.kind == ChangeKind.MOVE and request.review_of_id is None:
        source = line_of(fund, request.from_line_id, field="from_line")
        target = line_of(fund, request.line_id, field="line")
        shared = {o.id for o in source.outcomes} & {o.id for o in target.outcomes}
        used = light_touch_used_pence(session, fund)
        if shared and used + effect.amount_pence <= rules.light_touch_limit_pence:
            return ChangeRoute.LIGHT_TOUCH, [
                "Both lines serve the same outcome and the council approves moves like this "
                f"at once, up to {format_pence(rules.light_touch_limit_pence)} a period "
                f"({format_pence(used)} used so far)"
            ]
    if deciders_with_authority(session, fund, effect.amount_pence):
        return ChangeRoute.DELEGATED, ["A budget holder can decide it within their authority"]
    return ChangeRoute.PANEL, [
        f"{format_pence(effect.amount_pence)} is above what a budget holder may approve alone"
    ]


def light_touch_used_pence(session: Session, fund: IndividualServiceFund) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ChangeRequest.amount_pence), 0)).where(
                ChangeRequest.fund_id == fund.id,
                ChangeRequest.route == ChangeRoute.LIGHT_TOUCH,
                ChangeRequest.status == ChangeStatus.APPROVED,
            )
        )
        or 0
    )


def approved_by_pence(session: Session, fund: IndividualServiceFund, holder_id: int) -> int:
    """What one budget holder has approved on a fund (a period is a year at most)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ChangeRequest.amount_pence), 0)).where(
                ChangeRequest.fund_id == fund.id,
                ChangeRequest.decided_by_id == holder_id,
                ChangeRequest.route == ChangeRoute.DELEGATED,
                ChangeRequest.status == ChangeStatus.APPROVED,
            )
        )
        or 0
    )


def authority_problem(
    session: Session, fund: IndividualServiceFund, holder: User, amount_pence: int
) -> str | None:
    """Why `holder` may not approve `amount_pence` on `fund` alone, or None."""
    authority = change_rules.authority_of(session, holder.id)
    if authority is None:
        return "You have no delegated authority set: ask an administrator"
    if amount_pence > authority.per_request_pence:
        return (
            f"{format_pence(amount_pence)} is above your delegated authority of "
            f"{format_pence(authority.per_request_pence)} a request"
        )
    used = approved_by_pence(session, fund, holder.id)
    if used + amount_pence > authority.per_fund_year_pence:
        return (
            f"You have approved {format_pence(used)} on this fund this period; this would "
            f"take it above your {format_pence(authority.per_fund_year_pence)} for one fund"
        )
    return None


def deciders_with_authority(
    session: Session, fund: IndividualServiceFund, amount_pence: int
) -> list[User]:
    """The council's budget holders who may approve `amount_pence` on `fund` alone."""
    found = []
    for authority in change_rules.authorities_in_force(session, fund.council_id):
        holder = authority.holder
        if holder.is_active and authority_problem(session, fund, holder, amount_pence) is None:
            found.append(holder)
    return found


# Sending, withdrawing and answering -------------------------------------------------------


def send_request(
    session: Session,
    *,
    fund: IndividualServiceFund,
    by: User,
    asked: ChangeAsked,
    now: datetime | None = None,
) -> ChangeRequest:
    """Send the request: refused if it would overspend the fund beyond its contingency;
    approved at once when light-touch; otherwise routed, with its deadline, and those who
    may decide it are told."""
    moment = now or utcnow()
    today = local_day(moment)
    request = draft_request(session, fund=fund, by=by, asked=asked, today=today)
    shown, _ = preview(session, fund, request, today=today)
    refuse_overspend(shown)
    request.amount_pence = shown.amount_pence
    request.route = shown.route
    request.rules_id = shown.rules.id
    request.due_on = shown.due_on
    request.sitting_on = shown.sitting_on
    request.requested_at = moment
    request.status = ChangeStatus.WAITING
    session.add(request)
    request.events.append(ChangeEvent(step=ChangeStep.SENT, actor_id=by.id, at=moment))
    session.flush()
    record(session, by, request, "sent")
    if request.route == ChangeRoute.LIGHT_TOUCH:
        from contracts.changes.decisions import approve_light_touch

        approve_light_touch(session, request=request, now=moment)
    else:
        tell_deciders(
            session,
            request,
            subject="A change-of-use request to decide",
            text=(
                f"A change of use is asked for: {fund_name(request).lower()} "
                f"({request.kind.label.lower()}, {format_pence(request.amount_pence)}). "
                f"Please decide it by {request.due_on:%A %-d %B %Y}."
            ),
        )
    return request


def overspend_problem(shown: Preview) -> str | None:
    """Why the request cannot be sent, for overspending, or None."""
    if not shown.overspend_pence:
        return None
    return (
        f"This would overspend the fund by {format_pence(shown.overspend_pence)} beyond "
        "its contingency by the end of the period: ask for less, or move money from "
        "another line"
    )


def refuse_overspend(shown: Preview) -> None:
    problem = overspend_problem(shown)
    if problem is not None:
        raise RuleBroken(problem, field="amount")


def _open(request: ChangeRequest) -> None:
    if not request.status.is_open:
        raise Conflict(f"This request is {request.status.label.lower()}, so it cannot change now")


def withdraw_request(
    session: Session, *, request: ChangeRequest, by: User, reason: str = ""
) -> ChangeRequest:
    """Whoever may ask for changes on the fund takes the request back, before a decision."""
    must_act_as(session, request.fund, by, *ASKERS)
    _open(request)
    words = reason.strip()[:2000]
    request.status = ChangeStatus.WITHDRAWN
    add_event(request, ChangeStep.WITHDRAWN, by, words)
    record(session, by, request, "status")
    return request


def answer_request(
    session: Session, *, request: ChangeRequest, by: User, words: str, now: datetime | None = None
) -> ChangeRequest:
    """The person (or whoever asked) gives the information asked for: the clock starts
    again, and the deadline moves on by the working days it was stopped."""
    must_act_as(session, request.fund, by, *ASKERS)
    if request.status != ChangeStatus.MORE_INFORMATION:
        raise Conflict("Nobody has asked for more information on this request")
    text = check_text(words, field="words", missing="Write the information asked for")
    moment = now or utcnow()
    stopped = request.clock_stopped_on or local_day(moment)
    waited = change_rules.working_days_between(stopped, local_day(moment))
    request.due_on = change_rules.add_working_days(request.due_on, waited)
    request.clock_stopped_on = None
    request.status = ChangeStatus.WAITING
    add_event(request, ChangeStep.ANSWERED, by, text, at=moment)
    record(session, by, request, "status")
    tell_deciders(
        session,
        request,
        subject="More information on a change-of-use request",
        text=f"The information asked for on {fund_name(request).lower()} is given. "
        f"Please decide it by "
        f"{request.due_on:%A %-d %B %Y}.",
    )
    return request


# Who hears of it ------------------------------------------------------------------------


def fund_name(request: ChangeRequest) -> str:
    """How mail names a request: by number, never by the person (mail is less private than
    the pages it links to)."""
    return f"Request {request.id} on individual service fund {request.fund_id}"


def request_path(request: ChangeRequest) -> str:
    return f"/funds/{request.fund_id}/changes/{request.id}"


def persons_side(session: Session, fund: IndividualServiceFund) -> list[User]:
    """The person and everyone acting for them now."""
    representatives = session.scalars(
        select(User)
        .join(Representation, Representation.representative_id == User.id)
        .where(Representation.supported_person_id == fund.person_id)
    )
    return [fund.person, *representatives]


def deciders_of(session: Session, request: ChangeRequest) -> list[User]:
    """Who may decide the request now: the budget holders whose authority covers it, or the
    council's panel members."""
    if request.route == ChangeRoute.DELEGATED:
        return deciders_with_authority(session, request.fund, request.amount_pence)
    return list(
        session.scalars(
            select(User).where(
                User.role == Role.PANEL_MEMBER, User.council_id == request.council_id
            )
        )
    )


def tell_deciders(session: Session, request: ChangeRequest, *, subject: str, text: str) -> None:
    tell(
        session,
        deciders_of(session, request),
        subject=subject,
        text=text,
        path=request_path(request),
    )


def tell_asker_side(session: Session, request: ChangeRequest, *, subject: str, text: str) -> None:
    """The person, their representatives and the holder's staff."""
    fund = request.fund
    holder_staff = [member.user for member in fund.holder.members]
    tell(
        session,
        [*persons_side(session, fund), *holder_staff],
        subject=subject,
        text=text,
        path=request_path(request),
    )


def add_event(
    request: ChangeRequest,
    step: ChangeStep,
    by: User | None,
    words: str = "",
    *,
    at: datetime | None = None,
) -> None:
    request.events.append(
        ChangeEvent(step=step, actor_id=by.id if by else None, words=words, at=at or utcnow())
    )


def record(session: Session, by: User, request: ChangeRequest, what: str) -> None:
    audit.record_change(
        session, actor=by, subject_type=SUBJECT, subject_id=request.id, fields=[what]
    )


def record_reads(session: Session, viewer: User, requests: Iterable[ChangeRequest]) -> None:
    """A request holds a person's words about their care and money: every read of one,
    on its own or in a queue, page or API alike, is in the audit log as a read of it."""
    for request in requests:
        audit.record_read(session, actor=viewer, subject_type=SUBJECT, subject_id=request.id)


def must_not_be_asker(session: Session, request: ChangeRequest, by: User) -> None:
    if by.id == request.requested_by_id:
        raise NotAllowed("You cannot decide a request you asked for")
