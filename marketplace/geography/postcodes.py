"""Every Scottish postcode's point and every postcode sector's centre, read from the shipped
files (marketplace.geography.build) the first time a process is asked for one. The 215,000
postcodes are held as sorted arrays, about 3 MB a process; as Python objects they would
take ten times that."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from marketplace.geography import build


@dataclass(frozen=True)
class Sector:
    """A postcode sector ('IV27 4'), at the centre of its postcodes."""

    code: str
    latitude: float
    longitude: float
    council_gss: str
    """The council area most of its Scottish postcodes are in."""
    postcodes: int
    scottish_share: float


@dataclass(frozen=True)
class PostcodePoint:
    code: str
    latitude: float
    longitude: float
    """To 0.01 degree, as shipped: about a kilometre."""
    council_gss: str


class PostcodeBook:
    def __init__(self, points_csv: str, sectors_csv: str) -> None:
        self.sectors = {
            row["sector"]: Sector(
                code=row["sector"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                council_gss=row["council_gss"],
                postcodes=int(row["postcodes"]),
                scottish_share=float(row["scottish_share"]),
            )
            for row in csv.DictReader(io.StringIO(sectors_csv))
        }
        reader = csv.reader(io.StringIO(points_csv))
        next(reader)  # the header
        codes, latitudes, longitudes, councils = [], [], [], []
        self.councils: list[str] = []
        council_number: dict[str, int] = {}
        for code, latitude, longitude, council in reader:
            codes.append(code.replace(" ", ""))
            # Hundredths of a degree, which is all the file holds, fit two bytes each.
            latitudes.append(round(float(latitude) * 100))
            longitudes.append(round(float(longitude) * 100))
            number = council_number.get(council)
            if number is None:
                number = council_number[council] = len(self.councils)
                self.councils.append(council)
            councils.append(number)
        compact = np.array(codes, dtype="S7")
        order = np.argsort(compact, kind="stable")
        self._codes = compact[order]
        self._latitudes = np.array(latitudes, dtype=np.int16)[order]
        self._longitudes = np.array(longitudes, dtype=np.int16)[order]
        self._councils = np.array(councils, dtype=np.uint8)[order]

    def __len__(self) -> int:
        return int(self._codes.size)

    def sector(self, code: str) -> Sector | None:
        return self.sectors.get(code)

    def point(self, postcode: str) -> PostcodePoint | None:
        """A full postcode ('IV27 4JB', any spacing, capitals) where it is, or None when it
        is not a Scottish postcode."""
        compact = postcode.replace(" ", "")
        if not compact.isascii() or len(compact) > 7:
            return None
        key = compact.encode()
        at = int(np.searchsorted(self._codes, key))
        if at >= self._codes.size or self._codes[at] != key:
            return None
        return PostcodePoint(
            code=f"{compact[:-3]} {compact[-3:]}",
            latitude=int(self._latitudes[at]) / 100,
            longitude=int(self._longitudes[at]) / 100,
            council_gss=self.councils[int(self._councils[at])],
        )


def read_book(data_dir: Path = build.DATA_DIR) -> PostcodeBook:
    return PostcodeBook(
        build.read_text(data_dir / build.POSTCODE_POINTS_CSV.name),
        build.read_text(data_dir / build.POSTCODE_SECTORS_CSV.name),
    )


_lock = threading.Lock()
_book: PostcodeBook | None = None


def postcode_book() -> PostcodeBook:
    """This process's copy, read on first use (about a fifth of a second)."""
    global _book
    if _book is None:
        with _lock:
            if _book is None:
                _book = read_book()
    return _book
