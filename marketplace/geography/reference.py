"""Loads the shipped reference files into the database, classifying every settlement.
Runs with every `sds-market db upgrade`; loading the same files again changes nothing."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from marketplace.geography import build, demand
from marketplace.geography.classify import Classified, Place, classify
from marketplace.geography.models import (
    CouncilArea,
    LandCell,
    PostcodeDistrict,
    Settlement,
    SettlementKind,
)


def search_key(text: str) -> str:
    """'St. Andrews', 'st andrews' and 'Saint Andrews' alike: lower case, no accents, words
    separated by single spaces."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    return re.sub(r"\bsaint\b", "st", folded)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


FIRST_RURAL_AREA_ID = 2_000_000_000
"""Rural areas are numbered from here, clear of GeoNames' ids and named places'."""


@dataclass(frozen=True)
class Loaded:
    settlements: int
    postcode_districts: int
    land_cells: int
    rural_areas: int = 0


def load_reference_geography(session: Session, data_dir: Path = build.DATA_DIR) -> Loaded:
    councils = {c.gss_code: c for c in session.scalars(select(CouncilArea))}
    settlement_rows = _read(data_dir / build.SETTLEMENTS_CSV.name)
    origin_rows = _read(data_dir / build.URBAN_ORIGINS_CSV.name)

    def place(row: dict[str, str]) -> Place:
        return Place(
            key=int(row["geonameid"]),
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row.get("population") or 0),
            island=row.get("island", ""),
            is_settlement=row.get("kind", "settlement") == SettlementKind.SETTLEMENT,
        )

    counted = [r for r in settlement_rows if r["kind"] != SettlementKind.DUPLICATE]
    outside = [place(r) for r in origin_rows]
    areas = demand.read_csv(data_dir / build.DEMAND_AREAS_CSV.name)
    rural = [a for a in areas if a.place_key is None]
    rural_ids = _rural_area_ids(session, rural)
    islands = {int(r["geonameid"]): r["island"] for r in settlement_rows}
    rural_places = [
        # A rural area is taken to be on the island of the place it is named after: the
        # nearest listed place of its own council.
        Place(
            key=rural_ids[a.key],
            latitude=a.latitude,
            longitude=a.longitude,
            population=0,
            island=islands.get(a.named_after, ""),
            is_settlement=False,
        )
        for a in rural
    ]
    classes = classify([place(r) for r in counted] + rural_places, outside_origins=outside)
    residents = {a.place_key: a.estimate for a in areas if a.place_key is not None}
    names = {int(r["geonameid"]): r["name"] for r in settlement_rows + origin_rows}
    twins = {r["name"]: int(r["geonameid"]) for r in counted}
    name_counts = Counter(r["name"] for r in settlement_rows)

    existing = {s.id: s for s in session.scalars(select(Settlement))}
    for row in settlement_rows:
        key = int(row["geonameid"])
        council = councils[row["council_gss"]]
        kind = SettlementKind(row["kind"])
        if kind == SettlementKind.DUPLICATE:
            # A duplicate takes the class of the settlement it repeats.
            twin_name = row["note"].removeprefix("duplicate of ").split(";")[0]
            measured = classes[twins[twin_name]]
        else:
            measured = classes[key]
        label = row["name"] if name_counts[row["name"]] == 1 else f"{row['name']} ({council.name})"
        values = {
            "name": row["name"],
            "label": label,
            "search_key": search_key(row["name"]),
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
            "population": int(row["population"]),
            "council_id": council.id,
            "kind": kind,
            "island": row["island"] or None,
            "urban_rural_8": int(measured.urban_rural_8),
            "nearest_urban_name": names[measured.nearest_urban_key],
            "nearest_urban_km": round(measured.nearest_urban_km, 2),
            "drive_minutes": round(measured.drive_minutes, 1),
            "residents": residents.get(key, 0) if kind == SettlementKind.SETTLEMENT else 0,
        }
        _upsert(session, existing.get(key), Settlement, {"id": key, **values})
    _load_rural_areas(session, rural, rural_ids, rural_places, classes, councils, existing, names)

    district_rows = _read(data_dir / build.POSTCODE_DISTRICTS_CSV.name)
    districts = {d.code: d for d in session.scalars(select(PostcodeDistrict))}
    for row in district_rows:
        values = {
            "code": row["district"],
            "latitude": float(row["latitude"]),
            "longitude": float(row["longitude"]),
            "council_id": councils[row["council_gss"]].id,
            "postcodes": int(row["postcodes"]),
            "scottish_share": float(row["scottish_share"]),
        }
        _upsert(session, districts.get(row["district"]), PostcodeDistrict, values)

    cell_rows = _read(data_dir / build.LAND_CELLS_CSV.name)
    session.execute(delete(LandCell))
    session.add_all(
        LandCell(
            row=int(r["row"]),
            col=int(r["col"]),
            scottish_postcodes=int(r["scottish_postcodes"]),
            other_postcodes=int(r["other_postcodes"]),
        )
        for r in cell_rows
    )
    session.flush()
    return Loaded(len(settlement_rows), len(district_rows), len(cell_rows), len(rural))


def _rural_area_ids(session: Session, rural: list[demand.DemandArea]) -> dict[str, int]:
    """Each rural area's id: the one it was loaded with before, or the next free one."""
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


def _load_rural_areas(
    session: Session,
    rural: list[demand.DemandArea],
    ids: dict[str, int],
    places: list[Place],
    classes: dict[int, Classified],
    councils: dict[str, CouncilArea],
    existing: dict[int, Settlement],
    names: dict[int, str],
) -> None:
    name_counts = Counter(a.name for a in rural)
    for area, place in zip(rural, places, strict=True):
        council = councils[area.council_gss]
        measured = classes[place.key]
        label = area.name if name_counts[area.name] == 1 else f"{area.name} ({council.name})"
        values = {
            "id": place.key,
            "demand_key": area.key,
            "name": area.name,
            "label": label,
            "search_key": search_key(area.name),
            "latitude": area.latitude,
            "longitude": area.longitude,
            "population": 0,
            "residents": area.estimate,
            "council_id": council.id,
            "kind": SettlementKind.RURAL_AREA,
            "island": place.island or None,
            "urban_rural_8": int(measured.urban_rural_8),
            "nearest_urban_name": names[measured.nearest_urban_key],
            "nearest_urban_km": round(measured.nearest_urban_km, 2),
            "drive_minutes": round(measured.drive_minutes, 1),
        }
        _upsert(session, existing.get(place.key), Settlement, values)
    # A rural area a later build no longer has keeps its id (an invitation may name it) but
    # counts nobody.
    for settlement in existing.values():
        if settlement.demand_key is not None and settlement.demand_key not in ids:
            settlement.residents = 0


def _upsert(
    session: Session, current: object | None, model: type, values: dict[str, object]
) -> None:
    if current is None:
        session.add(model(**values))
        return
    for name, value in values.items():
        if getattr(current, name) != value:
            setattr(current, name, value)
