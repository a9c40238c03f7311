"""Reference geography: council areas (seeded by the migrations) and the settlements and
postcode districts loaded from the shipped files (marketplace.geography.reference)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, str_enum, utcnow
from marketplace.geography.classify import UrbanRuralClassed


class CouncilArea(Base):
    """One of Scotland's 32 local authority areas."""

    __tablename__ = "council_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    gss_code: Mapped[str] = mapped_column(String(9), unique=True)
    """The ONS/GSS code, S12 followed by six digits."""
    name: Mapped[str] = mapped_column(String(100), unique=True)


class SettlementKind(enum.StrEnum):
    SETTLEMENT = "settlement"
    ISLAND_AREA = "island_area"
    """A whole island's entry: its people outside the island's listed settlements."""
    DUPLICATE = "duplicate"
    """A second entry for a settlement listed already; searchable, but counts nobody."""
    NAMED_PLACE = "named_place"
    """A village, hamlet or suburb from OS Open Names that the list of 500+ leaves out
    (marketplace.geography.names): searchable, with no population of its own."""
    RURAL_AREA = "rural_area"
    """The people of a stretch of countryside about 5 km square that no listed place is
    near (marketplace.geography.demand): counted by the gap figures, never searched for."""


COUNTED = frozenset({SettlementKind.SETTLEMENT, SettlementKind.RURAL_AREA})
"""Where the gap figures count people (each entry's `residents`). The others hold nobody of
their own: a second entry or a named place counts in the place it repeats or lies nearest,
and an island's entry is its countryside, counted in the island's rural areas."""
NAMED = frozenset(SettlementKind) - {SettlementKind.RURAL_AREA}
"""The entries that are places people name: searched for, suggested, chosen for an offer."""


class Settlement(UrbanRuralClassed, Base):
    """A town, village or island of 500+ people (GeoNames), a named place imported from
    OS Open Names, or a rural area where the gap figures count people, with its estimated
    class."""

    __tablename__ = "settlement"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    """The GeoNames id, stable across releases of the data; named places are numbered from
    names.FIRST_ID, rural areas from rural.FIRST_RURAL_AREA_ID."""
    os_names_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    """A named place's OS Open Names id, by which an import finds it again."""
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(160))
    """The name, with the council area where two places share a name."""
    search_key: Mapped[str] = mapped_column(String(100), index=True)
    """The name folded for matching: lower case, no accents or punctuation."""
    other_name: Mapped[str | None] = mapped_column(String(100))
    """A second name it goes by, as OS Open Names gives it (often the Gaelic one)."""
    other_search_key: Mapped[str | None] = mapped_column(String(100), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer)
    """As the settlement list gives it (what the class rests on); 0 for a rural area."""
    residents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The people the gap figures count here (mid-2022, from the census's output areas
    nearby); 0 where they are counted elsewhere (see COUNTED)."""
    demand_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    """A rural area's key in demand_areas.csv, by which a load finds it again."""
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[SettlementKind] = mapped_column(str_enum(SettlementKind))
    island: Mapped[str | None] = mapped_column(String(50))
    """The island it is on, when that island has no fixed link to the mainland."""
    urban_rural_8: Mapped[int] = mapped_column(SmallInteger)
    nearest_urban_name: Mapped[str] = mapped_column(String(100))
    """The nearest settlement of 10,000+ people, which the class is measured from."""
    nearest_urban_km: Mapped[float] = mapped_column(Float)
    """Straight-line distance to it."""
    drive_minutes: Mapped[float] = mapped_column(Float)
    """The estimated drive the class rests on."""

    council: Mapped[CouncilArea] = relationship(lazy="joined")


class PostcodeDistrict(Base):
    """The outward part of a postcode (EH1, IV51), placed at the centre of its postcodes."""

    __tablename__ = "postcode_district"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    """The council area most of its Scottish postcodes are in."""
    postcodes: Mapped[int] = mapped_column(Integer)
    scottish_share: Mapped[float] = mapped_column(Float)
    """The share of its postcodes that are in Scotland (TD15 is mostly in England)."""

    council: Mapped[CouncilArea] = relationship(lazy="joined")


class LandCell(Base):
    """A 0.1-degree grid cell holding postcodes: where coordinates are on land, and whether
    that land is in Scotland."""

    __tablename__ = "land_cell"

    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    col: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    scottish_postcodes: Mapped[int] = mapped_column(Integer)
    other_postcodes: Mapped[int] = mapped_column(Integer)


class PopulationSource(Base):
    """A council's people as its own official small-area figures give them (loaded by
    `sds-market population import`), in place of the census estimate: its places and rural
    areas count these, and a reload of the shipped files leaves them be."""

    __tablename__ = "population_source"

    council_id: Mapped[int] = mapped_column(
        ForeignKey("council_area.id", ondelete="CASCADE"), primary_key=True
    )
    residents: Mapped[int] = mapped_column(Integer)
    small_areas: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    """What was imported: the file's name."""
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
