"""The search's table: which searches that found nothing have been counted today, per
address, place and kind of support, so scripts cannot inflate the unmet-demand figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base


class CountedSearch(Base):
    """One (address, place, kind of support) counted as unmet demand on one day. The address
    is kept only as a keyed hash that changes every day, so rows cannot be linked across
    days or read back into an address, and rows from earlier days are deleted."""

    __tablename__ = "counted_search"

    counted_on: Mapped[date] = mapped_column(Date, primary_key=True)
    address_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    settlement_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """The kind of support asked for; 0 for a search that named no kind."""
