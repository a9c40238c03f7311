"""The JSON shapes of spending under /api/v1: support delivered and its steps, what
providers are owed and the payments sent to them. Amounts in pence, dates as ISO dates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from contracts.funds.funding import FundingAdjustment
from contracts.spending.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    PeriodClose,
    ProviderPayment,
    UnderspendRule,
)
from contracts.spending.service import MAX_MINUTES_A_DAY, MAX_PURCHASE_PENCE

Words = Annotated[str, Field(max_length=2_000)]
"""Plain words a person writes: checked by the service (not blank, no control characters)."""


class DeliveryOut(BaseModel):
    id: int
    fund_id: int
    line_id: int
    line: str
    provider_id: int
    kind: DeliveryKind
    delivered_on: date
    minutes: int | None
    amount_pence: int
    """What it costs the fund before the holder's fee."""
    description: str
    """What was done or bought; blank for those who follow the money only (finance)."""
    has_receipt: bool
    status: DeliveryStatus
    dispute_reason: str
    resolution: str
    end_reason: str
    """Why it was withdrawn or refused."""
    ledger_transaction_id: uuid.UUID | None
    """The ledger transaction that paid it, once approved."""
    recorded_at: datetime

    @classmethod
    def of(cls, delivery: Delivery, *, words: bool = True) -> DeliveryOut:
        """`words`: whether the reader may read what was done and what was said about it
        (not the council's finance staff, who follow the money)."""
        return cls(
            id=delivery.id,
            fund_id=delivery.fund_id,
            line_id=delivery.line_id,
            line=delivery.line.title,
            provider_id=delivery.provider_id,
            kind=delivery.kind,
            delivered_on=delivery.delivered_on,
            minutes=delivery.minutes,
            amount_pence=delivery.amount_pence,
            description=delivery.description if words else "",
            has_receipt=delivery.receipt_id is not None,
            status=delivery.status,
            dispute_reason=delivery.dispute_reason if words else "",
            resolution=delivery.resolution if words else "",
            end_reason=delivery.end_reason if words else "",
            ledger_transaction_id=delivery.transaction_id,
            recorded_at=delivery.created_at,
        )


class SupportIn(BaseModel):
    delivered_on: date
    minutes: Annotated[int, Field(gt=0, le=MAX_MINUTES_A_DAY)]
    description: Words


class ReasonIn(BaseModel):
    reason: Words


class ResolutionIn(BaseModel):
    resolution: Words
    minutes: Annotated[int | None, Field(gt=0, le=MAX_MINUTES_A_DAY)] = None
    """The corrected hours of support, in minutes, where they were wrong."""
    amount_pence: Annotated[int | None, Field(gt=0, le=MAX_PURCHASE_PENCE)] = None
    """A purchase's corrected amount, where it was wrong."""


class OwedOut(BaseModel):
    provider_id: int
    provider: str
    owed_pence: int


class PaymentIn(BaseModel):
    provider_id: Annotated[int, Field(gt=0, le=2**31 - 1)]
    amount_pence: Annotated[int, Field(gt=0, le=10**12)]
    reference: Annotated[str, Field(max_length=200)]
    paid_on: date


class PaymentOut(BaseModel):
    id: int
    provider_id: int
    provider: str
    amount_pence: int
    rail: str
    reference: str
    paid_on: date
    ledger_transaction_id: uuid.UUID

    @classmethod
    def of(cls, payment: ProviderPayment) -> PaymentOut:
        return cls(
            id=payment.id,
            provider_id=payment.provider_id,
            provider=payment.provider.name,
            amount_pence=payment.amount_pence,
            rail=payment.rail.value,
            reference=payment.reference,
            paid_on=payment.paid_on,
            ledger_transaction_id=payment.transaction_id,
        )


class AdjustmentIn(BaseModel):
    adjustment: FundingAdjustment
    amount_pence: Annotated[int, Field(gt=0, le=10**12)]
    reason: Words


class AdjustmentOut(BaseModel):
    fund_id: int
    adjustment: FundingAdjustment
    amount_pence: int
    ledger_transaction_id: uuid.UUID


class UnderspendRuleIn(BaseModel):
    carry_over_max_pence: Annotated[int, Field(ge=0, le=10**12)]
    """How much of a fund's underspend is carried over into the person's next period."""


class UnderspendRuleOut(BaseModel):
    council_id: int
    carry_over_max_pence: int
    """0 when the council has set no rule: everything left goes back."""
    set_at: datetime | None

    @classmethod
    def of(cls, council_id: int, rule: UnderspendRule | None) -> UnderspendRuleOut:
        return cls(
            council_id=council_id,
            carry_over_max_pence=0 if rule is None else rule.carry_over_max_pence,
            set_at=None if rule is None else rule.set_at,
        )


class PeriodCloseOut(BaseModel):
    """A fund's closed period: its closing figures, and where what was left went."""

    fund_id: int
    received_pence: int
    spent_pence: int
    fees_charged_pence: int
    left_pence: int
    carried_pence: int
    """Carried over into the person's next period, under the council's rule."""
    returned_pence: int
    """Back to the council."""
    carry_over_max_pence: int | None
    """The rule it was closed under; none where the council had set none."""
    closed_at: datetime

    @classmethod
    def of(cls, closed: PeriodClose) -> PeriodCloseOut:
        return cls(
            fund_id=closed.fund_id,
            received_pence=closed.received_pence,
            spent_pence=closed.spent_pence,
            fees_charged_pence=closed.fees_charged_pence,
            left_pence=closed.left_pence,
            carried_pence=closed.carried_pence,
            returned_pence=closed.returned_pence,
            carry_over_max_pence=None if closed.rule is None else closed.rule.carry_over_max_pence,
            closed_at=closed.closed_at,
        )
