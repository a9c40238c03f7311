"""Change of use's tables: a council's rules for deciding requests (versioned), each budget
holder's delegated authority (with its history), the requests themselves with every step
of their history, and the resource allocation panel's sittings."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.funds.models import BudgetLine, IndividualServiceFund, PlanOutcome
from marketplace.accounts.models import User
from marketplace.db import Base, str_enum, utcnow
from marketplace.geography.models import CouncilArea
from providers.models import Offer


class ChangeRules(Base):
    """How a council decides change-of-use requests: what is light-touch, the deadlines of
    each route in working days, when reminders go, and when its resource allocation panel
    sits. Each edit is a new version, so every decision names the rules it was made
    under."""

    __tablename__ = "change_rules"
    __table_args__ = (
        UniqueConstraint("council_id", "version"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("light_touch_limit_pence >= 0", name="light_touch_not_negative"),
        CheckConstraint(
            "delegated_days BETWEEN 0 AND 60 AND panel_days BETWEEN 0 AND 90 "
            "AND reminder_days BETWEEN 0 AND 30",
            name="days_in_range",
        ),
        CheckConstraint("panel_every_days BETWEEN 1 AND 92", name="panel_sits_regularly"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    light_touch_limit_pence: Mapped[int] = mapped_column(BigInteger)
    """Money a fund may move in a period between lines that serve the same outcome,
    approved at once with a notice (0: nothing is light-touch)."""
    delegated_days: Mapped[int] = mapped_column(Integer)
    """Working days a budget holder has to decide a request within delegated authority."""
    panel_days: Mapped[int] = mapped_column(Integer)
    """Working days the resource allocation panel has."""
    reminder_days: Mapped[int] = mapped_column(Integer)
    """Working days before a deadline that those who may decide are reminded."""
    panel_first_sits_on: Mapped[date] = mapped_column(Date)
    panel_every_days: Mapped[int] = mapped_column(Integer)
    """The panel sits on its first date and every so many days after (14: fortnightly)."""
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    """Who set them; none for the product's defaults, which a council starts with."""
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    """Why they were changed, in plain words."""

    council: Mapped[CouncilArea] = relationship()
    set_by: Mapped[User | None] = relationship()


class DelegatedAuthority(Base):
    """What one budget holder may approve alone: up to an amount a request, and up to an
    amount for any one fund in a year. Each change is a new row, kept with who set it and
    when; the newest is the one in force."""

    __tablename__ = "delegated_authority"
    __table_args__ = (
        CheckConstraint(
            "per_request_pence >= 0 AND per_fund_year_pence >= per_request_pence",
            name="limits_in_order",
        ),
        Index("ix_delegated_authority_holder", "holder_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    """The budget holder it is for."""
    per_request_pence: Mapped[int] = mapped_column(BigInteger)
    per_fund_year_pence: Mapped[int] = mapped_column(BigInteger)
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    """The administrator who set it; none for a limit carried over from the single limit
    accounts had before delegated authority had a history."""
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    holder: Mapped[User] = relationship(foreign_keys=[holder_id])
    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id])


class ChangeKind(enum.StrEnum):
    MOVE = "move"
    """Move money from one budget line to another."""
    NEW_OFFER = "new_offer"
    """Add a line paying for another marketplace offer, at its price now."""
    PURCHASE = "purchase"
    """A one-off purchase."""
    HOURS = "hours"
    """Change the hours of a line from a day on."""
    PAUSE = "pause"
    """Pause a line from a day on."""
    RESUME = "resume"
    """Start a paused line again from a day on."""

    @property
    def label(self) -> str:
        return {
            ChangeKind.MOVE: "Move money between lines",
            ChangeKind.NEW_OFFER: "Pay for another offer",
            ChangeKind.PURCHASE: "A one-off purchase",
            ChangeKind.HOURS: "Change the hours of a line",
            ChangeKind.PAUSE: "Pause a line",
            ChangeKind.RESUME: "Start a paused line again",
        }[self]


class ChangeRoute(enum.StrEnum):
    LIGHT_TOUCH = "light_touch"
    """Approved at once under the council's light-touch rule, with a notice."""
    DELEGATED = "delegated"
    """Decided by a budget holder within their delegated authority."""
    PANEL = "panel"
    """Above every budget holder's authority: decided by the resource allocation panel."""

    @property
    def label(self) -> str:
        return {
            ChangeRoute.LIGHT_TOUCH: "Light-touch",
            ChangeRoute.DELEGATED: "Budget holder",
            ChangeRoute.PANEL: "Resource allocation panel",
        }[self]


class ChangeStatus(enum.StrEnum):
    WAITING = "waiting"
    """Sent: waiting for a decision."""
    MORE_INFORMATION = "more_information"
    """Whoever decides has asked the person for more information; the clock stops."""
    APPROVED = "approved"
    """Approved (perhaps with conditions) and applied to the plan."""
    DECLINED = "declined"
    """Declined, with reasons; the person may ask for a review by someone else."""
    WITHDRAWN = "withdrawn"
    """Taken back by whoever asked, before a decision."""

    @property
    def label(self) -> str:
        return {
            ChangeStatus.WAITING: "Waiting for a decision",
            ChangeStatus.MORE_INFORMATION: "More information asked for",
            ChangeStatus.APPROVED: "Approved",
            ChangeStatus.DECLINED: "Declined",
            ChangeStatus.WITHDRAWN: "Withdrawn",
        }[self]

    @property
    def is_open(self) -> bool:
        return self in (ChangeStatus.WAITING, ChangeStatus.MORE_INFORMATION)


change_request_outcome = Table(
    "change_request_outcome",
    Base.metadata,
    Column("request_id", ForeignKey("change_request.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "outcome_id",
        ForeignKey("plan_outcome.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class PanelSitting(Base):
    """One sitting of a council's resource allocation panel: when, and who sat."""

    __tablename__ = "panel_sitting"
    __table_args__ = (UniqueConstraint("council_id", "sits_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council_area.id", ondelete="RESTRICT"))
    sits_on: Mapped[date] = mapped_column(Date)
    members: Mapped[str] = mapped_column(Text)
    """Who sat, by name and role, one a line, as recorded at the sitting."""
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeRequest(Base):
    """A request to spend a fund's money differently from its plan, in the person's words,
    with the outcomes it serves; routed by the council's rules when sent, decided on the
    record, and applied to the plan in the decision's own transaction."""

    __tablename__ = "change_request"
    __table_args__ = (
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint(
            "status NOT IN ('approved', 'declined') OR (decided_at IS NOT NULL "
            "AND decided_under_id IS NOT NULL)",
            name="decisions_name_their_rules",
        ),
        CheckConstraint(
            "status <> 'declined' OR trim(decision_reasons) <> ''", name="declines_say_why"
        ),
        CheckConstraint(
            "route <> 'panel' OR status NOT IN ('approved', 'declined') OR sitting_id IS NOT NULL",
            name="panel_decides_at_a_sitting",
        ),
        Index("ix_change_request_fund_status", "fund_id", "status"),
        Index("ix_change_request_council_status", "council_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(
        ForeignKey("individual_service_fund.id", ondelete="RESTRICT")
    )
    council_id: Mapped[int] = mapped_column(ForeignKey("council_area.id", ondelete="RESTRICT"))
    """The fund's council, kept here so queues and the transparency figures need no join."""
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind))
    status: Mapped[ChangeStatus] = mapped_column(
        str_enum(ChangeStatus), default=ChangeStatus.WAITING
    )
    route: Mapped[ChangeRoute] = mapped_column(str_enum(ChangeRoute))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    """What the change is worth: the money moved, or what it adds to (or saves from) the
    plan from its start to the end of the period. Delegated authority is measured by it."""
    reason: Mapped[str] = mapped_column(Text)
    """Why, in the person's words."""
    # What it changes (which of these are set depends on the kind).
    line_id: Mapped[int | None] = mapped_column(ForeignKey("budget_line.id", ondelete="RESTRICT"))
    """The line it changes: moved to, its hours changed, paused or started again."""
    from_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_line.id", ondelete="RESTRICT")
    )
    """The line money is moved from (a move; or to pay for a new line or a purchase)."""
    moved_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="RESTRICT"))
    offer_price_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_price.id", ondelete="RESTRICT")
    )
    """The offer's price when it was asked for: the price the new line is costed at."""
    minutes_per_week: Mapped[int | None] = mapped_column(Integer)
    when: Mapped[int] = mapped_column(Integer, default=0)
    weekly_pence: Mapped[int | None] = mapped_column(BigInteger)
    """A week of the new or changed line, with uplifts and travel, as costed when asked."""
    costing: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    """What a purchase is, or the new line's name."""
    starts_on: Mapped[date] = mapped_column(Date)
    """The day the change takes effect."""
    ends_on: Mapped[date | None] = mapped_column(Date)
    """The last day of a new line, or the day a purchase is to be made by."""
    rules_id: Mapped[int] = mapped_column(ForeignKey("change_rules.id", ondelete="RESTRICT"))
    """The rules it was routed under when sent."""
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    """The last working day for the decision."""
    sitting_on: Mapped[date | None] = mapped_column(Date)
    """The panel sitting that will decide it (panel requests)."""
    clock_stopped_on: Mapped[date | None] = mapped_column(Date)
    """While more information is asked for: the day it was asked."""
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    """When the deadline passed undecided and it was escalated (never refused by the
    clock)."""
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    """Who decided it; none for a light-touch approval."""
    decided_at: Mapped[datetime | None]
    decided_under_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_rules.id", ondelete="RESTRICT")
    )
    """The rules in force when it was decided."""
    sitting_id: Mapped[int | None] = mapped_column(
        ForeignKey("panel_sitting.id", ondelete="RESTRICT")
    )
    decision_reasons: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    """What an approval with conditions asks, in plain words."""
    new_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_line.id", ondelete="RESTRICT")
    )
    """The line the approval added to the plan, if it added one."""
    review_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_request.id", ondelete="RESTRICT"), unique=True
    )
    """The declined request this one asks to review: a decline is reviewed once."""

    fund: Mapped[IndividualServiceFund] = relationship()
    line: Mapped[BudgetLine | None] = relationship(foreign_keys=[line_id])
    from_line: Mapped[BudgetLine | None] = relationship(foreign_keys=[from_line_id])
    new_line: Mapped[BudgetLine | None] = relationship(foreign_keys=[new_line_id])
    offer: Mapped[Offer | None] = relationship()
    rules: Mapped[ChangeRules] = relationship(foreign_keys=[rules_id])
    decided_under: Mapped[ChangeRules | None] = relationship(foreign_keys=[decided_under_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    sitting: Mapped[PanelSitting | None] = relationship()
    review_of: Mapped[ChangeRequest | None] = relationship(remote_side=[id])
    outcomes: Mapped[list[PlanOutcome]] = relationship(
        secondary=change_request_outcome, order_by="PlanOutcome.id"
    )
    events: Mapped[list[ChangeEvent]] = relationship(
        back_populates="request", order_by="ChangeEvent.id", cascade="all, delete-orphan"
    )


class ChangeStep(enum.StrEnum):
    SENT = "sent"
    APPROVED = "approved"
    DECLINED = "declined"
    ASKED = "asked"
    """More information asked for."""
    ANSWERED = "answered"
    """More information given."""
    ESCALATED = "escalated"
    WITHDRAWN = "withdrawn"
    REVIEW_ASKED = "review_asked"
    REMINDED = "reminded"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {
            ChangeStep.SENT: "Sent",
            ChangeStep.APPROVED: "Approved",
            ChangeStep.DECLINED: "Declined",
            ChangeStep.ASKED: "More information asked for",
            ChangeStep.ANSWERED: "More information given",
            ChangeStep.ESCALATED: "Passed to the resource allocation panel",
            ChangeStep.WITHDRAWN: "Withdrawn",
            ChangeStep.REVIEW_ASKED: "Review of the decline asked for",
            ChangeStep.REMINDED: "Those who may decide were reminded of the deadline",
            ChangeStep.OVERDUE: "The deadline passed: escalated to the council's managers",
        }[self]


class ChangeEvent(Base):
    """One step in a request's history, with who took it and what they said."""

    __tablename__ = "change_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("change_request.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[ChangeStep] = mapped_column(str_enum(ChangeStep))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    """Who took it; none for the service's own work (a light-touch approval, a reminder)."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
    words: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[ChangeRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
