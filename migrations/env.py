"""Alembic environment: the models of every package, and the database from the settings
(or a connection handed in by the CLI and the tests)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from marketplace.db import Base, make_engine
from marketplace.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("database_url")
    if url is None:
        from marketplace.settings import get_settings

        url = get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            _run_with_sqlite_foreign_keys_off(connection)
        else:
            _run(connection)
    engine.dispose()


def _run_with_sqlite_foreign_keys_off(connection: Connection) -> None:
    """SQLite changes a table by copying it, dropping the old one and renaming the copy
    (batch mode). Dropping a table that other tables' rows name fails with foreign keys
    on, even deferred, so they are switched off for the migration as SQLite's own
    procedure for altering tables says, which is possible only outside a transaction;
    then every foreign key is checked before they are switched on again."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _run(connection)
        connection.commit()
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"The migration left rows naming missing rows: {broken[:10]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run `sds-market db upgrade`.")
run_migrations_online()
