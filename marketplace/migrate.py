"""Run the Alembic migrations from code, for the CLI and the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from marketplace.settings import PROJECT_ROOT


def alembic_config(*, database_url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url=database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url=database_url), revision)
