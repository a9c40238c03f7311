"""Spending's tables: support delivered (or bought) against a fund's budget line, as the
provider records it, the person confirms or disputes it and the holder approves it; the
receipts of one-off purchases; and the payments finance staff send to providers."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from contracts.funds.models import BudgetLine, IndividualServiceFund
from contracts.models import LedgerTransaction
from marketplace.accounts.models import User
from marketplace.db import Base, TimestampMixin, str_enum, utcnow
from marketplace.geography.models import CouncilArea
from providers.models import Provider


class DeliveryKind(enum.StrEnum):
    SUPPORT = "support"
    """Hours of support on a day, at the line's agreed price."""
    PURCHASE = "purchase"
    """A one-off purchase for the line's purpose, with its receipt."""

    @property
    def label(self) -> str:
        return {DeliveryKind.SUPPORT: "Support", DeliveryKind.PURCHASE: "Purchase"}[self]


class DeliveryStatus(enum.StrEnum):
    RECORDED = "recorded"
    """Waiting for the person (or a representative) to confirm it."""
    CONFIRMED = "confirmed"
    """Confirmed by the person: waiting for the holder to approve it."""
    DISPUTED = "disputed"
    """The person says it is not right: waiting for whoever recorded it to resolve it."""
    APPROVED = "approved"
    """Approved by the holder and paid from the fund to what the provider is owed."""
    WITHDRAWN = "withdrawn"
    """Taken back by whoever recorded it, before approval."""
    REFUSED = "refused"
    """The holder would not pay it from the fund, with a reason."""

    @property
    def label(self) -> str:
        return {
            DeliveryStatus.RECORDED: "Waiting for the person to confirm",
            DeliveryStatus.CONFIRMED: "Confirmed: waiting for the fund holder to approve",
            DeliveryStatus.DISPUTED: "Disputed: waiting to be put right",
            DeliveryStatus.APPROVED: "Approved and paid from the fund",
            DeliveryStatus.WITHDRAWN: "Withdrawn",
            DeliveryStatus.REFUSED: "Refused by the fund holder",
        }[self]

    @property
    def is_open(self) -> bool:
        """Still on its way to being paid or not."""
        return self in (DeliveryStatus.RECORDED, DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED)


class Receipt(Base):
    """The receipt of a one-off purchase: a PNG or JPEG redrawn without its metadata, or a
    PDF, kept with the fund so that everyone who may see the fund may see what was bought."""

    __tablename__ = "receipt"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="RESTRICT"), index=True
    )
    media_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(TimestampMixin, Base):
    """Support delivered, or a purchase made, against one budget line of a fund: recorded
    by the provider that delivers the line (the holder for support described in words),
    confirmed or disputed by the person, approved by the holder, and then paid from the
    fund into what the provider is owed by one ledger transaction."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint(
            "(kind = 'support' AND minutes IS NOT NULL AND minutes > 0 AND receipt_id IS NULL)"
            " OR (kind = 'purchase' AND minutes IS NULL AND receipt_id IS NOT NULL)",
            name="hours_or_a_receipt",
        ),
        CheckConstraint(
            "(status = 'approved') = (transaction_id IS NOT NULL)", name="approved_once_paid"
        ),
        CheckConstraint(
            "status <> 'disputed' OR trim(dispute_reason) <> ''", name="disputes_say_why"
        ),
        Index("ix_delivery_fund_status", "fund_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="RESTRICT")
    )
    line_id: Mapped[int] = mapped_column(
        ForeignKey("budget_line.id", ondelete="RESTRICT"), index=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="RESTRICT"), index=True
    )
    """Who is owed for it: the line's provider, or the holder for support described in
    words (which it pays on)."""
    kind: Mapped[DeliveryKind] = mapped_column(str_enum(DeliveryKind))
    delivered_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int | None] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    """What it costs the fund before the holder's fee: hours at the line's agreed price,
    or what the purchase cost."""
    description: Mapped[str] = mapped_column(Text)
    """What was done or bought, in plain words."""
    receipt_id: Mapped[int | None] = mapped_column(
        ForeignKey("receipt.id", ondelete="RESTRICT"), unique=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.RECORDED
    )
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    confirmed_at: Mapped[datetime | None]
    disputed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    disputed_at: Mapped[datetime | None]
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    """What the person said was wrong (kept after it is resolved)."""
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(Text, default="")
    """How the dispute was put right, in plain words."""
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    approved_at: Mapped[datetime | None]
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transaction.id", ondelete="RESTRICT"), unique=True
    )
    """The ledger transaction that paid it: one delivery, one payment from the fund."""
    ended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(Text, default="")
    """Why it was withdrawn or refused."""

    fund: Mapped[IndividualServiceFund] = relationship()
    line: Mapped[BudgetLine] = relationship()
    provider: Mapped[Provider] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    receipt: Mapped[Receipt | None] = relationship()
    transaction: Mapped[LedgerTransaction | None] = relationship()


class PaymentRailName(enum.StrEnum):
    MANUAL = "manual"
    """A bank transfer finance staff sent themselves, recorded with its reference."""

    @property
    def label(self) -> str:
        return {PaymentRailName.MANUAL: "Bank transfer"}[self]


class ProviderPayment(Base):
    """Money a council's finance staff sent to a provider for what the council's funds owe
    it, by a payment rail, and the ledger transaction that records it."""

    __tablename__ = "provider_payment"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("trim(reference) <> ''", name="has_a_reference"),
        # An outside system's payment id (a future card or Stripe rail's) names one
        # payment here, so one effect out there is one entry in the ledger.
        Index(
            "uq_provider_payment_external",
            "rail",
            "external_id",
            unique=True,
            sqlite_where=text("external_id IS NOT NULL"),
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        UniqueConstraint("transaction_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="RESTRICT"), index=True
    )
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    rail: Mapped[PaymentRailName] = mapped_column(str_enum(PaymentRailName))
    reference: Mapped[str] = mapped_column(String(100))
    """The reference the provider sees on its bank statement."""
    external_id: Mapped[str | None] = mapped_column(String(100))
    paid_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ledger_transaction.id", ondelete="RESTRICT")
    )

    provider: Mapped[Provider] = relationship()
    council: Mapped[CouncilArea] = relationship()
    recorded_by: Mapped[User] = relationship()


class UnderspendRule(Base):
    """A council's rule for what is left in a fund when its period ends: up to an amount is
    carried over into the person's next period, the rest goes back to the council. Each
    change is a new row, so the rule a period was closed under stays on the record."""

    __tablename__ = "underspend_rule"
    __table_args__ = (CheckConstraint("carry_over_max_pence >= 0", name="carry_over_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    carry_over_max_pence: Mapped[int] = mapped_column(BigInteger)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class PeriodClose(Base):
    """A fund's period, closed: what was left, what the council's rule carried over and
    what went back to the council, and the figures of its closing statement."""

    __tablename__ = "period_close"
    __table_args__ = (
        CheckConstraint(
            "left_pence = carried_pence + returned_pence AND carried_pence >= 0 "
            "AND returned_pence >= 0",
            name="left_is_carried_or_returned",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="RESTRICT"), unique=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("underspend_rule.id", ondelete="RESTRICT")
    )
    """The rule it was closed under; none where the council had set none (all went back)."""
    received_pence: Mapped[int] = mapped_column(BigInteger)
    spent_pence: Mapped[int] = mapped_column(BigInteger)
    fees_charged_pence: Mapped[int] = mapped_column(BigInteger)
    left_pence: Mapped[int] = mapped_column(BigInteger)
    carried_pence: Mapped[int] = mapped_column(BigInteger)
    returned_pence: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transaction.id", ondelete="RESTRICT"), unique=True
    )
    """The entry that returned the underspend, if any was returned."""
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)

    rule: Mapped[UnderspendRule | None] = relationship()
