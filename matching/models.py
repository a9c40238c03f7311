"""Matching's tables: the change log that keeps every worker's offer index current, people's
shortlists, posted needs with the providers they reached and their responses, and the
unmet-demand records the gap analysis counts (which hold no personal data)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import Base, TimestampMixin, str_enum, utcnow
from marketplace.geography.models import CouncilArea, Settlement
from providers.models import Offer, Provider, TaxonomyTerm


class OfferChange(Base):
    """One change to something the matcher reads (an offer, its price or area, its provider's
    profile, languages or checks), written in the same transaction as the change itself. Each
    app worker keeps its own in-memory index of published offers and replays the changes
    it has not seen yet before answering a search."""

    __tablename__ = "offer_change"
    # AUTOINCREMENT on SQLite: a sequence number is never reused once pruned or rolled back.
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    offer_id: Mapped[int | None] = mapped_column(Integer)
    """The offer that changed; no foreign key, as a deleted offer's change must survive it."""
    provider_id: Mapped[int | None] = mapped_column(Integer)
    """The provider that changed: every one of its offers is read again."""
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShortlistItem(Base):
    """An offer a signed-in person keeps to compare later."""

    __tablename__ = "shortlist_item"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    offer: Mapped[Offer] = relationship(lazy="joined")


class NeedStatus(enum.StrEnum):
    OPEN = "open"
    """Waiting for providers to respond."""
    ANSWERED = "answered"
    """At least one provider has responded."""
    CLOSED = "closed"
    """The person closed it (they found support, or no longer need it)."""
    UNMET = "unmet"
    """Nobody responded within the time allowed; counted as unmet demand."""

    @property
    def label(self) -> str:
        return {
            NeedStatus.OPEN: "Waiting for responses",
            NeedStatus.ANSWERED: "Answered",
            NeedStatus.CLOSED: "Closed",
            NeedStatus.UNMET: "No responses",
        }[self]


need_term = Table(
    "need_term",
    Base.metadata,
    Column("need_id", ForeignKey("posted_need.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("taxonomy_term.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class PostedNeed(TimestampMixin, Base):
    """A person describing the support they need, where and when, for every provider whose
    offers reach them and fit it to see and answer."""

    __tablename__ = "posted_need"
    __table_args__ = (CheckConstraint("minutes_per_week > 0", name="some_time_asked_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    """The supported person the support would be for."""
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    """The person themself, or a representative acting for them."""
    location_label: Mapped[str] = mapped_column(String(160))
    """Where, as understood: a place, a postcode district or rounded coordinates."""
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    """No more precise than the place, district or 0.01 degree the person gave."""
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id", ondelete="RESTRICT"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council_area.id", ondelete="RESTRICT"), index=True)
    minutes_per_week: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer, default=0)
    """When they need support, as an availability mask (providers.models.availability_bit)."""
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[NeedStatus] = mapped_column(str_enum(NeedStatus), default=NeedStatus.OPEN, index=True)
    respond_by: Mapped[datetime] = mapped_column(index=True)
    """If nobody has responded by then, the need counts as unmet demand."""
    closed_at: Mapped[datetime | None]

    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="joined")
    posted_by: Mapped[User] = relationship(foreign_keys=[posted_by_id], lazy="joined")
    settlement: Mapped[Settlement] = relationship(lazy="joined")
    council: Mapped[CouncilArea] = relationship(lazy="joined")
    terms: Mapped[list[TaxonomyTerm]] = relationship(secondary=need_term, order_by=TaxonomyTerm.position, lazy="selectin")
    deliveries: Mapped[list[NeedDelivery]] = relationship(back_populates="need", cascade="all, delete-orphan")
    responses: Mapped[list[NeedResponse]] = relationship(
        back_populates="need", order_by="NeedResponse.id", cascade="all, delete-orphan"
    )


class NeedDelivery(Base):
    """A provider a posted need reached, through the offer of theirs that fits it best."""

    __tablename__ = "need_delivery"

    need_id: Mapped[int] = mapped_column(ForeignKey("posted_need.id", ondelete="CASCADE"), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True, index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)

    need: Mapped[PostedNeed] = relationship(back_populates="deliveries")
    provider: Mapped[Provider] = relationship(lazy="joined")
    offer: Mapped[Offer] = relationship(lazy="joined")


class NeedResponse(TimestampMixin, Base):
    """A provider's answer to a posted need: a message, and the offer it would use."""

    __tablename__ = "need_response"
    __table_args__ = (UniqueConstraint("need_id", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("posted_need.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    message: Mapped[str] = mapped_column(Text)

    need: Mapped[PostedNeed] = relationship(back_populates="responses")
    provider: Mapped[Provider] = relationship(lazy="joined")
    offer: Mapped[Offer | None] = relationship(lazy="joined")
    author: Mapped[User] = relationship(lazy="joined")


class UnmetDemandSource(enum.StrEnum):
    SEARCH = "search"
    """A search that found no offer within reach."""
    POSTED_NEED = "posted_need"
    """A posted need nobody responded to in time."""

    @property
    def label(self) -> str:
        return "Search" if self == UnmetDemandSource.SEARCH else "Posted need"


unmet_demand_term = Table(
    "unmet_demand_term",
    Base.metadata,
    Column("unmet_demand_id", ForeignKey("unmet_demand.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("taxonomy_term.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class UnmetDemand(Base):
    """Support someone looked for and did not find, for the gap analysis. Deliberately
    anonymous: the settlement (never a finer location), what was asked for and the date
    (never the time), and nothing that points back to a person or a session."""

    __tablename__ = "unmet_demand"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[UnmetDemandSource] = mapped_column(str_enum(UnmetDemandSource), index=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id", ondelete="RESTRICT"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council_area.id", ondelete="RESTRICT"), index=True)
    recorded_on: Mapped[date] = mapped_column(Date, index=True)

    settlement: Mapped[Settlement] = relationship(lazy="joined")
    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=unmet_demand_term, order_by=TaxonomyTerm.position, lazy="selectin"
    )
