"""Named places from OS Open Names: a settlement may carry the OS id it was imported by.

Revision ID: 20261204_places_1
Revises: 20261204_changes_2
Create Date: 2026-12-04 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_places_1"
down_revision: str | None = "20261204_changes_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("os_names_id", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint("uq_settlement_os_names_id", ["os_names_id"])


def downgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_constraint("uq_settlement_os_names_id", type_="unique")
        batch_op.drop_column("os_names_id")
