"""How many people live in each council area: the 2011 census's usual residents of its
output areas, scaled to National Records of Scotland's mid-2022 estimate for Scotland
(marketplace.geography.build), read once from the shipped file. The gap figures set the
people they count against these, so a commissioner sees whom they leave out."""

from __future__ import annotations

import csv
import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography import build
from marketplace.geography.models import CouncilArea


@functools.cache
def _residents_by_code() -> dict[str, int]:
    with build.COUNCIL_RESIDENTS_CSV.open(newline="") as f:
        return {row["council_gss"]: int(row["estimate_mid_2022"]) for row in csv.DictReader(f)}


def residents(session: Session, council_id: int | None) -> int:
    """The council area's people at mid-2022 (estimated), or Scotland's when None."""
    by_code = _residents_by_code()
    if council_id is None:
        return sum(by_code.values())
    code = session.scalar(select(CouncilArea.gss_code).where(CouncilArea.id == council_id))
    return by_code.get(code or "", 0)
