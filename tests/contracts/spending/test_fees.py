"""The holder's fixed fee is charged for each month after it ends, by the daily work: the
months add up to the period's fee exactly, nothing is charged twice or ahead, a fund that
cannot pay yet is charged when it can, and the statement's fee to come is what is left."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from contracts.funds.accounts import management_fees_account
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import IndividualServiceFund
from contracts.funds.plan import days_between, fee_pence, last_day_of_year_from
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.spending.fees import charge_due_fees, fee_months
from providers.models import FeePeriod, OfferPrice
from tests.contracts.funds.fund_builders import PERIOD_END, PERIOD_START, active_fund

TWENTY_POUNDS_A_MONTH = 2_000


def test_a_years_months_add_up_to_twelve_months_fee() -> None:
    fund = IndividualServiceFund(
        period_starts_on=PERIOD_START,
        period_ends_on=PERIOD_END,
        holder_price=OfferPrice(
            management_fee_fixed_pence=TWENTY_POUNDS_A_MONTH,
            management_fee_period=FeePeriod.MONTH,
        ),
    )
    months = fee_months(fund)
    assert len(months) == 12
    assert sum(month.fixed_pence for month in months) == 12 * TWENTY_POUNDS_A_MONTH
    assert (months[0].starts_on, months[0].ends_on) == (PERIOD_START, date(2027, 4, 30))
    assert months[-1].ends_on == PERIOD_END


@given(
    starts_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(min_value=0, max_value=364),
    fixed=st.integers(min_value=1, max_value=100_000),
    period=st.sampled_from(list(FeePeriod)),
)
def test_months_cover_every_day_once_and_add_up_to_the_periods_fee(
    starts_on: date, length: int, fixed: int, period: FeePeriod
) -> None:
    ends_on = min(
        date.fromordinal(starts_on.toordinal() + length), last_day_of_year_from(starts_on)
    )
    fund = IndividualServiceFund(
        period_starts_on=starts_on,
        period_ends_on=ends_on,
        holder_price=OfferPrice(management_fee_fixed_pence=fixed, management_fee_period=period),
    )
    months = fee_months(fund)
    assert months[0].starts_on == starts_on and months[-1].ends_on == ends_on
    assert all(
        later.starts_on.toordinal() == earlier.ends_on.toordinal() + 1
        for earlier, later in pairwise(months)
    )
    assert sum(days_between(m.starts_on, m.ends_on) for m in months) == days_between(
        starts_on, ends_on
    )
    whole = fee_pence(fund, support_pence=0, starts_on=starts_on, ends_on=ends_on)
    assert sum(month.fixed_pence for month in months) == whole
    assert all(month.fixed_pence >= 0 for month in months)


def fixed_fee_fund(db: Session) -> IndividualServiceFund:
    return active_fund(db, fee_bp=None, fixed_pence=TWENTY_POUNDS_A_MONTH)


def test_each_month_is_charged_after_it_ends_and_once(db: Session) -> None:
    fund = fixed_fee_fund(db)
    post_due_tranches(db, today=date(2027, 6, 1))
    assert charge_due_fees(db, today=date(2027, 4, 30)) == []
    [april] = charge_due_fees(db, today=date(2027, 5, 1))
    assert april.reason == (
        f"Management fee of {fund.holder.name} for 1 April 2027 to 30 April 2027"
    )
    assert len(charge_due_fees(db, today=date(2027, 6, 1))) == 1  # May
    assert charge_due_fees(db, today=date(2027, 6, 1)) == []
    assert management_fees_account(db, fund.holder).balance_pence == 2 * TWENTY_POUNDS_A_MONTH
    statement = statement_of(db, fund, on=date(2027, 6, 1))
    assert statement.fees_charged_pence == 2 * TWENTY_POUNDS_A_MONTH
    # The ten months not charged yet, and no share of spending (this holder has none).
    assert statement.fees_to_come_pence == 10 * TWENTY_POUNDS_A_MONTH
    assert statement.projected_end_pence == (
        statement.budget_pence
        - statement.spent_pence
        - statement.fees_charged_pence
        - statement.committed_pence
        - statement.fees_to_come_pence
    )
    assert check_invariants(db).sound


def test_a_fund_that_cannot_pay_yet_is_charged_when_its_money_comes(db: Session) -> None:
    fund = fixed_fee_fund(db)
    assert charge_due_fees(db, today=date(2027, 5, 1)) == []
    post_due_tranches(db, today=date(2027, 5, 1))
    assert len(charge_due_fees(db, today=date(2027, 5, 2))) == 1
    assert statement_of(db, fund, on=date(2027, 5, 2)).fees_charged_pence == TWENTY_POUNDS_A_MONTH
