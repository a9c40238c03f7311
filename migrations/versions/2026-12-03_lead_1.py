"""Counted searches: unmet demand at most once a day per address, place and kind

Revision ID: 20261203_lead_1
Revises: 20261203_audit_1
Create Date: 2026-12-03 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_lead_1"
down_revision: str | None = "20261203_audit_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counted_search",
        sa.Column("counted_on", sa.Date(), nullable=False),
        sa.Column("address_key", sa.String(length=32), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "counted_on", "address_key", "settlement_id", "kind_id", name=op.f("pk_counted_search")
        ),
    )


def downgrade() -> None:
    op.drop_table("counted_search")
