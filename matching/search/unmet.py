"""Counting searches that found nothing as unmet demand, at most once a day per address,
place and kind of support, and never for another site's embedded request: the figures
commissioners plan from must not be inflatable by a script or a page elsewhere."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matching import service as matching_service
from matching.models import UnmetDemandSource
from matching.schemas import SupportWanted
from matching.search.models import CountedSearch

NO_KIND = 0
"""The kind recorded for a search that named no kind of support."""


def address_key(secret: bytes, address: str, on: date) -> str:
    """A keyed hash of the address that changes each day: equal within a day, unlinkable
    across days, and not reversible without the app's secret."""
    message = f"{on.isoformat()}|{address}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def embedded_elsewhere(headers: dict[str, str]) -> bool:
    """A request another site's page made without the person choosing to open it (an image,
    a frame or a script fetching the search), told by the browser's fetch metadata. A link
    followed from another site is a top-level navigation and still counts (once)."""
    return (
        headers.get("sec-fetch-site") == "cross-site"
        and headers.get("sec-fetch-dest", "document") != "document"
    )


def count_unmet_search(
    session: Session, *, wanted: SupportWanted, address_key: str, on: date
) -> bool:
    """Record a search that found nothing, unless this address has already been counted
    today for the same place and every kind it asked for. Returns whether it was counted.
    Kinds already counted from this address are left out of the record, so a person adding
    one kind to a search counts only that kind again."""
    settlement_id = wanted.location.settlement.id
    kinds = sorted(wanted.kinds) or [NO_KIND]
    session.execute(delete(CountedSearch).where(CountedSearch.counted_on < on))
    rows = [
        {
            "counted_on": on,
            "address_key": address_key,
            "settlement_id": settlement_id,
            "kind_id": kind,
        }
        for kind in kinds
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # ON CONFLICT DO NOTHING: two requests from one address at once count once, without a
    # unique-key error; RETURNING says which kinds are new.
    new_kinds = set(
        session.scalars(
            insert(CountedSearch)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(CountedSearch.kind_id)
        )
    )
    if not new_kinds:
        return False
    counted_kinds = {kind for kind in new_kinds if kind != NO_KIND}
    matching_service.record_unmet_demand(
        session,
        source=UnmetDemandSource.SEARCH,
        settlement=wanted.location.settlement,
        term_ids=counted_kinds | wanted.outcomes,
        on=on,
    )
    return True
