"""Every package's tables and reference data, gathered in one place for Alembic, the app
factory and `db upgrade` (this is the composition root that may name every package)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session


def import_all_models() -> None:
    import contracts.changes.models
    import contracts.funds.models
    import contracts.models
    import contracts.spending.models  # noqa: F401
    import marketplace.accounts.models
    import marketplace.audit
    import marketplace.geography.models
    import marketplace.idempotency
    import marketplace.outbox  # noqa: F401
    import matching.index
    import matching.models
    import matching.needs.models
    import matching.search.models
    import matching.shortlist.models  # noqa: F401
    import providers.models  # noqa: F401


def reference_loaders() -> list[Callable[[Session], object]]:
    """What `db upgrade` loads after migrating, in order: data every package relies on."""
    from marketplace.geography.reference import load_reference_geography
    from providers.taxonomy import load_taxonomies

    return [load_reference_geography, load_taxonomies]
