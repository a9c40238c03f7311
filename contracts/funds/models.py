"""Individual service funds' tables: the fund a council sets up for one supported person
with the provider that holds it, its agreement's acceptances, and its support plan (the
person's outcomes and the budget lines that pay for them)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.models import LedgerAccount
from marketplace.accounts.models import User
from marketplace.db import Base, TimestampMixin, str_enum
from marketplace.geography.models import CouncilArea
from providers.models import Offer, OfferPrice, Provider, TaxonomyTerm


class FundStatus(enum.StrEnum):
    REQUESTED = "requested"
    """The person (or a representative) has asked their council for it."""
    AGREEING = "agreeing"
    """The council has set the budget; the person, the holder and the council are agreeing
    the plan and accepting the agreement."""
    ACTIVE = "active"
    """All three have accepted: the holder holds the money for the person."""
    DECLINED = "declined"
    """The council or the holder said no, with a reason."""
    WITHDRAWN = "withdrawn"
    """The person withdrew the request before it was agreed."""
    CLOSED = "closed"
    """Its period has ended and been closed under the council's underspend rule."""

    @property
    def label(self) -> str:
        return {
            FundStatus.REQUESTED: "Asked for: waiting for the council to set the budget",
            FundStatus.AGREEING: "Being agreed",
            FundStatus.ACTIVE: "Active",
            FundStatus.DECLINED: "Declined",
            FundStatus.WITHDRAWN: "Withdrawn",
            FundStatus.CLOSED: "Closed at the end of its period",
        }[self]

    @property
    def is_open(self) -> bool:
        """Still asked for, being agreed or held: a person has one such fund at a time."""
        return self in (FundStatus.REQUESTED, FundStatus.AGREEING, FundStatus.ACTIVE)


class FundingSchedule(enum.StrEnum):
    UPFRONT = "upfront"
    MONTHLY = "monthly"
    FOUR_WEEKLY = "four_weekly"

    @property
    def label(self) -> str:
        return {
            FundingSchedule.UPFRONT: "All at the start of the period",
            FundingSchedule.MONTHLY: "Monthly",
            FundingSchedule.FOUR_WEEKLY: "Every four weeks",
        }[self]


class AgreementParty(enum.StrEnum):
    """Who accepts an ISF agreement: each of the three, once."""

    PERSON = "person"
    """The supported person, or a representative acting for them."""
    HOLDER = "holder"
    COUNCIL = "council"

    @property
    def label(self) -> str:
        return {
            AgreementParty.PERSON: "The supported person",
            AgreementParty.HOLDER: "The fund holder",
            AgreementParty.COUNCIL: "The council",
        }[self]


class IndividualServiceFund(TimestampMixin, Base):
    """An Option 2 budget held as a managed account for one supported person by a provider
    that holds ISFs, funded by their council and spent only on their support plan."""

    __tablename__ = "individual_service_fund"
    __table_args__ = (
        CheckConstraint(
            "annual_budget_pence IS NULL OR annual_budget_pence > 0", name="budget_positive"
        ),
        CheckConstraint(
            "period_ends_on IS NULL OR period_ends_on > period_starts_on", name="period_forwards"
        ),
        CheckConstraint(
            "status IN ('requested', 'declined', 'withdrawn') OR (annual_budget_pence IS NOT "
            "NULL AND period_starts_on IS NOT NULL AND period_ends_on IS NOT NULL AND "
            "funding_schedule IS NOT NULL)",
            name="budget_set_once_agreeing",
        ),
        CheckConstraint(
            "status <> 'active' OR (person_accepted_at IS NOT NULL AND holder_accepted_at IS "
            "NOT NULL AND council_accepted_at IS NOT NULL AND account_id IS NOT NULL)",
            name="active_once_all_accepted",
        ),
        CheckConstraint("carried_in_pence >= 0", name="carried_in_not_negative"),
        CheckConstraint(
            "renews_id IS NOT NULL OR carried_in_pence = 0", name="carried_from_a_fund"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    holder_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="RESTRICT"), index=True
    )
    holder_offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="RESTRICT"))
    """The holder's offer the person chose it by."""
    holder_price_id: Mapped[int] = mapped_column(ForeignKey("offer_price.id", ondelete="RESTRICT"))
    """The version of that offer's price whose management fee the fund was agreed at: a new
    price does not change an agreed fee."""
    status: Mapped[FundStatus] = mapped_column(str_enum(FundStatus), default=FundStatus.REQUESTED)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    request_note: Mapped[str] = mapped_column(Text, default="")
    """What the person wrote to their council, in their own words."""
    annual_budget_pence: Mapped[int | None] = mapped_column(BigInteger)
    period_starts_on: Mapped[date | None] = mapped_column(Date)
    period_ends_on: Mapped[date | None] = mapped_column(Date)
    """The last day of the period, inclusive."""
    funding_schedule: Mapped[FundingSchedule | None] = mapped_column(str_enum(FundingSchedule))
    budget_set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    budget_set_at: Mapped[datetime | None]
    person_accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    person_accepted_at: Mapped[datetime | None]
    holder_accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    holder_accepted_at: Mapped[datetime | None]
    council_accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    council_accepted_at: Mapped[datetime | None]
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_account.id", ondelete="RESTRICT"), unique=True
    )
    """The fund's money in the ledger, opened when the fund becomes active."""
    ended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(Text, default="")
    """Why it was declined or withdrawn, in plain words."""
    renews_id: Mapped[int | None] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="RESTRICT"), unique=True
    )
    """The fund of the person's last period, closed, that this one follows: a fund is
    renewed once."""
    carried_in_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """What the last period's close carried over into this one: part of this period's
    budget, moved across from the last fund's account when this one becomes active."""

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    council: Mapped[CouncilArea] = relationship()
    holder: Mapped[Provider] = relationship()
    holder_offer: Mapped[Offer] = relationship()
    holder_price: Mapped[OfferPrice] = relationship()
    account: Mapped[LedgerAccount | None] = relationship()
    renews: Mapped[IndividualServiceFund | None] = relationship(remote_side=[id])
    outcomes: Mapped[list[PlanOutcome]] = relationship(
        back_populates="fund", order_by="PlanOutcome.id", cascade="all, delete-orphan"
    )
    lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="fund", order_by="BudgetLine.id", cascade="all, delete-orphan"
    )

    def accepted_at(self, party: AgreementParty) -> datetime | None:
        accepted: datetime | None = getattr(self, f"{party.value}_accepted_at")
        return accepted


class PlanOutcome(TimestampMixin, Base):
    """One thing that matters to the person, which the plan's budget lines serve: a
    personal-outcome term, in the person's own words."""

    __tablename__ = "plan_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="CASCADE"), index=True
    )
    term_id: Mapped[int | None] = mapped_column(ForeignKey("taxonomy_term.id", ondelete="RESTRICT"))
    own_words: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))

    fund: Mapped[IndividualServiceFund] = relationship(back_populates="outcomes")
    term: Mapped[TaxonomyTerm | None] = relationship(lazy="joined")


class BudgetLineKind(enum.StrEnum):
    OFFER = "offer"
    """A marketplace offer, at the version of its price the line was agreed at."""
    DESCRIBED = "described"
    """Support described in words, at an agreed weekly cost (a PA employed directly, a
    gym membership, a community group)."""
    CONTINGENCY = "contingency"
    """An amount set aside for the period, for the unexpected."""
    PURCHASE = "purchase"
    """A one-off purchase, of an amount, made by its end day (added by a change of use)."""

    @property
    def label(self) -> str:
        return {
            BudgetLineKind.OFFER: "Marketplace offer",
            BudgetLineKind.DESCRIBED: "Other support",
            BudgetLineKind.CONTINGENCY: "Contingency",
            BudgetLineKind.PURCHASE: "One-off purchase",
        }[self]

    @property
    def is_weekly(self) -> bool:
        return self in (BudgetLineKind.OFFER, BudgetLineKind.DESCRIBED)


budget_line_outcome = Table(
    "budget_line_outcome",
    Base.metadata,
    Column("line_id", ForeignKey("budget_line.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "outcome_id",
        ForeignKey("plan_outcome.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class BudgetLine(TimestampMixin, Base):
    """An outcome-linked allocation of the fund: support every week from its start to its
    end at an agreed weekly cost, or (a contingency) an amount for the period."""

    __tablename__ = "budget_line"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="line_forwards"),
        CheckConstraint(
            "kind <> 'offer' OR (offer_id IS NOT NULL AND offer_price_id IS NOT NULL AND "
            "provider_id IS NOT NULL)",
            name="offer_line_names_its_price",
        ),
        CheckConstraint(
            "(kind IN ('contingency', 'purchase') AND amount_pence IS NOT NULL AND "
            "amount_pence > 0 AND weekly_pence IS NULL) OR (kind NOT IN ('contingency', "
            "'purchase') AND weekly_pence IS NOT NULL AND weekly_pence >= 0 AND "
            "amount_pence IS NULL)",
            name="weekly_or_an_amount",
        ),
        CheckConstraint(
            "paused_on IS NULL OR paused_on > starts_on", name="paused_after_it_starts"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[BudgetLineKind] = mapped_column(str_enum(BudgetLineKind))
    title: Mapped[str] = mapped_column(String(200))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="RESTRICT"))
    offer_price_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_price.id", ondelete="RESTRICT")
    )
    """The price version it was costed at: the agreed price stays the agreed price."""
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="RESTRICT"), index=True
    )
    """Who delivers it, for an offer's line."""
    minutes_per_week: Mapped[int | None] = mapped_column(Integer)
    when: Mapped[int] = mapped_column(Integer, default=0)
    """The days and times it is at (an availability mask; 0: not said), as costed."""
    weekly_pence: Mapped[int | None] = mapped_column(BigInteger)
    """A week's support, with any uplifts and travel: the holder's fee is not in it."""
    amount_pence: Mapped[int | None] = mapped_column(BigInteger)
    """A contingency's amount for the period."""
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    """Inclusive."""
    costing: Mapped[str] = mapped_column(Text, default="")
    """How the weekly cost adds up, line by line, as agreed (for the statement and the
    agreement: what was said stays what it was)."""
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    moved_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Money approved changes of use moved into (positive) or out of (negative) the line:
    its allocation is its cost over its days plus this."""
    paused_on: Mapped[date | None] = mapped_column(Date)
    """The day a change of use paused it from: it ends the day before, until a change
    starts it again as a new line."""
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_line.id", ondelete="RESTRICT")
    )
    """The line this one carries on from, on new terms (its hours changed, or started
    again after a pause): the old one ends the day before this one starts."""

    fund: Mapped[IndividualServiceFund] = relationship(back_populates="lines")
    offer: Mapped[Offer | None] = relationship()
    provider: Mapped[Provider | None] = relationship()
    outcomes: Mapped[list[PlanOutcome]] = relationship(
        secondary=budget_line_outcome, order_by="PlanOutcome.id"
    )
