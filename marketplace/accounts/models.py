"""Users, who may act for whom, server-side sessions and emailed one-time tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, TimestampMixin, str_enum
from marketplace.geography.models import CouncilArea


class Role(enum.StrEnum):
    SUPPORTED_PERSON = "supported_person"
    """The person a budget is for."""
    REPRESENTATIVE = "representative"
    """Acts for named supported people: a carer, guardian or power of attorney."""
    PROVIDER_STAFF = "provider_staff"
    """A member of a provider organisation."""
    PERSONAL_ASSISTANT = "personal_assistant"
    COMMISSIONER = "commissioner"
    """Council or HSCP staff; scoped to one council area, or to all Scotland when none."""
    BUDGET_HOLDER = "budget_holder"
    """Decides change-of-use requests in one council area up to a delegated authority limit."""
    PANEL_MEMBER = "panel_member"
    """Sits on a resource allocation panel, which decides above delegated authority."""
    FINANCE = "finance"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.SUPPORTED_PERSON: "Supported person",
    Role.REPRESENTATIVE: "Representative",
    Role.PROVIDER_STAFF: "Provider staff",
    Role.PERSONAL_ASSISTANT: "Personal assistant",
    Role.COMMISSIONER: "Commissioner",
    Role.BUDGET_HOLDER: "Budget holder",
    Role.PANEL_MEMBER: "Panel member",
    Role.FINANCE: "Finance",
    Role.ADMIN: "Administrator",
}

SELF_SERVICE_ROLES = (
    Role.SUPPORTED_PERSON,
    Role.REPRESENTATIVE,
    Role.PROVIDER_STAFF,
    Role.PERSONAL_ASSISTANT,
)
"""Roles people may sign up for themselves; staff roles are given by an administrator."""


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role <> 'budget_holder' OR council_id IS NOT NULL", name="budget_holder_scoped"
        ),
        CheckConstraint(
            "council_id IS NULL OR role IN ('commissioner', 'budget_holder', 'panel_member', "
            "'finance')",
            name="council_scope_for_council_roles",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Stored lower-cased, so sign-in is case-insensitive."""
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    """An argon2id hash in PHC string format."""
    email_confirmed_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    council_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    """For commissioners (none = all Scotland), budget holders, panel members and finance
    staff: the council whose funds they work with."""

    council: Mapped[CouncilArea | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None and self.email_confirmed_at is not None


class Relationship(enum.StrEnum):
    CARER = "carer"
    GUARDIAN = "guardian"
    POWER_OF_ATTORNEY = "power_of_attorney"
    FAMILY = "family"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Representation(TimestampMixin, Base):
    """A representative acting for a named supported person, with the person's agreement."""

    __tablename__ = "representation"
    __table_args__ = (UniqueConstraint("representative_id", "supported_person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    representative_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    supported_person_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    relationship_kind: Mapped[Relationship] = mapped_column(str_enum(Relationship))

    representative: Mapped[User] = relationship(foreign_keys=[representative_id])
    supported_person: Mapped[User] = relationship(foreign_keys=[supported_person_id])


class UserSession(TimestampMixin, Base):
    """A signed-in browser. Only the token's hash is stored; signing out deletes the row."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    user: Mapped[User] = relationship(lazy="joined")


class TokenPurpose(enum.StrEnum):
    CONFIRM_EMAIL = "confirm_email"
    RESET_PASSWORD = "reset_password"


class EmailToken(TimestampMixin, Base):
    """A one-time link sent by email. Only its hash is stored; it works once, until it expires."""

    __tablename__ = "email_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
