"""How a council pays a fund's budget in: the tranches of its funding schedule, each due on
a date and paying for the days up to the next, adding up to the period's budget exactly;
paying them into the ledger as they fall due; and the top-ups and clawbacks finance
records, each with its reason."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.accounts import council_funding_account
from contracts.funds.models import FundingSchedule, FundStatus, IndividualServiceFund
from contracts.funds.plan import days_between, funded_pence
from contracts.ledger import Actor, Reference, transfer
from contracts.models import LedgerAccount, LedgerTransaction, ReferenceKind
from marketplace import audit
from marketplace.accounts.models import Role, User
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken, Rules
from marketplace.money import format_pence
from providers.enquiries import check_text
from providers.pricing import divide_rounding

FOUR_WEEKS = timedelta(days=28)


@dataclass(frozen=True)
class Tranche:
    number: int
    """1 for the first; with the fund's id, what makes a tranche's posting unique."""
    due_on: date
    covers_to: date
    """The last day it pays for: the day before the next tranche, or the period's end."""
    amount_pence: int


def months_on(start: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day when it is
    shorter (31 January, one month on: 28 or 29 February)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(schedule: FundingSchedule, starts_on: date, ends_on: date) -> list[date]:
    """When each tranche is due: the period's first day, then every month (counted from the
    first day, so a 31st stays a 31st where the month has one) or every four weeks."""
    if schedule == FundingSchedule.UPFRONT:
        return [starts_on]
    dates: list[date] = []
    step = 0
    while True:
        due = (
            months_on(starts_on, step)
            if schedule == FundingSchedule.MONTHLY
            else starts_on + FOUR_WEEKS * step
        )
        if due > ends_on:
            return dates
        dates.append(due)
        step += 1


def tranches(fund: IndividualServiceFund) -> list[Tranche]:
    """The fund's tranches. Each pays for its days' share of the budget; the shares are
    rounded on the running total, so no penny is lost or made and the last tranche
    ends on exactly the budget."""
    assert fund.funding_schedule is not None
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    starts_on, ends_on = fund.period_starts_on, fund.period_ends_on
    budget = funded_pence(fund)
    total_days = days_between(starts_on, ends_on)
    dates = due_dates(fund.funding_schedule, starts_on, ends_on)
    found = []
    paid = 0
    for number, due_on in enumerate(dates, start=1):
        covers_to = dates[number] - timedelta(days=1) if number < len(dates) else ends_on
        through = days_between(starts_on, covers_to)
        running = divide_rounding(budget * through, total_days)
        found.append(
            Tranche(number=number, due_on=due_on, covers_to=covers_to, amount_pence=running - paid)
        )
        paid = running
    return found


def tranche_key(fund: IndividualServiceFund, tranche: Tranche) -> str:
    """The tranche's idempotency key: posting it again is the same request, with one effect."""
    return f"tranche:{fund.id}:{tranche.number}"


def post_due_tranches(session: Session, *, today: date) -> list[LedgerTransaction]:
    """Pay into every active fund each tranche due by `today` that is not paid yet, from
    its council's funding source, as the service's own scheduled work. Run daily; running
    it again (or on two machines at once) pays nothing twice: a tranche's posting has its
    own key, and one already posted is found by it."""
    posted = []
    # Each council's funding source, looked up once a run rather than once a fund.
    sources: dict[int, LedgerAccount] = {}
    active = session.scalars(
        select(IndividualServiceFund)
        .where(
            IndividualServiceFund.status == FundStatus.ACTIVE,
            IndividualServiceFund.period_starts_on <= today,
        )
        .order_by(IndividualServiceFund.id)
    )
    for fund in active:
        schedule = tranches(fund)
        due = [t for t in schedule if t.due_on <= today and t.amount_pence > 0]
        if not due:
            continue
        paid = set(
            session.scalars(
                select(LedgerTransaction.idempotency_key).where(
                    LedgerTransaction.idempotency_key.in_([tranche_key(fund, t) for t in due])
                )
            )
        )
        if fund.council_id not in sources:
            sources[fund.council_id] = council_funding_account(session, fund.council)
        source = sources[fund.council_id]
        assert fund.account is not None
        for tranche in due:
            if tranche_key(fund, tranche) in paid:
                continue
            posted.append(
                transfer(
                    session,
                    source=source,
                    destination=fund.account,
                    amount_pence=tranche.amount_pence,
                    idempotency_key=tranche_key(fund, tranche),
                    actor=Actor.system(),
                    reason=f"Funding from {fund.council.name} Council: tranche "
                    f"{tranche.number} of {len(schedule)}, for "
                    f"{tranche.due_on:%-d %B %Y} to {tranche.covers_to:%-d %B %Y}",
                    reference=Reference(
                        ReferenceKind.FUNDING_TRANCHE, f"{fund.id}:{tranche.number}"
                    ),
                )
            )
    return posted


class FundingAdjustment(enum.StrEnum):
    TOP_UP = "top_up"
    """More money from the council, beyond the schedule."""
    CLAWBACK = "clawback"
    """Money taken back by the council."""

    @property
    def label(self) -> str:
        return {
            FundingAdjustment.TOP_UP: "Top-up from the council",
            FundingAdjustment.CLAWBACK: "Clawback by the council",
        }[self]


MAX_ADJUSTMENT_PENCE = 100_000_000
"""£1,000,000 at most in one adjustment, as for a year's budget: a slip is caught."""


def adjust_funding(
    session: Session,
    *,
    fund: IndividualServiceFund,
    by: User,
    adjustment: FundingAdjustment,
    amount_pence: int,
    reason: str,
    idempotency_key: str,
) -> LedgerTransaction:
    """Finance staff of the fund's council record a top-up (from the council's funding
    source into the fund) or a clawback (back again), with the reason in plain words. The
    form's key makes a resent form do it once; a clawback cannot take the fund below zero."""
    if not funds_service.may_see_fund(session, by, fund):
        raise NotFound("Page not found")
    if by.role != Role.FINANCE:
        raise NotAllowed("Only the council's finance staff record top-ups and clawbacks")
    if fund.status != FundStatus.ACTIVE or fund.account is None:
        raise Conflict("Only an active fund's money can be topped up or clawed back")
    words = ""
    with Rules() as rules:
        if not 0 < amount_pence <= MAX_ADJUSTMENT_PENCE:
            rules.broken(
                f"Enter an amount from £0.01 to {format_pence(MAX_ADJUSTMENT_PENCE)}",
                field="amount",
            )
        try:
            words = check_text(reason, field="reason", missing="Say why, in plain words")
        except RuleBroken as error:
            rules.broken(error.message, field="reason")
    # A form sent again after it worked changes nothing, and is not recorded as a change.
    again = session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == idempotency_key)
    )
    council = council_funding_account(session, fund.council)
    source, destination = (
        (council, fund.account)
        if adjustment == FundingAdjustment.TOP_UP
        else (fund.account, council)
    )
    posted = transfer(
        session,
        source=source,
        destination=destination,
        amount_pence=amount_pence,
        idempotency_key=idempotency_key,
        actor=Actor.of(by),
        reason=f"{adjustment.label}: {words}",
        reference=Reference(ReferenceKind.FINANCE_ADJUSTMENT, str(fund.id)),
    )
    if again is None:
        audit.record_change(
            session,
            actor=by,
            subject_type=funds_service.SUBJECT,
            subject_id=fund.id,
            fields=[adjustment.value],
        )
    return posted
