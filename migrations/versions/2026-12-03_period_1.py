"""Period end: each council's underspend rule, kept with its history, and each fund's
closed period; one returned-underspend account a council.

Revision ID: 20261203_period_1
Revises: 20261203_spending_1
Create Date: 2026-12-03 17:16:22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261203_period_1"
down_revision: str | None = "20261203_spending_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "underspend_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("carry_over_max_pence", sa.BigInteger(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "carry_over_max_pence >= 0", name=op.f("ck_underspend_rule_carry_over_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_underspend_rule_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["user_account.id"],
            name=op.f("fk_underspend_rule_set_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_underspend_rule")),
    )
    with op.batch_alter_table("underspend_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_underspend_rule_council_id"), ["council_id"], unique=False
        )

    op.create_table(
        "period_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("received_pence", sa.BigInteger(), nullable=False),
        sa.Column("spent_pence", sa.BigInteger(), nullable=False),
        sa.Column("fees_charged_pence", sa.BigInteger(), nullable=False),
        sa.Column("left_pence", sa.BigInteger(), nullable=False),
        sa.Column("carried_pence", sa.BigInteger(), nullable=False),
        sa.Column("returned_pence", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "left_pence = carried_pence + returned_pence AND carried_pence >= 0 AND returned_pence >= 0",
            name=op.f("ck_period_close_left_is_carried_or_returned"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_period_close_closed_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["individual_service_fund.id"],
            name=op.f("fk_period_close_fund_id_individual_service_fund"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["underspend_rule.id"],
            name=op.f("fk_period_close_rule_id_underspend_rule"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_period_close_transaction_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_close")),
        sa.UniqueConstraint("fund_id", name=op.f("uq_period_close_fund_id")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_period_close_transaction_id")),
    )

    # Not in batch mode: recreating ledger_account on SQLite would drop its triggers.
    op.create_index(
        "uq_ledger_account_one_returned_underspend",
        "ledger_account",
        ["council_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'returned_underspend'"),
        postgresql_where=sa.text("kind = 'returned_underspend'"),
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_account_one_returned_underspend", table_name="ledger_account")
    op.drop_table("period_close")
    with op.batch_alter_table("underspend_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_underspend_rule_council_id"))

    op.drop_table("underspend_rule")
