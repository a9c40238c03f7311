"""Audit log: hash chain (prev_hash, hash, backfilled in id order); PostgreSQL also refuses
TRUNCATE of it

Revision ID: 20261203_audit_1
Revises: 20261203_jobs_1
Create Date: 2026-12-03 02:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = "20261203_audit_1"
down_revision: str | None = "20261203_jobs_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first migration made the rows append-only (SQLite triggers, a PostgreSQL row trigger
# calling audit_event_append_only()); this one adds TRUNCATE on PostgreSQL. SQLite drops a
# table's triggers when batch mode rebuilds it, so they are dropped and made again around it.
_SQLITE_TRIGGERS = {
    "audit_event_no_update": """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    "audit_event_no_delete": """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
}
_PG_ROW_TRIGGER = "audit_event_append_only"
_PG_TRUNCATE_TRIGGER = "audit_event_no_truncate"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_sqlite_triggers() -> None:
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _create_sqlite_triggers() -> None:
    for statement in _SQLITE_TRIGGERS.values():
        op.execute(statement)


def upgrade() -> None:
    if _is_postgresql():
        op.execute(f"ALTER TABLE audit_event DISABLE TRIGGER {_PG_ROW_TRIGGER}")
    else:
        _drop_sqlite_triggers()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    if _is_postgresql():
        op.execute(f"ALTER TABLE audit_event ENABLE TRIGGER {_PG_ROW_TRIGGER}")
        op.execute(
            f"CREATE TRIGGER {_PG_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        _create_sqlite_triggers()


def _backfill() -> None:
    # The app's own hash function, so existing entries chain exactly as new ones will.
    from marketplace.audit import GENESIS_HASH, entry_hash

    table = sa.table(
        "audit_event",
        sa.column("id", sa.Integer()),
        sa.column("occurred_at", marketplace.db.UtcDateTime(timezone=True)),
        sa.column("actor_id", sa.Integer()),
        sa.column("actor_role", sa.String()),
        sa.column("action", sa.String()),
        sa.column("subject_type", sa.String()),
        sa.column("subject_id", sa.String()),
        sa.column("detail", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    bind = op.get_bind()
    prev_hash = GENESIS_HASH
    rows = bind.execute(
        sa.select(
            table.c.id, table.c.occurred_at, table.c.actor_id, table.c.actor_role,
            table.c.action, table.c.subject_type, table.c.subject_id, table.c.detail,
        ).order_by(table.c.id)
    ).all()  # fmt: skip
    for row in rows:
        digest = entry_hash(
            prev_hash=prev_hash,
            occurred_at=row.occurred_at,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            detail=row.detail,
        )
        bind.execute(
            table.update().where(table.c.id == row.id).values(prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest


def downgrade() -> None:
    if _is_postgresql():
        op.execute(f"DROP TRIGGER {_PG_TRUNCATE_TRIGGER} ON audit_event")
    else:
        _drop_sqlite_triggers()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    if not _is_postgresql():
        _create_sqlite_triggers()
