"""A council's own small-area population figures, imported in place of the census estimate.

Revision ID: 20261204_places_6
Revises: 20261204_places_5
Create Date: 2026-12-04 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261204_places_6"
down_revision: str | None = "20261204_places_5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "population_source",
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("small_areas", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("imported_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_population_source_council_id_council_area"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("council_id", name=op.f("pk_population_source")),
    )


def downgrade() -> None:
    op.drop_table("population_source")
