"""Renewal: a fund names the closed fund of the person's last period it follows (once),
and what that period's close carried over into it.

Revision ID: 20261203_renewal_1
Revises: 20261203_period_1
Create Date: 2026-12-03 19:07:25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_renewal_1"
down_revision: str | None = "20261203_period_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("individual_service_fund", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renews_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("carried_in_pence", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_individual_service_fund_renews_id"), ["renews_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_individual_service_fund_renews_id_individual_service_fund"),
            "individual_service_fund",
            ["renews_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_individual_service_fund_carried_in_not_negative"),
            "carried_in_pence >= 0",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_individual_service_fund_carried_from_a_fund"),
            "renews_id IS NOT NULL OR carried_in_pence = 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("individual_service_fund", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_individual_service_fund_carried_from_a_fund"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("ck_individual_service_fund_carried_in_not_negative"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_individual_service_fund_renews_id_individual_service_fund"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(batch_op.f("uq_individual_service_fund_renews_id"), type_="unique")
        batch_op.drop_column("carried_in_pence")
        batch_op.drop_column("renews_id")
