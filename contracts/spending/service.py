"""Support delivered against a fund's budget lines, from being recorded to being paid. The
provider that delivers a line records it (the holder, for support described in words and
for the contingency); the person or a representative confirms it or disputes it; whoever
recorded it puts a dispute right or withdraws it; and the fund's holder approves it, which
pays it from the fund into what the provider is owed in one ledger transaction, with the
holder's fee when that is a share of what is spent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from contracts.funds import service as funds_service
from contracts.funds.accounts import management_fees_account, payable_account
from contracts.funds.models import (
    AgreementParty,
    BudgetLine,
    BudgetLineKind,
    FundStatus,
    IndividualServiceFund,
)
from contracts.ledger import Actor, InsufficientFunds, Leg, Reference, post_transaction
from contracts.models import ReferenceKind
from contracts.spending.fees import fee_on_pence
from contracts.spending.models import Delivery, DeliveryKind, DeliveryStatus, Receipt
from contracts.spending.receipts import clean_receipt
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import visibility_rule
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken, Rules
from marketplace.money import format_pence
from marketplace.paging import Page, paginate
from providers.access import is_member
from providers.enquiries import check_text
from providers.models import Provider
from providers.pricing import divide_rounding
from providers.service import providers_of

MAX_MINUTES_A_DAY = 24 * 60
MAX_PURCHASE_PENCE = 1_000_000
"""£10,000 at most for one purchase: a slip of the keyboard is caught, not paid."""


# Who does what ---------------------------------------------------------------------------


def delivering_provider_id(fund: IndividualServiceFund, line: BudgetLine) -> int:
    """Who records support on a line and is owed for it: the offer's provider, or the
    holder for support described in words and for the contingency, which it pays on."""
    if line.kind == BudgetLineKind.OFFER and line.provider_id is not None:
        return line.provider_id
    return fund.holder_id


def staff_of(session: Session, user: User, provider_id: int) -> bool:
    return user.role in (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT) and is_member(
        session, user, provider_id
    )


def delivers_to(session: Session, user: User, fund: IndividualServiceFund) -> bool:
    """Whether `user` is staff of a provider that delivers a line of the fund."""
    if user.role not in (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT):
        return False
    mine = {provider.id for provider in providers_of(session, user=user)}
    return any(delivering_provider_id(fund, line) in mine for line in fund.lines)


@visibility_rule(Delivery)
def may_see_delivery(session: Session, user: User, delivery: Delivery) -> bool:
    """Everyone who may see the fund, and the staff of the provider that delivered it."""
    return staff_of(session, user, delivery.provider_id) or funds_service.may_see_fund(
        session, user, delivery.fund
    )


def _must_see(session: Session, user: User, delivery: Delivery) -> None:
    if not may_see_delivery(session, user, delivery):
        raise NotFound("Page not found")


def lines_to_record(
    session: Session, *, user: User
) -> list[tuple[IndividualServiceFund, BudgetLine]]:
    """The lines of active funds that `user`'s providers deliver, where they record support."""
    mine = {provider.id for provider in providers_of(session, user=user)}
    if not mine or user.role not in (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT):
        return []
    rows = session.execute(
        select(IndividualServiceFund, BudgetLine)
        .join(BudgetLine, BudgetLine.fund_id == IndividualServiceFund.id)
        .where(
            IndividualServiceFund.status == FundStatus.ACTIVE,
            (BudgetLine.provider_id.in_(mine))
            | (
                (BudgetLine.kind != BudgetLineKind.OFFER)
                & (IndividualServiceFund.holder_id.in_(mine))
            ),
        )
        .order_by(IndividualServiceFund.id, BudgetLine.id)
    ).all()
    return [(fund, line) for fund, line in rows]


# Recording -------------------------------------------------------------------------------


def _line_to_record(
    session: Session, fund: IndividualServiceFund, line_id: int, by: User
) -> BudgetLine:
    line = next((line for line in fund.lines if line.id == line_id), None)
    if fund.status != FundStatus.ACTIVE or line is None:
        raise NotFound("Page not found")
    if not staff_of(session, by, delivering_provider_id(fund, line)):
        if funds_service.may_see_fund(session, by, fund):
            raise NotAllowed("Only the provider that delivers this support records it")
        raise NotFound("Page not found")
    return line


def _check_day(line: BudgetLine, delivered_on: date, today: date, rules: Rules) -> None:
    if delivered_on > today:
        rules.broken("Record support on or after the day it happens", field="delivered_on")
    elif not line.starts_on <= delivered_on <= line.ends_on:
        rules.broken(
            f"This line runs from {line.starts_on:%-d %B %Y} to {line.ends_on:%-d %B %Y}: "
            "choose a day in it",
            field="delivered_on",
        )


def _words(text: str, *, field: str, missing: str, rules: Rules) -> str:
    try:
        return check_text(text, field=field, missing=missing)
    except RuleBroken as error:
        rules.broken(error.message, field=field)
        return ""


def support_pence(line: BudgetLine, minutes: int) -> int:
    """Hours of support at the line's agreed price: its week's cost (uplifts and travel
    in) for each of its hours a week, rounded half up to the penny."""
    if not line.minutes_per_week or line.weekly_pence is None:
        raise RuleBroken("Support on this line is recorded as a purchase, with its receipt")
    return divide_rounding(line.weekly_pence * minutes, line.minutes_per_week)


def purchase_left_pence(
    session: Session, line: BudgetLine, *, leaving_out: Delivery | None = None
) -> int | None:
    """What a one-off purchase line still allows: the amount approved for it (with money
    moved into or out of it) less what is recorded on it and not withdrawn or refused,
    waiting or paid, so two records cannot each take the whole of it; None for other
    lines, whose purchases the plan's weekly money pays for."""
    if line.kind != BudgetLineKind.PURCHASE:
        return None
    counted = select(func.coalesce(func.sum(Delivery.amount_pence), 0)).where(
        Delivery.line_id == line.id,
        Delivery.status.not_in([DeliveryStatus.WITHDRAWN, DeliveryStatus.REFUSED]),
    )
    if leaving_out is not None:
        counted = counted.where(Delivery.id != leaving_out.id)
    recorded = int(session.scalar(counted) or 0)
    return max(0, (line.amount_pence or 0) + (line.moved_pence or 0) - recorded)


def _left_to_buy(
    session: Session, line: BudgetLine, *, leaving_out: Delivery | None = None
) -> int | None:
    """What is left of a purchase line, with the line locked until the transaction ends,
    so two people recording on it at once cannot each take the whole of it."""
    if line.kind != BudgetLineKind.PURCHASE:
        return None
    session.execute(select(BudgetLine.id).where(BudgetLine.id == line.id).with_for_update())
    return purchase_left_pence(session, line, leaving_out=leaving_out)


def _within_purchase(left: int | None, amount_pence: int, line: BudgetLine, rules: Rules) -> None:
    if left is not None and amount_pence > left:
        rules.broken(
            f"“{line.title}” was approved for {format_pence(left)} more"
            if left
            else f"“{line.title}” has been bought in full: ask for a change of use to spend more",
            field="amount",
        )


def record_support(
    session: Session,
    *,
    fund: IndividualServiceFund,
    line_id: int,
    by: User,
    delivered_on: date,
    minutes: int,
    description: str,
    today: date,
) -> Delivery:
    """Hours of support given on a day, at the line's agreed price, for the person to
    confirm."""
    line = _line_to_record(session, fund, line_id, by)
    with Rules() as rules:
        _check_day(line, delivered_on, today, rules)
        if not 0 < minutes <= MAX_MINUTES_A_DAY:
            rules.broken("Enter from more than 0 to 24 hours", field="hours")
        words = _words(
            description, field="description", missing="Say what support was given", rules=rules
        )
    delivery = Delivery(
        fund=fund,
        line=line,
        provider_id=delivering_provider_id(fund, line),
        kind=DeliveryKind.SUPPORT,
        delivered_on=delivered_on,
        minutes=minutes,
        amount_pence=support_pence(line, minutes),
        description=words,
        recorded_by_id=by.id,
    )
    session.add(delivery)
    session.flush()
    _audit(session, by, fund, "delivery_recorded")
    return delivery


def record_purchase(
    session: Session,
    *,
    fund: IndividualServiceFund,
    line_id: int,
    by: User,
    delivered_on: date,
    amount_pence: int,
    description: str,
    receipt: bytes,
    today: date,
) -> Delivery:
    """A one-off purchase for a line's purpose, with its receipt, for the person to
    confirm."""
    line = _line_to_record(session, fund, line_id, by)
    left = _left_to_buy(session, line)
    stored: tuple[bytes, str] | None = None
    with Rules() as rules:
        _check_day(line, delivered_on, today, rules)
        if not 0 < amount_pence <= MAX_PURCHASE_PENCE:
            rules.broken(
                f"Enter an amount from £0.01 to {format_pence(MAX_PURCHASE_PENCE)}", field="amount"
            )
        else:
            _within_purchase(left, amount_pence, line, rules)
        words = _words(description, field="description", missing="Say what was bought", rules=rules)
        try:
            stored = clean_receipt(receipt)
        except RuleBroken as error:
            rules.broken(error.message, field="receipt")
    assert stored is not None
    data, media_type = stored
    kept = Receipt(
        fund_id=fund.id,
        media_type=media_type,
        size_bytes=len(data),
        data=data,
        uploaded_by_id=by.id,
    )
    delivery = Delivery(
        fund=fund,
        line=line,
        provider_id=delivering_provider_id(fund, line),
        kind=DeliveryKind.PURCHASE,
        delivered_on=delivered_on,
        amount_pence=amount_pence,
        description=words,
        receipt=kept,
        recorded_by_id=by.id,
    )
    session.add(delivery)
    session.flush()
    _audit(session, by, fund, "purchase_recorded")
    return delivery


# The person's side ----------------------------------------------------------------------


def _locked(session: Session, delivery: Delivery) -> Delivery:
    """The delivery read afresh and held until the transaction ends, so two people acting
    on it at once act one after the other (SQLite's BEGIN IMMEDIATE does the same)."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.id == delivery.id)
        .with_for_update(of=Delivery)
        .execution_options(populate_existing=True)
        # What paying it reads, in the same statement rather than one lazy load each.
        .options(
            joinedload(Delivery.line),
            # A provider's own lists (its languages) are not needed to pay it.
            joinedload(Delivery.provider).lazyload("*"),
            joinedload(Delivery.fund).joinedload(IndividualServiceFund.account),
            joinedload(Delivery.fund).joinedload(IndividualServiceFund.holder_price),
            joinedload(Delivery.fund).joinedload(IndividualServiceFund.council),
            joinedload(Delivery.fund).joinedload(IndividualServiceFund.holder).lazyload("*"),
        )
    ).one()


def _as_party(
    session: Session, delivery: Delivery, by: User, party: AgreementParty, doing: str
) -> Delivery:
    acting_as = funds_service.party_of(session, delivery.fund, by)
    if acting_as is None:
        _must_see(session, by, delivery)
    if acting_as != party:
        raise NotAllowed(f"Only {party.label.lower()} {doing}")
    return _locked(session, delivery)


def _must_be(delivery: Delivery, *statuses: DeliveryStatus) -> None:
    if delivery.status not in statuses:
        raise Conflict(f"This is no longer waiting for that: it is {delivery.status.label.lower()}")


def confirm_delivery(session: Session, *, delivery: Delivery, by: User) -> Delivery:
    """The person (or a representative) says the support was given as recorded."""
    delivery = _as_party(session, delivery, by, AgreementParty.PERSON, "confirms support was given")
    _must_be(delivery, DeliveryStatus.RECORDED, DeliveryStatus.DISPUTED)
    delivery.status = DeliveryStatus.CONFIRMED
    delivery.confirmed_by_id, delivery.confirmed_at = by.id, utcnow()
    _audit(session, by, delivery.fund, "delivery_confirmed")
    return delivery


def dispute_delivery(session: Session, *, delivery: Delivery, by: User, reason: str) -> Delivery:
    """The person (or a representative) says it is not right, and why."""
    delivery = _as_party(session, delivery, by, AgreementParty.PERSON, "disputes support")
    _must_be(delivery, DeliveryStatus.RECORDED)
    words = check_text(reason, field="reason", missing="Say what is not right, in your words")
    delivery.status = DeliveryStatus.DISPUTED
    delivery.disputed_by_id, delivery.disputed_at = by.id, utcnow()
    delivery.dispute_reason = words
    _audit(session, by, delivery.fund, "delivery_disputed")
    return delivery


# The recorder's side --------------------------------------------------------------------


def _as_recorder(session: Session, delivery: Delivery, by: User) -> Delivery:
    _must_see(session, by, delivery)
    if not staff_of(session, by, delivery.provider_id):
        raise NotAllowed("Only the provider that recorded it can change it")
    return _locked(session, delivery)


def resolve_dispute(
    session: Session,
    *,
    delivery: Delivery,
    by: User,
    resolution: str,
    minutes: int | None = None,
    amount_pence: int | None = None,
) -> Delivery:
    """Whoever recorded it answers a dispute in plain words, correcting the hours (or a
    purchase's amount) where they were wrong; it goes back to the person to confirm."""
    delivery = _as_recorder(session, delivery, by)
    _must_be(delivery, DeliveryStatus.DISPUTED)
    with Rules() as rules:
        words = _words(
            resolution,
            field="resolution",
            missing="Say how it has been put right",
            rules=rules,
        )
        if minutes is not None and (
            delivery.kind != DeliveryKind.SUPPORT or not 0 < minutes <= MAX_MINUTES_A_DAY
        ):
            rules.broken("Enter from more than 0 to 24 hours", field="hours")
        if amount_pence is not None and (
            delivery.kind != DeliveryKind.PURCHASE or not 0 < amount_pence <= MAX_PURCHASE_PENCE
        ):
            rules.broken(
                f"Enter an amount from £0.01 to {format_pence(MAX_PURCHASE_PENCE)}", field="amount"
            )
        elif amount_pence is not None:
            left = _left_to_buy(session, delivery.line, leaving_out=delivery)
            _within_purchase(left, amount_pence, delivery.line, rules)
    if minutes is not None:
        delivery.minutes = minutes
        delivery.amount_pence = support_pence(delivery.line, minutes)
    if amount_pence is not None:
        delivery.amount_pence = amount_pence
    delivery.status = DeliveryStatus.RECORDED
    delivery.resolved_by_id, delivery.resolved_at = by.id, utcnow()
    delivery.resolution = words
    _audit(session, by, delivery.fund, "delivery_dispute_resolved")
    return delivery


def withdraw_delivery(session: Session, *, delivery: Delivery, by: User, reason: str) -> Delivery:
    """Whoever recorded it takes it back before it is approved, saying why."""
    delivery = _as_recorder(session, delivery, by)
    _must_be(delivery, DeliveryStatus.RECORDED, DeliveryStatus.DISPUTED, DeliveryStatus.CONFIRMED)
    _end(
        delivery,
        by,
        DeliveryStatus.WITHDRAWN,
        check_text(reason, field="reason", missing="Say why"),
    )
    _audit(session, by, delivery.fund, "delivery_withdrawn")
    return delivery


def _end(delivery: Delivery, by: User, status: DeliveryStatus, reason: str) -> None:
    delivery.status = status
    delivery.ended_by_id, delivery.ended_at, delivery.end_reason = by.id, utcnow(), reason


# The holder's side ----------------------------------------------------------------------


def delivery_key(delivery: Delivery) -> str:
    """The approval's idempotency key: a delivery is paid from the fund once, however
    often (or by however many people at once) it is approved."""
    return f"delivery:{delivery.id}"


def approve_delivery(session: Session, *, delivery: Delivery, by: User) -> Delivery:
    """The holder approves support the person confirmed: it is paid from the fund into what
    the provider is owed from the council's funds, with the holder's fee, in one ledger
    transaction. The fund cannot pay more than it holds (above its floor)."""
    delivery = _as_party(session, delivery, by, AgreementParty.HOLDER, "approves payment")
    if delivery.status == DeliveryStatus.APPROVED:
        return delivery
    _must_be(delivery, DeliveryStatus.CONFIRMED)
    fund = delivery.fund
    assert fund.account is not None
    fee = fee_on_pence(fund, delivery.amount_pence)
    legs = [
        Leg(fund.account, -(delivery.amount_pence + fee)),
        Leg(payable_account(session, delivery.provider, fund.council), delivery.amount_pence),
    ]
    if fee:
        legs.append(Leg(management_fees_account(session, fund.holder), fee))
    try:
        posted = post_transaction(
            session,
            idempotency_key=delivery_key(delivery),
            actor=Actor.of(by),
            reason=describe(delivery),
            reference=Reference(ReferenceKind.DELIVERY, str(delivery.id)),
            legs=legs,
        )
    except InsufficientFunds as short:
        raise RuleBroken(
            f"The fund holds {format_pence(max(short.available_pence, 0))} now and this "
            f"needs {format_pence(short.needed_pence)}. Approve it when the next funding "
            "arrives, or ask the council about a change."
        ) from short
    delivery.transaction_id = posted.id
    delivery.status = DeliveryStatus.APPROVED
    delivery.approved_by_id, delivery.approved_at = by.id, utcnow()
    _audit(session, by, fund, "delivery_approved")
    return delivery


def refuse_delivery(session: Session, *, delivery: Delivery, by: User, reason: str) -> Delivery:
    """The holder will not pay it from the fund (not in the plan, say), and says why."""
    delivery = _as_party(session, delivery, by, AgreementParty.HOLDER, "refuses payment")
    _must_be(delivery, DeliveryStatus.CONFIRMED, DeliveryStatus.RECORDED, DeliveryStatus.DISPUTED)
    words = check_text(reason, field="reason", missing="Say why, in plain words")
    _end(delivery, by, DeliveryStatus.REFUSED, words)
    _audit(session, by, delivery.fund, "delivery_refused")
    return delivery


def describe(delivery: Delivery) -> str:
    """The ledger entry's reason, as the statement shows it."""
    day = f"{delivery.delivered_on:%-d %B %Y}"
    if delivery.kind == DeliveryKind.SUPPORT:
        assert delivery.minutes is not None
        return f"{delivery.line.title}: {hours_label(delivery.minutes)} on {day}"
    return f"{delivery.line.title}: {delivery.description[:200]}, bought on {day}"


def hours_label(minutes: int) -> str:
    hours, left = divmod(minutes, 60)
    if not left:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours} h {left} min" if hours else f"{left} min"


# Reading -------------------------------------------------------------------------------


def deliveries_of(
    session: Session,
    *,
    fund: IndividualServiceFund,
    statuses: Sequence[DeliveryStatus] | None = None,
) -> list[Delivery]:
    """The fund's deliveries, newest day first."""
    query = (
        select(Delivery)
        .where(Delivery.fund_id == fund.id)
        .options(selectinload(Delivery.line), selectinload(Delivery.provider))
        .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
    )
    if statuses is not None:
        query = query.where(Delivery.status.in_(statuses))
    return list(session.scalars(query))


RECORDED_PAGE_SIZE = 50
"""Records a provider's page shows at a time; a year's weekly visits to many people is
hundreds, and all of them download as CSV."""


def _recorded_by(providers: Sequence[Provider]) -> Select[Delivery]:
    return (
        select(Delivery)
        .where(Delivery.provider_id.in_([p.id for p in providers]))
        .options(selectinload(Delivery.line))
        .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
    )


def deliveries_recorded_by(session: Session, *, providers: Sequence[Provider]) -> list[Delivery]:
    """Everything `providers` have recorded, newest first: their own record of it."""
    return list(session.scalars(_recorded_by(providers)))


def recorded_page(session: Session, *, providers: Sequence[Provider], page: int) -> Page[Delivery]:
    """One page of what `providers` have recorded, newest first."""
    return paginate(session, _recorded_by(providers), page=page, page_size=RECORDED_PAGE_SIZE)


def disputed_for(session: Session, *, providers: Sequence[Provider]) -> list[Delivery]:
    """What the people say is not right in `providers`' records: theirs to put right."""
    return list(
        session.scalars(_recorded_by(providers).where(Delivery.status == DeliveryStatus.DISPUTED))
    )


def _audit(session: Session, actor: User, fund: IndividualServiceFund, field: str) -> None:
    funds_service.record_fund_change(session, actor=actor, fund=fund, fields=[field])
