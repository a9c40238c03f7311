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
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run `sds-market db upgrade`.")
run_migrations_online()
