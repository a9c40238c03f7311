"""`sds-market bench gaps`: the gap analysis at national scale. It builds the same synthetic
market as `bench match` in a temporary database, loads the offer index, and times three
things: the full recomputation of every kind's figures (`compute_gap_figures`: which
offers reach which settlements, then E2SFCA and providers in reach for every kind), our
E2SFCA alone for one kind of support from those pairs, and PySAL `access`'s E2SFCA on
exactly the same inputs, whose answer it must also match. The demand points are every
place people are counted in: the listed settlements and the rural areas.

`access` is the cross-check oracle, installed with the test extra; it is imported only
here, inside the command, and never by the application."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from numpy.typing import NDArray
from sqlalchemy import select

from marketplace.geography.rural import FIRST_RURAL_AREA_ID
from marketplace.models import import_all_models
from matching.bench import _market, bench_app
from matching.gaps.catchments import read_places
from matching.gaps.service import DECAY, PER_RESIDENTS, GapFigures, compute_gap_figures, e2sfca
from providers.models import Taxonomy, TaxonomyTerm

KIND_CODE = "personal-care"
"""The kind of support the one-kind timings and the cross-check use."""
ACCESS_STEPS = dict(zip(DECAY.bands_km, DECAY.weights, strict=True))
"""Our decay as `access` is given it: each weight up to and including its band's end."""
LAST_BAND_KM = DECAY.bands_km[-1]
MISSING_ACCESS = "PySAL access is not installed; install the test extra: pip install -e '.[test]'"


def one_kind_scores(figures: GapFigures, kind_id: int) -> NDArray[np.float64]:
    """Our E2SFCA A_i (hours a week per resident) for one kind of support, worked out
    directly over the pairs of the offers of that kind."""
    wanted = figures.pair_mask(kind_id=kind_id, outcome_id=None)
    return e2sfca(
        place=figures.pairs.place[wanted],
        offer=figures.pairs.row[wanted],
        weight=DECAY.weight(figures.pairs.km[wanted]),
        population=figures.places.population,
        capacity=figures.free_hours,
    )


def access_scores(
    *,
    place: NDArray[np.int64],
    offer: NDArray[np.int64],
    km: NDArray[np.float64],
    population: NDArray[np.float64],
    capacity: NDArray[np.float64],
) -> NDArray[np.float64]:
    """PySAL access's E2SFCA A_i for every place (0 where no pair reaches it), from the
    pairs (place[k], offer[k], km[k]), population per place and capacity per offer: the
    same inputs `matching.gaps.service.e2sfca` takes. Raises ImportError when access is missing."""
    import access
    import pandas as pd

    # Our Decay gives a pair beyond the last band (an offer that travels farther than 30
    # km) or with an unknown distance (NaN) the last band's weight, 0.22; access's step
    # function gives both 0. So access is given min(km, 30), with NaN read as 30: each
    # pair then carries the same weight in both, and the two see identical inputs.
    cost = np.where(np.isnan(km), LAST_BAND_KM, np.minimum(km, LAST_BAND_KM))
    offers = np.unique(offer)
    model = access.Access(
        demand_df=pd.DataFrame(
            {"settlement": np.arange(population.size), "population": population}
        ),
        demand_index="settlement",
        demand_value="population",
        supply_df=pd.DataFrame({"offer": offers, "hours": capacity[offers]}),
        supply_index="offer",
        supply_value="hours",
        cost_df=pd.DataFrame({"origin": place, "dest": offer, "km": cost}),
        cost_origin="origin",
        cost_dest="dest",
        cost_name="km",
    )
    scores = model.enhanced_two_stage_fca(
        name="e2sfca", weight_fn=access.weights.step_fn(ACCESS_STEPS)
    )
    # access leaves NaN for places no pair reaches; ours says 0 hours.
    return (
        scores["e2sfca_hours"]
        .reindex(np.arange(population.size))
        .fillna(0.0)
        .to_numpy(dtype=np.float64)
    )


def max_relative_difference(ours: NDArray[np.float64], theirs: NDArray[np.float64]) -> float:
    """The largest |ours - theirs| / max(|ours|, |theirs|) over places; a place where both
    are 0 differs by 0."""
    scale = np.maximum(np.abs(ours), np.abs(theirs))
    difference = np.divide(np.abs(ours - theirs), scale, out=np.zeros(scale.shape), where=scale > 0)
    return float(difference.max(initial=0.0))


def _seconds(function: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The median wall time of `runs` calls, and the last call's result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


@bench_app.command("gaps")
def bench_gaps(
    offers: int = typer.Option(100_000, help="Published offers in the market."),
    runs: int = typer.Option(
        3, help="Runs of our own timings, of which the median is shown (access runs once)."
    ),
) -> None:
    """Time the gap analysis's full recomputation and one kind's E2SFCA against PySAL access."""
    try:
        import access  # noqa: F401
    except ImportError:
        typer.echo(MISSING_ACCESS, err=True)
        raise typer.Exit(1) from None
    import_all_models()
    with tempfile.TemporaryDirectory(prefix="sds-bench-") as folder:
        typer.echo(f"Building {offers:,} offers in a temporary database", err=True)
        session, index, _ = _market(Path(folder), "gaps.sqlite3", offers)
        places = read_places(session)
        kind_id = session.scalar(
            select(TaxonomyTerm.id).where(
                TaxonomyTerm.taxonomy == Taxonomy.KIND_OF_SUPPORT, TaxonomyTerm.code == KIND_CODE
            )
        )
        session.close()
    assert kind_id is not None, f"no kind of support {KIND_CODE!r}"

    typer.echo("Working out every kind's figures", err=True)
    seconds, figures = _seconds(lambda: compute_gap_figures(index, places), runs)
    one_kind_seconds, ours = _seconds(lambda: one_kind_scores(figures, kind_id), max(runs, 5))

    wanted = figures.pair_mask(kind_id=kind_id, outcome_id=None)
    inputs = {
        "place": figures.pairs.place[wanted],
        "offer": figures.pairs.row[wanted],
        "km": figures.pairs.km[wanted],
        "population": places.population,
        "capacity": figures.free_hours,
    }
    typer.echo(f"PySAL access on the {int(wanted.sum()):,} pairs of {KIND_CODE}", err=True)
    access_seconds, theirs = _seconds(lambda: access_scores(**inputs), 1)

    rural_areas = int((places.ids >= FIRST_RURAL_AREA_ID).sum())
    print(
        json.dumps(
            {
                "bench": "gaps",
                "offers": figures.offers,
                "demand_points": len(places),
                "settlements": len(places) - rural_areas,
                "rural_areas": rural_areas,
                "kinds": len(figures.kind_ids),
                "seconds": round(seconds, 3),
                "one_kind_seconds": round(one_kind_seconds, 4),
                "access_seconds": round(access_seconds, 3),
                "speedup_vs_access": round(access_seconds / one_kind_seconds, 1),
                "max_rel_diff_vs_access": max_relative_difference(ours, theirs),
                "pairs": len(figures.pairs),
                "kind_pairs": int(wanted.sum()),
                "max_rel_diff_vs_figures": max_relative_difference(
                    ours * PER_RESIDENTS, figures.by_kind[kind_id].hours_per_1000
                ),
            }
        )
    )
