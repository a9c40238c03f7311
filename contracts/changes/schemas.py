"""The JSON shapes of change of use under /api/v1: a request as asked for, its preview, the
request with its history and decision, panel sittings, a council's rules and a budget
holder's delegated authority. Amounts in pence, dates as ISO dates (YYYY-MM-DD)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from contracts.changes.models import (
    ChangeEvent,
    ChangeKind,
    ChangeRequest,
    ChangeRoute,
    ChangeRules,
    ChangeStatus,
    ChangeStep,
    DelegatedAuthority,
    PanelSitting,
)
from contracts.changes.rules import MAX_LIMIT_PENCE
from contracts.changes.service import MAX_PURCHASE_PENCE, ChangeAsked, Preview
from marketplace.parsing import MAX_RECORD_ID, free_text, one_line, parse_date
from providers.enquiries import MAX_MINUTES_PER_WEEK
from providers.schemas import availability_mask, availability_values

Id = Annotated[int, Field(gt=0, le=MAX_RECORD_ID)]
Pence = Annotated[int, Field(ge=0, le=MAX_PURCHASE_PENCE)]
LimitPence = Annotated[int, Field(ge=0, le=MAX_LIMIT_PENCE)]
Words = Annotated[str, free_text("your words", 2_000)]
"""Plain words a person writes, trimmed: the service checks they are not blank."""
Times = Annotated[list[Annotated[str, Field(pattern=r"^[0-6]-[0-3]$")]], Field(max_length=28)]
"""Days and times, each as 'day-time': day 0 (Monday) to 6 (Sunday), time 0 (morning), 1
(afternoon), 2 (evening) or 3 (night). For example ["0-0", "3-1"]."""
NeededWords = Annotated[str, free_text("your words", 2_000), Field(min_length=1)]
"""Plain words that must be given (a decline's reasons): blank is refused by its field."""


def _iso_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("Enter a date like 2026-03-31")
    return parse_date(value)


Day = Annotated[date, BeforeValidator(_iso_date)]
"""YYYY-MM-DD, a year from 1900 to 2200 (marketplace.parsing)."""


class ChangeIn(BaseModel):
    """What is asked for; which fields count depends on `kind`:

    - `move`: `from_line_id`, `line_id` and `moved_pence`;
    - `new_offer`: `offer_id`, `minutes_per_week` and `when` (perhaps `ends_on`, and
      `from_line_id` with `moved_pence` to pay for it from another line);
    - `purchase`: `title`, `amount_pence` (perhaps `ends_on`, `from_line_id`, `moved_pence`);
    - `hours`: `line_id` and `minutes_per_week` (an offer's line, perhaps `when`) or
      `weekly_pence` (a described line);
    - `pause` and `resume`: `line_id`.
    """

    kind: ChangeKind
    reason: Words
    """Why, in the person's words."""
    outcome_ids: Annotated[list[Id], Field(max_length=50)]
    """The plan's outcomes the change serves."""
    starts_on: Day
    """The day it takes effect: from today to the end of the fund's period."""
    line_id: Id | None = None
    from_line_id: Id | None = None
    moved_pence: LimitPence = 0
    offer_id: Id | None = None
    minutes_per_week: Annotated[int, Field(gt=0, le=MAX_MINUTES_PER_WEEK)] | None = None
    when: Times = []
    """The days and times it is at (a new offer's line, or a line's new hours)."""
    weekly_pence: Pence | None = None
    title: Annotated[str, one_line("the title")] = ""
    amount_pence: Pence | None = None
    """A purchase's cost."""
    ends_on: Day | None = None
    """A new line's last day, or the day a purchase is made by (the period's end if none)."""

    def asked(self) -> ChangeAsked:
        return ChangeAsked(
            kind=self.kind,
            reason=self.reason,
            outcome_ids=tuple(self.outcome_ids),
            starts_on=self.starts_on,
            line_id=self.line_id,
            from_line_id=self.from_line_id,
            moved_pence=self.moved_pence,
            offer_id=self.offer_id,
            minutes_per_week=self.minutes_per_week,
            when=availability_mask(self.when),
            weekly_pence=self.weekly_pence,
            title=self.title,
            amount_pence=self.amount_pence,
            ends_on=self.ends_on,
        )


class StatementBeforeOut(BaseModel):
    on: date
    budget_pence: int
    spent_pence: int
    available_pence: int
    committed_pence: int
    fees_to_come_pence: int
    contingency_pence: int
    projected_end_pence: int
    """What the period will end with, the contingency kept, as the plan stands."""


class PreviewOut(BaseModel):
    """The statement now, and as it would be with the change; where it goes and by when."""

    before: StatementBeforeOut
    committed_after_pence: int
    fees_to_come_after_pence: int
    projected_after_pence: int
    amount_pence: int
    """What the change is worth: delegated authority is measured by it."""
    overspend_pence: int
    """By how much it would overspend the fund beyond its contingency (0: it would not;
    more than 0: it cannot be sent)."""
    route: ChangeRoute
    due_on: date
    """The last working day for the decision, were it sent today."""
    sitting_on: date | None
    """The panel sitting that would decide it (a panel request)."""
    rules_version: int
    notes: list[str]

    @classmethod
    def of(cls, shown: Preview) -> PreviewOut:
        s = shown.statement
        return cls(
            before=StatementBeforeOut(
                on=s.on,
                budget_pence=s.budget_pence,
                spent_pence=s.spent_pence,
                available_pence=s.available_pence,
                committed_pence=s.committed_pence,
                fees_to_come_pence=s.fees_to_come_pence,
                contingency_pence=s.contingency_pence,
                projected_end_pence=s.projected_end_pence,
            ),
            committed_after_pence=shown.committed_after_pence,
            fees_to_come_after_pence=shown.fees_to_come_after_pence,
            projected_after_pence=shown.projected_after_pence,
            amount_pence=shown.amount_pence,
            overspend_pence=shown.overspend_pence,
            route=shown.route,
            due_on=shown.due_on,
            sitting_on=shown.sitting_on,
            rules_version=shown.rules.version,
            notes=list(shown.notes),
        )


class OutcomeOut(BaseModel):
    id: int
    name: str
    """The person's own words for those who may read them, else the outcome's name."""


class ChangeOut(BaseModel):
    """A request as the reader may see it: what it asks, where it went, and its decision."""

    id: int
    fund_id: int
    council_id: int
    kind: ChangeKind
    status: ChangeStatus
    route: ChangeRoute
    amount_pence: int
    reason: str
    """In the person's words; blank for those who follow the money only (finance)."""
    outcomes: list[OutcomeOut]
    line_id: int | None
    from_line_id: int | None
    moved_pence: int
    offer_id: int | None
    minutes_per_week: int | None
    when: list[str]
    weekly_pence: int | None
    """A week of the new or changed line, or a purchase's cost, as costed when asked."""
    title: str
    starts_on: date
    ends_on: date | None
    requested_at: datetime
    due_on: date
    sitting_on: date | None
    clock_stopped_on: date | None
    """While more information is asked for: the day it was asked."""
    overdue: bool
    rules_version: int
    """The council's rules it was routed under."""
    decided_at: datetime | None
    decided_by_id: int | None
    decided_under_version: int | None
    sitting_id: int | None
    decision_reasons: str
    conditions: str
    new_line_id: int | None
    review_of_id: int | None

    @classmethod
    def fields_of(
        cls, request: ChangeRequest, *, words: bool, names: dict[int, str]
    ) -> dict[str, Any]:
        return {
            "id": request.id,
            "fund_id": request.fund_id,
            "council_id": request.council_id,
            "kind": request.kind,
            "status": request.status,
            "route": request.route,
            "amount_pence": request.amount_pence,
            "reason": request.reason if words else "",
            "outcomes": [OutcomeOut(id=o.id, name=names.get(o.id, "")) for o in request.outcomes],
            "line_id": request.line_id,
            "from_line_id": request.from_line_id,
            "moved_pence": request.moved_pence,
            "offer_id": request.offer_id,
            "minutes_per_week": request.minutes_per_week,
            "when": availability_values(request.when or 0),
            "weekly_pence": request.weekly_pence,
            "title": request.title,
            "starts_on": request.starts_on,
            "ends_on": request.ends_on,
            "requested_at": request.requested_at,
            "due_on": request.due_on,
            "sitting_on": request.sitting_on,
            "clock_stopped_on": request.clock_stopped_on,
            "overdue": request.overdue_at is not None,
            "rules_version": request.rules.version,
            "decided_at": request.decided_at,
            "decided_by_id": request.decided_by_id,
            "decided_under_version": (
                request.decided_under.version if request.decided_under is not None else None
            ),
            "sitting_id": request.sitting_id,
            "decision_reasons": request.decision_reasons,
            "conditions": request.conditions,
            "new_line_id": request.new_line_id,
            "review_of_id": request.review_of_id,
        }

    @classmethod
    def of(cls, request: ChangeRequest, *, words: bool, names: dict[int, str]) -> ChangeOut:
        return cls(**cls.fields_of(request, words=words, names=names))


class ChangeQueueOut(BaseModel):
    """One page of the queue, soonest deadline first."""

    page: int
    pages: int
    page_size: int
    total: int
    """Requests that match, on every page."""
    requests: list[ChangeOut]


class EventOut(BaseModel):
    step: ChangeStep
    at: datetime
    actor_id: int | None
    """Who took it; none for the service's own work (a light-touch approval, a reminder)."""
    words: str

    @classmethod
    def of(cls, event: ChangeEvent, *, words: bool) -> EventOut:
        return cls(
            step=event.step,
            at=event.at,
            actor_id=event.actor_id,
            words=event.words if words else "",
        )


class ChangeDetailOut(ChangeOut):
    """A request with its whole history, oldest step first."""

    events: list[EventOut]

    @classmethod
    def detail(
        cls, request: ChangeRequest, *, words: bool, names: dict[int, str]
    ) -> ChangeDetailOut:
        return cls(
            **cls.fields_of(request, words=words, names=names),
            events=[EventOut.of(e, words=words) for e in request.events],
        )


class WithdrawIn(BaseModel):
    reason: Words = ""
    """Why, if the person wants to say."""


class AnswerIn(BaseModel):
    words: Words
    """The information asked for."""


class ReasonIn(BaseModel):
    reason: Words


class ApproveIn(BaseModel):
    conditions: Words = ""
    """What the approval asks, in plain words; blank for none."""
    sitting_id: Id | None = None
    """For a panel request: the sitting that decided it (recorded first)."""


class DeclineIn(BaseModel):
    reasons: NeededWords
    """Why, in plain words: required."""
    sitting_id: Id | None = None
    """For a panel request: the sitting that decided it (recorded first)."""


class QuestionIn(BaseModel):
    question: Words
    """What the person is asked; the clock stops until they answer."""


class SittingIn(BaseModel):
    sits_on: Day
    """The day the panel sat: today or before."""
    members: Annotated[str, free_text("who sat", 2_000)]
    """Who sat, by name and role, one a line."""


class SittingOut(BaseModel):
    id: int
    council_id: int
    sits_on: date
    members: list[str]
    recorded_by_id: int
    recorded_at: datetime

    @classmethod
    def of(cls, sitting: PanelSitting) -> SittingOut:
        return cls(
            id=sitting.id,
            council_id=sitting.council_id,
            sits_on=sitting.sits_on,
            members=sitting.members.splitlines(),
            recorded_by_id=sitting.recorded_by_id,
            recorded_at=sitting.recorded_at,
        )


class ChangeRulesIn(BaseModel):
    council_id: Id
    light_touch_limit_pence: LimitPence
    """Money a fund may move in a period between lines that serve the same outcome,
    approved at once with a notice (0: nothing is light-touch)."""
    delegated_days: Annotated[int, Field(ge=0, le=60)]
    """Working days a budget holder has to decide."""
    panel_days: Annotated[int, Field(ge=0, le=90)]
    """Working days the resource allocation panel has."""
    reminder_days: Annotated[int, Field(ge=0, le=30)]
    """Working days before a deadline that those who may decide are reminded."""
    panel_first_sits_on: Day
    panel_every_days: Annotated[int, Field(ge=1, le=92)]
    """The panel sits on its first date and every so many days after (14: fortnightly)."""
    note: Words
    """Why the rules change."""


class ChangeRulesVersionOut(BaseModel):
    version: int
    light_touch_limit_pence: int
    delegated_days: int
    panel_days: int
    reminder_days: int
    panel_first_sits_on: date
    panel_every_days: int
    set_by_id: int | None
    """None for the product's defaults, which a council starts with."""
    set_at: datetime | None
    note: str

    @classmethod
    def of(cls, rules: ChangeRules) -> ChangeRulesVersionOut:
        return cls(
            version=rules.version,
            light_touch_limit_pence=rules.light_touch_limit_pence,
            delegated_days=rules.delegated_days,
            panel_days=rules.panel_days,
            reminder_days=rules.reminder_days,
            panel_first_sits_on=rules.panel_first_sits_on,
            panel_every_days=rules.panel_every_days,
            set_by_id=rules.set_by_id,
            set_at=rules.set_at,
            note=rules.note,
        )


class ChangeRulesOut(BaseModel):
    council_id: int
    in_force: ChangeRulesVersionOut
    history: list[ChangeRulesVersionOut]
    """Every version, newest first."""


class AuthorityIn(BaseModel):
    per_request_pence: LimitPence
    """The most the budget holder may approve alone in one request."""
    per_fund_year_pence: LimitPence
    """The most they may approve alone for any one fund in its period (a year at most): at
    least `per_request_pence`."""
    note: Words
    """Why the limits are set."""


class AuthorityVersionOut(BaseModel):
    id: int
    per_request_pence: int
    per_fund_year_pence: int
    set_by_id: int
    set_at: datetime
    note: str

    @classmethod
    def of(cls, authority: DelegatedAuthority) -> AuthorityVersionOut:
        return cls(
            id=authority.id,
            per_request_pence=authority.per_request_pence,
            per_fund_year_pence=authority.per_fund_year_pence,
            set_by_id=authority.set_by_id,
            set_at=authority.set_at,
            note=authority.note,
        )


class AuthorityOut(BaseModel):
    holder_id: int
    council_id: int | None
    in_force: AuthorityVersionOut | None
    """None until an administrator sets limits: the budget holder may approve nothing alone."""
    history: list[AuthorityVersionOut]
    """Every setting, newest first."""
