"""Run the Alembic migrations from code, for the CLI and the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from marketplace.settings import PROJECT_ROOT


def alembic_config(
    *, database_url: str | None = None, connection: Connection | None = None
) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the schema, then load the shipped reference data into it."""
    command.upgrade(alembic_config(database_url=database_url), revision)
    if revision == "head":
        load_reference_data(database_url)


def load_reference_data(database_url: str) -> None:
    from marketplace.db import make_engine, make_sessionmaker, session_scope
    from marketplace.models import import_all_models, reference_loaders

    import_all_models()
    engine = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            for load in reference_loaders():
                load(session)
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url=database_url), revision)
