"""Market shaping: commissioners' invitations to providers whose offers stop short of a
place with a gap, to extend their area to it.

Revision ID: 20261204_places_3
Revises: 20261204_places_2
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261204_places_3"
down_revision: str | None = "20261204_places_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("short_by_km", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlement.id"],
            name=op.f("fk_area_invitation_settlement_id_settlement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["kind_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_area_invitation_kind_id_taxonomy_term"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_area_invitation_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_area_invitation_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_area_invitation_invited_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_invitation")),
        sa.UniqueConstraint(
            "settlement_id", "kind_id", "offer_id", name=op.f("uq_area_invitation_settlement_id")
        ),
    )
    op.create_index(op.f("ix_area_invitation_settlement_id"), "area_invitation", ["settlement_id"])
    op.create_index(op.f("ix_area_invitation_offer_id"), "area_invitation", ["offer_id"])
    op.create_index(op.f("ix_area_invitation_provider_id"), "area_invitation", ["provider_id"])


def downgrade() -> None:
    op.drop_table("area_invitation")
