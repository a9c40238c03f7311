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
from marketplace.geography.classify import Place, classify
from marketplace.geography.models import (
    CouncilArea,
    LandCell,
    PopulationSource,
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
    classes = classify([place(r) for r in counted], outside_origins=outside)
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
        }
        _upsert(session, existing.get(key), Settlement, {"id": key, **values})
    session.flush()
    rural_areas = _count_people(session, data_dir, councils)

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
    return Loaded(len(settlement_rows), len(district_rows), len(cell_rows), rural_areas)


def _count_people(session: Session, data_dir: Path, councils: dict[str, CouncilArea]) -> int:
    """Each council's people counted as the shipped demand areas have them, but for the
    councils whose own figures were imported (`sds-market population import`), which a
    reload leaves as they are. The number of rural areas saved."""
    from marketplace.geography import rural  # it classes places as names does, which needs us

    imported = set(session.scalars(select(PopulationSource.council_id)))
    shipped = {c.id for c in councils.values()} - imported
    areas = [
        a
        for a in demand.read_csv(data_dir / build.DEMAND_AREAS_CSV.name)
        if councils[a.council_gss].id in shipped
    ]
    return rural.save_counted_people(session, areas, shipped)


def _upsert(
    session: Session, current: object | None, model: type, values: dict[str, object]
) -> None:
    if current is None:
        session.add(model(**values))
        return
    for name, value in values.items():
        if getattr(current, name) != value:
            setattr(current, name, value)
