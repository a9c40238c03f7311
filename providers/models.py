"""Provider organisations and the staff who act for them."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import Base, TimestampMixin, str_enum


class OrganisationKind(enum.StrEnum):
    REGISTERED_PROVIDER = "registered_provider"
    """Registered with the Care Inspectorate."""
    MICRO_PROVIDER = "micro_provider"
    """A very small local business or community enterprise, typically 1 to 8 people."""
    COMMUNITY_GROUP = "community_group"

    @property
    def label(self) -> str:
        return {
            OrganisationKind.REGISTERED_PROVIDER: "Registered care provider",
            OrganisationKind.MICRO_PROVIDER: "Micro-provider",
            OrganisationKind.COMMUNITY_GROUP: "Community group",
        }[self]


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind))

    members: Mapped[list[OrganisationMember]] = relationship(back_populates="organisation")


class OrganisationMember(TimestampMixin, Base):
    """A provider_staff user's membership of an organisation."""

    __tablename__ = "organisation_member"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    is_owner: Mapped[bool] = mapped_column(default=False)
    """Owners manage the organisation's profile and invite staff."""

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
