"""The worker's offer index, for routes: one per app (so one per worker process)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from matching.index import OfferIndex

_creating = threading.Lock()


def get_offer_index(request: Request) -> OfferIndex:
    state = request.app.state
    index = getattr(state, "offer_index", None)
    if index is None:
        with _creating:
            index = getattr(state, "offer_index", None) or OfferIndex()
            state.offer_index = index
    return index


OfferIndexDep = Annotated[OfferIndex, Depends(get_offer_index)]
