"""Look-ups over the reference geography."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import NotFound
from marketplace.geography.models import CouncilArea


def list_council_areas(session: Session) -> list[CouncilArea]:
    """All council areas in alphabetical order, for pickers and filters."""
    return list(session.scalars(select(CouncilArea).order_by(CouncilArea.name)))


def find_council_area(session: Session, *, name_or_code: str) -> CouncilArea:
    """A council area by its official name (any case) or its GSS code."""
    wanted = name_or_code.strip()
    council = session.scalar(
        select(CouncilArea).where(
            (CouncilArea.gss_code == wanted.upper())
            | (func.lower(CouncilArea.name) == wanted.lower())
        )
    )
    if council is None:
        raise NotFound(f"There is no council area called {wanted!r}", field="council")
    return council
