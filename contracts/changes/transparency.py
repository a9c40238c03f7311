"""The public figures on change of use: for each council and each quarter of the financial
year (April to June is the first), the requests decided in it, how many working days a
decision took (the median), the share decided by its deadline and the share approved, by
route and for all routes together. Aggregates only: never a person or a request.

How a request is counted:

- it counts in the quarter its decision was made (Scottish time), by the route it was
  decided on (a request a budget holder escalated counts as the panel's);
- working days run from the day it was sent to the day it was decided, as its deadline is
  counted (`rules.working_days_between`: Monday to Friday, not Scotland's public holidays),
  less the working days the clock was stopped while more information was asked for (from
  each "asked" to its "answered", as `service.answer_request` moves the deadline on);
- it is on time when it was decided on or before its deadline (which the stopped clock
  moved on);
- withdrawn requests, and requests still waiting, are not decided.

Small numbers are protected by the same rule as the commissioners' figures
(`marketplace.suppression`): a number decided from 1 to threshold - 1 reads "fewer than
10", and more are hidden where a total would give one away. Each council's quarter is a
group whose total (all routes) is the sum of its routes; the whole table is protected at
once, so a page filtered to one council hides exactly what the full table hides. Where a
number decided is hidden, its median and shares are hidden too."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.changes.models import (
    ChangeEvent,
    ChangeRequest,
    ChangeRoute,
    ChangeStatus,
    ChangeStep,
)
from contracts.changes.rules import working_days_between
from contracts.changes.service import local_day
from marketplace.geography.models import CouncilArea
from marketplace.suppression import (
    DEFAULT_THRESHOLD,
    NOT_SHOWN,
    is_small,
    protect,
    shown,
    shown_raw,
)

ROUTES = (ChangeRoute.LIGHT_TOUCH, ChangeRoute.DELEGATED, ChangeRoute.PANEL)
"""Each council's quarter has a row for each route, then one for all routes."""
DECIDED = (ChangeStatus.APPROVED, ChangeStatus.DECLINED)
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of the council financial year (1 April to 31 March)."""

    starts_on: date

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(date(day.year, (day.month - 1) // 3 * 3 + 1, 1))

    @property
    def financial_year(self) -> str:
        """'2026-27' for April 2026 to March 2027."""
        first = self.starts_on.year if self.starts_on.month >= 4 else self.starts_on.year - 1
        return f"{first}-{(first + 1) % 100:02d}"

    @property
    def number(self) -> int:
        """1 for April to June, ... 4 for January to March."""
        return (self.starts_on.month - 4) % 12 // 3 + 1

    @property
    def label(self) -> str:
        first = _MONTHS[self.starts_on.month - 1]
        last = _MONTHS[self.starts_on.month + 1]
        return f"{first} to {last} {self.starts_on.year}"

    @property
    def key(self) -> str:
        """'2026-27-Q1': the quarter in downloads."""
        return f"{self.financial_year}-Q{self.number}"


@dataclass(frozen=True)
class Decided:
    """One decided request, as the figures count it (no person, no words)."""

    council_id: int
    council: str
    route: ChangeRoute
    approved: bool
    decided_on: date
    working_days: int
    """From sending to the decision, less the days the clock was stopped."""
    on_time: bool


@dataclass(frozen=True)
class FigureRow:
    """One council's quarter on one route, or on all routes (`route` None)."""

    council_id: int
    council: str
    quarter: Quarter
    route: ChangeRoute | None
    decided: int
    hidden: bool
    """The number decided is protected: so are the median and the shares."""
    threshold: int
    median_working_days: float | None
    """None where nothing was decided, or it is hidden."""
    on_time_share: float | None
    approved_share: float | None

    @property
    def route_label(self) -> str:
        return "All routes" if self.route is None else self.route.label

    @property
    def decided_text(self) -> str:
        return shown(self.decided, self.hidden, self.threshold)

    @property
    def decided_raw(self) -> int | str:
        return shown_raw(self.decided, self.hidden, self.threshold)


@dataclass(frozen=True)
class Transparency:
    rows: list[FigureRow]
    """Council by name, then quarter, oldest first, then route (all routes last)."""
    councils: list[tuple[int, str]]
    """The councils with decisions, by name: what the page can be filtered to."""
    threshold: int

    def for_council(self, council_id: int | None) -> list[FigureRow]:
        if council_id is None:
            return self.rows
        return [row for row in self.rows if row.council_id == council_id]


def decided_requests(session: Session) -> list[Decided]:
    """Every decided request, counted as the figures count it: two queries, whatever the
    number (the requests; then the times the clock stopped and started on them)."""
    found = session.execute(
        select(
            ChangeRequest.id,
            ChangeRequest.council_id,
            CouncilArea.name,
            ChangeRequest.route,
            ChangeRequest.status,
            ChangeRequest.requested_at,
            ChangeRequest.decided_at,
            ChangeRequest.due_on,
        )
        .join(CouncilArea, CouncilArea.id == ChangeRequest.council_id)
        .where(ChangeRequest.status.in_(DECIDED), ChangeRequest.decided_at.is_not(None))
        .order_by(ChangeRequest.id)
    ).all()
    stopped = _days_stopped(session)
    decided = []
    for request_id, council_id, council, route, status, sent_at, decided_at, due_on in found:
        assert decided_at is not None  # the query asks for decided requests only
        decided_on = local_day(decided_at)
        taken = working_days_between(local_day(sent_at), decided_on)
        decided.append(
            Decided(
                council_id=council_id,
                council=council,
                route=route,
                approved=status == ChangeStatus.APPROVED,
                decided_on=decided_on,
                working_days=max(0, taken - stopped.get(request_id, 0)),
                on_time=decided_on <= due_on,
            )
        )
    return decided


def _days_stopped(session: Session) -> dict[int, int]:
    """Working days each decided request waited for more information: from each time it
    was asked for to the answer."""
    decided_ids = select(ChangeRequest.id).where(ChangeRequest.status.in_(DECIDED))
    events = session.execute(
        select(ChangeEvent.request_id, ChangeEvent.step, ChangeEvent.at)
        .where(
            ChangeEvent.step.in_((ChangeStep.ASKED, ChangeStep.ANSWERED)),
            ChangeEvent.request_id.in_(decided_ids),
        )
        .order_by(ChangeEvent.request_id, ChangeEvent.id)
    ).all()
    stopped: dict[int, int] = defaultdict(int)
    asked_at: dict[int, datetime] = {}
    for request_id, step, at in events:
        if step == ChangeStep.ASKED:
            asked_at.setdefault(request_id, at)
        elif request_id in asked_at:
            since = asked_at.pop(request_id)
            stopped[request_id] += working_days_between(local_day(since), local_day(at))
    return dict(stopped)


def change_of_use_figures(session: Session, *, threshold: int = DEFAULT_THRESHOLD) -> Transparency:
    """The figures for every council and quarter, small numbers protected over the whole
    table."""
    return figures_of(decided_requests(session), threshold=threshold)


def figures_of(decided: Sequence[Decided], *, threshold: int) -> Transparency:
    groups: dict[tuple[str, int, Quarter], dict[ChangeRoute, list[Decided]]] = defaultdict(
        lambda: {route: [] for route in ROUTES}
    )
    for one in decided:
        groups[(one.council, one.council_id, Quarter.of(one.decided_on))][one.route].append(one)
    keys = sorted(groups)
    cells = [len(groups[key][route]) for key in keys for route in ROUTES]
    positions = [[k * len(ROUTES) + r for r in range(len(ROUTES))] for k in range(len(keys))]
    protected = protect(cells, positions, threshold=threshold)
    rows = []
    for k, (council, council_id, quarter) in enumerate(keys):
        by_route = groups[(council, council_id, quarter)]
        parts: list[tuple[ChangeRoute | None, list[Decided], bool]] = [
            (route, by_route[route], bool(protected.cells[k * len(ROUTES) + r]))
            for r, route in enumerate(ROUTES)
        ]
        every = [one for route in ROUTES for one in by_route[route]]
        parts.append((None, every, bool(protected.groups[k])))
        for route, these, hidden in parts:
            rows.append(_row(council_id, council, quarter, route, these, hidden, threshold))
    councils = sorted({(council_id, council) for council, council_id, _ in keys}, key=_by_name)
    return Transparency(rows=rows, councils=councils, threshold=threshold)


def _by_name(council: tuple[int, str]) -> tuple[str, int]:
    return council[1], council[0]


def _row(
    council_id: int,
    council: str,
    quarter: Quarter,
    route: ChangeRoute | None,
    these: list[Decided],
    hidden: bool,
    threshold: int,
) -> FigureRow:
    known = bool(these) and not hidden
    count = len(these)
    return FigureRow(
        council_id=council_id,
        council=council,
        quarter=quarter,
        route=route,
        decided=count,
        hidden=hidden,
        threshold=threshold,
        median_working_days=(
            float(statistics.median(one.working_days for one in these)) if known else None
        ),
        on_time_share=_share(sum(one.on_time for one in these), count, known, threshold),
        approved_share=_share(sum(one.approved for one in these), count, known, threshold),
    )


def _share(hits: int, count: int, known: bool, threshold: int) -> float | None:
    """A share, unless it would give a small number away: of what it counts, or of what
    it leaves out (19 of 20 approved is 1 declined)."""
    if not known or is_small(hits, threshold) or is_small(count - hits, threshold):
        return None
    return hits / count


def hidden_text(row: FigureRow) -> str:
    """What a median or share reads where it cannot be given."""
    if row.hidden or row.decided:
        return NOT_SHOWN
    return "no decisions"
