"""A place's second name (often its Gaelic one), from OS Open Names, found as its own name is.

Revision ID: 20261204_places_4
Revises: 20261204_places_3
Create Date: 2026-12-04 18:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_places_4"
down_revision: str | None = "20261204_places_3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("other_search_key", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_settlement_other_search_key"), ["other_search_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_other_search_key"))
        batch_op.drop_column("other_search_key")
        batch_op.drop_column("other_name")
