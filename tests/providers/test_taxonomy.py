"""The taxonomies are data, loaded with the reference data and safe to load again."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from providers.models import Taxonomy, TaxonomyTerm
from providers.taxonomy import TAXONOMIES_JSON, load_taxonomies, terms

TALKING_POINTS = [
    "Feeling safe",
    "Having things to do",
    "Seeing people",
    "Staying as well as you can",
    "Living where and as you want",
    "Dealing with stigma or discrimination",
]


def test_the_talking_points_outcomes_in_order(db: Session) -> None:
    assert [t.name for t in terms(db, Taxonomy.PERSONAL_OUTCOME)] == TALKING_POINTS


def test_every_term_in_the_file_is_loaded(db: Session) -> None:
    data = json.loads(TAXONOMIES_JSON.read_text())
    for taxonomy in Taxonomy:
        assert [t.code for t in terms(db, taxonomy)] == [
            item["code"] for item in data[taxonomy.value]
        ]
    assert len(terms(db, Taxonomy.KIND_OF_SUPPORT)) == 10


def test_loading_again_adds_nothing_and_follows_renames(db: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = db.scalar(select(func.count()).select_from(TaxonomyTerm))
    data = json.loads(TAXONOMIES_JSON.read_text())
    data["kind_of_support"][0]["name"] = "Personal care at home"
    changed = tmp_path / "taxonomies.json"
    changed.write_text(json.dumps(data))
    load_taxonomies(db, changed)
    assert db.scalar(select(func.count()).select_from(TaxonomyTerm)) == before
    assert terms(db, Taxonomy.KIND_OF_SUPPORT)[0].name == "Personal care at home"
