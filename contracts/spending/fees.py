"""The holder's management fee, charged as it falls due. Its share of spending is charged
with each approved delivery (contracts.spending.service); its fixed charge is charged for
each month of the fund's period after the month ends, by the daily job, so the person pays
for the holding that has been done and never ahead of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.accounts import management_fees_account
from contracts.funds.funding import months_on
from contracts.funds.models import FundStatus, IndividualServiceFund
from contracts.funds.plan import days_between, fee_pence
from contracts.ledger import Actor, InsufficientFunds, Reference, transfer
from contracts.models import LedgerTransaction, ReferenceKind
from providers.models import FeePeriod
from providers.pricing import BASIS_POINTS, divide_rounding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeeMonth:
    number: int
    starts_on: date
    ends_on: date
    fixed_pence: int
    """The fixed charge's share for these days; the months add up to the period's charge."""


def fee_months(fund: IndividualServiceFund) -> list[FeeMonth]:
    """The months of the fund's period (the last one may be short), each with its share of
    the period's fixed charge, so that no penny is lost or made. A monthly charge is
    charged whole for each whole month, the last month taking what is left of the
    period's charge; a weekly or yearly one is shared by days, rounded on the running
    total."""
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    starts_on, ends_on = fund.period_starts_on, fund.period_ends_on
    whole = fee_pence(fund, support_pence=0, starts_on=starts_on, ends_on=ends_on)
    monthly = fund.holder_price.management_fee_period == FeePeriod.MONTH
    fixed = fund.holder_price.management_fee_fixed_pence or 0
    total_days = days_between(starts_on, ends_on)
    months: list[FeeMonth] = []
    charged = 0
    number = 0
    while True:
        month_starts = months_on(starts_on, number)
        if month_starts > ends_on:
            return months
        next_starts = months_on(starts_on, number + 1)
        month_ends = min(next_starts - timedelta(days=1), ends_on)
        number += 1
        if next_starts > ends_on:
            amount = whole - charged
        elif monthly:
            amount = min(fixed, whole - charged)
        else:
            amount = (
                divide_rounding(whole * days_between(starts_on, month_ends), total_days) - charged
            )
        months.append(FeeMonth(number, month_starts, month_ends, amount))
        charged += amount


def fee_on_pence(fund: IndividualServiceFund, spent_pence: int) -> int:
    """The holder's fee on what is spent, where its fee is a share of spending."""
    share = fund.holder_price.management_fee_bp or 0
    return divide_rounding(spent_pence * share, BASIS_POINTS)


def fee_key(fund: IndividualServiceFund, month: FeeMonth) -> str:
    return f"management-fee:{fund.id}:{month.number}"


def _charged_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(
        session.scalars(
            select(LedgerTransaction.idempotency_key).where(
                LedgerTransaction.idempotency_key.in_(keys)
            )
        )
    )


def fixed_fees_to_come_pence(session: Session, fund: IndividualServiceFund) -> int:
    """The fixed charge of the months not charged yet."""
    months = [month for month in fee_months(fund) if month.fixed_pence > 0]
    charged = _charged_keys(session, [fee_key(fund, month) for month in months])
    return sum(month.fixed_pence for month in months if fee_key(fund, month) not in charged)


def charge_due_fees(session: Session, *, today: date) -> list[LedgerTransaction]:
    """Charge every active fund the fixed fee of each month that has ended and is not
    charged yet, from the fund to its holder's fees, as the service's scheduled work. Run
    daily, after the tranches; running it again charges nothing twice. A fund that cannot
    pay yet is charged on a later run, when its next tranche has come in."""
    posted = []
    active = session.scalars(
        select(IndividualServiceFund)
        .where(
            IndividualServiceFund.status == FundStatus.ACTIVE,
            IndividualServiceFund.period_starts_on < today,
        )
        .order_by(IndividualServiceFund.id)
    )
    for fund in active:
        posted.extend(charge_fund_fees(session, fund, today=today))
    return posted


def charge_fund_fees(
    session: Session, fund: IndividualServiceFund, *, today: date
) -> list[LedgerTransaction]:
    """Charge one fund the fixed fee of each month ended before `today` and not charged
    yet, in order, while it can pay."""
    due = [m for m in fee_months(fund) if m.ends_on < today and m.fixed_pence > 0]
    charged = _charged_keys(session, [fee_key(fund, month) for month in due])
    assert fund.account is not None
    posted = []
    for month in due:
        if fee_key(fund, month) in charged:
            continue
        try:
            posted.append(
                transfer(
                    session,
                    source=fund.account,
                    destination=management_fees_account(session, fund.holder),
                    amount_pence=month.fixed_pence,
                    idempotency_key=fee_key(fund, month),
                    actor=Actor.system(),
                    reason=f"Management fee of {fund.holder.name} for "
                    f"{month.starts_on:%-d %B %Y} to {month.ends_on:%-d %B %Y}",
                    reference=Reference(ReferenceKind.MANAGEMENT_FEE, f"{fund.id}:{month.number}"),
                )
            )
        except InsufficientFunds:
            log.warning("fund %s cannot pay its fee for month %s yet", fund.id, month.number)
            break
    return posted
