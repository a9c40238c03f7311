"""Accounts, sessions, the append-only audit log and council areas

Revision ID: ce02ed41bb4b
Revises:
Create Date: 2026-11-22 12:26:24.843898
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

COUNCIL_AREAS = [
    ("S12000033", "Aberdeen City"),
    ("S12000034", "Aberdeenshire"),
    ("S12000041", "Angus"),
    ("S12000035", "Argyll and Bute"),
    ("S12000036", "City of Edinburgh"),
    ("S12000005", "Clackmannanshire"),
    ("S12000006", "Dumfries and Galloway"),
    ("S12000042", "Dundee City"),
    ("S12000008", "East Ayrshire"),
    ("S12000045", "East Dunbartonshire"),
    ("S12000010", "East Lothian"),
    ("S12000011", "East Renfrewshire"),
    ("S12000014", "Falkirk"),
    ("S12000047", "Fife"),
    ("S12000049", "Glasgow City"),
    ("S12000017", "Highland"),
    ("S12000018", "Inverclyde"),
    ("S12000019", "Midlothian"),
    ("S12000020", "Moray"),
    ("S12000013", "Na h-Eileanan Siar"),
    ("S12000021", "North Ayrshire"),
    ("S12000050", "North Lanarkshire"),
    ("S12000023", "Orkney Islands"),
    ("S12000048", "Perth and Kinross"),
    ("S12000038", "Renfrewshire"),
    ("S12000026", "Scottish Borders"),
    ("S12000027", "Shetland Islands"),
    ("S12000028", "South Ayrshire"),
    ("S12000029", "South Lanarkshire"),
    ("S12000030", "Stirling"),
    ("S12000039", "West Dunbartonshire"),
    ("S12000040", "West Lothian"),
]
"""Scotland's 32 council areas with their GSS codes (ONS register of geographic codes)."""

_AUDIT_IS_APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]
_AUDIT_IS_APPEND_ONLY_POSTGRESQL = [
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]

revision: str = "ce02ed41bb4b"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "council_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gss_code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_area")),
        sa.UniqueConstraint("gss_code", name=op.f("uq_council_area_gss_code")),
        sa.UniqueConstraint("name", name=op.f("uq_council_area_name")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "supported_person",
                "representative",
                "provider_staff",
                "personal_assistant",
                "commissioner",
                "budget_holder",
                "panel_member",
                "finance",
                "admin",
                name="role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email_confirmed_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("council_id", sa.Integer(), nullable=True),
        sa.Column("authority_limit_pence", sa.BigInteger(), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "authority_limit_pence IS NULL OR (role = 'budget_holder' AND authority_limit_pence >= 0)",
            name=op.f("ck_user_account_authority_limit_for_budget_holders"),
        ),
        sa.CheckConstraint(
            "council_id IS NULL OR role IN ('commissioner', 'budget_holder')",
            name=op.f("ck_user_account_council_scope_for_council_roles"),
        ),
        sa.CheckConstraint(
            "role <> 'budget_holder' OR (council_id IS NOT NULL AND authority_limit_pence IS NOT NULL)",
            name=op.f("ck_user_account_budget_holder_scoped"),
        ),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_user_account_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_account_council_id"), ["council_id"], unique=False
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column(
            "action",
            sa.Enum(
                "sign_in_succeeded",
                "sign_in_failed",
                "signed_out",
                "account_created",
                "email_confirmed",
                "password_reset_requested",
                "password_reset",
                "password_changed",
                "role_changed",
                "account_disabled",
                "account_enabled",
                "representation_added",
                "representation_removed",
                "record_viewed",
                "record_changed",
                name="auditaction",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_type", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_audit_event_actor_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_event_subject_type"), ["subject_type"], unique=False
        )

    op.create_table(
        "email_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "confirm_email", "reset_password", name="tokenpurpose", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("expires_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_email_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_email_token")),
    )
    with op.batch_alter_table("email_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "representation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=False),
        sa.Column("supported_person_id", sa.Integer(), nullable=False),
        sa.Column(
            "relationship_kind",
            sa.Enum(
                "carer",
                "guardian",
                "power_of_attorney",
                "family",
                "other",
                name="relationship",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["user_account.id"],
            name=op.f("fk_representation_representative_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supported_person_id"],
            ["user_account.id"],
            name=op.f("fk_representation_supported_person_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representation")),
        sa.UniqueConstraint(
            "representative_id",
            "supported_person_id",
            name=op.f("uq_representation_representative_id"),
        ),
    )
    with op.batch_alter_table("representation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_representation_representative_id"), ["representative_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_representation_supported_person_id"),
            ["supported_person_id"],
            unique=False,
        )

    op.create_table(
        "user_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_session")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    council_area = sa.table(
        "council_area", sa.column("gss_code", sa.String), sa.column("name", sa.String)
    )
    op.bulk_insert(council_area, [{"gss_code": code, "name": name} for code, name in COUNCIL_AREAS])
    dialect = op.get_bind().dialect.name
    statements = (
        _AUDIT_IS_APPEND_ONLY_POSTGRESQL
        if dialect == "postgresql"
        else _AUDIT_IS_APPEND_ONLY_SQLITE
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("DROP TRIGGER audit_event_no_delete")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))

    op.drop_table("user_session")
    with op.batch_alter_table("representation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_representation_supported_person_id"))
        batch_op.drop_index(batch_op.f("ix_representation_representative_id"))

    op.drop_table("representation")
    with op.batch_alter_table("email_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_token_user_id"))

    op.drop_table("email_token")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_subject_type"))
        batch_op.drop_index(batch_op.f("ix_audit_event_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_council_id"))

    op.drop_table("user_account")
    op.drop_table("council_area")
