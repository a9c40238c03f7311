"""Demo change of use, made through the same services people use, with the clock set in the
past, so that deadlines, working days, panel sittings and every step of the history are
real: the requests the demo's people in Highland sent over last year (funds whose periods
have ended) and since the start of this financial year, and how they were decided.

An administrator set the budget holders' delegated authority at the start of each year and
raised the council's light-touch limit at the start of this year's second quarter (its
rules' version 2). Early in each year, each fund bought something for its outcome with
money from its support line, so later small moves between the two are light-touch; then a
mix of requests: approvals (some with conditions, some late, escalated the morning after
their deadline by the daily run), declines with reasons and a review of one by another
budget holder, more information asked for and given, escalations to the resource
allocation panel, and larger requests the panel decided at its fortnightly sittings. A few
are still open today: one is overdue (escalated, never refused), one waits for the
person's answer, one for the panel's next sitting, and a review of a decline of Morag
Lindsay's waits for someone other than who declined it.

Deterministic: the same seed and the same day give the same requests."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.models import (
    ChangeKind,
    ChangeRequest,
    ChangeRoute,
    ChangeRules,
    ChangeStatus,
    PanelSitting,
)
from contracts.changes.plan_change import movable_pence
from contracts.funds.models import BudgetLine, BudgetLineKind, FundStatus, IndividualServiceFund
from marketplace import outbox
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.db import SCOTTISH_TIME
from marketplace.geography.models import CouncilArea

SEED = 20_261_204
SECOND_HOLDER = ("budget-holder-2@example.org", "Mhairi Sutherland")
SECOND_HOLDER_LIMITS = (50_000, 150_000)
"""£500 a request and £1,500 a fund a year."""
HOLDER_LIMITS = (150_000, 500_000)
"""The demo budget holder's: £1,500 a request and £5,000 a fund a year."""
LARGE_WEEKLY_PENCE = 15_000
"""A support line of £150 a week or more can pay for what the panel decides."""

MIX = (
    ("approve",) * 13
    + ("conditions",) * 5
    + ("late",) * 4
    + ("decline",) * 4
    + ("ask",) * 4
    + ("light",) * 8
    + ("panel",) * 3
    + ("panel_decline",) * 1
    + ("escalate",) * 2
)
"""How a year's requests go (44 of them), besides each fund's first purchase and, this
year, the few still open."""


@dataclass
class _Timeline:
    """Steps of many requests, run in the order they happened (so each decision is made
    under the rules then in force, and each sitting is recorded before it decides); steps
    after `now` have not happened yet. The mails of steps before today went out when they
    happened: they are recorded as sent then, not queued for today (a year of them would
    all arrive at once in the outbox of a freshly loaded demo)."""

    session: Session
    now: datetime
    steps: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)

    def at(self, moment: datetime, step: Callable[[], object]) -> None:
        self.steps.append((moment, len(self.steps), step))

    def play(self) -> None:
        for moment, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            if moment > self.now:
                continue
            mails_before = outbox.newest_id(self.session)
            step()
            if moment.date() < self.now.date():
                outbox.record_as_sent_since(self.session, mails_before, at=moment)


def load_demo_changes(
    session: Session,
    *,
    today: date,
    hasher: PasswordHasher,
    admin: User,
    budget_holder: User,
    panel_member: User,
    morag: User,
) -> int:
    """Send and decide the demo's change-of-use requests unless there are some already;
    how many were sent. Run before the demo's spending, which closes last year's funds."""
    if session.scalar(select(ChangeRequest.id).limit(1)) is not None:
        return 0
    council = budget_holder.council
    assert council is not None
    funds = list(
        session.scalars(
            select(IndividualServiceFund)
            .where(
                IndividualServiceFund.status == FundStatus.ACTIVE,
                IndividualServiceFund.council_id == council.id,
            )
            .order_by(IndividualServiceFund.id)
        )
    )
    morags = next((fund for fund in funds if fund.person_id == morag.id), None)
    years: dict[date, list[IndividualServiceFund]] = {}
    for fund in funds:
        if fund is not morags and fund.period_starts_on is not None and _has_support_line(fund):
            years.setdefault(fund.period_starts_on, []).append(fund)
    this_year = max((starts_on for starts_on in years if starts_on <= today), default=None)
    if this_year is None:
        return 0
    demo = _Demo(session, today=today, rng=random.Random(SEED))
    demo.holder, demo.panel = budget_holder, panel_member
    demo.second = _second_holder(session, hasher, council)
    first_year = min(years)
    for starts_on in sorted(years):
        for holder, (per_request, per_year) in (
            (budget_holder, HOLDER_LIMITS),
            (demo.second, SECOND_HOLDER_LIMITS),
        ):
            change_rules.set_authority(
                session,
                holder=holder,
                by=admin,
                per_request_pence=per_request,
                per_fund_year_pence=per_year,
                note="Set for the new financial year",
                now=_at(starts_on - timedelta(days=7), 9),
            )
    rules = change_rules.rules_in_force(session, council.id)
    if rules.version == 1 and rules.set_by_id is None:
        # The product's defaults, written when first read: in force since before the demo.
        rules.set_at = _at(first_year - timedelta(days=7), 9)
    demo.rules = rules
    second_quarter = change_rules.add_working_days(this_year + timedelta(days=91), 0)
    demo.timeline.at(
        _at(second_quarter, 9),
        lambda: change_rules.set_rules(
            session,
            council=council,
            by=admin,
            values=change_rules.RuleValues(
                light_touch_limit_pence=75_000,
                delegated_days=rules.delegated_days,
                panel_days=rules.panel_days,
                reminder_days=2,
                panel_first_sits_on=rules.panel_first_sits_on,
                panel_every_days=rules.panel_every_days,
            ),
            note="Last year's light-touch moves were all small and none was questioned: "
            "the limit goes up to £750 a period, and reminders go two working days before "
            "a deadline",
            now=_at(second_quarter, 9),
        ),
    )
    for starts_on, year_funds in sorted(years.items()):
        ends_on = year_funds[0].period_ends_on
        assert ends_on is not None
        # Requests sent from the second working day: this year's to a fortnight before
        # today, and an ended year's to three weeks before its end, so each is decided in
        # the period it is for.
        last_sent = (
            _working_days_before(today, 12)
            if starts_on == this_year
            else _working_days_before(ends_on, 15)
        )
        demo.year(year_funds, change_rules.add_working_days(starts_on, 1), last_sent)
    first_day = change_rules.add_working_days(first_year, 1)
    sitting = change_rules.next_sitting(rules, first_day)
    while sitting <= today:
        demo.timeline.at(_at(sitting, 9), partial(demo.record_sitting, sitting))
        sitting += timedelta(days=rules.panel_every_days)
    demo.first_day = change_rules.add_working_days(this_year, 1)
    demo.still_open(years[this_year], morags)
    for day in _working_days(first_day, today):
        # The job worker's early-morning run: late requests escalated, reminders sent.
        demo.timeline.at(_at(day, 6), partial(_daily_run, session, day))
    demo.timeline.play()
    return demo.sent


def _daily_run(session: Session, day: date) -> None:
    decisions.escalate_overdue(session, today=day, now=_at(day, 6))
    decisions.send_reminders(session, today=day, now=_at(day, 6))


def _second_holder(session: Session, hasher: PasswordHasher, council: CouncilArea) -> User:
    email, name = SECOND_HOLDER
    found = accounts_service.find_user_by_email(session, email)
    if found is not None:
        return found
    return accounts_service.create_user(
        session,
        hasher=hasher,
        email=email,
        name=name,
        role=Role.BUDGET_HOLDER,
        # Nobody signs in as her: a password no one knows.
        password=secrets.token_urlsafe(24),
        council=council,
        confirmed=True,
    )


def _support_line(fund: IndividualServiceFund) -> BudgetLine:
    """The fund's first line of weekly support from an offer."""
    return next(
        line for line in fund.lines if line.kind == BudgetLineKind.OFFER and line.weekly_pence
    )


def _has_support_line(fund: IndividualServiceFund) -> bool:
    return any(line.kind == BudgetLineKind.OFFER and line.weekly_pence for line in fund.lines)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SCOTTISH_TIME)


def _working_days(first: date, last: date) -> list[date]:
    days, day = [], change_rules.add_working_days(first, 0)
    while day <= last:
        days.append(day)
        day = change_rules.add_working_days(day, 1)
    return days


def _working_days_before(day: date, count: int) -> date:
    while count:
        day -= timedelta(days=1)
        if change_rules.is_working_day(day):
            count -= 1
    return day


@dataclass
class _Demo:
    session: Session
    today: date
    rng: random.Random
    holder: User = field(init=False)
    second: User = field(init=False)
    panel: User = field(init=False)
    rules: ChangeRules = field(init=False)
    sent: int = 0
    timeline: _Timeline = field(init=False)
    first_day: date = field(init=False)
    """This year's first working day for requests."""
    sittings: dict[date, PanelSitting] = field(default_factory=dict)
    kits: dict[int, int] = field(default_factory=dict)
    """Each fund's first purchase line, once approved."""

    def __post_init__(self) -> None:
        self.timeline = _Timeline(self.session, now=_at(self.today, 8))

    # The steps ---------------------------------------------------------------------------

    def send(
        self, made: dict[str, ChangeRequest], fund: IndividualServiceFund, day: date, **asked: Any
    ) -> None:
        """Send now (within a step): by the person, or now and then the fund's holder."""
        by = fund.person if self.rng.random() < 0.8 else fund.holder.members[0].user
        asked.setdefault("outcome_ids", (_support_line(fund).outcomes[0].id,))
        asked.setdefault("starts_on", day)
        made["request"] = changes.send_request(
            self.session,
            fund=fund,
            by=by,
            asked=changes.ChangeAsked(**asked),
            now=_at(day, 10, self.rng.randrange(0, 50)),
        )
        self.sent += 1

    def purchase(
        self,
        funds: list[IndividualServiceFund],
        day: date,
        pence: int,
        title: str,
        reason: str,
        *,
        from_line: Callable[[IndividualServiceFund], BudgetLine] | None = None,
        spare_times: int = 2,
    ) -> dict[str, ChangeRequest]:
        """A one-off purchase paid for from a line, on the first of `funds` whose line can
        still spare `spare_times` the money on the day (so no request is refused, and no
        line is emptied)."""
        made: dict[str, ChangeRequest] = {}
        source = from_line or _support_line

        def step() -> None:
            for fund in funds:
                line = source(fund)
                if self.spare(fund, line, day) >= spare_times * pence:
                    self.send(
                        made,
                        fund,
                        day,
                        kind=ChangeKind.PURCHASE,
                        title=title,
                        amount_pence=pence,
                        from_line_id=line.id,
                        moved_pence=pence,
                        reason=reason,
                    )
                    return

        self.timeline.at(_at(day, 10), step)
        return made

    def decide(
        self,
        made: dict[str, ChangeRequest],
        day: date,
        *,
        approve: bool = True,
        conditions: str = "",
        reasons: str = "",
        by: User | None = None,
    ) -> None:
        """Decide on `day` if the request is waiting (a panel request only at a sitting)."""

        def step() -> None:
            request = made.get("request")
            if request is None or request.status != ChangeStatus.WAITING:
                return
            sitting, decider = None, by or self._decider(request)
            if request.route == ChangeRoute.PANEL:
                sitting, decider = self.sittings.get(day), self.panel
                if sitting is None:
                    return  # no sitting that day: it waits for the next
            moment = _at(day, 14, self.rng.randrange(0, 50))
            if approve:
                decisions.approve_request(
                    self.session,
                    request=request,
                    by=decider,
                    conditions=conditions,
                    sitting=sitting,
                    now=moment,
                )
            else:
                decisions.decline_request(
                    self.session,
                    request=request,
                    by=decider,
                    reasons=reasons,
                    sitting=sitting,
                    now=moment,
                )

        self.timeline.at(_at(day, 14), step)

    def later(
        self,
        made: dict[str, ChangeRequest],
        moment: datetime,
        step: Callable[[ChangeRequest], object],
    ) -> None:
        """A step on the request, if it was sent and waits."""

        def run() -> None:
            request = made.get("request")
            if request is not None and request.status.is_open:
                step(request)

        self.timeline.at(moment, run)

    def recent(self, working_days: int) -> date:
        """Some working days before today, but not before this year's first working day (a
        demo loaded early in April has few days behind it)."""
        return max(self.first_day, _working_days_before(self.today, working_days))

    def spare(self, fund: IndividualServiceFund, line: BudgetLine, day: date) -> int:
        """What a line can still spare on `day`, less what requests still waiting would move
        out of it (so none of them finds the money gone when it is decided)."""
        assert fund.period_ends_on is not None
        waiting = self.session.scalar(
            select(func.coalesce(func.sum(ChangeRequest.moved_pence), 0)).where(
                ChangeRequest.from_line_id == line.id,
                ChangeRequest.status.in_([s for s in ChangeStatus if s.is_open]),
            )
        )
        return movable_pence(line, day, fund.period_ends_on, spent_pence=0) - int(waiting or 0)

    def _decider(self, request: ChangeRequest) -> User:
        """The demo budget holder, or now and then the second where she has the authority."""
        if self.rng.random() < 0.35 and (
            changes.authority_problem(self.session, request.fund, self.second, request.amount_pence)
            is None
        ):
            return self.second
        return self.holder

    def record_sitting(self, on: date) -> None:
        assert self.panel.council_id is not None
        self.sittings[on] = decisions.record_sitting(
            self.session,
            council_id=self.panel.council_id,
            sits_on=on,
            members=f"{self.panel.name} (chair)\nA service manager, adult social care\n"
            "A finance business partner",
            by=self.panel,
        )

    # The stories --------------------------------------------------------------------------

    def year(self, funds: list[IndividualServiceFund], first_day: date, last_sent: date) -> None:
        """A year's requests on its funds: each fund's first purchase, then the mix spread
        evenly over the working days to `last_sent`."""
        days = _working_days(first_day, max(first_day, last_sent))
        for number, fund in enumerate(funds):
            self.kit(fund, days[min(number, len(days) - 1)])
        mix = list(MIX)
        self.rng.shuffle(mix)
        for number, scenario in enumerate(mix):
            position = len(funds) + 2 + number * (len(days) - len(funds) - 2) // len(mix)
            self.scenario(scenario, funds, days[max(0, min(position, len(days) - 1))])

    def candidates(
        self, funds: list[IndividualServiceFund], *, large: bool = False
    ) -> list[IndividualServiceFund]:
        """The funds in a random order (the large ones only, for what the panel decides)."""
        chosen = [f for f in funds if not large or _weekly(f) >= LARGE_WEEKLY_PENCE] or funds
        return self.rng.sample(chosen, k=len(chosen))

    def kit(self, fund: IndividualServiceFund, day: date) -> None:
        """A fund's first purchase, for its outcome: later small moves to it are
        light-touch."""
        title, reason = self.rng.choice(KITS)
        made = self.purchase([fund], day, self.rng.randrange(8, 25) * 1_000, title, reason)
        self.decide(made, change_rules.add_working_days(day, self.rng.randint(1, 4)))

    def scenario(self, kind: str, funds: list[IndividualServiceFund], day: date) -> None:
        rng, days = self.rng, self.rules.delegated_days
        if kind == "light":
            self.light_move(rng.choice(funds), day)
            return
        if kind in ("panel", "panel_decline"):
            title, reason = rng.choice(LARGE)
            pence = rng.randrange(155, 200) * 1_000
            made = self.purchase(self.candidates(funds, large=True), day, pence, title, reason)
            sits = change_rules.next_sitting(self.rules, day)
            self.decide(made, sits, approve=kind == "panel", reasons=rng.choice(PANEL_DECLINES))
            return
        title, reason = rng.choice(PURCHASES)
        escalated = kind == "escalate"
        pence = rng.randrange(60, 140) * 1_000 if escalated else rng.randrange(2, 60) * 1_000
        made = self.purchase(self.candidates(funds, large=escalated), day, pence, title, reason)
        due = change_rules.add_working_days(day, days)
        if escalated:
            on = change_rules.add_working_days(day, 2)
            self.later(
                made,
                _at(on, 11),
                lambda request: decisions.escalate_request(
                    self.session,
                    request=request,
                    by=self.holder,
                    reason=rng.choice(ESCALATIONS),
                    now=_at(on, 11),
                ),
            )
            self.decide(made, change_rules.next_sitting(self.rules, on))
        elif kind == "ask":
            asked_on = change_rules.add_working_days(day, 1)
            answered_on = change_rules.add_working_days(asked_on, rng.randint(2, 5))
            self.ask(made, asked_on)
            self.later(
                made,
                _at(answered_on, 9),
                lambda request: changes.answer_request(
                    self.session,
                    request=request,
                    by=request.fund.person,
                    words=rng.choice(ANSWERS),
                    now=_at(answered_on, 9),
                ),
            )
            self.decide(made, change_rules.add_working_days(answered_on, rng.randint(1, 3)))
        elif kind == "late":
            self.decide(made, change_rules.add_working_days(due, rng.randint(1, 4)))
        elif kind == "decline":
            decided_on = change_rules.add_working_days(day, rng.randint(1, days))
            self.decide(made, decided_on, approve=False, reasons=rng.choice(DECLINES))
        else:
            self.decide(
                made,
                change_rules.add_working_days(day, rng.randint(0, days)),
                conditions=rng.choice(CONDITIONS) if kind == "conditions" else "",
            )

    def ask(self, made: dict[str, ChangeRequest], on: date) -> None:
        self.later(
            made,
            _at(on, 12),
            lambda request: decisions.ask_for_information(
                self.session,
                request=request,
                by=self.holder,
                question=self.rng.choice(QUESTIONS),
                now=_at(on, 12),
            ),
        )

    def light_move(self, fund: IndividualServiceFund, day: date) -> None:
        """A small move from the support line to the fund's first purchase: both serve the
        same outcome, so it is approved at once while the light-touch limit allows (past
        it, a budget holder decides it in the usual way)."""
        line = _support_line(fund)
        made: dict[str, ChangeRequest] = {}

        def step() -> None:
            outcomes = {o.id for o in line.outcomes}
            kit = next(
                (
                    other
                    for other in fund.lines
                    if other.kind == BudgetLineKind.PURCHASE
                    and outcomes & {o.id for o in other.outcomes}
                ),
                None,
            )
            pence = self.rng.randrange(3, 15) * 1_000
            if kit is not None and self.spare(fund, line, day) >= 2 * pence:
                self.send(
                    made,
                    fund,
                    day,
                    kind=ChangeKind.MOVE,
                    from_line_id=line.id,
                    line_id=kit.id,
                    moved_pence=pence,
                    reason=self.rng.choice(MOVES),
                )

        self.timeline.at(_at(day, 10), step)
        self.decide(made, change_rules.add_working_days(day, 2))

    def still_open(
        self, funds: list[IndividualServiceFund], morags: IndividualServiceFund | None
    ) -> None:
        """What waits today: one overdue, one waiting for the person's answer, one for the
        panel's next sitting, one just sent; and Morag's review."""
        self.purchase(
            self.candidates(funds),
            self.recent(8),
            45_000,
            *self.rng.choice(PURCHASES),
        )
        made = self.purchase(
            self.candidates(funds),
            self.recent(3),
            30_000,
            *self.rng.choice(PURCHASES),
        )
        self.ask(made, self.recent(2))
        self.purchase(
            self.candidates(funds, large=True),
            self.recent(2),
            155_000,
            *self.rng.choice(LARGE),
            spare_times=1,
        )
        self.purchase(
            self.candidates(funds),
            self.recent(1),
            8_000,
            *self.rng.choice(PURCHASES),
        )
        if morags is not None:
            self.morags_review(morags)

    def morags_review(self, fund: IndividualServiceFund) -> None:
        """Morag asked for a riser-recliner chair from her contingency; the budget holder
        declined it; she asked for a review, which waits for the other budget holder."""
        sent_on = self.recent(20)
        review_on = self.recent(3)
        if not any(line.kind == BudgetLineKind.CONTINGENCY for line in fund.lines):
            return
        made = self.purchase(
            [fund],
            sent_on,
            22_000,
            "A riser-recliner chair",
            "Mum struggles to get up from her chair since her fall, and the carers have to "
            "help her every time. A riser chair would let her do it herself.",
            from_line=_contingency,
        )
        self.decide(
            made,
            change_rules.add_working_days(sent_on, 3),
            approve=False,
            by=self.holder,
            reasons="The occupational therapy service lends riser chairs free of charge: we "
            "have referred your mum to them, so the fund's contingency stays for emergencies.",
        )

        def review(request: ChangeRequest) -> None:
            decisions.ask_for_review(
                self.session,
                request=request,
                by=fund.person,
                reason="The occupational therapy waiting list is fourteen weeks. She cannot "
                "wait that long to be able to stand up by herself.",
                now=_at(review_on, 10),
            )

        def declined(request: ChangeRequest) -> None:
            if request.status == ChangeStatus.DECLINED:
                review(request)

        self.timeline.at(
            _at(review_on, 10), lambda: declined(made["request"]) if "request" in made else None
        )


def _weekly(fund: IndividualServiceFund) -> int:
    return _support_line(fund).weekly_pence or 0


def _contingency(fund: IndividualServiceFund) -> BudgetLine:
    return next(line for line in fund.lines if line.kind == BudgetLineKind.CONTINGENCY)


KITS = (
    ("Swimming and gym passes for the year", "I want to keep fit between my support visits."),
    ("A tablet for video calls", "So I can see my family on the days nobody visits."),
    ("Bus and taxi fares to the lunch club", "There is no bus on Thursdays any more."),
    ("Seeds, tools and a raised bed", "Gardening is what keeps me going."),
    ("A bird feeder and binoculars", "I like to watch the birds when I cannot get out."),
)
PURCHASES = (
    ("A smart speaker to call for help", "I would feel safer if I could call out at night."),
    ("A season ticket for the football", "I want to go to the games with my brother."),
    ("An art class at the community centre", "I used to paint and I want to start again."),
    ("A taxi account for appointments", "The buses do not run when I need them."),
    ("A grab rail and a shower seat", "I am frightened of falling in the shower."),
    ("Respite for my daughter: a week away", "My daughter needs a break to keep caring."),
    ("A walking group membership", "I want to get out with people my own age."),
    ("A microwave I can use one-handed", "Since my stroke I cannot use the cooker."),
)
LARGE = (
    ("A riser-recliner chair", "I cannot get up from my chair without help."),
    ("A powered wheelchair", "I want to get to the shops and the harbour by myself."),
    ("A week's respite break in Nairn", "My husband has not had a break in two years."),
    ("A stairlift, with fitting", "I am stuck downstairs and sleep in the living room."),
)
MOVES = (
    "I missed some visits when I was away: I would like to use that money for this.",
    "I need a little more for this now the nights are darker.",
    "My daughter covered some visits, so the money can go here.",
)
CONDITIONS = (
    "Keep the receipt and send a copy to your fund holder.",
    "Buy it from a local supplier where you can.",
    "We will look at how it is going at your next review.",
    "Use the council's approved list for the fitting.",
)
DECLINES = (
    "This is something the NHS provides free of charge: we have made the referral for you.",
    "Your plan already pays for this through your support line.",
    "This would not meet the outcomes in your plan. Please talk to your worker about what "
    "else could help.",
)
PANEL_DECLINES = (
    "The panel agreed the need but not this way: an occupational therapy assessment comes "
    "first, and the equipment service may provide it. You can ask for a review.",
)
ESCALATIONS = (
    "It is within my limit, but the fund has had several changes this year: the panel "
    "should look at the whole plan.",
    "This changes how the support is arranged: the panel should decide it.",
)
QUESTIONS = (
    "Could you tell us how often you would use it, and whether anyone else would pay part?",
    "Could you send a quote from the supplier?",
    "Has your occupational therapist seen this? Please tell us what they said.",
)
ANSWERS = (
    "About twice a week. Nobody else would pay for it.",
    "I have attached the quote from the shop in Inverness.",
    "She said it would help, and that the NHS does not provide it.",
)
