"""Change of use: councils' rules (versioned), budget holders' delegated authority, requests
with their history, panel sittings; budget lines that money can be moved into or out of,
paused, carried on on new terms, and one-off purchases.

Revision ID: 20261204_changes_1
Revises: 20261203_renewal_1
Create Date: 2026-12-03 22:30:18.178240
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261204_changes_1"
down_revision: str | None = "20261203_renewal_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEKLY_OR_AN_AMOUNT = "(kind IN ('contingency', 'purchase') AND amount_pence IS NOT NULL AND amount_pence > 0 AND weekly_pence IS NULL) OR (kind NOT IN ('contingency', 'purchase') AND weekly_pence IS NOT NULL AND weekly_pence >= 0 AND amount_pence IS NULL)"
WEEKLY_OR_CONTINGENCY = "(kind = 'contingency' AND amount_pence IS NOT NULL AND amount_pence > 0 AND weekly_pence IS NULL) OR (kind <> 'contingency' AND weekly_pence IS NOT NULL AND weekly_pence >= 0 AND amount_pence IS NULL)"


def upgrade() -> None:
    op.create_table(
        "change_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("light_touch_limit_pence", sa.BigInteger(), nullable=False),
        sa.Column("delegated_days", sa.Integer(), nullable=False),
        sa.Column("panel_days", sa.Integer(), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("panel_first_sits_on", sa.Date(), nullable=False),
        sa.Column("panel_every_days", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "delegated_days BETWEEN 0 AND 60 AND panel_days BETWEEN 0 AND 90 AND reminder_days BETWEEN 0 AND 30",
            name=op.f("ck_change_rules_days_in_range"),
        ),
        sa.CheckConstraint(
            "light_touch_limit_pence >= 0", name=op.f("ck_change_rules_light_touch_not_negative")
        ),
        sa.CheckConstraint(
            "panel_every_days BETWEEN 1 AND 92", name=op.f("ck_change_rules_panel_sits_regularly")
        ),
        sa.CheckConstraint("version > 0", name=op.f("ck_change_rules_version_positive")),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_change_rules_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["user_account.id"],
            name=op.f("fk_change_rules_set_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_rules")),
        sa.UniqueConstraint("council_id", "version", name=op.f("uq_change_rules_council_id")),
    )
    with op.batch_alter_table("change_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_rules_council_id"), ["council_id"], unique=False
        )

    op.create_table(
        "delegated_authority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("per_request_pence", sa.BigInteger(), nullable=False),
        sa.Column("per_fund_year_pence", sa.BigInteger(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "per_request_pence >= 0 AND per_fund_year_pence >= per_request_pence",
            name=op.f("ck_delegated_authority_limits_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_delegated_authority_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["user_account.id"],
            name=op.f("fk_delegated_authority_holder_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["user_account.id"],
            name=op.f("fk_delegated_authority_set_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegated_authority")),
    )
    with op.batch_alter_table("delegated_authority", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delegated_authority_council_id"), ["council_id"], unique=False
        )
        batch_op.create_index("ix_delegated_authority_holder", ["holder_id", "id"], unique=False)

    op.create_table(
        "panel_sitting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("sits_on", sa.Date(), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_panel_sitting_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_panel_sitting_recorded_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_sitting")),
        sa.UniqueConstraint("council_id", "sits_on", name=op.f("uq_panel_sitting_council_id")),
    )
    op.create_table(
        "change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "move",
                "new_offer",
                "purchase",
                "hours",
                "pause",
                "resume",
                name="changekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "more_information",
                "approved",
                "declined",
                "withdrawn",
                name="changestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "route",
            sa.Enum(
                "light_touch",
                "delegated",
                "panel",
                name="changeroute",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("from_line_id", sa.Integer(), nullable=True),
        sa.Column("moved_pence", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("offer_price_id", sa.Integer(), nullable=True),
        sa.Column("minutes_per_week", sa.Integer(), nullable=True),
        sa.Column("when", sa.Integer(), nullable=False),
        sa.Column("weekly_pence", sa.BigInteger(), nullable=True),
        sa.Column("costing", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("rules_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("sitting_on", sa.Date(), nullable=True),
        sa.Column("clock_stopped_on", sa.Date(), nullable=True),
        sa.Column("reminded_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_under_id", sa.Integer(), nullable=True),
        sa.Column("sitting_id", sa.Integer(), nullable=True),
        sa.Column("decision_reasons", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("new_line_id", sa.Integer(), nullable=True),
        sa.Column("review_of_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "route <> 'panel' OR status NOT IN ('approved', 'declined') OR sitting_id IS NOT NULL",
            name=op.f("ck_change_request_panel_decides_at_a_sitting"),
        ),
        sa.CheckConstraint(
            "status <> 'declined' OR trim(decision_reasons) <> ''",
            name=op.f("ck_change_request_declines_say_why"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('approved', 'declined') OR (decided_at IS NOT NULL AND decided_under_id IS NOT NULL)",
            name=op.f("ck_change_request_decisions_name_their_rules"),
        ),
        sa.CheckConstraint("amount_pence >= 0", name=op.f("ck_change_request_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_change_request_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_change_request_decided_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_under_id"],
            ["change_rules.id"],
            name=op.f("fk_change_request_decided_under_id_change_rules"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_line_id"],
            ["budget_line.id"],
            name=op.f("fk_change_request_from_line_id_budget_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["individual_service_fund.id"],
            name=op.f("fk_change_request_fund_id_individual_service_fund"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["budget_line.id"],
            name=op.f("fk_change_request_line_id_budget_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["new_line_id"],
            ["budget_line.id"],
            name=op.f("fk_change_request_new_line_id_budget_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_change_request_offer_id_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_price_id"],
            ["offer_price.id"],
            name=op.f("fk_change_request_offer_price_id_offer_price"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_change_request_requested_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["review_of_id"],
            ["change_request.id"],
            name=op.f("fk_change_request_review_of_id_change_request"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rules_id"],
            ["change_rules.id"],
            name=op.f("fk_change_request_rules_id_change_rules"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sitting_id"],
            ["panel_sitting.id"],
            name=op.f("fk_change_request_sitting_id_panel_sitting"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_request")),
        sa.UniqueConstraint("review_of_id", name=op.f("uq_change_request_review_of_id")),
    )
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_request_council_status", ["council_id", "status", "due_on"], unique=False
        )
        batch_op.create_index("ix_change_request_fund_status", ["fund_id", "status"], unique=False)

    op.create_table(
        "change_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "sent",
                "approved",
                "declined",
                "asked",
                "answered",
                "escalated",
                "withdrawn",
                "review_asked",
                "reminded",
                "overdue",
                name="changestep",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_change_event_actor_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["change_request.id"],
            name=op.f("fk_change_event_request_id_change_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
    )
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_event_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "change_request_outcome",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["plan_outcome.id"],
            name=op.f("fk_change_request_outcome_outcome_id_plan_outcome"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["change_request.id"],
            name=op.f("fk_change_request_outcome_request_id_change_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "outcome_id", name=op.f("pk_change_request_outcome")),
    )
    with op.batch_alter_table("change_request_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_request_outcome_outcome_id"), ["outcome_id"], unique=False
        )

    with op.batch_alter_table("budget_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("moved_pence", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("paused_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_budget_line_replaces_id_budget_line"),
            "budget_line",
            ["replaces_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.drop_constraint(batch_op.f("ck_budget_line_weekly_or_an_amount"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_budget_line_weekly_or_an_amount"),
            WEEKLY_OR_AN_AMOUNT,
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_budget_line_paused_after_it_starts"),
            "paused_on IS NULL OR paused_on > starts_on",
        )


def downgrade() -> None:
    with op.batch_alter_table("budget_line", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_budget_line_paused_after_it_starts"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_budget_line_weekly_or_an_amount"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_budget_line_weekly_or_an_amount"),
            WEEKLY_OR_CONTINGENCY,
        )
        batch_op.drop_constraint(
            batch_op.f("fk_budget_line_replaces_id_budget_line"), type_="foreignkey"
        )
        batch_op.drop_column("replaces_id")
        batch_op.drop_column("paused_on")
        batch_op.drop_column("moved_pence")

    with op.batch_alter_table("change_request_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_request_outcome_outcome_id"))

    op.drop_table("change_request_outcome")
    with op.batch_alter_table("change_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_event_request_id"))

    op.drop_table("change_event")
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_index("ix_change_request_fund_status")
        batch_op.drop_index("ix_change_request_council_status")

    op.drop_table("change_request")
    op.drop_table("panel_sitting")
    with op.batch_alter_table("delegated_authority", schema=None) as batch_op:
        batch_op.drop_index("ix_delegated_authority_holder")
        batch_op.drop_index(batch_op.f("ix_delegated_authority_council_id"))

    op.drop_table("delegated_authority")
    with op.batch_alter_table("change_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_rules_council_id"))

    op.drop_table("change_rules")
