"""Delegated authority has one home: each budget holder's single limit on their account
becomes the first row of their delegated authority's history (per request as it was; per
fund a year without a cap of its own, as before), and the account's column goes.

Revision ID: 20261204_changes_2
Revises: 20261204_changes_1
Create Date: 2026-12-03 23:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_changes_2"
down_revision: str | None = "20261204_changes_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_YEARLY_CAP_PENCE = 100_000_000
"""£1,000,000, the largest limit the service accepts: the old single limit had no yearly
cap for one fund."""


def upgrade() -> None:
    with op.batch_alter_table("delegated_authority", schema=None) as batch_op:
        batch_op.alter_column("set_by_id", existing_type=sa.Integer(), nullable=True)
    op.execute(
        sa.text(
            "INSERT INTO delegated_authority (council_id, holder_id, per_request_pence, "
            "per_fund_year_pence, set_by_id, set_at, note) "
            "SELECT council_id, id, authority_limit_pence, :cap, NULL, CURRENT_TIMESTAMP, "
            "'Carried over from the single limit on the account' FROM user_account "
            "WHERE role = 'budget_holder' AND council_id IS NOT NULL "
            "AND authority_limit_pence IS NOT NULL"
        ).bindparams(cap=NO_YEARLY_CAP_PENCE)
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_user_account_authority_limit_for_budget_holders"), type_="check"
        )
        batch_op.drop_constraint(batch_op.f("ck_user_account_budget_holder_scoped"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_user_account_budget_holder_scoped"),
            "role <> 'budget_holder' OR council_id IS NOT NULL",
        )
        batch_op.drop_column("authority_limit_pence")


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authority_limit_pence", sa.BigInteger(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE user_account SET authority_limit_pence = COALESCE((SELECT "
            "per_request_pence FROM delegated_authority WHERE holder_id = user_account.id "
            "ORDER BY delegated_authority.id DESC LIMIT 1), 0) WHERE role = 'budget_holder'"
        )
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_budget_holder_scoped"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_user_account_budget_holder_scoped"),
            "role <> 'budget_holder' OR (council_id IS NOT NULL AND authority_limit_pence IS "
            "NOT NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_user_account_authority_limit_for_budget_holders"),
            "authority_limit_pence IS NULL OR (role = 'budget_holder' AND "
            "authority_limit_pence >= 0)",
        )
    op.execute(sa.text("DELETE FROM delegated_authority WHERE set_by_id IS NULL"))
    with op.batch_alter_table("delegated_authority", schema=None) as batch_op:
        batch_op.alter_column("set_by_id", existing_type=sa.Integer(), nullable=False)
