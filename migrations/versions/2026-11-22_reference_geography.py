"""Reference geography: settlements with their urban-rural class, postcode districts, land cells

Revision ID: 8a560c833620
Revises: ce02ed41bb4b
Create Date: 2026-11-22 13:03:06.429217
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a560c833620"
down_revision: str | None = "ce02ed41bb4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "land_cell",
        sa.Column("row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("col", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scottish_postcodes", sa.Integer(), nullable=False),
        sa.Column("other_postcodes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("row", "col", name=op.f("pk_land_cell")),
    )
    op.create_table(
        "postcode_district",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("postcodes", sa.Integer(), nullable=False),
        sa.Column("scottish_share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_postcode_district_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_postcode_district")),
    )
    with op.batch_alter_table("postcode_district", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_postcode_district_council_id"), ["council_id"], unique=False
        )

    op.create_table(
        "settlement",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=160), nullable=False),
        sa.Column("search_key", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "settlement",
                "island_area",
                "duplicate",
                name="settlementkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("island", sa.String(length=50), nullable=True),
        sa.Column("urban_rural_8", sa.SmallInteger(), nullable=False),
        sa.Column("nearest_urban_name", sa.String(length=100), nullable=False),
        sa.Column("nearest_urban_km", sa.Float(), nullable=False),
        sa.Column("drive_minutes", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_settlement_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement")),
    )
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_council_id"), ["council_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_settlement_search_key"), ["search_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("settlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_search_key"))
        batch_op.drop_index(batch_op.f("ix_settlement_council_id"))

    op.drop_table("settlement")
    with op.batch_alter_table("postcode_district", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postcode_district_council_id"))

    op.drop_table("postcode_district")
    op.drop_table("land_cell")
