"""Posted needs' tables: a person's need, the providers it reached and their responses."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
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
    Column(
        "term_id", ForeignKey("taxonomy_term.id", ondelete="RESTRICT"), primary_key=True, index=True
    ),
)


class PostedNeed(TimestampMixin, Base):
    """A person describing the support they need, where and when, for every provider whose
    offers reach them and fit it to see and answer."""

    __tablename__ = "posted_need"
    __table_args__ = (CheckConstraint("minutes_per_week > 0", name="some_time_asked_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    """The supported person the support would be for."""
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    """The person themself, or a representative acting for them."""
    location_label: Mapped[str] = mapped_column(String(160))
    """Where, as understood: a place, a postcode sector or district, or rounded coordinates
    (which a whole postcode is kept as)."""
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    """No more precise than the place, district or 0.01 degree the person gave."""
    settlement_id: Mapped[int] = mapped_column(
        ForeignKey("settlement.id", ondelete="RESTRICT"), index=True
    )
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    minutes_per_week: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer, default=0)
    """When they need support, as an availability mask (providers.models.availability_bit)."""
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[NeedStatus] = mapped_column(
        str_enum(NeedStatus), default=NeedStatus.OPEN, index=True
    )
    respond_by: Mapped[datetime] = mapped_column(index=True)
    """If nobody has responded by then, the need counts as unmet demand."""
    closed_at: Mapped[datetime | None]

    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="joined")
    posted_by: Mapped[User] = relationship(foreign_keys=[posted_by_id], lazy="joined")
    settlement: Mapped[Settlement] = relationship(lazy="joined")
    council: Mapped[CouncilArea] = relationship(lazy="joined")
    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=need_term, order_by=TaxonomyTerm.position, lazy="selectin"
    )
    deliveries: Mapped[list[NeedDelivery]] = relationship(
        back_populates="need", cascade="all, delete-orphan"
    )
    responses: Mapped[list[NeedResponse]] = relationship(
        back_populates="need", order_by="NeedResponse.id", cascade="all, delete-orphan"
    )


class NeedDelivery(Base):
    """A provider a posted need reached, through the offer of theirs that fits it best."""

    __tablename__ = "need_delivery"

    need_id: Mapped[int] = mapped_column(
        ForeignKey("posted_need.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
    short_by_km: Mapped[float | None] = mapped_column(Float)
    """When the offer's area stops short of the need's place, by how far: the need was sent
    just out of reach, for the provider to say whether they would come that far."""
    shared_at: Mapped[datetime | None]
    """When the person chose to show this provider what they wrote, the outcomes and who it
    should suit; until then the provider sees only what, when, how long and the place."""

    need: Mapped[PostedNeed] = relationship(back_populates="deliveries")
    provider: Mapped[Provider] = relationship(lazy="joined")
    offer: Mapped[Offer] = relationship(lazy="joined")


class NeedResponse(TimestampMixin, Base):
    """A provider's answer to a posted need: a message, and the offer it would use."""

    __tablename__ = "need_response"
    __table_args__ = (UniqueConstraint("need_id", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(
        ForeignKey("posted_need.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    message: Mapped[str] = mapped_column(Text)

    need: Mapped[PostedNeed] = relationship(back_populates="responses")
    provider: Mapped[Provider] = relationship(lazy="joined")
    offer: Mapped[Offer | None] = relationship(lazy="joined")
    author: Mapped[User] = relationship(lazy="joined")
