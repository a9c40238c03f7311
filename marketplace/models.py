"""Every package's tables, imported in one place for Alembic and the app factory."""

from __future__ import annotations


def import_all_models() -> None:
    import marketplace.accounts.models  # noqa: F401
    import marketplace.audit  # noqa: F401
    import marketplace.geography.models  # noqa: F401
    import providers.models  # noqa: F401
