"""Providers and their staff, checks, taxonomies, offers with versioned prices, enquiries and reviews

Revision ID: ffbd2343e48b
Revises: 8a560c833620
Create Date: 2026-11-22 13:09:12.423476
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "ffbd2343e48b"
down_revision: str | None = "8a560c833620"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxonomy_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "taxonomy",
            sa.Enum(
                "personal_outcome",
                "kind_of_support",
                "client_group",
                name="taxonomy",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_term")),
        sa.UniqueConstraint("taxonomy", "code", name=op.f("uq_taxonomy_term_taxonomy")),
    )
    with op.batch_alter_table("taxonomy_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxonomy_term_taxonomy"), ["taxonomy"], unique=False)

    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "registered_provider",
                "micro_provider",
                "community_group",
                "personal_assistant",
                name="providerkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("holds_isf", sa.Boolean(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("drives", sa.Boolean(), nullable=True),
        sa.Column(
            "employment",
            sa.Enum("self_employed", "employed", name="employment", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("base_label", sa.String(length=160), nullable=True),
        sa.Column("base_latitude", sa.Float(), nullable=True),
        sa.Column("base_longitude", sa.Float(), nullable=True),
        sa.Column("base_council_id", sa.Integer(), nullable=True),
        sa.Column("base_settlement_id", sa.Integer(), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=20), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_council_id"],
            ["council_area.id"],
            name=op.f("fk_provider_base_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["base_settlement_id"],
            ["settlement.id"],
            name=op.f("fk_provider_base_settlement_id_settlement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
    )
    op.create_table(
        "offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "paused",
                "withdrawn",
                name="offerstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "area_type",
            sa.Enum(
                "radius", "councils", "settlements", name="areatype", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("centre_label", sa.String(length=160), nullable=True),
        sa.Column("centre_latitude", sa.Float(), nullable=True),
        sa.Column("centre_longitude", sa.Float(), nullable=True),
        sa.Column("radius_km", sa.Float(), nullable=True),
        sa.Column("availability", sa.Integer(), nullable=False),
        sa.Column(
            "capacity_unit",
            sa.Enum("hours_per_week", "places", name="capacityunit", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("capacity_amount", sa.Integer(), nullable=False),
        sa.Column("capacity_updated_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("minimum_booking_minutes", sa.Integer(), nullable=True),
        sa.Column("typical_week_hours", sa.SmallInteger(), nullable=False),
        sa.Column("published_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity_amount >= 0", name=op.f("ck_offer_capacity_not_negative")),
        sa.CheckConstraint(
            "radius_km IS NULL OR (radius_km > 0 AND radius_km <= 200)",
            name=op.f("ck_offer_radius_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_offer_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
    )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_status"), ["status"], unique=False)

    op.create_table(
        "provider_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "care_inspectorate",
                "pvg",
                "insurance",
                "training",
                name="checkkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("grades", sa.JSON(), nullable=True),
        sa.Column("cover_pence", sa.BigInteger(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "declared",
                "verified",
                "rejected",
                "expired",
                name="checkstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("verified_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reminded_expiring_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminded_expired_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_provider_check_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["user_account.id"],
            name=op.f("fk_provider_check_verified_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_check")),
    )
    with op.batch_alter_table("provider_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_check_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "provider_language",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_provider_language_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "language", name=op.f("pk_provider_language")),
    )
    op.create_table(
        "provider_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("is_owner", sa.Boolean(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_provider_member_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_provider_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_member")),
        sa.UniqueConstraint("provider_id", "user_id", name=op.f("uq_provider_member_provider_id")),
    )
    with op.batch_alter_table("provider_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_member_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_provider_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "staff_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_staff_invitation_invited_by_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_staff_invitation_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitation_token_hash")),
    )
    with op.batch_alter_table("staff_invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_invitation_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "offer_council",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_offer_council_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offer_council_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", "council_id", name=op.f("pk_offer_council")),
    )
    with op.batch_alter_table("offer_council", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offer_council_council_id"), ["council_id"], unique=False
        )

    op.create_table(
        "offer_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                "hour",
                "session",
                "day",
                "night",
                "week",
                "one_off",
                name="priceunit",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rate_pence", sa.BigInteger(), nullable=False),
        sa.Column("unit_minutes", sa.Integer(), nullable=True),
        sa.Column("evening_uplift_bp", sa.Integer(), nullable=False),
        sa.Column("weekend_uplift_bp", sa.Integer(), nullable=False),
        sa.Column("public_holiday_uplift_bp", sa.Integer(), nullable=False),
        sa.Column(
            "travel_charge",
            sa.Enum(
                "none", "per_mile", "per_visit", name="travelcharge", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("travel_charge_pence", sa.BigInteger(), nullable=False),
        sa.Column("included", sa.Text(), nullable=False),
        sa.Column("management_fee_bp", sa.Integer(), nullable=True),
        sa.Column("management_fee_fixed_pence", sa.BigInteger(), nullable=True),
        sa.Column(
            "management_fee_period",
            sa.Enum("week", "month", "year", name="feeperiod", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "management_fee_bp IS NULL OR (management_fee_bp >= 0 AND management_fee_bp <= 10000)",
            name=op.f("ck_offer_price_fee_percentage_in_range"),
        ),
        sa.CheckConstraint("rate_pence >= 0", name=op.f("ck_offer_price_rate_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_offer_price_created_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offer_price_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_price")),
        sa.UniqueConstraint("offer_id", "version", name=op.f("uq_offer_price_offer_id")),
    )
    with op.batch_alter_table("offer_price", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_price_offer_id"), ["offer_id"], unique=False)

    op.create_table(
        "offer_settlement",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offer_settlement_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlement.id"],
            name=op.f("fk_offer_settlement_settlement_id_settlement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("offer_id", "settlement_id", name=op.f("pk_offer_settlement")),
    )
    with op.batch_alter_table("offer_settlement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offer_settlement_settlement_id"), ["settlement_id"], unique=False
        )

    op.create_table(
        "offer_term",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offer_term_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_offer_term_term_id_taxonomy_term"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("offer_id", "term_id", name=op.f("pk_offer_term")),
    )
    with op.batch_alter_table("offer_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_term_term_id"), ["term_id"], unique=False)

    op.create_table(
        "enquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("offer_price_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=False),
        sa.Column("minutes_per_week", sa.Integer(), nullable=False),
        sa.Column("availability", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "replied",
                "arranged",
                "declined",
                name="enquirystatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("updated_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minutes_per_week > 0", name=op.f("ck_enquiry_some_time_asked_for")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_enquiry_offer_id_offer"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["offer_price_id"],
            ["offer_price.id"],
            name=op.f("fk_enquiry_offer_price_id_offer_price"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["user_account.id"],
            name=op.f("fk_enquiry_person_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_enquiry_provider_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["user_account.id"],
            name=op.f("fk_enquiry_sent_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enquiry")),
    )
    with op.batch_alter_table("enquiry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enquiry_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enquiry_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enquiry_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enquiry_status"), ["status"], unique=False)

    op.create_table(
        "enquiry_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_enquiry_message_author_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["enquiry.id"],
            name=op.f("fk_enquiry_message_enquiry_id_enquiry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enquiry_message")),
    )
    with op.batch_alter_table("enquiry_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enquiry_message_enquiry_id"), ["enquiry_id"], unique=False
        )

    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("outcomes_rating", sa.SmallInteger(), nullable=False),
        sa.Column("reliability_rating", sa.SmallInteger(), nullable=False),
        sa.Column("respect_rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("replied_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("moderation_note", sa.Text(), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcomes_rating BETWEEN 1 AND 5", name=op.f("ck_review_outcomes_rating_1_to_5")
        ),
        sa.CheckConstraint(
            "reliability_rating BETWEEN 1 AND 5", name=op.f("ck_review_reliability_rating_1_to_5")
        ),
        sa.CheckConstraint(
            "respect_rating BETWEEN 1 AND 5", name=op.f("ck_review_respect_rating_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_review_author_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["enquiry.id"],
            name=op.f("fk_review_enquiry_id_enquiry"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["hidden_by_id"],
            ["user_account.id"],
            name=op.f("fk_review_hidden_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_review_offer_id_offer"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_review_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replied_by_id"],
            ["user_account.id"],
            name=op.f("fk_review_replied_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
        sa.UniqueConstraint("enquiry_id", name=op.f("uq_review_enquiry_id")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_provider_id"))
        batch_op.drop_index(batch_op.f("ix_review_offer_id"))

    op.drop_table("review")
    with op.batch_alter_table("enquiry_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enquiry_message_enquiry_id"))

    op.drop_table("enquiry_message")
    with op.batch_alter_table("enquiry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enquiry_status"))
        batch_op.drop_index(batch_op.f("ix_enquiry_provider_id"))
        batch_op.drop_index(batch_op.f("ix_enquiry_person_id"))
        batch_op.drop_index(batch_op.f("ix_enquiry_offer_id"))

    op.drop_table("enquiry")
    with op.batch_alter_table("offer_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_term_term_id"))

    op.drop_table("offer_term")
    with op.batch_alter_table("offer_settlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_settlement_settlement_id"))

    op.drop_table("offer_settlement")
    with op.batch_alter_table("offer_price", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_price_offer_id"))

    op.drop_table("offer_price")
    with op.batch_alter_table("offer_council", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_council_council_id"))

    op.drop_table("offer_council")
    with op.batch_alter_table("staff_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_invitation_provider_id"))

    op.drop_table("staff_invitation")
    with op.batch_alter_table("provider_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_provider_member_provider_id"))

    op.drop_table("provider_member")
    op.drop_table("provider_language")
    with op.batch_alter_table("provider_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_check_provider_id"))

    op.drop_table("provider_check")
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_status"))
        batch_op.drop_index(batch_op.f("ix_offer_provider_id"))

    op.drop_table("offer")
    op.drop_table("provider")
    with op.batch_alter_table("taxonomy_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxonomy_term_taxonomy"))

    op.drop_table("taxonomy_term")
