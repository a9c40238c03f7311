"""A posted need sent just out of reach: how far its place is beyond the offer's area.

Revision ID: 20261204_places_2
Revises: 20261204_places_1
Create Date: 2026-12-04 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_places_2"
down_revision: str | None = "20261204_places_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("need_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_by_km", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("need_delivery", schema=None) as batch_op:
        batch_op.drop_column("short_by_km")
