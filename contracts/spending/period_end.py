"""The end of a fund's period: the council's finance staff close it under the council's
underspend rule (data, kept with its history), once every delivery of the period has been
approved or turned down. The fees still due are charged; what is left in the fund is
carried over up to the rule's amount, for the person's next period, and the rest goes back
to the council in one ledger entry; and the figures of the closing statement are kept.
The council's budget holder then sets up the person's next period: a fund that renews it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.accounts import returned_underspend_account
from contracts.funds.models import (
    AgreementParty,
    BudgetLine,
    BudgetLineKind,
    FundingSchedule,
    FundStatus,
    IndividualServiceFund,
    PlanOutcome,
)
from contracts.funds.statement import statement_of
from contracts.ledger import Actor, Reference, transfer
from contracts.models import ReferenceKind
from contracts.spending.fees import charge_fund_fees
from contracts.spending.models import Delivery, DeliveryStatus, PeriodClose, UnderspendRule
from marketplace.accounts.models import Role, User
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from marketplace.geography.models import CouncilArea
from marketplace.money import format_pence

MAX_CARRY_OVER_PENCE = 100_000_000


def underspend_rule(session: Session, council: CouncilArea) -> UnderspendRule | None:
    """The council's rule now: its latest."""
    return session.scalar(
        select(UnderspendRule)
        .where(UnderspendRule.council_id == council.id)
        .order_by(UnderspendRule.id.desc())
        .limit(1)
    )


def set_underspend_rule(
    session: Session, *, council: CouncilArea, by: User, carry_over_max_pence: int
) -> UnderspendRule:
    """A council's finance staff set how much of a fund's underspend is carried over into
    the person's next period; a new version, the old kept."""
    if by.role != Role.FINANCE or by.council_id != council.id:
        raise NotAllowed("Only the council's finance staff set its underspend rule")
    if not 0 <= carry_over_max_pence <= MAX_CARRY_OVER_PENCE:
        raise RuleBroken(
            f"Enter an amount from £0 to {format_pence(MAX_CARRY_OVER_PENCE)}", field="carry_over"
        )
    rule = UnderspendRule(
        council_id=council.id, carry_over_max_pence=carry_over_max_pence, set_by_id=by.id
    )
    session.add(rule)
    session.flush()
    return rule


def period_end_key(fund: IndividualServiceFund) -> str:
    return f"period-end:{fund.id}"


def close_period(
    session: Session, *, fund: IndividualServiceFund, by: User, today: date
) -> PeriodClose:
    """Close an active fund whose period has ended: its council's finance staff, once no
    delivery waits. Charges the fees still due, carries over what the rule allows, returns
    the rest to the council, and keeps the closing figures. Closing twice is refused."""
    if not funds_service.may_see_fund(session, by, fund):
        raise NotFound("Page not found")
    if by.role != Role.FINANCE:
        raise NotAllowed("Only the council's finance staff close a fund's period")
    if fund.status != FundStatus.ACTIVE or fund.account is None:
        raise Conflict("Only an active fund's period can be closed")
    assert fund.period_ends_on is not None
    if today <= fund.period_ends_on:
        raise RuleBroken(
            f"The period ends on {fund.period_ends_on:%-d %B %Y}: close it after that day"
        )
    waiting = session.scalar(
        select(func.count()).where(
            Delivery.fund_id == fund.id,
            Delivery.status.in_(
                (DeliveryStatus.RECORDED, DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED)
            ),
        )
    )
    if waiting:
        raise RuleBroken(
            f"{waiting} record{'s' if waiting != 1 else ''} of support still wait"
            f"{'' if waiting != 1 else 's'} to be confirmed, approved or turned down: "
            "the period closes once each is settled"
        )
    charge_fund_fees(session, fund, today=today)
    session.refresh(fund.account)
    # The closing figures, before anything goes back.
    statement = statement_of(session, fund, on=fund.period_ends_on)
    left = fund.account.balance_pence
    assert left == statement.available_pence
    rule = underspend_rule(session, fund.council)
    carried = min(left, rule.carry_over_max_pence if rule is not None else 0)
    returned = left - carried
    posted = None
    if returned:
        posted = transfer(
            session,
            source=fund.account,
            destination=returned_underspend_account(session, fund.council),
            amount_pence=returned,
            idempotency_key=period_end_key(fund),
            actor=Actor.of(by),
            reason=f"Underspend returned to {fund.council.name} Council at the end of the "
            f"period: {format_pence(left)} left, {format_pence(carried)} carried over",
            reference=Reference(ReferenceKind.PERIOD_END, str(fund.id)),
        )
    closed = PeriodClose(
        fund_id=fund.id,
        rule_id=rule.id if rule is not None else None,
        received_pence=statement.received_pence,
        spent_pence=statement.spent_pence,
        fees_charged_pence=statement.fees_charged_pence,
        left_pence=left,
        carried_pence=carried,
        returned_pence=returned,
        transaction_id=posted.id if posted is not None else None,
        closed_by_id=by.id,
    )
    session.add(closed)
    fund.status = FundStatus.CLOSED
    session.flush()
    funds_service.record_fund_change(session, actor=by, fund=fund, fields=["period_closed"])
    return closed


def closing_of(session: Session, fund: IndividualServiceFund) -> PeriodClose | None:
    return session.scalar(select(PeriodClose).where(PeriodClose.fund_id == fund.id))


def renewal_of(session: Session, fund: IndividualServiceFund) -> IndividualServiceFund | None:
    """The fund of the person's next period, once the council has set it up."""
    return session.scalar(
        select(IndividualServiceFund).where(IndividualServiceFund.renews_id == fund.id)
    )


def renew_fund(
    session: Session,
    *,
    fund: IndividualServiceFund,
    budget_holder: User,
    annual_budget_pence: int,
    period_starts_on: date,
    period_ends_on: date,
    schedule: FundingSchedule,
    now: datetime | None = None,
) -> IndividualServiceFund:
    """The council's budget holder sets up the person's next period once the last one is
    closed: a new fund with the same holder, at its offer's fee now, whose budget is the
    new one and what the close carried over; the person's outcomes and the lines still
    running at the last period's end come with it, at their agreed costs, over the whole
    new period. The three sides agree it as any fund (the plan can change until all of
    them accept), and the carried-over money moves across when it becomes active."""
    funds_service.must_act_as(session, fund, budget_holder, AgreementParty.COUNCIL)
    if fund.status != FundStatus.CLOSED:
        raise Conflict("A fund is renewed once its period has been closed")
    renewed = renewal_of(session, fund)
    if renewed is not None:
        raise Conflict(f"This fund has been renewed already, by fund {renewed.id}")
    funds_service.refuse_second_open_fund(session, fund.person_id)
    offer = fund.holder_offer
    problem = funds_service.holder_offer_problem(offer)
    if problem is not None:
        raise RuleBroken(
            f"{problem}. The person can ask for a new fund with the holder they choose",
            field="holder_offer",
        )
    funds_service.check_budget(annual_budget_pence, period_starts_on, period_ends_on)
    assert fund.period_ends_on is not None and offer.price is not None
    if period_starts_on <= fund.period_ends_on:
        raise RuleBroken(
            f"The last period ended on {fund.period_ends_on:%-d %B %Y}: "
            "start the next one after that day",
            field="period_starts_on",
        )
    closing = closing_of(session, fund)
    assert closing is not None
    moment = now or utcnow()
    renewed = IndividualServiceFund(
        person_id=fund.person_id,
        council_id=fund.council_id,
        holder_id=fund.holder_id,
        holder_offer=offer,
        holder_price=offer.price,
        status=FundStatus.AGREEING,
        requested_by_id=budget_holder.id,
        request_note=f"The next period of fund {fund.id}, set up by the council",
        annual_budget_pence=annual_budget_pence,
        period_starts_on=period_starts_on,
        period_ends_on=period_ends_on,
        funding_schedule=schedule,
        budget_set_by_id=budget_holder.id,
        budget_set_at=moment,
        renews_id=fund.id,
        carried_in_pence=closing.carried_pence,
        created_at=moment,
    )
    # What matters to the person stays in their words; support still running at the end
    # goes on, at the price it was agreed at, until someone changes the plan.
    outcomes = {
        outcome.id: PlanOutcome(
            term=outcome.term, own_words=outcome.own_words, added_by_id=outcome.added_by_id
        )
        for outcome in fund.outcomes
    }
    renewed.outcomes = list(outcomes.values())
    renewed.lines = [
        BudgetLine(
            kind=line.kind,
            title=line.title,
            offer_id=line.offer_id,
            offer_price_id=line.offer_price_id,
            provider_id=line.provider_id,
            minutes_per_week=line.minutes_per_week,
            when=line.when,
            weekly_pence=line.weekly_pence,
            amount_pence=line.amount_pence,
            starts_on=period_starts_on,
            ends_on=period_ends_on,
            costing=line.costing,
            added_by_id=line.added_by_id,
            outcomes=[outcomes[outcome.id] for outcome in line.outcomes],
        )
        for line in fund.lines
        # a one-off purchase was for the period it was bought in
        if line.ends_on >= fund.period_ends_on and line.kind != BudgetLineKind.PURCHASE
    ]
    session.add(renewed)
    session.flush()
    funds_service.record_fund_change(session, actor=budget_holder, fund=fund, fields=["renewed"])
    funds_service.record_fund_change(
        session, actor=budget_holder, fund=renewed, fields=["renews", "budget"]
    )
    return renewed
