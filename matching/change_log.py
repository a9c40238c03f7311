"""The offer change log (`offer_change`) that keeps every worker's index current: whenever
a transaction changes something the matcher reads (an offer, its price, terms or area, its
provider's profile, languages or checks) or lists show (the provider's reviews),
`record_changes` appends a row in that same transaction, and each index reads back the rows
it has not seen (`read_log`, one indexed look-up before every search). On PostgreSQL,
sequence numbers are handed out before commit, so a later number can become visible first;
a number skipped over is remembered as a gap and looked for again until it appears or
GAP_PATIENCE_SECONDS pass (a rolled-back transaction leaves a gap for ever).

Writes that bypass the ORM (bulk `update()`/`delete()` on these tables) are not seen; the
code has none, and a new one must add its own `offer_change` rows."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, bindparam, delete, event, func, insert, or_, select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from matching.models import OfferChange
from providers.models import Check, Offer, OfferPrice, Provider, ProviderLanguage, Review

GAP_PATIENCE_SECONDS = 600.0
"""How long a skipped sequence number is waited for: longer than any transaction runs."""
KEEP_CHANGES = timedelta(days=7)
"""`prune_changes` deletes changes older than this."""

NEWEST_CHANGE = select(func.max(OfferChange.__table__.c.seq))
"""Asked the first time, to know where reading everything leaves off."""
_change = OfferChange.__table__.c
_newest = select(func.max(_change.seq).label("newest")).subquery()
LOG_SINCE = select(
    _newest.c.newest, _change.seq, _change.offer_id, _change.provider_id
).select_from(
    _newest.outerjoin(
        OfferChange.__table__,
        or_(
            _change.seq > bindparam("last_seq"),
            _change.seq.in_(bindparam("gaps", expanding=True)),
        ),
    )
)
"""Asked before every search, so built once and sent through Core (the ORM's overhead
would double its cost): the newest number, with the changes after the last one read and
any skipped ones now committed; one row with no change when there are none."""
recorded_flushes = 0
"""Flushes in this process that recorded offer changes."""
RECORDED_IN = "offer_changes_recorded_in"
"""Kept in a session's info: the transaction whose flushes recorded offer changes."""


def read_log(connection: Connection, last_seq: int, gaps: Iterable[int]) -> tuple[int, list[Any]]:
    """The newest change number, and the changes after `last_seq` or among `gaps`."""
    rows = connection.execute(LOG_SINCE, {"last_seq": last_seq, "gaps": list(gaps)}).all()
    newest = rows[0].newest if rows else None
    return newest or 0, [row for row in rows if row.seq is not None]


def in_flight_gaps(session: Session, newest: int) -> dict[int, float]:
    """The numbers up to `newest` that transactions still open may yet commit, to look for
    after reading everything. Numbers are handed out in time order and no transaction runs
    for longer than GAP_PATIENCE_SECONDS, so they lie after the last change recorded
    before then."""
    since = utcnow() - timedelta(seconds=GAP_PATIENCE_SECONDS)
    settled = (
        session.scalar(select(func.max(OfferChange.seq)).where(OfferChange.changed_at < since)) or 0
    )
    present = set(
        session.scalars(
            select(OfferChange.seq).where(OfferChange.seq > settled, OfferChange.seq <= newest)
        )
    )
    now = time.monotonic()
    return {seq: now for seq in range(settled + 1, newest) if seq not in present}


def prune_changes(session: Session, *, now: datetime) -> int:
    """Delete changes older than KEEP_CHANGES, which every running index has read by now;
    run daily. The newest is always kept: an empty log would look like a database that was
    emptied, and every index would read everything again. Returns how many went."""
    newest = select(func.max(OfferChange.seq)).scalar_subquery()
    # A DELETE's result is a CursorResult (which has the rowcount); execute is typed as
    # returning the general Result.
    result = cast(
        CursorResult[Any],
        session.execute(
            delete(OfferChange).where(
                OfferChange.changed_at < now - KEEP_CHANGES, OfferChange.seq < newest
            )
        ),
    )
    return int(result.rowcount or 0)


@event.listens_for(Session, "after_flush")
def record_changes(session: Session, _flush_context: Any) -> None:
    """Whatever this flush changed that the matcher reads, as offer_change rows in the same
    transaction, so every worker's index hears of it exactly when it is committed."""
    offer_ids: set[int] = set()
    provider_ids: set[int] = set()
    changed = (record for record in session.dirty if session.is_modified(record))
    for record in chain(session.new, changed, session.deleted):
        if isinstance(record, Offer):
            offer_ids.add(record.id)
        elif isinstance(record, OfferPrice):
            offer_ids.add(record.offer_id)
        elif isinstance(record, Provider):
            provider_ids.add(record.id)
        elif isinstance(record, ProviderLanguage | Check | Review):
            # A review changes no ranking, but lists show each provider's reviews in sum.
            provider_ids.add(record.provider_id)
    rows = [{"offer_id": i, "provider_id": None} for i in sorted(offer_ids) if i is not None]
    rows += [{"offer_id": None, "provider_id": i} for i in sorted(provider_ids) if i is not None]
    if rows:
        session.connection().execute(insert(OfferChange), rows)
        session.info[RECORDED_IN] = id(session.get_transaction())
        global recorded_flushes
        recorded_flushes += 1


def changed_uncommitted(session: Session) -> bool:
    """Whether this session's transaction has changed what the matcher reads and not yet
    committed it: it may then see offers as nobody else does, which caches must not keep.
    (A new transaction that happens to reuse the old one's id says yes wrongly: harmless.)"""
    recorded = session.info.get(RECORDED_IN)
    return recorded is not None and recorded == id(session.get_transaction())
