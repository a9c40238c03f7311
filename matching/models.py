"""Matching's shared tables: the change log that keeps every worker's offer index current,
and the unmet-demand records the gap analysis counts (which hold no personal data). Posted
needs and shortlists keep their tables in their own packages."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, str_enum, utcnow
from marketplace.geography.models import Settlement
from providers.models import Offer, TaxonomyTerm


class OfferChange(Base):
    """One change to something the matcher reads (an offer, its price or area, its provider's
    profile, languages or checks), written in the same transaction as the change itself. Each
    app worker keeps its own in-memory index of published offers and replays the changes
    it has not seen yet before answering a search."""

    __tablename__ = "offer_change"
    # AUTOINCREMENT on SQLite: a sequence number is never reused once pruned or rolled back.
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    offer_id: Mapped[int | None] = mapped_column(Integer)
    """The offer that changed; no foreign key, as a deleted offer's change must survive it."""
    provider_id: Mapped[int | None] = mapped_column(Integer)
    """The provider that changed: every one of its offers is read again."""
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    Column(
        "term_id", ForeignKey("taxonomy_term.id", ondelete="RESTRICT"), primary_key=True, index=True
    ),
)


class UnmetDemand(Base):
    """Support someone looked for and did not find, for the gap analysis. Deliberately
    anonymous: the settlement (never a finer location), what was asked for and the date
    (never the time), and nothing that points back to a person or a session."""

    __tablename__ = "unmet_demand"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[UnmetDemandSource] = mapped_column(str_enum(UnmetDemandSource), index=True)
    settlement_id: Mapped[int] = mapped_column(
        ForeignKey("settlement.id", ondelete="RESTRICT"), index=True
    )
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    recorded_on: Mapped[date] = mapped_column(Date, index=True)

    settlement: Mapped[Settlement] = relationship(lazy="joined")
    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=unmet_demand_term, order_by=TaxonomyTerm.position, lazy="selectin"
    )


class AreaInvitation(Base):
    """A commissioner's invitation to a provider whose offer stops short of a place with a
    gap in a kind of support, to extend the offer's area to it (matching.gaps.shaping).
    Whether it was taken up is read from the offer's area as it is now."""

    __tablename__ = "area_invitation"
    __table_args__ = (UniqueConstraint("settlement_id", "kind_id", "offer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(
        ForeignKey("settlement.id", ondelete="RESTRICT"), index=True
    )
    kind_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_term.id", ondelete="RESTRICT"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    short_by_km: Mapped[float] = mapped_column(Float)
    """How far beyond the offer's radius the place was when invited."""

    settlement: Mapped[Settlement] = relationship()
    offer: Mapped[Offer] = relationship()
