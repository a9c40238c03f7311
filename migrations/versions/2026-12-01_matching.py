"""Matching: offer change log, shortlists, posted needs and unmet demand

Revision ID: 289c86769e6b
Revises: ffbd2343e48b
Create Date: 2026-12-01 21:11:39.220481
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "289c86769e6b"
down_revision: str | None = "ffbd2343e48b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer_change",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_offer_change")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "posted_need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("posted_by_id", sa.Integer(), nullable=False),
        sa.Column("location_label", sa.String(length=160), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("minutes_per_week", sa.Integer(), nullable=False),
        sa.Column("availability", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "answered",
                "closed",
                "unmet",
                name="needstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("respond_by", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minutes_per_week > 0", name=op.f("ck_posted_need_some_time_asked_for")),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_posted_need_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["user_account.id"],
            name=op.f("fk_posted_need_person_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["posted_by_id"],
            ["user_account.id"],
            name=op.f("fk_posted_need_posted_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlement.id"],
            name=op.f("fk_posted_need_settlement_id_settlement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_need")),
    )
    with op.batch_alter_table("posted_need", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posted_need_council_id"), ["council_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posted_need_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posted_need_respond_by"), ["respond_by"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_posted_need_settlement_id"), ["settlement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_posted_need_status"), ["status"], unique=False)

    op.create_table(
        "unmet_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "search", "posted_need", name="unmetdemandsource", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_unmet_demand_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlement.id"],
            name=op.f("fk_unmet_demand_settlement_id_settlement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmet_demand")),
    )
    with op.batch_alter_table("unmet_demand", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unmet_demand_council_id"), ["council_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmet_demand_recorded_on"), ["recorded_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmet_demand_settlement_id"), ["settlement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_unmet_demand_source"), ["source"], unique=False)

    op.create_table(
        "need_term",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["posted_need.id"],
            name=op.f("fk_need_term_need_id_posted_need"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_need_term_term_id_taxonomy_term"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("need_id", "term_id", name=op.f("pk_need_term")),
    )
    with op.batch_alter_table("need_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_term_term_id"), ["term_id"], unique=False)

    op.create_table(
        "unmet_demand_term",
        sa.Column("unmet_demand_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_unmet_demand_term_term_id_taxonomy_term"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unmet_demand_id"],
            ["unmet_demand.id"],
            name=op.f("fk_unmet_demand_term_unmet_demand_id_unmet_demand"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unmet_demand_id", "term_id", name=op.f("pk_unmet_demand_term")),
    )
    with op.batch_alter_table("unmet_demand_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unmet_demand_term_term_id"), ["term_id"], unique=False)

    op.create_table(
        "need_delivery",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("delivered_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["posted_need.id"],
            name=op.f("fk_need_delivery_need_id_posted_need"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_need_delivery_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_need_delivery_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("need_id", "provider_id", name=op.f("pk_need_delivery")),
    )
    with op.batch_alter_table("need_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_need_delivery_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "need_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_need_response_author_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["posted_need.id"],
            name=op.f("fk_need_response_need_id_posted_need"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_need_response_offer_id_offer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_need_response_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_response")),
        sa.UniqueConstraint("need_id", "provider_id", name=op.f("uq_need_response_need_id")),
    )
    with op.batch_alter_table("need_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_response_need_id"), ["need_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_need_response_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "shortlist_item",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("added_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_shortlist_item_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_shortlist_item_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "offer_id", name=op.f("pk_shortlist_item")),
    )


def downgrade() -> None:
    op.drop_table("shortlist_item")
    with op.batch_alter_table("need_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_response_provider_id"))
        batch_op.drop_index(batch_op.f("ix_need_response_need_id"))

    op.drop_table("need_response")
    with op.batch_alter_table("need_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_delivery_provider_id"))

    op.drop_table("need_delivery")
    with op.batch_alter_table("unmet_demand_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unmet_demand_term_term_id"))

    op.drop_table("unmet_demand_term")
    with op.batch_alter_table("need_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_term_term_id"))

    op.drop_table("need_term")
    with op.batch_alter_table("unmet_demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unmet_demand_source"))
        batch_op.drop_index(batch_op.f("ix_unmet_demand_settlement_id"))
        batch_op.drop_index(batch_op.f("ix_unmet_demand_recorded_on"))
        batch_op.drop_index(batch_op.f("ix_unmet_demand_council_id"))

    op.drop_table("unmet_demand")
    with op.batch_alter_table("posted_need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posted_need_status"))
        batch_op.drop_index(batch_op.f("ix_posted_need_settlement_id"))
        batch_op.drop_index(batch_op.f("ix_posted_need_respond_by"))
        batch_op.drop_index(batch_op.f("ix_posted_need_person_id"))
        batch_op.drop_index(batch_op.f("ix_posted_need_council_id"))

    op.drop_table("posted_need")
    op.drop_table("offer_change")
