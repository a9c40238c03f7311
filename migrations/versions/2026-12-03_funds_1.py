"""Individual service funds: the fund, its support plan's outcomes and budget lines; panel
members and finance staff belong to a council, as budget holders do.

Revision ID: 20261203_funds_1
Revises: 20261203_ledger_1
Create Date: 2026-12-03 13:03:16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261203_funds_1"
down_revision: str | None = "20261203_ledger_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_user_account_council_scope_for_council_roles"), type_="check"
        )
        batch_op.create_check_constraint(
            "council_scope_for_council_roles",
            "council_id IS NULL OR role IN ('commissioner', 'budget_holder', 'panel_member', "
            "'finance')",
        )
    # Not in batch mode: recreating ledger_account on SQLite would drop its triggers.
    for kind, owner in (("council_funding", "council_id"), ("management_fees", "provider_id")):
        op.create_index(
            f"uq_ledger_account_one_{kind}",
            "ledger_account",
            [owner],
            unique=True,
            sqlite_where=sa.text(f"kind = '{kind}'"),
            postgresql_where=sa.text(f"kind = '{kind}'"),
        )
    op.create_table(
        "individual_service_fund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("holder_offer_id", sa.Integer(), nullable=False),
        sa.Column("holder_price_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "agreeing",
                "active",
                "declined",
                "withdrawn",
                name="fundstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("request_note", sa.Text(), nullable=False),
        sa.Column("annual_budget_pence", sa.BigInteger(), nullable=True),
        sa.Column("period_starts_on", sa.Date(), nullable=True),
        sa.Column("period_ends_on", sa.Date(), nullable=True),
        sa.Column(
            "funding_schedule",
            sa.Enum(
                "upfront",
                "monthly",
                "four_weekly",
                name="fundingschedule",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("budget_set_by_id", sa.Integer(), nullable=True),
        sa.Column("budget_set_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("person_accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("person_accepted_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("holder_accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("holder_accepted_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("council_accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("council_accepted_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'active' OR (person_accepted_at IS NOT NULL AND holder_accepted_at IS "
            "NOT NULL AND council_accepted_at IS NOT NULL AND account_id IS NOT NULL)",
            name=op.f("ck_individual_service_fund_active_once_all_accepted"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'declined', 'withdrawn') OR (annual_budget_pence IS NOT NULL AND period_starts_on IS NOT NULL AND period_ends_on IS NOT NULL AND funding_schedule IS NOT NULL)",
            name=op.f("ck_individual_service_fund_budget_set_once_agreeing"),
        ),
        sa.CheckConstraint(
            "annual_budget_pence IS NULL OR annual_budget_pence > 0",
            name=op.f("ck_individual_service_fund_budget_positive"),
        ),
        sa.CheckConstraint(
            "period_ends_on IS NULL OR period_ends_on > period_starts_on",
            name=op.f("ck_individual_service_fund_period_forwards"),
        ),
        sa.ForeignKeyConstraint(
            ["budget_set_by_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_budget_set_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["council_accepted_by_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_council_accepted_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_individual_service_fund_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_ended_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holder_accepted_by_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_holder_accepted_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["provider.id"],
            name=op.f("fk_individual_service_fund_holder_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holder_offer_id"],
            ["offer.id"],
            name=op.f("fk_individual_service_fund_holder_offer_id_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holder_price_id"],
            ["offer_price.id"],
            name=op.f("fk_individual_service_fund_holder_price_id_offer_price"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_accepted_by_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_person_accepted_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_person_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_individual_service_fund_requested_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_account.id"],
            name=op.f("fk_individual_service_fund_account_id_ledger_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_individual_service_fund")),
        sa.UniqueConstraint("account_id", name=op.f("uq_individual_service_fund_account_id")),
    )
    with op.batch_alter_table("individual_service_fund", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_individual_service_fund_council_id"), ["council_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_individual_service_fund_holder_id"), ["holder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_individual_service_fund_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "budget_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "offer",
                "described",
                "contingency",
                name="budgetlinekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("offer_price_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("minutes_per_week", sa.Integer(), nullable=True),
        sa.Column("when", sa.Integer(), nullable=False),
        sa.Column("weekly_pence", sa.BigInteger(), nullable=True),
        sa.Column("amount_pence", sa.BigInteger(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("costing", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'contingency' AND amount_pence IS NOT NULL AND amount_pence > 0 AND weekly_pence IS NULL) OR (kind <> 'contingency' AND weekly_pence IS NOT NULL AND weekly_pence >= 0 AND amount_pence IS NULL)",
            name=op.f("ck_budget_line_weekly_or_an_amount"),
        ),
        sa.CheckConstraint(
            "kind <> 'offer' OR (offer_id IS NOT NULL AND offer_price_id IS NOT NULL AND provider_id IS NOT NULL)",
            name=op.f("ck_budget_line_offer_line_names_its_price"),
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_budget_line_line_forwards")),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name=op.f("fk_budget_line_added_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["individual_service_fund.id"],
            name=op.f("fk_budget_line_fund_id_individual_service_fund"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_budget_line_offer_id_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["offer_price_id"],
            ["offer_price.id"],
            name=op.f("fk_budget_line_offer_price_id_offer_price"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_budget_line_provider_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_line")),
    )
    with op.batch_alter_table("budget_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budget_line_fund_id"), ["fund_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_budget_line_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "plan_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=True),
        sa.Column("own_words", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["user_account.id"],
            name=op.f("fk_plan_outcome_added_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["individual_service_fund.id"],
            name=op.f("fk_plan_outcome_fund_id_individual_service_fund"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_plan_outcome_term_id_taxonomy_term"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_outcome")),
    )
    with op.batch_alter_table("plan_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_outcome_fund_id"), ["fund_id"], unique=False)

    op.create_table(
        "budget_line_outcome",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["budget_line.id"],
            name=op.f("fk_budget_line_outcome_line_id_budget_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["plan_outcome.id"],
            name=op.f("fk_budget_line_outcome_outcome_id_plan_outcome"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("line_id", "outcome_id", name=op.f("pk_budget_line_outcome")),
    )
    with op.batch_alter_table("budget_line_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_budget_line_outcome_outcome_id"), ["outcome_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("budget_line_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budget_line_outcome_outcome_id"))

    op.drop_table("budget_line_outcome")
    with op.batch_alter_table("plan_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_outcome_fund_id"))

    op.drop_table("plan_outcome")
    with op.batch_alter_table("budget_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budget_line_provider_id"))
        batch_op.drop_index(batch_op.f("ix_budget_line_fund_id"))

    op.drop_table("budget_line")
    with op.batch_alter_table("individual_service_fund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_individual_service_fund_person_id"))
        batch_op.drop_index(batch_op.f("ix_individual_service_fund_holder_id"))
        batch_op.drop_index(batch_op.f("ix_individual_service_fund_council_id"))

    op.drop_table("individual_service_fund")
    op.drop_index("uq_ledger_account_one_management_fees", table_name="ledger_account")
    op.drop_index("uq_ledger_account_one_council_funding", table_name="ledger_account")
    op.execute(
        "UPDATE user_account SET council_id = NULL WHERE role IN ('panel_member', 'finance')"
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_user_account_council_scope_for_council_roles"), type_="check"
        )
        batch_op.create_check_constraint(
            "council_scope_for_council_roles",
            "council_id IS NULL OR role IN ('commissioner', 'budget_holder')",
        )
