"""Council areas: reference data seeded by the migrations, never edited through the app."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base


class CouncilArea(Base):
    """One of Scotland's 32 local authority areas."""

    __tablename__ = "council_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    gss_code: Mapped[str] = mapped_column(String(9), unique=True)
    """The ONS/GSS code, S12 followed by six digits."""
    name: Mapped[str] = mapped_column(String(100), unique=True)
