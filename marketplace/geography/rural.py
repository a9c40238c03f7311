"""Where the gap figures count each council's people, saved: the listed places' residents
and the rural areas (marketplace.geography.demand) as places of their own kind, found again
by their key and classed as any small place is. Both the reference load (the census's
areas) and `sds-market population import` (a council's official small areas) save through
here, so a council's people are counted one way whichever gave them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography import names
from marketplace.geography.demand import DemandArea
from marketplace.geography.models import CouncilArea, Settlement, SettlementKind
from marketplace.geography.reference import search_key

FIRST_RURAL_AREA_ID = 2_000_000_000
"""Rural areas are numbered from here, clear of GeoNames' ids and named places'."""


def save_counted_people(
    session: Session, areas: list[DemandArea], council_ids: Collection[int]
) -> int:
    """Make the given councils' places count exactly `areas` (which are theirs): each
    listed place its area's people, each rural area added or brought up to date, and every
    other place of those councils nobody (a rural area no longer in `areas` keeps its id,
    which an invitation may name). The number of rural areas saved."""
    councils = {c.gss_code: c for c in session.scalars(select(CouncilArea))}
    assert all(councils[a.council_gss].id in council_ids for a in areas)
    theirs = list(session.scalars(select(Settlement).where(Settlement.council_id.in_(council_ids))))
    people = {a.place_key: a.estimate for a in areas if a.place_key is not None}
    for settlement in theirs:
        counted = (
            people.get(settlement.id, 0) if settlement.kind == SettlementKind.SETTLEMENT else 0
        )
        if settlement.residents != counted:
            settlement.residents = counted

    rural = [a for a in areas if a.place_key is None]
    ids = _rural_area_ids(session, rural)
    labels = _labels(session, rural, council_ids, councils)
    existing = {s.id: s for s in theirs}
    measured = names.classes_of(session, [(a.latitude, a.longitude) for a in rural])
    for area, found in zip(rural, measured, strict=True):
        values = {
            "demand_key": area.key,
            "name": area.name,
            "label": labels[area.key],
            "search_key": search_key(area.name),
            "latitude": area.latitude,
            "longitude": area.longitude,
            "population": 0,
            "residents": area.estimate,
            "council_id": councils[area.council_gss].id,
            "kind": SettlementKind.RURAL_AREA,
            "island": found.island,
            "urban_rural_8": found.urban_rural_8,
            "nearest_urban_name": found.nearest_urban_name,
            "nearest_urban_km": round(found.nearest_urban_km, 2),
            "drive_minutes": round(found.drive_minutes, 1),
        }
        current = existing.get(ids[area.key])
        if current is None:
            session.add(Settlement(id=ids[area.key], **values))
            continue
        for name, value in values.items():
            if getattr(current, name) != value:
                setattr(current, name, value)
    session.flush()
    return len(rural)


def _rural_area_ids(session: Session, rural: list[DemandArea]) -> dict[str, int]:
    """Each rural area's id: the one it was saved with before, or the next free one."""
    known = dict(
        session.execute(
            select(Settlement.demand_key, Settlement.id).where(Settlement.demand_key.is_not(None))
        ).all()
    )
    next_id = max([FIRST_RURAL_AREA_ID - 1, *known.values()]) + 1
    ids: dict[str, int] = {}
    for area in rural:
        if area.key in known:
            ids[area.key] = known[area.key]
        else:
            ids[area.key] = next_id
            next_id += 1
    return ids


def _labels(
    session: Session,
    rural: list[DemandArea],
    council_ids: Collection[int],
    councils: dict[str, CouncilArea],
) -> dict[str, str]:
    """A rural area's name, with its council's where another council's area shares it
    (names are unique within a council)."""
    elsewhere = set(
        session.scalars(
            select(Settlement.name).where(
                Settlement.kind == SettlementKind.RURAL_AREA,
                Settlement.council_id.not_in(council_ids),
            )
        )
    )
    counts = Counter(a.name for a in rural)
    return {
        a.key: a.name
        if counts[a.name] == 1 and a.name not in elsewhere
        else f"{a.name} ({councils[a.council_gss].name})"
        for a in rural
    }
