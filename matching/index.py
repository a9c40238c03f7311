"""The offer index: every published offer held in memory as columns (numpy arrays), so that
"which offers reach this person and fit what they asked for" looks at 100,000 offers in a
few milliseconds instead of asking the database row by row.

Each app worker keeps its own index, and the database keeps them all current through the
change log (matching.change_log): before every search the index reads the changes it has
not seen and reads again only the offers they name. A worker starts from its machine's
snapshot (matching.snapshot) when it can trust it."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    and_,
)
from sqlalchemy.orm import Session

from marketplace.geography.distance import haversine_km_many, within_km
from matching import change_log, snapshot
from matching.offer_columns import (
    COLUMN_NAMES,
    COLUMN_TYPES,
    Area,
    Loaded,
    Reference,
    TermBits,
    UnknownTerm,
    read_offers,
    read_reference,
)
from matching.offer_rows import OfferRows
from matching.reach import Circles, RadiusAreas
from providers.models import Offer, OfferStatus

T = TypeVar("T")
RELOAD_AFTER_IDLE_SECONDS = (change_log.KEEP_CHANGES - timedelta(days=1)).total_seconds()
"""An index that has not refreshed for nearly as long as the log keeps changes reads
everything again rather than trust a log with pieces missing."""
ID_CHUNK = 500
"""Ids per IN (...) list, well inside every database's parameter limit."""


OFFERS_REMEMBERED = 10_000
"""Offers as lists show them (matching.listed) kept by each worker's index: about a kilobyte
each, so about 10 MB. Searches show the same offers near the same places over and over: the
first pages of `bench pages`' 600 searches across Scotland show about 8,000 offers, and a
worker keeping 4,000 read 4 in 10 of a page's offers again; the market's 100,000 would not
fit a worker's memory budget."""


class OfferMemo:
    """Values about single offers, kept until the index hears that the offer or its provider
    changed (the change log names both), the least recently used going first past `size`.
    Its methods are called under the index's lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[int, tuple[int, Any]] = OrderedDict()
        """Offer id -> (its provider's id, the value)."""

    def __len__(self) -> int:
        return len(self._values)

    def get(self, offer_id: int) -> Any | None:
        kept = self._values.get(offer_id)
        if kept is None:
            return None
        self._values.move_to_end(offer_id)
        return kept[1]

    def put(self, offer_id: int, provider_id: int, value: Any) -> None:
        self._values[offer_id] = (provider_id, value)
        self._values.move_to_end(offer_id)
        if len(self._values) > self.size:
            self._values.popitem(last=False)

    def forget(self, offer_ids: set[int], provider_ids: set[int]) -> None:
        # Providers' offers are found by looking through them all: a few thousand, when a
        # change is heard, cost less than keeping every provider's set of offers in memory.
        gone = [
            offer_id
            for offer_id, (provider_id, _) in self._values.items()
            if offer_id in offer_ids or provider_id in provider_ids
        ]
        for offer_id in gone:
            del self._values[offer_id]

    def clear(self) -> None:
        self._values.clear()


REFRESHED_BY = "offer_index_refreshed"
"""Kept in a session's info: which index it brought up to date, and when. A request
refreshes once however many of its steps ask, unless a change is recorded in this process
meanwhile; other processes' changes wait for the next request, as they would anyway."""


class OfferIndex:
    """One worker's in-memory index of published offers. `refresh(session)` brings it up to
    date; reads happen under `lock`, which refreshes take too. With `snapshots` (a folder),
    its first load maps the snapshot written there (matching.snapshot) when it is usable."""

    def __init__(self, snapshots: Path | None = None) -> None:
        self.snapshots = snapshots
        self.from_snapshot = False
        """Whether its last full load was a snapshot's (else the database's)."""
        self.lock = threading.RLock()
        self.ref: Reference | None = None
        self.size = 0
        self.arrays: dict[str, NDArray[Any]] = {}
        self.row_of = OfferRows()
        self.free_rows: list[int] = []
        self.settlement_rows: dict[int, set[int]] = {}
        self.row_settlements: dict[int, tuple[int, ...]] = {}
        self.language_rows: dict[str, NDArray[np.bool_]] = {}
        self.last_seq: int | None = None
        self.gaps: dict[int, float] = {}
        self.generation = 0
        """Bumped by every change, for caches built on the index (fair prices)."""
        self.refreshed_at = 0.0
        """time.monotonic() of the last refresh."""
        self._memo: dict[str, Any] = {}
        self._memo_generation = -1
        self.offers_memo = OfferMemo(OFFERS_REMEMBERED)
        """Offers as lists show them (matching.listed), forgotten as they change."""
        self.cards_memo = OfferMemo(OFFERS_REMEMBERED)
        """What a search result says of an offer alone, drawn (matching.search.cards)."""

    # Keeping current ---------------------------------------------------------------------

    def refresh(self, session: Session) -> None:
        """Read what changed since the last refresh (everything, the first time)."""
        # Core statements do not flush: changes this session has made must reach the log
        # before it is read.
        session.flush()
        refreshed = session.info.get(REFRESHED_BY)
        if (
            refreshed is not None
            and refreshed[0] is self
            and refreshed[1] == change_log.recorded_flushes
            and time.monotonic() - self.refreshed_at <= RELOAD_AFTER_IDLE_SECONDS
        ):
            return  # once a request: nothing has changed in this process since
        connection = session.connection()
        # What this worker has read so far, and the log since, in one round trip; the first
        # time, only the newest number (everything is read then).
        known = None if self.last_seq is None else (self.last_seq, tuple(sorted(self.gaps)))
        if known is None:
            newest, changes = connection.execute(change_log.NEWEST_CHANGE).scalar() or 0, None
        else:
            newest, changes = change_log.read_log(connection, *known)
        session.info[REFRESHED_BY] = (self, change_log.recorded_flushes)
        with self.lock:
            idle = time.monotonic() - self.refreshed_at
            self.refreshed_at = time.monotonic()
            stale = self.last_seq is None or newest < self.last_seq
            if stale or idle > RELOAD_AFTER_IDLE_SECONDS:
                if not self._adopt_snapshot(session, newest):
                    self._load_everything(session, newest)
                    return
                changes = None  # from where the snapshot was written
            assert self.last_seq is not None
            if changes is None or known != (self.last_seq, tuple(sorted(self.gaps))):
                # Another request refreshed meanwhile, or the snapshot was just taken.
                newest, changes = change_log.read_log(connection, self.last_seq, sorted(self.gaps))
            if newest == self.last_seq and not self.gaps:
                return
            self._note_gaps({row.seq for row in changes})
            offer_ids = {row.offer_id for row in changes if row.offer_id is not None}
            provider_ids = {row.provider_id for row in changes if row.provider_id is not None}
            if not offer_ids and not provider_ids:
                return
            try:
                self._reload(session, offer_ids, provider_ids)
            except UnknownTerm:
                self._load_everything(session, self.last_seq)

    def _note_gaps(self, seen: set[int]) -> None:
        assert self.last_seq is not None
        now = time.monotonic()
        for seq in seen:
            self.gaps.pop(seq, None)
        newest = max(seen | {self.last_seq})
        for seq in range(self.last_seq + 1, newest):
            if seq not in seen:
                self.gaps.setdefault(seq, now)
        self.gaps = {
            seq: first
            for seq, first in self.gaps.items()
            if now - first < change_log.GAP_PATIENCE_SECONDS
        }
        self.last_seq = newest

    def _load_everything(self, session: Session, seq: int) -> None:
        self.ref = read_reference(session)
        self._fill(read_offers(session, self.ref, Offer.status == OfferStatus.PUBLISHED), seq)
        self.gaps = change_log.in_flight_gaps(session, seq)
        self.from_snapshot = False

    def _adopt_snapshot(self, session: Session, newest: int) -> bool:
        """Take the snapshot written for this machine, if there is one it can trust; the
        changes since it was written are read next, as in any refresh."""
        if self.snapshots is None:
            return False
        found = snapshot.read(self.snapshots)
        if found is None:
            return False
        ref = read_reference(session)
        if not snapshot.usable(found, session, ref, newest=newest):
            return False
        meta, count = found.meta, found.meta.size
        self.ref = ref
        self.arrays = dict(found.columns)
        self.size = count
        self.row_of = OfferRows(self.arrays["offer_id"][:count])
        self.free_rows = []
        self.language_rows = {
            language: found.language_rows[i] for i, language in enumerate(meta.languages)
        }
        places: dict[int, list[int]] = {}
        for row, settlement_id in zip(
            found.place_rows.tolist(), found.place_settlements.tolist(), strict=True
        ):
            places.setdefault(row, []).append(settlement_id)
        self.settlement_rows, self.row_settlements = {}, {}
        for row, settlement_ids in places.items():
            self.row_settlements[row] = tuple(settlement_ids)
            for settlement_id in settlement_ids:
                self.settlement_rows.setdefault(settlement_id, set()).add(row)
        self.last_seq = meta.last_seq
        now = time.monotonic()
        self.gaps = dict.fromkeys(meta.gaps, now)
        self.generation += 1
        self._forget_every_offer()
        self.from_snapshot = True
        return True

    def write_snapshot(self, session: Session, directory: Path) -> Path:
        """Write what the index holds now as the snapshot in `directory` (every row in use,
        in order), for workers to map (matching.snapshot)."""
        with self.lock:
            assert self.ref is not None and self.last_seq is not None, "refresh the index first"
            rows = np.array(self.row_of.rows(), dtype=np.int64)
            new_row = {int(old): new for new, old in enumerate(rows)}
            pairs = [
                (new_row[row], settlement_id)
                for row, settlement_ids in self.row_settlements.items()
                if row in new_row
                for settlement_id in settlement_ids
            ]
            languages = sorted(self.language_rows)
            terms, councils = snapshot.reference_fingerprint(self.ref)
            meta = snapshot.Meta(
                format=snapshot.FORMAT,
                database=snapshot.database_fingerprint(session.get_bind().engine.url),
                last_seq=self.last_seq,
                last_changed_at=snapshot.changed_at(session, self.last_seq),
                gaps=sorted(self.gaps),
                size=int(rows.size),
                terms=terms,
                council_bit=councils,
                languages=languages,
            )
            return snapshot.write(
                directory,
                meta=meta,
                columns={name: self.arrays[name][rows] for name in COLUMN_NAMES},
                language_rows=np.array(
                    [self.language_rows[language][rows] for language in languages],
                    dtype=np.bool_,
                ).reshape(len(languages), rows.size),
                place_rows=np.array([row for row, _ in pairs], dtype=np.int64),
                place_settlements=np.array([s for _, s in pairs], dtype=np.int64),
            )

    def _fill(self, loaded: Loaded, seq: int) -> None:
        count = len(loaded)
        capacity = max(1024, count * 5 // 4)
        self.arrays = {}
        for name in COLUMN_NAMES:
            column = np.zeros(capacity, dtype=COLUMN_TYPES[name])
            column[:count] = np.asarray(loaded.columns[name], dtype=COLUMN_TYPES[name])
            self.arrays[name] = column
        self.size = count
        self.row_of = OfferRows(loaded.columns["offer_id"])
        self.free_rows = []
        self.settlement_rows, self.row_settlements = {}, {}
        self.language_rows = {}
        for row in range(count):
            self._index_lists(row, loaded.settlements[row], loaded.languages[row])
        self.last_seq = seq
        self.gaps = {}
        self.generation += 1
        self._forget_every_offer()

    def _reload(self, session: Session, offer_ids: set[int], provider_ids: set[int]) -> None:
        assert self.ref is not None
        gone = set(offer_ids)
        if provider_ids:
            n = self.size
            theirs = self.arrays["live"][:n] & np.isin(
                self.arrays["provider_id"][:n], sorted(provider_ids)
            )
            gone |= {int(offer_id) for offer_id in self.arrays["offer_id"][:n][theirs]}
        for chunk in _chunks(sorted(offer_ids), ID_CHUNK):
            self._upsert(
                read_offers(
                    session,
                    self.ref,
                    and_(Offer.id.in_(chunk), Offer.status == OfferStatus.PUBLISHED),
                ),
                gone,
            )
        for chunk in _chunks(sorted(provider_ids), ID_CHUNK):
            self._upsert(
                read_offers(
                    session,
                    self.ref,
                    and_(Offer.provider_id.in_(chunk), Offer.status == OfferStatus.PUBLISHED),
                ),
                gone,
            )
        for offer_id in gone:
            self._remove(offer_id)
        self.generation += 1
        # Unpublished offers too: lists (a shortlist) show those, and their changes are logged.
        for memo in (self.offers_memo, self.cards_memo):
            memo.forget(offer_ids, provider_ids)

    def _forget_every_offer(self) -> None:
        for memo in (self.offers_memo, self.cards_memo):
            memo.clear()

    def _upsert(self, loaded: Loaded, gone: set[int]) -> None:
        for i in range(len(loaded)):
            offer_id = loaded.columns["offer_id"][i]
            gone.discard(offer_id)
            row = self.row_of.get(offer_id)
            if row is None:
                row = self._new_row()
                self.row_of[offer_id] = row
            else:
                self._unindex_lists(row)
            for name in COLUMN_NAMES:
                self.arrays[name][row] = loaded.columns[name][i]
            self._index_lists(row, loaded.settlements[i], loaded.languages[i])

    def _new_row(self) -> int:
        if self.free_rows:
            return self.free_rows.pop()
        if self.size == len(self.arrays["offer_id"]):
            grown = max(1024, self.size * 2)
            for name, column in self.arrays.items():
                bigger = np.zeros(grown, dtype=column.dtype)
                bigger[: self.size] = column[: self.size]
                self.arrays[name] = bigger
            for language, rows in self.language_rows.items():
                bigger_rows = np.zeros(grown, dtype=np.bool_)
                bigger_rows[: self.size] = rows[: self.size]
                self.language_rows[language] = bigger_rows
        self.size += 1
        return self.size - 1

    def _remove(self, offer_id: int) -> None:
        row = self.row_of.pop(offer_id)
        if row is None:
            return
        self._unindex_lists(row)
        self.arrays["live"][row] = False
        self.free_rows.append(row)

    def _index_lists(
        self, row: int, settlements: tuple[int, ...], languages: frozenset[str]
    ) -> None:
        if settlements:
            self.row_settlements[row] = settlements
        for settlement_id in settlements:
            self.settlement_rows.setdefault(settlement_id, set()).add(row)
        for language in languages:
            rows = self.language_rows.get(language)
            if rows is None:
                rows = self.language_rows[language] = np.zeros(
                    len(self.arrays["offer_id"]), dtype=np.bool_
                )
            rows[row] = True

    def _unindex_lists(self, row: int) -> None:
        for settlement_id in self.row_settlements.pop(row, ()):
            self.settlement_rows.get(settlement_id, set()).discard(row)
        # A few dozen languages: clearing the row in each costs less than keeping every
        # row's set of languages in memory.
        for rows in self.language_rows.values():
            rows[row] = False

    # Reading -----------------------------------------------------------------------------

    @property
    def terms(self) -> TermBits:
        assert self.ref is not None, "refresh the index first"
        return self.ref.terms

    def council_bit(self, council_id: int) -> int:
        assert self.ref is not None
        return self.ref.council_bit[council_id]

    def reaching(
        self,
        *,
        latitude: float,
        longitude: float,
        council_id: int,
        settlement_id: int,
        fits: Callable[[NDArray[np.int64]], NDArray[np.bool_]] | None = None,
    ) -> Reach:
        """The rows of live offers whose service area contains the person (in no particular
        order), and the great-circle distance to each (from its centre or its provider's
        base; NaN when neither is known). Radius areas are decided by geodesic at the edge
        (geography.distance). With `fits`, only the offers it keeps: it is asked first, so
        that distances are worked out only for them."""
        a = self.arrays
        near = self.radius_areas().near(latitude, longitude)
        bit = self.council_bit(council_id)
        by_council = self.memo(f"reach_by_council_{bit}", lambda: self._council_areas(bit))
        by_place = np.fromiter(
            (row for row in self.settlement_rows.get(settlement_id, ()) if a["live"][row]),
            dtype=np.int64,
        )
        others = np.concatenate([by_council, by_place]).astype(np.int64)
        if fits is not None:
            keep = fits(np.concatenate([near.rows, others]))
            others = others[keep[near.rows.size :]]
            near = near.take(np.flatnonzero(keep[: near.rows.size]))
        inside, spherical = within_km(latitude, longitude, near.lat, near.lon, near.radius_km)
        # The radius offers' distances were just worked out; only the others' are needed.
        return Reach(
            rows=np.concatenate([near.rows[inside], others]),
            distances_km=np.concatenate(
                [
                    spherical[inside],
                    haversine_km_many(latitude, longitude, a["lat"][others], a["lon"][others]),
                ]
            ),
        )

    def radius_areas(self) -> RadiusAreas:
        """The live offers with a radius, grouped for looking up by place; call under the
        lock (kept until the index next changes)."""

        def group() -> RadiusAreas:
            a, n = self.arrays, self.size
            rows = np.flatnonzero(a["live"][:n] & (a["area"][:n] == Area.RADIUS))
            return RadiusAreas.of(
                Circles(rows, a["lat"][rows], a["lon"][rows], a["radius_km"][rows])
            )

        return self.memo("reach_by_radius", group)

    def _council_areas(self, bit: int) -> NDArray[np.int64]:
        """The live offers covering the council area of this bit, in row order."""
        a, n = self.arrays, self.size
        return np.flatnonzero(
            a["live"][:n]
            & (a["area"][:n] == Area.COUNCILS)
            & ((a["councils"][:n] & np.uint64(1 << bit)) != 0)
        )

    def column(self, name: str, rows: NDArray[np.int64]) -> NDArray[Any]:
        return self.arrays[name][rows]

    def speaks(self, language: str, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
        found = self.language_rows.get(language.strip().lower())
        return np.zeros(rows.size, dtype=np.bool_) if found is None else found[rows]

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, kept until the index next changes: what pages show that depends on
        the offers (the languages they are offered in) without asking on every view."""
        with self.lock:
            if self._memo_generation != self.generation:
                self._memo, self._memo_generation = {}, self.generation
            if key not in self._memo:
                self._memo[key] = compute()
            return cast(T, self._memo[key])

    def live_rows(self) -> NDArray[np.int64]:
        return (
            np.flatnonzero(self.arrays["live"][: self.size])
            if self.arrays
            else np.empty(0, dtype=np.int64)
        )


class Reach(NamedTuple):
    """The offers whose area contains a person: rows, and the distance to each in km."""

    rows: NDArray[np.int64]
    distances_km: NDArray[np.float64]


class OffersNowIndex(OfferIndex):
    """An index of only some offers, read in the caller's transaction (so it sees what that
    transaction has not committed yet) and never refreshed: to match an offer against
    posted needs as it is published, by the same rules as every search, without touching
    the worker's shared index before the change is committed."""

    def __init__(self, session: Session, offer_ids: list[int]) -> None:
        super().__init__()
        self.ref = read_reference(session)
        published = and_(Offer.id.in_(offer_ids[:ID_CHUNK]), Offer.status == OfferStatus.PUBLISHED)
        self._fill(read_offers(session, self.ref, published), 0)
        self.refreshed_at = time.monotonic()

    def refresh(self, session: Session) -> None:
        """Nothing: it holds the offers as they were when it was made."""


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
