"""`/readyz`: whether this worker can answer searches now. A worker loads the offer index
and the reference geography in the background as it starts (seconds at national scale);
until then it answers 503, so a load balancer sends people to a worker that is ready
rather than make them wait. `/healthz` says only whether the process and database are up."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from marketplace.accounts.policy import Public
from matching.deps import offer_index_of

router = APIRouter(include_in_schema=False)


@router.get("/readyz", dependencies=[Public])
def readyz(request: Request) -> Response:
    index = offer_index_of(request.app.state)
    if index.last_seq is None:
        return JSONResponse(
            {"status": "starting", "offer_index": "loading"},
            status_code=503,
            headers={"Retry-After": "1"},
        )
    loaded_in = getattr(request.app.state, "offer_index_loaded_in_s", None)
    return JSONResponse(
        {
            "status": "ready",
            "offers": index.size,
            "offer_index": "snapshot" if index.from_snapshot else "database",
            "loaded_in_s": None if loaded_in is None else round(loaded_in, 3),
        }
    )
