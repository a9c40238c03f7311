"""The offer index's snapshot on disk: its columns written once (by `sds-market index build`,
which `serve` runs before its workers start) and memory-mapped by every worker on the
machine. A worker is ready in well under a second instead of reading every offer from the
database, and the workers share one copy of the columns in the page cache.

A snapshot says which change of the database's `offer_change` log it has read up to. A
worker takes it only if that change is still in the log, written at the same moment (the
same database, and nothing since has been pruned away unseen), and the taxonomy and council
areas are numbered as it numbered them; it then reads the changes since, as every refresh
does. Otherwise it reads the database, as it would with no snapshot at all."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from marketplace.settings import Settings
from matching.models import OfferChange
from matching.offer_columns import COLUMN_NAMES, COLUMN_TYPES, Reference

DIRECTORY = "offer-index"
"""Under the var folder: each machine keeps its own."""
FORMAT = 1
"""Bumped whenever what a snapshot holds changes, so an old one is not misread."""
CURRENT = "current"
"""The file naming the snapshot to use, replaced in one step when a new one is written."""
HEADROOM = 1.25
"""Rows beyond the offers written, as zeros: new offers fill them, copied on write into the
worker's own memory a page at a time, without copying the columns."""


@dataclass(frozen=True)
class Meta:
    format: int
    database: str
    """database_fingerprint of the database it was read from."""
    last_seq: int
    last_changed_at: str | None
    """When change `last_seq` was recorded, to tell it from another log's change of the
    same number."""
    gaps: list[int]
    size: int
    terms: dict[str, int]
    """Each taxonomy term's bit, by term id."""
    council_bit: dict[str, int]
    languages: list[str]


@dataclass
class Snapshot:
    meta: Meta
    columns: dict[str, NDArray[Any]]
    """Memory-mapped copy-on-write: a worker's changes stay its own."""
    language_rows: NDArray[np.bool_]
    """One row per language in meta.languages, one column per offer row."""
    place_rows: NDArray[np.int64]
    place_settlements: NDArray[np.int64]
    """The offers whose area is a list of places: (row, settlement) pairs."""


def directory_of(settings: Settings) -> Path:
    return settings.var_dir / DIRECTORY


def database_fingerprint(url: URL) -> str:
    """Which database, without its password."""
    shown = url.render_as_string(hide_password=True)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def reference_fingerprint(ref: Reference) -> tuple[dict[str, int], dict[str, int]]:
    return (
        {str(term_id): bit for term_id, bit in sorted(ref.terms.bit.items())},
        {str(council_id): bit for council_id, bit in sorted(ref.council_bit.items())},
    )


def changed_at(session: Session, seq: int) -> str | None:
    """When change `seq` was recorded, or None if the log does not hold it."""
    moment = session.scalar(select(OfferChange.changed_at).where(OfferChange.seq == seq))
    return None if moment is None else _moment(moment)


def _moment(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat()


# Writing ------------------------------------------------------------------------------------


def write(
    directory: Path,
    *,
    meta: Meta,
    columns: dict[str, NDArray[Any]],
    language_rows: NDArray[np.bool_],
    place_rows: NDArray[np.int64],
    place_settlements: NDArray[np.int64],
) -> Path:
    """Write a snapshot beside the others in `directory` and make it the current one in a
    single rename, so a worker starting meanwhile reads the old one or the new one whole.
    Older snapshots go, except the one before (a worker may be opening it right now)."""
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="writing-", dir=directory))
    capacity = max(1024, int(meta.size * HEADROOM))
    for name in COLUMN_NAMES:
        _save(work / f"{name}.npy", columns[name], COLUMN_TYPES[name], capacity)
    languages = np.lib.format.open_memmap(
        work / "language_rows.npy",
        mode="w+",
        dtype=np.bool_,
        shape=(len(meta.languages), capacity),
    )
    languages[:, : meta.size] = language_rows[:, : meta.size]
    languages.flush()
    del languages
    np.save(work / "place_rows.npy", place_rows.astype(np.int64))
    np.save(work / "place_settlements.npy", place_settlements.astype(np.int64))
    (work / "meta.json").write_text(json.dumps(asdict(meta)))
    name = f"snapshot-{meta.last_seq}-{os.getpid()}-{work.name.removeprefix('writing-')}"
    work.rename(directory / name)
    pointer = directory / f"{CURRENT}.{os.getpid()}"
    previous = _current_name(directory)
    pointer.write_text(name)
    pointer.replace(directory / CURRENT)
    for old in directory.iterdir():
        if old.is_dir() and old.name not in (name, previous):
            shutil.rmtree(old, ignore_errors=True)
    return directory / name


def _save(path: Path, values: NDArray[Any], dtype: Any, capacity: int) -> None:
    column = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(capacity,))
    column[: values.size] = values
    column.flush()


def _current_name(directory: Path) -> str | None:
    try:
        return (directory / CURRENT).read_text().strip() or None
    except OSError:
        return None


# Reading ------------------------------------------------------------------------------------


def read(directory: Path) -> Snapshot | None:
    """The current snapshot in `directory`, mapped, or None when there is none whole."""
    name = _current_name(directory)
    if name is None:
        return None
    where = directory / name
    try:
        meta = Meta(**json.loads((where / "meta.json").read_text()))
        if meta.format != FORMAT:
            return None
        return Snapshot(
            meta=meta,
            columns={column: _mapped(where / f"{column}.npy") for column in COLUMN_NAMES},
            language_rows=_mapped(where / "language_rows.npy"),
            place_rows=np.load(where / "place_rows.npy"),
            place_settlements=np.load(where / "place_settlements.npy"),
        )
    except (OSError, ValueError, TypeError, KeyError):
        # Gone while being opened (a newer one replaced it), or not whole: read the database.
        return None


def _mapped(path: Path) -> NDArray[Any]:
    """The file's array, mapped copy-on-write, as a plain ndarray: numpy's memmap subclass
    runs Python on every index and slice, which cost a search a fifth of its matching."""
    return np.load(path, mmap_mode="c").view(np.ndarray)


def usable(snapshot: Snapshot, session: Session, ref: Reference, *, newest: int) -> bool:
    """Whether the snapshot is of this database, its log still holds every change since it
    was written, and the reference data is numbered as it was."""
    meta = snapshot.meta
    bind = session.get_bind()
    if meta.database != database_fingerprint(bind.engine.url) or meta.last_seq > newest:
        return False
    if (meta.terms, meta.council_bit) != reference_fingerprint(ref):
        return False
    if meta.last_seq == 0:
        oldest = session.scalar(select(OfferChange.seq).order_by(OfferChange.seq).limit(1))
        return oldest is None or oldest == 1
    return changed_at(session, meta.last_seq) == meta.last_changed_at
