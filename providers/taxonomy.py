"""The taxonomies offers are described in (personal outcomes, kinds of support, who an offer
suits), kept as data in providers/data/taxonomies.json and loaded with the reference data.
Outcomes are the Talking Points quality-of-life outcomes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from providers.models import Taxonomy, TaxonomyTerm

TAXONOMIES_JSON = Path(__file__).resolve().parent / "data" / "taxonomies.json"


def load_taxonomies(session: Session, path: Path = TAXONOMIES_JSON) -> int:
    """Add new terms and update changed ones; a term is never deleted, as offers use it."""
    data = json.loads(path.read_text())
    existing = {(t.taxonomy, t.code): t for t in session.scalars(select(TaxonomyTerm))}
    count = 0
    for taxonomy in Taxonomy:
        for position, item in enumerate(data[taxonomy.value]):
            term = existing.get((taxonomy, item["code"]))
            if term is None:
                term = TaxonomyTerm(taxonomy=taxonomy, code=item["code"])
                session.add(term)
            term.name = item["name"]
            term.description = item.get("description", "")
            term.position = position
            count += 1
    session.flush()
    return count


def terms(session: Session, taxonomy: Taxonomy) -> list[TaxonomyTerm]:
    return list(
        session.scalars(
            select(TaxonomyTerm)
            .where(TaxonomyTerm.taxonomy == taxonomy)
            .order_by(TaxonomyTerm.position)
        )
    )
