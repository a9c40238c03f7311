"""Spending an individual service fund as JSON under /api/v1, authorised exactly as the
pages are (the services decide who does what): support delivered and each of its steps,
what providers are owed, payments to them, and finance's top-ups and clawbacks. A request
that records or moves money carries an `Idempotency-Key` header: a retry has one effect
and gets the first answer back; the same key with other content is refused (422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from contracts.funds import views as fund_views
from contracts.funds.access import ActedFund, SeenFund
from contracts.funds.api import fund_out
from contracts.funds.funding import adjust_funding
from contracts.funds.schemas import FundOut
from contracts.funds.setup_api import BudgetIn
from contracts.spending import payments, period_end
from contracts.spending import service as spending
from contracts.spending import views as spending_views
from contracts.spending.access import SeenDelivery, WorkedFund, deliveries_seen_by
from contracts.spending.models import Delivery
from contracts.spending.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    DeliveryOut,
    OwedOut,
    PaymentIn,
    PaymentOut,
    PeriodCloseOut,
    ReasonIn,
    ResolutionIn,
    SupportIn,
    UnderspendRuleIn,
    UnderspendRuleOut,
)
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import SignedInUser, roles
from marketplace.api import API_ERRORS
from marketplace.db import today
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound
from marketplace.geography.models import CouncilArea
from marketplace.idempotency import IdempotencyKey, JsonValue, answer_once
from marketplace.parsing import RecordId

router = APIRouter(prefix="/api/v1", tags=["spending"])

FinanceUser = Annotated[User, Depends(roles(Role.FINANCE))]

KeyHeader = Annotated[
    IdempotencyKey,
    Header(
        alias="Idempotency-Key",
        description="Made by the client before its first try (a UUID, say) and sent again "
        "with every retry of the same request.",
    ),
]


def _on_fund(delivery: Delivery, fund_id: int) -> Delivery:
    if delivery.fund_id != fund_id:
        raise NotFound("Page not found")
    return delivery


@router.get("/isfs/{fund_id}/deliveries", response_model=list[DeliveryOut], responses=API_ERRORS)
@audited
def list_deliveries(fund: WorkedFund, db: DbSession, user: SignedInUser) -> list[DeliveryOut]:
    """Support delivered against the fund, newest day first: everything for those who may
    see the fund, and its own records for a provider that delivers a line."""
    fund_views.record_view(db, viewer=user, fund=fund)
    words = spending_views.shows_person(db, fund, user)
    return [DeliveryOut.of(d, words=words) for d in deliveries_seen_by(db, user, fund)]


@router.post(
    "/isfs/{fund_id}/lines/{line_id}/deliveries",
    response_model=DeliveryOut,
    status_code=201,
    responses=API_ERRORS,
)
def record_support(
    fund: WorkedFund,
    line_id: RecordId,
    body: SupportIn,
    key: KeyHeader,
    db: DbSession,
    user: SignedInUser,
) -> dict[str, JsonValue]:
    """The provider delivering the line records hours of support on a day, at the line's
    agreed price, for the person to confirm."""
    return answer_once(
        db,
        key=key,
        operation="isf.record_support",
        user_id=user.id,
        content={"fund": fund.id, "line": line_id, **body.model_dump(mode="json")},
        act=lambda: DeliveryOut.of(
            spending.record_support(
                db,
                fund=fund,
                line_id=line_id,
                by=user,
                delivered_on=body.delivered_on,
                minutes=body.minutes,
                description=body.description,
                today=today(),
            )
        ),
    )


@router.post(
    "/isfs/{fund_id}/deliveries/{delivery_id}/confirm",
    response_model=DeliveryOut,
    responses=API_ERRORS,
)
def confirm(
    fund_id: RecordId, delivery: SeenDelivery, db: DbSession, user: SignedInUser
) -> DeliveryOut:
    """The person (or a representative) confirms the support was given as recorded."""
    return DeliveryOut.of(
        spending.confirm_delivery(db, delivery=_on_fund(delivery, fund_id), by=user)
    )


@router.post(
    "/isfs/{fund_id}/deliveries/{delivery_id}/dispute",
    response_model=DeliveryOut,
    responses=API_ERRORS,
)
def dispute(
    fund_id: RecordId, delivery: SeenDelivery, body: ReasonIn, db: DbSession, user: SignedInUser
) -> DeliveryOut:
    """The person (or a representative) says what is not right."""
    return DeliveryOut.of(
        spending.dispute_delivery(
            db, delivery=_on_fund(delivery, fund_id), by=user, reason=body.reason
        )
    )


@router.post(
    "/isfs/{fund_id}/deliveries/{delivery_id}/resolve",
    response_model=DeliveryOut,
    responses=API_ERRORS,
)
def resolve(
    fund_id: RecordId,
    delivery: SeenDelivery,
    body: ResolutionIn,
    db: DbSession,
    user: SignedInUser,
) -> DeliveryOut:
    """Whoever recorded it puts a dispute right, correcting hours or an amount; it goes back
    to the person to confirm."""
    return DeliveryOut.of(
        spending.resolve_dispute(
            db,
            delivery=_on_fund(delivery, fund_id),
            by=user,
            resolution=body.resolution,
            minutes=body.minutes,
            amount_pence=body.amount_pence,
        )
    )


@router.post(
    "/isfs/{fund_id}/deliveries/{delivery_id}/withdraw",
    response_model=DeliveryOut,
    responses=API_ERRORS,
)
def withdraw(
    fund_id: RecordId, delivery: SeenDelivery, body: ReasonIn, db: DbSession, user: SignedInUser
) -> DeliveryOut:
    """Whoever recorded it takes it back before it is approved."""
    return DeliveryOut.of(
        spending.withdraw_delivery(
            db, delivery=_on_fund(delivery, fund_id), by=user, reason=body.reason
        )
    )


@router.post(
    "/isfs/{fund_id}/deliveries/{delivery_id}/approve",
    response_model=DeliveryOut,
    responses=API_ERRORS,
)
def approve(
    fund_id: RecordId,
    delivery: SeenDelivery,
    key: KeyHeader,
    db: DbSession,
    user: SignedInUser,
) -> dict[str, JsonValue]:
    """The holder approves confirmed support: it is paid from the fund to what the provider
    is owed, with the holder's fee, in one ledger transaction."""
    confirmed = _on_fund(delivery, fund_id)
    return answer_once(
        db,
        key=key,
        operation="isf.approve_delivery",
        user_id=user.id,
        content={"delivery": confirmed.id},
        act=lambda: DeliveryOut.of(spending.approve_delivery(db, delivery=confirmed, by=user)),
    )


@router.post(
    "/isfs/{fund_id}/deliveries/{delivery_id}/refuse",
    response_model=DeliveryOut,
    responses=API_ERRORS,
)
def refuse(
    fund_id: RecordId, delivery: SeenDelivery, body: ReasonIn, db: DbSession, user: SignedInUser
) -> DeliveryOut:
    """The holder will not pay it from the fund, and says why."""
    return DeliveryOut.of(
        spending.refuse_delivery(
            db, delivery=_on_fund(delivery, fund_id), by=user, reason=body.reason
        )
    )


@router.get("/payments/owed", response_model=list[OwedOut], responses=API_ERRORS)
def owed(db: DbSession, user: FinanceUser) -> list[OwedOut]:
    """For finance staff: what each provider is owed from their council's funds."""
    return [
        OwedOut(provider_id=o.provider.id, provider=o.provider.name, owed_pence=o.owed_pence)
        for o in payments.owed_by_council(db, by=user)
    ]


@router.get("/payments", response_model=list[PaymentOut], responses=API_ERRORS)
def list_payments(db: DbSession, user: FinanceUser) -> list[PaymentOut]:
    """For finance staff: their council's latest payments to providers, newest first."""
    return [PaymentOut.of(p) for p in payments.payments_by_council(db, by=user)]


@router.post("/payments", response_model=PaymentOut, status_code=201, responses=API_ERRORS)
def record_payment(
    body: PaymentIn, key: KeyHeader, db: DbSession, user: FinanceUser
) -> dict[str, JsonValue]:
    """For finance staff: a bank transfer sent to a provider, of at most what it is owed."""
    return answer_once(
        db,
        key=key,
        operation="isf.pay_provider",
        user_id=user.id,
        content=body.model_dump(mode="json"),
        act=lambda: PaymentOut.of(
            payments.record_payment(
                db,
                by=user,
                provider_id=body.provider_id,
                amount_pence=body.amount_pence,
                reference=body.reference,
                paid_on=body.paid_on,
                idempotency_key=key,
                today=today(),
            )
        ),
    )


@router.post(
    "/isfs/{fund_id}/adjustments",
    response_model=AdjustmentOut,
    status_code=201,
    responses=API_ERRORS,
)
def record_adjustment(
    fund: WorkedFund,
    body: AdjustmentIn,
    key: KeyHeader,
    db: DbSession,
    user: SignedInUser,
) -> dict[str, JsonValue]:
    """For the council's finance staff: a top-up or a clawback of the fund, with its reason."""

    def act() -> AdjustmentOut:
        posted = adjust_funding(
            db,
            fund=fund,
            by=user,
            adjustment=body.adjustment,
            amount_pence=body.amount_pence,
            reason=body.reason,
            idempotency_key=key,
        )
        return AdjustmentOut(
            fund_id=fund.id,
            adjustment=body.adjustment,
            amount_pence=body.amount_pence,
            ledger_transaction_id=posted.id,
        )

    return answer_once(
        db,
        key=key,
        operation="isf.adjust_funding",
        user_id=user.id,
        content={"fund": fund.id, **body.model_dump(mode="json")},
        act=act,
    )


# The end of a period, and the next ---------------------------------------------------------


def _council_of(user: User) -> CouncilArea:
    if user.council is None:
        raise NotFound("Your account has no council yet: ask an administrator to give it one")
    return user.council


@router.get("/underspend-rule", response_model=UnderspendRuleOut, responses=API_ERRORS)
def get_underspend_rule(db: DbSession, user: FinanceUser) -> UnderspendRuleOut:
    """For the council's finance staff: how much of a fund's underspend the council carries
    over into the person's next period now."""
    council = _council_of(user)
    return UnderspendRuleOut.of(council.id, period_end.underspend_rule(db, council))


@router.post(
    "/underspend-rule", response_model=UnderspendRuleOut, status_code=201, responses=API_ERRORS
)
def set_underspend_rule(
    body: UnderspendRuleIn, db: DbSession, user: FinanceUser
) -> UnderspendRuleOut:
    """For the council's finance staff: a new version of the rule, the old ones kept; funds
    closed from now on use it."""
    council = _council_of(user)
    rule = period_end.set_underspend_rule(
        db, council=council, by=user, carry_over_max_pence=body.carry_over_max_pence
    )
    return UnderspendRuleOut.of(council.id, rule)


@router.get("/isfs/{fund_id}/period-close", response_model=PeriodCloseOut, responses=API_ERRORS)
@audited
def get_period_close(fund: SeenFund, db: DbSession, user: SignedInUser) -> PeriodCloseOut:
    """A closed fund's closing figures; a 404 while its period is open."""
    closed = period_end.closing_of(db, fund)
    if closed is None:
        raise NotFound("This fund's period has not been closed")
    return PeriodCloseOut.of(closed)


@router.post("/isfs/{fund_id}/period-close", response_model=PeriodCloseOut, responses=API_ERRORS)
def close_period(
    fund: ActedFund, key: KeyHeader, db: DbSession, user: SignedInUser
) -> dict[str, JsonValue]:
    """For the council's finance staff, once the period has ended and no record of support
    waits: charges the fees still due, carries over what the council's rule allows and
    returns the rest to the council."""
    return answer_once(
        db,
        key=key,
        operation="isf.close_period",
        user_id=user.id,
        content={"fund": fund.id},
        act=lambda: PeriodCloseOut.of(
            period_end.close_period(db, fund=fund, by=user, today=today())
        ),
    )


@router.post(
    "/isfs/{fund_id}/renewal", response_model=FundOut, status_code=201, responses=API_ERRORS
)
def renew_fund(fund: ActedFund, body: BudgetIn, db: DbSession, user: SignedInUser) -> FundOut:
    """For the council's budget holder, once the fund's period is closed: the fund of the
    person's next period, with the plan still running and what was carried over in its
    budget, for the three sides to agree. Answers with the new fund."""
    renewed = period_end.renew_fund(
        db,
        fund=fund,
        budget_holder=user,
        annual_budget_pence=body.annual_budget_pence,
        period_starts_on=body.period_starts_on,
        period_ends_on=body.period_ends_on,
        schedule=body.funding_schedule,
    )
    db.flush()
    return fund_out(db, renewed, user)
