"""Needs reach only verified providers: a provider's confirmed identity, an offer's agreed
wide area (offers also gain the status awaiting_agreement, a VARCHAR value needing no DDL),
and when a person shared a need's details with a provider it reached.

Revision ID: 20261203_needs_1
Revises: 20261203_lead_1
Create Date: 2026-12-03 02:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261203_needs_1"
down_revision: str | None = "20261203_lead_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "identity_confirmed_at", marketplace.db.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("identity_confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_provider_identity_confirmed_by_id_user_account"),
            "user_account",
            ["identity_confirmed_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("area_agreed_at", marketplace.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("area_agreed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_offer_area_agreed_by_id_user_account"),
            "user_account",
            ["area_agreed_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("need_delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shared_at", marketplace.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("need_delivery", schema=None) as batch_op:
        batch_op.drop_column("shared_at")
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_offer_area_agreed_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("area_agreed_by_id")
        batch_op.drop_column("area_agreed_at")
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_provider_identity_confirmed_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("identity_confirmed_by_id")
        batch_op.drop_column("identity_confirmed_at")
