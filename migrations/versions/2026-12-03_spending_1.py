"""Spending: support delivered against budget lines, receipts, payments to providers; what
a provider is owed is kept for each council, and a council has an account of what it has
paid out.

Revision ID: 20261203_spending_1
Revises: 20261203_funds_1
Create Date: 2026-12-03 15:59:19
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261203_spending_1"
down_revision: str | None = "20261203_funds_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER_CHECK = "ck_ledger_account_owner_fits_kind"
OLD_OWNER_RULE = (
    "(kind IN ('council_funding', 'returned_underspend')"
    " AND council_id IS NOT NULL AND provider_id IS NULL)"
    " OR (kind = 'provider_payable' AND provider_id IS NOT NULL AND council_id IS NULL)"
    " OR (kind IN ('isf_funds', 'management_fees')"
    " AND (council_id IS NULL) <> (provider_id IS NULL))"
)
NEW_OWNER_RULE = (
    "(kind IN ('council_funding', 'returned_underspend', 'paid_to_providers')"
    " AND council_id IS NOT NULL AND provider_id IS NULL)"
    " OR (kind = 'provider_payable' AND provider_id IS NOT NULL AND council_id IS NOT NULL)"
    " OR (kind IN ('isf_funds', 'management_fees')"
    " AND (council_id IS NULL) <> (provider_id IS NULL))"
)


def _swap_owner_rule(old: str, new: str, *, copied_columns: str) -> None:
    """Replace ledger_account's CHECK of who owns each kind of account. PostgreSQL alters
    the constraint. SQLite cannot, so the table is rebuilt the way SQLite's documentation
    sets out (new table, copy, drop, rename), keeping its exact definition but the rule,
    and its indexes and every trigger that names it are put back as they were: batch mode
    would lose the ledger's triggers."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE ledger_account DROP CONSTRAINT {OWNER_CHECK}")
        op.execute(f"ALTER TABLE ledger_account ADD CONSTRAINT {OWNER_CHECK} CHECK ({new})")
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_account'"
    ).scalar_one()
    if old not in table_sql:
        raise RuntimeError("ledger_account's owner rule is not the one this migration replaces")
    # After one rebuild SQLite keeps the renamed table's name in quotes.
    rebuilt = re.sub(
        r'^CREATE TABLE\s+"?ledger_account"?', "CREATE TABLE ledger_account_rebuilt", table_sql
    ).replace(old, new)
    indexes = (
        bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger_account' "
            "AND sql IS NOT NULL"
        )
        .scalars()
        .all()
    )
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND (tbl_name = 'ledger_account' OR sql LIKE '%ledger_account%')"
    ).all()
    for name, _ in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    op.execute(rebuilt)
    op.execute(
        f"INSERT INTO ledger_account_rebuilt ({ACCOUNT_COLUMNS}) "
        f"SELECT {copied_columns} FROM ledger_account"
    )
    op.execute("DROP TABLE ledger_account")
    op.execute("ALTER TABLE ledger_account_rebuilt RENAME TO ledger_account")
    for index_sql in indexes:
        op.execute(index_sql)
    for _, trigger_sql in triggers:
        op.execute(trigger_sql)


ACCOUNT_COLUMNS = (
    "id, kind, name, currency, council_id, provider_id, allow_overdraft, floor_pence, "
    "balance_pence, created_at"
)


def upgrade() -> None:
    # Nothing recorded what a provider is owed before this revision, so no payable account
    # lacks the council it is now kept for.
    if (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM ledger_account WHERE kind = 'provider_payable'")
        .scalar_one()
    ):
        raise RuntimeError("Payable accounts without a council exist: give each its council first")
    _swap_owner_rule(OLD_OWNER_RULE, NEW_OWNER_RULE, copied_columns=ACCOUNT_COLUMNS)
    for kind, owners in (
        ("paid_to_providers", ["council_id"]),
        ("provider_payable", ["provider_id", "council_id"]),
    ):
        op.create_index(
            f"uq_ledger_account_one_{kind}",
            "ledger_account",
            owners,
            unique=True,
            sqlite_where=sa.text(f"kind = '{kind}'"),
            postgresql_where=sa.text(f"kind = '{kind}'"),
        )
    op.create_table(
        "provider_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column(
            "rail",
            sa.Enum("manual", name="paymentrailname", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "trim(reference) <> ''", name=op.f("ck_provider_payment_has_a_reference")
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_provider_payment_amount_positive")),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_provider_payment_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_provider_payment_provider_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_provider_payment_recorded_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_provider_payment_transaction_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_payment")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_provider_payment_transaction_id")),
    )
    with op.batch_alter_table("provider_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_payment_council_id"), ["council_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provider_payment_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            "uq_provider_payment_external",
            ["rail", "external_id"],
            unique=True,
            sqlite_where=sa.text("external_id IS NOT NULL"),
            postgresql_where=sa.text("external_id IS NOT NULL"),
        )

    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_receipt_not_empty")),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["individual_service_fund.id"],
            name=op.f("fk_receipt_fund_id_individual_service_fund"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_receipt_uploaded_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt")),
    )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipt_fund_id"), ["fund_id"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("support", "purchase", name="deliverykind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "recorded",
                "confirmed",
                "disputed",
                "approved",
                "withdrawn",
                "refused",
                name="deliverystatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("disputed_by_id", sa.Integer(), nullable=True),
        sa.Column("disputed_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", marketplace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'support' AND minutes IS NOT NULL AND minutes > 0 AND receipt_id IS NULL) OR (kind = 'purchase' AND minutes IS NULL AND receipt_id IS NOT NULL)",
            name=op.f("ck_delivery_hours_or_a_receipt"),
        ),
        sa.CheckConstraint(
            "(status = 'approved') = (transaction_id IS NOT NULL)",
            name=op.f("ck_delivery_approved_once_paid"),
        ),
        sa.CheckConstraint(
            "status <> 'disputed' OR trim(dispute_reason) <> ''",
            name=op.f("ck_delivery_disputes_say_why"),
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_delivery_amount_positive")),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_approved_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_confirmed_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["disputed_by_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_disputed_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_ended_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"],
            ["individual_service_fund.id"],
            name=op.f("fk_delivery_fund_id_individual_service_fund"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["budget_line.id"],
            name=op.f("fk_delivery_line_id_budget_line"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_delivery_provider_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipt.id"],
            name=op.f("fk_delivery_receipt_id_receipt"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_recorded_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_resolved_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_delivery_transaction_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_delivery_receipt_id")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_delivery_transaction_id")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_fund_status", ["fund_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    op.drop_table("delivery")
    op.drop_table("receipt")
    op.drop_table("provider_payment")
    for kind in ("provider_payable", "paid_to_providers"):
        op.drop_index(f"uq_ledger_account_one_{kind}", table_name="ledger_account")
    if (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM ledger_account WHERE kind = 'paid_to_providers'")
        .scalar_one()
    ):
        raise RuntimeError("Payments to providers are recorded: they cannot be stepped down")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE ledger_account DROP CONSTRAINT {OWNER_CHECK}")
        # The account's owner never changes, by a trigger; stepping down is the exception.
        op.execute("ALTER TABLE ledger_account DISABLE TRIGGER ledger_account_identity_fixed")
        op.execute("UPDATE ledger_account SET council_id = NULL WHERE kind = 'provider_payable'")
        op.execute("ALTER TABLE ledger_account ENABLE TRIGGER ledger_account_identity_fixed")
        op.execute(
            f"ALTER TABLE ledger_account ADD CONSTRAINT {OWNER_CHECK} CHECK ({OLD_OWNER_RULE})"
        )
    else:
        _swap_owner_rule(
            NEW_OWNER_RULE,
            OLD_OWNER_RULE,
            copied_columns=ACCOUNT_COLUMNS.replace(
                "council_id,", "CASE WHEN kind = 'provider_payable' THEN NULL ELSE council_id END,"
            ),
        )
