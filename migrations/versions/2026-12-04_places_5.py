"""The people the gap figures count at each place, and rural areas found again by their key.

Revision ID: 20261204_places_5
Revises: 20261204_places_4
Create Date: 2026-12-04 21:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_places_5"
down_revision: str | None = "20261204_places_4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("residents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("demand_key", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint("uq_settlement_demand_key", ["demand_key"])


def downgrade() -> None:
    # Rural areas exist only for the counting this revision brings.
    op.execute("DELETE FROM settlement WHERE kind = 'rural_area'")
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_constraint("uq_settlement_demand_key", type_="unique")
        batch_op.drop_column("demand_key")
        batch_op.drop_column("residents")
