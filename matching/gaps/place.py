"""One place, for commissioners: how much of each kind of support reaches it, the
providers whose offers do, unmet demand there, and the nearest providers whose offers
stop short of it and by how far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography.distance import geodesic_km_many, haversine_km_many
from marketplace.geography.models import Settlement
from marketplace.tables import Cell, Column, Table
from matching.gaps.report import Count, GapFilter, UnmetViews
from matching.gaps.service import GapFigures
from matching.gaps.tables import HOURS, hours_cell, number_cell, share_cell
from matching.offer_columns import Area
from providers.models import Provider

NEAREST_OUTSIDE = 10


@dataclass(frozen=True)
class PlaceView:
    settlement: Settlement
    position: int
    kind: str
    tables: list[Table]
    reached_by: int
    """Providers with an offer of the chosen kind reaching it."""
    period: str
    unmet_searches: Count
    unmet_needs: Count
    """Of the chosen kind (or any) over the period, protected as the market-gaps pages are."""


def _provider_names(session: Session, provider_ids: set[int]) -> dict[int, Provider]:
    if not provider_ids:
        return {}
    return {
        p.id: p
        for p in session.scalars(select(Provider).where(Provider.id.in_(sorted(provider_ids))))
    }


def place_view(
    session: Session,
    figures: GapFigures,
    settlement: Settlement,
    flt: GapFilter,
    *,
    today: date,
    threshold: int,
    period: str,
) -> PlaceView:
    position = figures.places.position()[settlement.id]
    kind = (
        figures.term_names[flt.kind_id].lower()
        if flt.kind_id is not None
        else "any kind of support"
    )
    by_kind = _kinds_table(figures, flt, position)
    # The chosen filter's counts, from the same protected view as the market-gaps page (kept,
    # so no more work): a table of every kind's protected counts here cost a protection of
    # every kind across all 1,970 places, seconds on a page's first drawing.
    unmet = UnmetViews(session, figures, today=today, threshold=threshold).of(
        GapFilter(kind_id=flt.kind_id, outcome_id=flt.outcome_id, period_days=flt.period_days)
    )

    wanted = figures.pair_mask(kind_id=flt.kind_id, outcome_id=flt.outcome_id) & (
        figures.pairs.place == position
    )
    rows = figures.pairs.row[wanted]
    km = figures.pairs.km[wanted]
    reaching: dict[int, tuple[float, float, int]] = {}
    for row, distance in zip(rows, km, strict=True):
        provider = int(figures.offer_provider[row])
        nearest, hours, offers = reaching.get(provider, (np.inf, 0.0, 0))
        reaching[provider] = (
            min(nearest, distance) if distance == distance else nearest,
            hours + float(figures.free_hours[row]),
            offers + 1,
        )

    outside = _nearest_outside(figures, flt, position, {int(r) for r in rows})
    names = _provider_names(session, set(reaching) | {provider for provider, _, _ in outside})
    reach_table = Table(
        name="reaching",
        caption=f"Providers whose offers of {kind} reach {settlement.label}",
        columns=[
            Column("Provider", key="provider"),
            Column("Kind", key="provider_kind"),
            Column("Offers reaching", numeric=True, key="offers"),
            Column("Based", numeric=True, key="km"),
            Column("Free hours a week", numeric=True, key="free_hours"),
        ],
        rows=[
            (
                Cell(names[p].name, href=f"/providers/{p}"),
                Cell(names[p].kind.label),
                number_cell(offers),
                Cell(
                    f"{nearest:.0f} km away" if np.isfinite(nearest) else "not given",
                    round(float(nearest), 1) if np.isfinite(nearest) else "",
                ),
                number_cell(round(hours)),
            )
            for p, (nearest, hours, offers) in sorted(
                reaching.items(), key=lambda item: (item[1][0], names[item[0]].name)
            )
            if p in names
        ],
    )
    outside_table = Table(
        name="nearest-outside",
        caption=f"Nearest providers of {kind} whose offers do not reach {settlement.label}",
        columns=[
            Column("Provider", key="provider"),
            Column("Distance", numeric=True, key="km"),
            Column("Travels up to", numeric=True, key="radius_km"),
            Column("Short by", numeric=True, key="short_by_km"),
        ],
        rows=[
            (
                Cell(names[p].name, href=f"/providers/{p}"),
                Cell(f"{distance:.0f} km", round(distance, 1)),
                Cell(f"{radius:.0f} km", round(radius, 1))
                if radius > 0
                else Cell("named areas", ""),
                Cell(f"{distance - radius:.0f} km", round(distance - radius, 1))
                if radius > 0
                else Cell("", ""),
            )
            for p, distance, radius in outside
            if p in names
        ],
    )
    return PlaceView(
        settlement=settlement,
        position=position,
        kind=kind,
        tables=[by_kind, reach_table, outside_table],
        reached_by=len(reaching),
        period=period,
        unmet_searches=unmet.searches.cell(position),
        unmet_needs=unmet.needs.cell(position),
    )


def _nearest_outside(
    figures: GapFigures, flt: GapFilter, position: int, reaching_rows: set[int]
) -> list[tuple[int, float, float]]:
    """(provider, km, radius) for the nearest providers with a live offer of the kind that
    does not reach the place, nearest offer first, one line per provider; km by the
    geodesic, as the matcher decides reach."""
    places = figures.places
    live = figures.offer_live & np.isfinite(figures.offer_lat)
    if flt.kind_id is not None:
        live &= (figures.offer_kinds & np.uint64(1 << figures.kind_bit[flt.kind_id])) != 0
    if flt.outcome_id is not None:
        live &= (figures.offer_outcomes & np.uint64(1 << figures.outcome_bit[flt.outcome_id])) != 0
    live[np.fromiter(reaching_rows, dtype=np.int64, count=len(reaching_rows))] = False
    rows = np.flatnonzero(live)
    if rows.size == 0:
        return []
    km = haversine_km_many(
        float(places.lat[position]),
        float(places.lon[position]),
        figures.offer_lat[rows],
        figures.offer_lon[rows],
    )
    found: list[tuple[int, int, float]] = []  # (provider, offer row, radius), nearest first
    seen: set[int] = set()
    for i in np.argsort(km, kind="stable"):
        provider = int(figures.offer_provider[rows[i]])
        if provider in seen:
            continue
        seen.add(provider)
        radius = (
            float(figures.offer_radius_km[rows[i]])
            if figures.offer_area[rows[i]] == Area.RADIUS
            else 0.0
        )
        found.append((provider, int(rows[i]), radius))
        if len(found) == NEAREST_OUTSIDE:
            break
    if not found:
        return []
    # Ordered by the haversine (cheap over every offer); the few shown are measured as the
    # matcher measures reach, by the geodesic.
    chosen = np.array([row for _, row, _ in found], dtype=np.int64)
    exact = geodesic_km_many(
        float(places.lat[position]),
        float(places.lon[position]),
        figures.offer_lat[chosen],
        figures.offer_lon[chosen],
    )
    return [
        (provider, float(km), radius)
        for (provider, _, radius), km in zip(found, exact, strict=True)
    ]


def _kinds_table(figures: GapFigures, flt: GapFilter, position: int) -> Table:
    scotland_population = figures.places.population
    rows = []
    for kind_id in (None, *figures.kind_ids):
        measure = figures.measure(kind_id=kind_id, outcome_id=flt.outcome_id)
        scotland = float(
            (measure.hours_per_1000 * scotland_population).sum() / scotland_population.sum()
        )
        hours = float(measure.hours_per_1000[position])
        rows.append(
            (
                Cell("Any kind" if kind_id is None else figures.term_names[kind_id]),
                hours_cell(hours),
                share_cell(hours / scotland if scotland else None),
                number_cell(int(measure.providers[position])),
            )
        )
    return Table(
        name="kinds",
        caption="Support here, by kind",
        columns=[
            Column("Kind of support", key="support"),
            HOURS,
            Column("Against Scotland", numeric=True, key="against_scotland"),
            Column("Providers in reach", numeric=True, key="providers_in_reach"),
        ],
        rows=rows,
    )
