"""The ledger: accounts with cached balances, ledger transactions and postings, with the
database's own guard on every rule (balanced, immutable, above the floor); and the record
of money-moving requests carried out, by idempotency key

Revision ID: 20261203_ledger_1
Revises: 20261203_truth_1
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261203_ledger_1"
down_revision: str | None = "20261203_truth_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same design on both databases (contracts/ledger.py explains why it is sound): a
# transaction's postings are written first, naming it through a DEFERRED foreign key, and
# the ledger_transaction row is written last, as their seal. Writing the row checks that
# its postings sum to 0 and number its posting_count, then adds them to the cached
# balances, whose CHECK refuses an account below its floor; nothing may be added to a
# sealed transaction; a posting left without its transaction fails the foreign key at
# COMMIT; no row is ever changed or removed. PostgreSQL, where writers run side by side,
# also checks every new posting's transaction again at COMMIT with a deferred constraint
# trigger.
#
# The trigger texts are frozen here with this revision; a later rule is a new revision.

_NOT_ZERO_SUM = """(SELECT count(*) FROM ledger_posting WHERE transaction_id = NEW.id)
         <> NEW.posting_count
       OR (SELECT coalesce(sum(amount_pence), 0) FROM ledger_posting
           WHERE transaction_id = NEW.id) <> 0"""

_NOT_A_MIRROR = """NEW.reverses_id IS NOT NULL AND (
         EXISTS (SELECT 1 FROM ledger_transaction o
                 WHERE o.id = NEW.reverses_id AND o.reverses_id IS NOT NULL)
         OR (SELECT count(*) FROM ledger_posting WHERE transaction_id = NEW.id)
            <> (SELECT count(*) FROM ledger_posting WHERE transaction_id = NEW.reverses_id)
         OR EXISTS (
           SELECT 1 FROM ledger_posting r
           WHERE r.transaction_id = NEW.id AND NOT EXISTS (
             SELECT 1 FROM ledger_posting o
             WHERE o.transaction_id = NEW.reverses_id
               AND o.account_id = r.account_id AND o.amount_pence = -r.amount_pence)))"""

_IDENTITY_CHANGED = """OLD.id IS NOT NEW.id OR OLD.kind IS NOT NEW.kind
       OR OLD.currency IS NOT NEW.currency OR OLD.council_id IS NOT NEW.council_id
       OR OLD.provider_id IS NOT NEW.provider_id"""

_MESSAGES = {
    "unbalanced": "a ledger transaction is sealed over all its postings, 2 or more, summing to 0",
    "not_a_mirror": "a reversal must post exactly the opposite of a transaction that is not "
    "itself a reversal",
    "sealed": "postings cannot be added to a ledger transaction that is already written",
    "posting_immutable": "ledger postings are never changed or removed: post a reversal",
    "transaction_immutable": "ledger transactions are never changed or removed: post a reversal",
    "account_identity": "the kind, currency and owner of a ledger account never change",
    "account_kept": "ledger accounts are never removed",
    "opens_at_zero": "a ledger account opens with a balance of 0: only postings move it",
}

# SQLite's INSERT OR REPLACE deletes a row it collides with without firing its DELETE
# triggers (unless recursive_triggers is on), so each table also refuses an INSERT whose
# primary key is already there.
_SQLITE_NOT_REPLACED = [
    f"""CREATE TRIGGER {table}_not_replaced BEFORE INSERT ON {table}
       WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES[message]}'); END"""
    for table, message in (
        ("ledger_account", "account_kept"),
        ("ledger_transaction", "transaction_immutable"),
        ("ledger_posting", "posting_immutable"),
    )
]

_SQLITE = [
    *_SQLITE_NOT_REPLACED,
    f"""CREATE TRIGGER ledger_account_opens_at_zero BEFORE INSERT ON ledger_account
       WHEN NEW.balance_pence <> 0
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["opens_at_zero"]}'); END""",
    f"""CREATE TRIGGER ledger_account_identity_fixed
       BEFORE UPDATE OF id, kind, currency, council_id, provider_id ON ledger_account
       WHEN {_IDENTITY_CHANGED}
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["account_identity"]}'); END""",
    f"""CREATE TRIGGER ledger_account_kept BEFORE DELETE ON ledger_account
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["account_kept"]}'); END""",
    f"""CREATE TRIGGER ledger_posting_before_its_transaction BEFORE INSERT ON ledger_posting
       WHEN EXISTS (SELECT 1 FROM ledger_transaction WHERE id = NEW.transaction_id)
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["sealed"]}'); END""",
    f"""CREATE TRIGGER ledger_posting_no_update BEFORE UPDATE ON ledger_posting
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["posting_immutable"]}'); END""",
    f"""CREATE TRIGGER ledger_posting_no_delete BEFORE DELETE ON ledger_posting
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["posting_immutable"]}'); END""",
    f"""CREATE TRIGGER ledger_transaction_balances BEFORE INSERT ON ledger_transaction
       WHEN {_NOT_ZERO_SUM}
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["unbalanced"]}'); END""",
    f"""CREATE TRIGGER ledger_transaction_reversal_mirrors BEFORE INSERT ON ledger_transaction
       WHEN {_NOT_A_MIRROR}
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["not_a_mirror"]}'); END""",
    """CREATE TRIGGER ledger_transaction_applies AFTER INSERT ON ledger_transaction
       BEGIN
         UPDATE ledger_account
         SET balance_pence = balance_pence + (
           SELECT p.amount_pence FROM ledger_posting p
           WHERE p.transaction_id = NEW.id AND p.account_id = ledger_account.id)
         WHERE id IN (SELECT account_id FROM ledger_posting WHERE transaction_id = NEW.id);
       END""",
    f"""CREATE TRIGGER ledger_transaction_no_update BEFORE UPDATE ON ledger_transaction
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["transaction_immutable"]}'); END""",
    f"""CREATE TRIGGER ledger_transaction_no_delete BEFORE DELETE ON ledger_transaction
       BEGIN SELECT RAISE(ABORT, '{_MESSAGES["transaction_immutable"]}'); END""",
]

_POSTGRESQL_FUNCTIONS = {
    "ledger_refuse()": """CREATE FUNCTION ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
       END $$""",
    "ledger_check_balanced(uuid, integer)": f"""CREATE FUNCTION
       ledger_check_balanced(txn uuid, sealed_with integer) RETURNS void LANGUAGE plpgsql AS $$
       DECLARE
         postings bigint;
         total numeric;
       BEGIN
         SELECT count(*), coalesce(sum(amount_pence), 0) INTO postings, total
         FROM ledger_posting WHERE transaction_id = txn;
         IF sealed_with IS NULL OR postings <> sealed_with OR total <> 0 THEN
           RAISE EXCEPTION '{_MESSAGES["unbalanced"]}: transaction % sealed over % postings '
             'has % summing to %', txn, sealed_with, postings, total
             USING ERRCODE = 'check_violation';
         END IF;
       END $$""",
    "ledger_posting_before_its_transaction()": f"""CREATE FUNCTION
       ledger_posting_before_its_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM ledger_transaction WHERE id = NEW.transaction_id) THEN
           RAISE EXCEPTION '{_MESSAGES["sealed"]}: transaction %', NEW.transaction_id
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END $$""",
    "ledger_transaction_before_insert()": f"""CREATE FUNCTION
       ledger_transaction_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM ledger_check_balanced(NEW.id, NEW.posting_count);
         IF {_NOT_A_MIRROR} THEN
           RAISE EXCEPTION '{_MESSAGES["not_a_mirror"]}: transaction %', NEW.id
             USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$""",
    # As the owner (SECURITY DEFINER), so the app's role needs no right to change a cached
    # balance itself (README: "The ledger").
    "ledger_transaction_applies()": """CREATE FUNCTION ledger_transaction_applies()
       RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
       BEGIN
         UPDATE ledger_account a SET balance_pence = a.balance_pence + p.amount_pence
         FROM ledger_posting p
         WHERE p.transaction_id = NEW.id AND p.account_id = a.id;
         RETURN NULL;
       END $$""",
    "ledger_posting_balanced_at_commit()": """CREATE FUNCTION
       ledger_posting_balanced_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM ledger_check_balanced(NEW.transaction_id, (
           SELECT posting_count FROM ledger_transaction WHERE id = NEW.transaction_id));
         RETURN NULL;
       END $$""",
}


def _refuse(message_key: str) -> str:
    return f"EXECUTE FUNCTION ledger_refuse('{_MESSAGES[message_key]}')"


_POSTGRESQL_TRIGGERS = [
    f"""CREATE TRIGGER ledger_account_opens_at_zero BEFORE INSERT ON ledger_account
       FOR EACH ROW WHEN (NEW.balance_pence <> 0) {_refuse("opens_at_zero")}""",
    f"""CREATE TRIGGER ledger_account_identity_fixed BEFORE UPDATE ON ledger_account
       FOR EACH ROW WHEN ({_IDENTITY_CHANGED.replace("IS NOT", "IS DISTINCT FROM")})
       {_refuse("account_identity")}""",
    f"""CREATE TRIGGER ledger_account_kept BEFORE DELETE ON ledger_account
       FOR EACH ROW {_refuse("account_kept")}""",
    f"""CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account
       FOR EACH STATEMENT {_refuse("account_kept")}""",
    """CREATE TRIGGER ledger_posting_before_its_transaction BEFORE INSERT ON ledger_posting
       FOR EACH ROW EXECUTE FUNCTION ledger_posting_before_its_transaction()""",
    """CREATE CONSTRAINT TRIGGER ledger_posting_balanced_at_commit
       AFTER INSERT ON ledger_posting DEFERRABLE INITIALLY DEFERRED
       FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced_at_commit()""",
    f"""CREATE TRIGGER ledger_posting_immutable BEFORE UPDATE OR DELETE ON ledger_posting
       FOR EACH ROW {_refuse("posting_immutable")}""",
    f"""CREATE TRIGGER ledger_posting_no_truncate BEFORE TRUNCATE ON ledger_posting
       FOR EACH STATEMENT {_refuse("posting_immutable")}""",
    """CREATE TRIGGER ledger_transaction_before_insert BEFORE INSERT ON ledger_transaction
       FOR EACH ROW EXECUTE FUNCTION ledger_transaction_before_insert()""",
    """CREATE TRIGGER ledger_transaction_applies AFTER INSERT ON ledger_transaction
       FOR EACH ROW EXECUTE FUNCTION ledger_transaction_applies()""",
    f"""CREATE TRIGGER ledger_transaction_immutable BEFORE UPDATE OR DELETE
       ON ledger_transaction FOR EACH ROW {_refuse("transaction_immutable")}""",
    f"""CREATE TRIGGER ledger_transaction_no_truncate BEFORE TRUNCATE ON ledger_transaction
       FOR EACH STATEMENT {_refuse("transaction_immutable")}""",
]


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "idempotent_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_request")),
        sa.UniqueConstraint("key", name=op.f("uq_idempotent_request_key")),
    )
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "council_funding",
                "isf_funds",
                "provider_payable",
                "management_fees",
                "returned_underspend",
                name="accountkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("allow_overdraft", sa.Boolean(), nullable=False),
        sa.Column("floor_pence", sa.BigInteger(), nullable=False),
        sa.Column("balance_pence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("currency = 'GBP'", name=op.f("ck_ledger_account_sterling")),
        sa.CheckConstraint("floor_pence <= 0", name=op.f("ck_ledger_account_floor_not_above_zero")),
        sa.CheckConstraint(
            "allow_overdraft OR balance_pence >= floor_pence",
            name=op.f("ck_ledger_account_above_floor"),
        ),
        sa.CheckConstraint(
            "(kind IN ('council_funding', 'returned_underspend')"
            " AND council_id IS NOT NULL AND provider_id IS NULL)"
            " OR (kind = 'provider_payable' AND provider_id IS NOT NULL AND council_id IS NULL)"
            " OR (kind IN ('isf_funds', 'management_fees')"
            " AND (council_id IS NULL) <> (provider_id IS NULL))",
            name=op.f("ck_ledger_account_owner_fits_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["council_id"],
            ["council_area.id"],
            name=op.f("fk_ledger_account_council_id_council_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_ledger_account_provider_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
    )
    op.create_index(op.f("ix_ledger_account_council_id"), "ledger_account", ["council_id"])
    op.create_index(op.f("ix_ledger_account_provider_id"), "ledger_account", ["provider_id"])
    op.create_table(
        "ledger_transaction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("posting_count", sa.Integer(), nullable=False),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "reference_kind",
            sa.Enum(
                "funding_tranche",
                "finance_adjustment",
                "delivery",
                "management_fee",
                "change_of_use_decision",
                "payment",
                "period_end",
                "correction",
                name="referencekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("posted_at", marketplace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "actor_id IS NOT NULL OR actor_role = 'system'",
            name=op.f("ck_ledger_transaction_someone_caused_it"),
        ),
        sa.CheckConstraint("trim(reason) <> ''", name=op.f("ck_ledger_transaction_has_a_reason")),
        sa.CheckConstraint(
            "posting_count >= 2", name=op.f("ck_ledger_transaction_two_or_more_postings")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_ledger_transaction_actor_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_ledger_transaction_reverses_id_ledger_transaction"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transaction")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transaction_idempotency_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_transaction_reverses_id")),
    )
    op.create_index(op.f("ix_ledger_transaction_actor_id"), "ledger_transaction", ["actor_id"])
    op.create_index(
        "ix_ledger_transaction_reference", "ledger_transaction", ["reference_kind", "reference_id"]
    )
    op.create_table(
        "ledger_posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_pence <> 0", name=op.f("ck_ledger_posting_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_posting_account_id_ledger_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_ledger_posting_transaction_id_ledger_transaction"),
            ondelete="RESTRICT",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_posting")),
        # Also the index SQLite's deferred foreign key looks postings up by.
        sa.UniqueConstraint(
            "transaction_id", "account_id", name=op.f("uq_ledger_posting_transaction_id")
        ),
    )
    op.create_index(op.f("ix_ledger_posting_account_id"), "ledger_posting", ["account_id"])

    if _is_postgresql():
        for statement in [*_POSTGRESQL_FUNCTIONS.values(), *_POSTGRESQL_TRIGGERS]:
            op.execute(statement)
    else:
        for statement in _SQLITE:
            op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its triggers on both databases; PostgreSQL's functions go after.
    if not _is_postgresql():
        # SQLite empties a table row by row as it drops it, and a reversal would briefly
        # name a deleted original; to COMMIT, by when both are gone.
        op.execute("PRAGMA defer_foreign_keys = ON")
    op.drop_index(op.f("ix_ledger_posting_account_id"), table_name="ledger_posting")
    op.drop_table("ledger_posting")
    op.drop_index("ix_ledger_transaction_reference", table_name="ledger_transaction")
    op.drop_index(op.f("ix_ledger_transaction_actor_id"), table_name="ledger_transaction")
    op.drop_table("ledger_transaction")
    op.drop_index(op.f("ix_ledger_account_provider_id"), table_name="ledger_account")
    op.drop_index(op.f("ix_ledger_account_council_id"), table_name="ledger_account")
    op.drop_table("ledger_account")
    op.drop_table("idempotent_request")
    if _is_postgresql():
        for signature in reversed(_POSTGRESQL_FUNCTIONS):
            op.execute(f"DROP FUNCTION {signature}")
