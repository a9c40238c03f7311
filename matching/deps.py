"""The worker's offer index, for routes: one per app (so one per worker process), built in
the background as the worker starts so the first search does not wait for it."""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from marketplace.db import session_scope
from marketplace.geography.gazetteer import gazetteer
from matching import snapshot
from matching.index import OfferIndex

log = logging.getLogger(__name__)
_creating = threading.Lock()


def offer_index_of(state: Any) -> OfferIndex:
    """The index kept on the app's state, made the first time it is asked for; it starts
    from this machine's snapshot when there is a usable one."""
    index = getattr(state, "offer_index", None)
    if index is None:
        with _creating:
            settings = getattr(state, "settings", None)
            index = getattr(state, "offer_index", None) or OfferIndex(
                snapshots=None if settings is None else snapshot.directory_of(settings)
            )
            state.offer_index = index
    return index


def get_offer_index(request: Request) -> OfferIndex:
    return offer_index_of(request.app.state)


async def _offer_index_dependency(request: Request) -> OfferIndex:
    # Made at start-up (warm_offer_index), so this is a look-up that needs no worker thread;
    # making it, the first time, maps the snapshot's files and may take a moment.
    index = getattr(request.app.state, "offer_index", None)
    return index if index is not None else await run_in_threadpool(get_offer_index, request)


OfferIndexDep = Annotated[OfferIndex, Depends(_offer_index_dependency)]


def warm_offer_index(state: Any) -> threading.Thread:
    """Load the index in a background thread: at national scale that takes seconds, which
    the first search would otherwise spend waiting."""

    def load() -> None:
        started = time.monotonic()
        try:
            with session_scope(state.sessionmaker, write=False) as session:
                gazetteer(session)
                offer_index_of(state).refresh(session)
            state.offer_index_loaded_in_s = time.monotonic() - started
        except Exception:
            # Searches load it themselves if this fails; the worker must still start.
            log.exception("could not load the offer index at start-up")

    thread = threading.Thread(target=load, name="offer-index-warm-up", daemon=True)
    thread.start()
    return thread
