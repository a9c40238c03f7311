"""What a change of use does to a fund's plan, worked out once and used twice: on lines as
they would be (the preview the person sees before sending, and the check that it can be
afforded) and on the budget lines themselves (when it is approved). Money is moved between
lines by their `moved_pence`; hours are changed, and lines paused and started again, by
ending a line and carrying it on as a new one, so what was agreed stays on the record."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.changes.models import ChangeKind, ChangeRequest, ChangeStatus
from contracts.funds.models import BudgetLine, BudgetLineKind, IndividualServiceFund
from contracts.funds.plan import line_committed_pence
from marketplace.errors import RuleBroken
from marketplace.money import format_pence


@dataclass(frozen=True)
class PlannedLine:
    """A budget line's money terms, as it is or as a change would leave it."""

    id: int | None
    kind: BudgetLineKind
    weekly_pence: int | None
    amount_pence: int | None
    moved_pence: int | None
    starts_on: date
    ends_on: date


def terms_of(line: BudgetLine) -> PlannedLine:
    return PlannedLine(
        id=line.id,
        kind=line.kind,
        weekly_pence=line.weekly_pence,
        amount_pence=line.amount_pence,
        moved_pence=line.moved_pence or 0,
        starts_on=line.starts_on,
        ends_on=line.ends_on,
    )


@dataclass(frozen=True)
class LineEdit:
    """A change to an existing line: money moved into (or out of) it, and perhaps an
    earlier last day (its hours change, or it pauses, from the day after)."""

    line_id: int
    moved_pence: int = 0
    ends_on: date | None = None
    paused_on: date | None = None


@dataclass(frozen=True)
class Effect:
    """What a request does to the plan, and what it is worth."""

    edits: tuple[LineEdit, ...]
    new_line: PlannedLine | None
    replaces: BudgetLine | None
    """The line the new one carries on from (hours changed, or started again)."""
    amount_pence: int

    def lines_after(self, fund: IndividualServiceFund) -> list[PlannedLine]:
        by_id = {edit.line_id: edit for edit in self.edits}
        lines = []
        for line in fund.lines:
            terms = terms_of(line)
            edit = by_id.get(line.id)
            if edit is not None:
                terms = dataclasses.replace(
                    terms,
                    moved_pence=(terms.moved_pence or 0) + edit.moved_pence,
                    ends_on=edit.ends_on or terms.ends_on,
                )
            lines.append(terms)
        if self.new_line is not None:
            lines.append(self.new_line)
        return lines


def line_of(fund: IndividualServiceFund, line_id: int | None, *, field: str) -> BudgetLine:
    line = next((line for line in fund.lines if line.id == line_id), None)
    if line is None:
        raise RuleBroken("Choose a line of this plan", field=field)
    return line


def current_line_of(fund: IndividualServiceFund, line_id: int | None, *, field: str) -> BudgetLine:
    """A line as the plan has it now: one that an approved change has since carried on
    as a newer line cannot be changed again (two changes to the same hours would both
    carry it on, and its weeks would be paid twice)."""
    line = line_of(fund, line_id, field=field)
    successor = next((other for other in fund.lines if other.replaces_id == line.id), None)
    if successor is not None:
        raise RuleBroken(
            f"“{line.title}” has changed since: it carries on from "
            f"{successor.starts_on:%-d %B %Y} on new terms. Ask again about the line as it "
            "is now",
            field=field,
        )
    return line


def movable_pence(line: BudgetLine, from_day: date, ends_on: date, *, spent_pence: int) -> int:
    """What can still be moved out of a line from `from_day`: a contingency's allocation,
    or what the plan will still spend on any other line."""
    if line.kind == BudgetLineKind.CONTINGENCY:
        return (line.amount_pence or 0) + (line.moved_pence or 0)
    return line_committed_pence(line, from_day, ends_on, spent_pence=spent_pence)


def effect_of(
    session: Session,
    fund: IndividualServiceFund,
    request: ChangeRequest,
    *,
    spent_on: dict[int, int],
) -> Effect:
    """What `request` does to the fund's plan as it stands now (RuleBroken, naming the
    field, when it cannot be done)."""
    assert fund.period_ends_on is not None
    period_ends_on = fund.period_ends_on
    day = request.starts_on
    edits: list[LineEdit] = []
    taken = 0
    if request.from_line_id is not None:
        source = current_line_of(fund, request.from_line_id, field="from_line")
        taken = request.moved_pence
        if taken <= 0:
            raise RuleBroken("Enter how much to move, more than £0", field="moved")
        movable = movable_pence(source, day, period_ends_on, spent_pence=spent_on.get(source.id, 0))
        if taken > movable:
            raise RuleBroken(
                f"“{source.title}” has {format_pence(movable)} that can be moved from "
                f"{day:%-d %B %Y}",
                field="moved",
            )
        edits.append(LineEdit(source.id, moved_pence=-taken))

    if request.kind == ChangeKind.MOVE:
        target = current_line_of(fund, request.line_id, field="line")
        if request.from_line_id is None:
            raise RuleBroken("Choose the line to move money from", field="from_line")
        if target.id == request.from_line_id:
            raise RuleBroken("Choose two different lines", field="line")
        if target.kind == BudgetLineKind.CONTINGENCY:
            raise RuleBroken("Money is moved to a line of support, not the contingency")
        edits.append(LineEdit(target.id, moved_pence=taken))
        return Effect(tuple(edits), None, None, taken)

    if request.kind in (ChangeKind.NEW_OFFER, ChangeKind.PURCHASE):
        assert request.ends_on is not None
        weekly = request.kind == ChangeKind.NEW_OFFER
        new = PlannedLine(
            id=None,
            kind=BudgetLineKind.OFFER if weekly else BudgetLineKind.PURCHASE,
            weekly_pence=request.weekly_pence if weekly else None,
            amount_pence=None if weekly else request.weekly_pence,
            moved_pence=0,
            starts_on=day,
            ends_on=request.ends_on,
        )
        worth = line_committed_pence(new, day, period_ends_on)
        return Effect(tuple(edits), new, None, worth)

    line = current_line_of(fund, request.line_id, field="line")
    if not line.kind.is_weekly:
        raise RuleBroken("Choose a line of weekly support", field="line")
    if request.kind == ChangeKind.RESUME:
        if line.paused_on is None:
            raise RuleBroken("Choose a paused line", field="line")
        if day < line.paused_on:
            raise RuleBroken(
                f"It was paused from {line.paused_on:%-d %B %Y}: start it again from then on",
                field="starts_on",
            )
        until = paused_until(session, line) or period_ends_on
        if day > until:
            raise RuleBroken(f"It was to end on {until:%-d %B %Y}", field="starts_on")
        new = dataclasses.replace(terms_of(line), id=None, starts_on=day, ends_on=until)
        worth = line_committed_pence(new, day, period_ends_on)
        carried = LineEdit(line.id, moved_pence=-(line.moved_pence or 0))
        return Effect((carried,), new, line, worth)

    if line.paused_on is not None:
        raise RuleBroken(
            f"“{line.title}” is paused from {line.paused_on:%-d %B %Y}: ask to start it "
            "again first",
            field="line",
        )
    if not line.starts_on < day <= line.ends_on:
        raise RuleBroken(
            f"Choose a day after “{line.title}” starts ({line.starts_on:%-d %B %Y}) and "
            f"by its last day ({line.ends_on:%-d %B %Y})",
            field="starts_on",
        )
    before = line_committed_pence(terms_of(line), day, period_ends_on)
    stops = LineEdit(
        line.id,
        moved_pence=-(line.moved_pence or 0),
        ends_on=day - timedelta(days=1),
        paused_on=day if request.kind == ChangeKind.PAUSE else None,
    )
    if request.kind == ChangeKind.PAUSE:
        return Effect((stops,), None, None, before)
    # Hours: the line carries on from `day` at its new week, with what was moved into or
    # out of it going with it.
    new = dataclasses.replace(
        terms_of(line), id=None, weekly_pence=request.weekly_pence, starts_on=day
    )
    after = line_committed_pence(new, day, period_ends_on)
    return Effect((stops,), new, line, abs(after - before))


def paused_until(session: Session, line: BudgetLine) -> date | None:
    """The day a paused line was to end on before it was paused (its pause's record)."""
    return session.scalar(
        select(ChangeRequest.ends_on).where(
            ChangeRequest.line_id == line.id,
            ChangeRequest.kind == ChangeKind.PAUSE,
            ChangeRequest.status == ChangeStatus.APPROVED,
        )
    )


def apply_effect(
    session: Session,
    fund: IndividualServiceFund,
    request: ChangeRequest,
    effect: Effect,
) -> BudgetLine | None:
    """Make the approved change to the plan's lines (the caller holds the fund's lock)."""
    for edit in effect.edits:
        line = line_of(fund, edit.line_id, field="line")
        line.moved_pence = (line.moved_pence or 0) + edit.moved_pence
        if edit.ends_on is not None:
            line.ends_on = edit.ends_on
        if edit.paused_on is not None:
            line.paused_on = edit.paused_on
    new = effect.new_line
    if new is None:
        return None
    source = effect.replaces
    if source is not None:
        line = BudgetLine(
            kind=source.kind,
            title=source.title,
            offer_id=source.offer_id,
            offer_price_id=source.offer_price_id,
            provider_id=source.provider_id,
            minutes_per_week=(
                request.minutes_per_week
                if request.kind == ChangeKind.HOURS
                else source.minutes_per_week
            ),
            when=request.when if request.kind == ChangeKind.HOURS else source.when,
            costing=request.costing if request.kind == ChangeKind.HOURS else source.costing,
            outcomes=list(source.outcomes),
            replaces_id=source.id,
        )
        # What was moved into or out of the old line goes on with the new one.
        line.moved_pence = -sum(e.moved_pence for e in effect.edits if e.line_id == source.id)
    else:
        offer = request.offer
        line = BudgetLine(
            kind=new.kind,
            title=(
                f"{offer.title}, {offer.provider.name}"
                if offer is not None and new.kind == BudgetLineKind.OFFER
                else request.title
            ),
            offer_id=request.offer_id,
            offer_price_id=request.offer_price_id,
            provider_id=offer.provider_id if offer is not None else None,
            minutes_per_week=request.minutes_per_week,
            when=request.when,
            costing=request.costing,
            outcomes=list(request.outcomes),
            moved_pence=0,
        )
    line.weekly_pence = new.weekly_pence
    line.amount_pence = new.amount_pence
    line.starts_on, line.ends_on = new.starts_on, new.ends_on
    line.added_by_id = request.requested_by_id
    fund.lines.append(line)
    session.flush()
    return line
