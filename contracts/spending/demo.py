"""Demo spending, made through the same services people use, so that the demo's funds have
months of support delivered, confirmed, disputed and approved, the holder's fees charged
and providers paid: each week's support on each line of an active fund is recorded by its
provider at the end of the week (the holder buys what is described in words once a month,
with a receipt); what is more than three weeks old is confirmed and approved, the last
fortnight's waits for the holder and the last week's for the person; one of Morag
Lindsay's weeks was disputed and put right, and one she disputes now. The council's
finance staff paid what was owed at the end of each month before this one, set the
council's underspend rule and closed last year's fund under it."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.models import BudgetLine, BudgetLineKind, FundStatus, IndividualServiceFund
from contracts.spending import payments, period_end
from contracts.spending import service as spending
from contracts.spending.fees import charge_due_fees
from contracts.spending.models import Delivery, DeliveryStatus
from marketplace.accounts.models import User
from marketplace.errors import RuleBroken
from marketplace.money import format_pence

WEEK = timedelta(days=7)
FOUR_WEEKS = timedelta(days=28)
APPROVED_AFTER = timedelta(days=21)
CONFIRMED_AFTER = timedelta(days=7)


def load_demo_spending(
    session: Session, *, today: date, finance: User, disputing: User | None = None
) -> int:
    """Record, confirm and approve the demo funds' support, charge their fees and pay
    their providers; how many deliveries were recorded. `disputing` (Morag's fund's
    person) has one week put right and one disputed now."""
    if session.scalar(select(Delivery.id).limit(1)) is not None:
        return 0
    funds = session.scalars(
        select(IndividualServiceFund)
        .where(IndividualServiceFund.status == FundStatus.ACTIVE)
        .order_by(IndividualServiceFund.id)
    ).all()
    made = 0
    for fund in funds:
        recorded = [
            delivery
            for line in fund.lines
            for delivery in _record_line(session, fund, line, today=today)
        ]
        recorded.sort(key=lambda d: (d.delivered_on, d.id))
        made += len(recorded)
        _move_on(session, fund, recorded, today=today, disputes=fund.person == disputing)
    charge_due_fees(session, today=today)
    _pay_month_ends(session, finance, today=today)
    if finance.council is not None and period_end.underspend_rule(session, finance.council) is None:
        # Up to £500 of a year's underspend carried over, the rest back to the council.
        period_end.set_underspend_rule(
            session, council=finance.council, by=finance, carry_over_max_pence=50_000
        )
    for fund in funds:
        if fund.period_ends_on is not None and fund.period_ends_on < today:
            period_end.close_period(session, fund=fund, by=finance, today=today)
    return made


def _record_line(
    session: Session, fund: IndividualServiceFund, line: BudgetLine, *, today: date
) -> list[Delivery]:
    if line.kind == BudgetLineKind.CONTINGENCY:
        return []
    provider_id = spending.delivering_provider_id(fund, line)
    provider = fund.holder if provider_id == fund.holder_id else line.provider
    if provider is None or not provider.members:
        return []  # a generated provider nobody signs in for records nothing
    staff = provider.members[0].user
    made = []
    if line.kind == BudgetLineKind.OFFER and line.minutes_per_week:
        week_ends = line.starts_on + WEEK - timedelta(days=1)
        while week_ends <= min(today, line.ends_on):
            made.append(
                spending.record_support(
                    session,
                    fund=fund,
                    line_id=line.id,
                    by=staff,
                    delivered_on=week_ends,
                    minutes=line.minutes_per_week,
                    description=f"Visits in the week from {week_ends - WEEK + timedelta(1):%-d %B}",
                    today=week_ends,
                )
            )
            week_ends += WEEK
    elif line.weekly_pence:
        month_ends = line.starts_on + FOUR_WEEKS - timedelta(days=1)
        while month_ends <= min(today, line.ends_on):
            amount = line.weekly_pence * 4
            made.append(
                spending.record_purchase(
                    session,
                    fund=fund,
                    line_id=line.id,
                    by=staff,
                    delivered_on=month_ends,
                    amount_pence=amount,
                    description=f"{line.title}: four weeks to {month_ends:%-d %B}",
                    receipt=_receipt(line.title, amount, month_ends),
                    today=month_ends,
                )
            )
            month_ends += FOUR_WEEKS
    return made


def _move_on(
    session: Session,
    fund: IndividualServiceFund,
    recorded: list[Delivery],
    *,
    today: date,
    disputes: bool,
) -> None:
    holder = fund.holder.members[0].user
    recorder = {d.id: d.provider.members[0].user for d in recorded}
    old = [d for d in recorded if today - d.delivered_on > APPROVED_AFTER]
    if disputes and len(old) > 2:
        put_right = old[len(old) // 2]
        spending.dispute_delivery(
            session,
            delivery=put_right,
            by=fund.person,
            reason="Nobody came on the Wednesday: the carer was off sick",
        )
        assert put_right.minutes is not None
        spending.resolve_dispute(
            session,
            delivery=put_right,
            by=recorder[put_right.id],
            resolution="Sorry: Wednesday's visit was missed. We have taken its hour off.",
            minutes=put_right.minutes - 60,
        )
    ended = fund.period_ends_on is not None and fund.period_ends_on < today
    for delivery in recorded:
        age = today - delivery.delivered_on
        if ended:
            # An ended year's support is all settled before finance closes its period.
            age = max(age, APPROVED_AFTER + timedelta(days=1))
        if age <= CONFIRMED_AFTER:
            continue
        spending.confirm_delivery(session, delivery=delivery, by=fund.person)
        if age > APPROVED_AFTER:
            try:
                spending.approve_delivery(session, delivery=delivery, by=holder)
            except RuleBroken:
                continue  # the fund holds too little: it waits for the next tranche
    waiting = [d for d in recorded if d.status == DeliveryStatus.RECORDED]
    if disputes and waiting:
        spending.dispute_delivery(
            session,
            delivery=waiting[0],
            by=fund.person,
            reason="The visits were shorter than this says: about half an hour each",
        )


def _pay_month_ends(session: Session, finance: User, *, today: date) -> None:
    """What was owed at the end of each month before this one, paid the next working day:
    one payment a provider a month, as a council's payment run would."""
    this_month = today.replace(day=1)
    approved = session.scalars(
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.APPROVED, Delivery.delivered_on < this_month)
        .order_by(Delivery.delivered_on, Delivery.id)
    ).all()
    by_month: dict[tuple[date, int], int] = {}
    for delivery in approved:
        month = delivery.delivered_on.replace(day=1)
        key = (month, delivery.provider_id)
        by_month[key] = by_month.get(key, 0) + delivery.amount_pence
    for (month, provider_id), owed in sorted(by_month.items()):
        paid_on = _next_month(month) + timedelta(days=2)
        if paid_on > today:
            continue
        payments.record_payment(
            session,
            by=finance,
            provider_id=provider_id,
            amount_pence=owed,
            reference=f"SDS {month:%b %Y} P{provider_id}".upper(),
            paid_on=paid_on,
            idempotency_key=f"demo-payment:{month:%Y-%m}:{provider_id}",
            today=today,
        )


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _receipt(title: str, amount_pence: int, day: date) -> bytes:
    """A small picture of a receipt, as a phone photo of one would be kept."""
    picture = Image.new("RGB", (360, 160), "white")
    pen = ImageDraw.Draw(picture)
    pen.text((16, 16), "RECEIPT", fill="black")
    pen.text((16, 56), title[:48], fill="black")
    pen.text((16, 96), f"{day:%-d %B %Y}    {format_pence(amount_pence)}", fill="black")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
