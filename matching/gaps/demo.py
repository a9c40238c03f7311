"""Demo unmet demand: a year of made-up searches that found nothing and posted needs
nobody answered, so the commissioner views have something to count. They are made the
way real ones are: a search is recorded only where no offer of its kind reaches."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matching.gaps.catchments import read_places
from matching.gaps.service import compute_gap_figures
from matching.index import OfferIndex
from matching.models import UnmetDemand, UnmetDemandSource, unmet_demand_term
from providers.models import Taxonomy

SEED = 20261202
SEARCHES_TRIED = 8000
NEEDS_TRIED = 800


def load_demo_unmet_demand(session: Session, *, today: date) -> int:
    """Record the demo's unmet demand unless there is some already; returns how many."""
    if session.scalar(select(UnmetDemand.id).limit(1)) is not None:
        return 0
    session.flush()
    index = OfferIndex()
    index.refresh(session)
    places = read_places(session)
    figures = compute_gap_figures(index, places)
    rng = np.random.default_rng(SEED)
    outcomes = [
        t for t, taxonomy in figures.term_taxonomy.items() if taxonomy == Taxonomy.PERSONAL_OUTCOME
    ]
    weights = places.population / places.population.sum()
    records: list[dict[str, object]] = []
    terms_of: list[list[int]] = []
    for source, tries in (
        (UnmetDemandSource.SEARCH, SEARCHES_TRIED),
        (UnmetDemandSource.POSTED_NEED, NEEDS_TRIED),
    ):
        # Half drawn by population, half evenly, so that rural places are asked about too.
        picks = np.concatenate(
            [
                rng.choice(len(places), size=tries // 2, p=weights),
                rng.choice(len(places), size=tries - tries // 2),
            ]
        )
        for position in picks:
            kind = int(rng.choice(figures.kind_ids))
            if figures.by_kind[kind].providers[position]:
                continue
            chosen = [
                int(t) for t in rng.choice(outcomes, size=int(rng.integers(0, 3)), replace=False)
            ]
            records.append(
                {
                    "source": source,
                    "settlement_id": int(places.ids[position]),
                    "council_id": int(places.council_ids[position]),
                    "recorded_on": today - timedelta(days=int(rng.integers(0, 365))),
                }
            )
            terms_of.append(sorted({kind, *chosen}))
    if not records:
        return 0
    # In bulk: a few thousand rows one by one would double the demo's loading time.
    ids = session.scalars(
        insert(UnmetDemand).returning(UnmetDemand.id, sort_by_parameter_order=True), records
    ).all()
    session.execute(
        insert(unmet_demand_term),
        [
            {"unmet_demand_id": record_id, "term_id": term_id}
            for record_id, term_ids in zip(ids, terms_of, strict=True)
            for term_id in term_ids
        ],
    )
    return len(records)
