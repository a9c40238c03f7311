"""How many people live in each council area, and where: the 2011 census's usual residents
scaled to National Records of Scotland's mid-2022 estimate for Scotland (the shipped
council_residents.csv and demand_areas.csv, built by `geography build`), or, for a council
that has imported them, its own official small-area figures (`sds-market population
import`: data zones with their people and centres). The gap figures count these people."""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography import build, demand, rural
from marketplace.geography.demand import ListedPlace, SmallArea
from marketplace.geography.models import CouncilArea, PopulationSource, Settlement, SettlementKind
from marketplace.geography.reference import search_key
from marketplace.parsing import ascii_whole_number


@functools.cache
def _residents_by_code() -> dict[str, int]:
    with build.COUNCIL_RESIDENTS_CSV.open(newline="") as f:
        return {row["council_gss"]: int(row["estimate_mid_2022"]) for row in csv.DictReader(f)}


def residents(session: Session, council_id: int | None) -> int:
    """The council area's people (Scotland's when None): its imported figures' total if it
    has imported them, else the estimate for mid-2022."""
    estimate = _residents_by_code()
    codes = dict(session.execute(select(CouncilArea.id, CouncilArea.gss_code)).all())
    imported: dict[int, int] = dict(
        session.execute(select(PopulationSource.council_id, PopulationSource.residents)).all()
    )
    wanted = codes if council_id is None else {council_id: codes.get(council_id, "")}
    return sum(imported.get(i, estimate.get(code, 0)) for i, code in wanted.items())


MAX_FILE_BYTES = 50_000_000
MAX_SMALL_AREA_PEOPLE = 100_000
"""A data zone holds 500 to 1,000 people, an output area 50 to 2,000: far more is a mistake."""
SCOTLAND_BOX = {
    "latitude": (54.5, 61.0),
    "longitude": (-9.0, -0.5),
    "easting": (0.0, 500_000.0),
    "northing": (500_000.0, 1_250_000.0),
}
"""Where Scotland's points can be, in either kind of coordinates."""
COLUMNS = {
    "code": ("datazone", "datazonecode", "datazone2011code", "datazone2022code", "code"),
    "people": ("population", "allages", "totalpopulation", "people"),
    "council": ("council", "councilcode", "councilarea", "councilareacode", "councilarea2019code"),
    "easting": ("easting", "x"),
    "northing": ("northing", "y"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "long"),
}
"""The headings a column is known by (folded: lower case, letters and digits only)."""
CODE = re.compile(r"[A-Za-z0-9]{1,20}")
SHOWN_PROBLEMS = 10


class PopulationFileRefused(ValueError):
    """The file cannot be used; the message says every problem found (up to a few)."""


@dataclass
class Imported:
    councils: dict[str, int] = field(default_factory=dict)
    """Council name -> people imported."""
    small_areas: int = 0
    rural_areas: int = 0


def import_small_areas(session: Session, path: Path) -> Imported:
    """Count the people of each council the file covers as the file gives them: each small
    area's people at its centre, through the same demand areas as the census's (listed
    places within demand.NEAR_PLACE_KM, rural areas otherwise), with no scaling. A council
    the file does not cover keeps its figures. Refuses the whole file if any row is wrong."""
    councils = list(session.scalars(select(CouncilArea)))
    small = read_small_areas(path, councils)
    places = [
        ListedPlace(s.id, s.name, s.council.gss_code, s.latitude, s.longitude, s.population)
        for s in session.scalars(
            select(Settlement).where(Settlement.kind == SettlementKind.SETTLEMENT)
        )
    ]
    totals: defaultdict[str, int] = defaultdict(int)
    zones: Counter[str] = Counter()
    for area in small:
        totals[area.council_gss] += area.residents
        zones[area.council_gss] += 1
    areas = demand.demand_areas(small, places, dict(totals))
    by_code = {c.gss_code: c for c in councils}
    covered = {by_code[code].id for code in totals}
    done = Imported(small_areas=len(small))
    done.rural_areas = rural.save_counted_people(session, areas, covered)
    for code, people in sorted(totals.items()):
        council = by_code[code]
        source = session.get(PopulationSource, council.id) or PopulationSource(
            council_id=council.id
        )
        source.residents = people
        source.small_areas = zones[code]
        source.source = path.name[:200]
        session.add(source)
        done.councils[council.name] = people
    session.flush()
    return done


def read_small_areas(path: Path, councils: list[CouncilArea]) -> list[SmallArea]:
    """The file's rows as small areas, or PopulationFileRefused naming what is wrong."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PopulationFileRefused(f"the file is over {MAX_FILE_BYTES:,} bytes")
    by_name = {search_key(c.name): c.gss_code for c in councils}
    by_code = {c.gss_code: c.gss_code for c in councils}
    problems: list[str] = []
    rows: list[tuple[str, str, int, float, float]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise PopulationFileRefused("the file is empty")
            where = _columns(header)
            for number, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                found = _row(row, where, by_code, by_name)
                if isinstance(found, str):
                    problems.append(f"line {number}: {found}")
                else:
                    rows.append(found)
    except (UnicodeDecodeError, csv.Error) as error:
        raise PopulationFileRefused(f"the file is not a CSV file in UTF-8 ({error})") from None
    repeated = sorted(code for code, times in Counter(r[0] for r in rows).items() if times > 1)
    problems += [f"{code} is given more than once" for code in repeated[:SHOWN_PROBLEMS]]
    if not rows and not problems:
        problems.append("the file has no rows")
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        raise PopulationFileRefused(shown + (f"; and {more} more" if more > 0 else ""))
    if "easting" in where:
        latitudes, longitudes = build.to_wgs84([r[3] for r in rows], [r[4] for r in rows])
    else:
        latitudes, longitudes = [r[3] for r in rows], [r[4] for r in rows]
    return [
        SmallArea(code, council, latitude, longitude, people)
        for (code, council, people, _, _), latitude, longitude in zip(
            rows, latitudes, longitudes, strict=True
        )
    ]


def _columns(header: list[str]) -> dict[str, int]:
    folded = [re.sub(r"[^a-z0-9]", "", cell.lower()) for cell in header]
    where = {}
    for column, names in COLUMNS.items():
        at = next((folded.index(name) for name in names if name in folded), None)
        if at is not None:
            where[column] = at
    missing = [c for c in ("code", "people", "council") if c not in where]
    has_grid = "easting" in where and "northing" in where
    has_degrees = "latitude" in where and "longitude" in where
    if missing or not (has_grid or has_degrees):
        wanted = ", ".join(missing + ([] if has_grid or has_degrees else ["the centre"]))
        raise PopulationFileRefused(
            f"the header has no column for {wanted}: give each data zone's code (DataZone), "
            "its people (Population), its council area's code or name (Council) and its "
            "centre (Easting and Northing, or Latitude and Longitude)"
        )
    if has_grid:
        where.pop("latitude", None)
        where.pop("longitude", None)
    return where


def _row(
    row: list[str], where: dict[str, int], by_code: dict[str, str], by_name: dict[str, str]
) -> tuple[str, str, int, float, float] | str:
    """(code, council code, people, first coordinate, second coordinate), or what is wrong."""

    def cell(column: str) -> str:
        at = where[column]
        return row[at].strip() if at < len(row) else ""

    code = cell("code")
    if not CODE.fullmatch(code):
        return "a small area's code is letters and digits, at most 20"
    people = ascii_whole_number(cell("people").replace(",", ""), low=0, high=10**9)
    if people is None:
        return f"{code}: its population is a whole number"
    if people > MAX_SMALL_AREA_PEOPLE:
        return f"{code}: {people:,} people is more than a small area holds"
    council_text = cell("council")[:100]
    council = by_code.get(council_text.upper()) or by_name.get(search_key(council_text))
    if council is None:
        return f"{code}: no Scottish council area is called {council_text!r}"
    first, second = ("easting", "northing") if "easting" in where else ("latitude", "longitude")
    numbers = []
    for column in (first, second):
        try:
            value = float(cell(column)[:30])
        except ValueError:
            return f"{code}: its {column} is not a number"
        low, high = SCOTLAND_BOX[column]
        if not low <= value <= high:  # NaN and infinities fail this too
            return f"{code}: its {column} is not in Scotland"
        numbers.append(value)
    return code, council, people, numbers[0], numbers[1]
