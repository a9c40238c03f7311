"""A night uplift on prices, beside the evening and weekend ones; an enquiry keeps the
distance its quote counted travel over.

Revision ID: 20261203_truth_1
Revises: 20261203_needs_1
Create Date: 2026-12-03 02:45:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_truth_1"
down_revision: str | None = "20261203_needs_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offer_price") as batch:
        batch.add_column(
            sa.Column("night_uplift_bp", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("enquiry") as batch:
        batch.add_column(sa.Column("distance_km", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enquiry") as batch:
        batch.drop_column("distance_km")
    with op.batch_alter_table("offer_price") as batch:
        batch.drop_column("night_uplift_bp")
