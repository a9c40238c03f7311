"""Small-number suppression for every published figure (the commissioner views, the
change-of-use transparency page): a count of people, searches or requests from
1 to threshold - 1 (9 by default) is shown as "fewer than 10", and further figures are
hidden where the totals shown would let someone work a hidden one out by subtraction.

The figures are cells (one per place) and group totals (a council area, an urban-rural
class, a council area's class, the whole table). Every group gives one equation: the sum
of its cells equals its total. A hidden figure is disclosed when those equations, with the
shown figures put in, fix its value. That is checked exactly, by linear algebra: the hidden
figures are the unknowns, and an unknown is fixed when every solution of the homogeneous
system has it zero (its column is outside the null space). While some hidden figure is
fixed, the smallest shown figure that shares an equation with it (a non-zero one first) is
hidden as well, and the check is made again. This is the standard primary and secondary
suppression of official statistics; like them, it does not hide what bounds alone give
away ("fewer than 10" already says 1 to 9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DEFAULT_THRESHOLD = 10
NOT_SHOWN = "not shown"
"""A figure hidden only so that a small one cannot be worked out from it."""
_TOLERANCE = 1e-9


def is_small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def shown(count: int, hidden: bool, threshold: int) -> str:
    """How a protected count reads in every view and export."""
    if hidden:
        return f"fewer than {threshold}" if is_small(count, threshold) else NOT_SHOWN
    return f"{count:,}"


def shown_raw(count: int, hidden: bool, threshold: int) -> int | str:
    """The same for machine-readable exports: the count itself unless hidden."""
    return shown(count, hidden, threshold) if hidden else count


@dataclass(frozen=True)
class Protected:
    """Which cells and which group totals must not be shown."""

    cells: NDArray[np.bool_]
    groups: NDArray[np.bool_]
    counts: NDArray[np.int64]
    totals: NDArray[np.int64]
    """Each group's total."""


def protect(
    counts: Sequence[int] | NDArray[np.int64],
    groups: Sequence[Sequence[int]],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    earlier: Sequence[Protected] = (),
) -> Protected:
    """Suppress small counts among `counts` (the cells) and the totals of `groups` (each a
    list of cell positions), then hide more until no hidden figure can be worked out.

    `earlier`: the same table, as protected before, for views whose searches contain
    these or are contained in them (a shorter period; any kind rather than one). Where a
    figure is shown in both, one less the other tells the count of the searches in one and
    not the other, so it is hidden here too when that is small. (Nothing else links the
    views exactly: with each view's hidden figures unfixed by its own totals, no
    difference involving one can be worked out either.)"""
    cells = np.asarray(counts, dtype=np.int64)
    n, g = cells.size, len(groups)
    member = np.zeros((g, n), dtype=np.float64)
    for k, positions in enumerate(groups):
        member[k, list(positions)] = 1.0
    totals = (member @ cells).astype(np.int64) if g else np.zeros(0, dtype=np.int64)
    values = np.concatenate([cells, totals])
    hidden = np.concatenate(
        [(cells > 0) & (cells < threshold), (totals > 0) & (totals < threshold)]
    )
    for before in earlier:
        shown_before = ~np.concatenate([before.cells, before.groups])
        between = np.abs(values - np.concatenate([before.counts, before.totals]))
        hidden |= shown_before & (between > 0) & (between < threshold)
    # One row per group: its cells' sum minus its total is zero. Columns: cells, then totals.
    equations = np.hstack([member, -np.eye(g)]) if g else np.zeros((0, n))
    while True:
        fixed = _disclosed(member, hidden)
        if fixed.size == 0:
            break
        # One more hidden beside each disclosed figure, then check again.
        for target in fixed:
            added = _secondary(equations, hidden, values, int(target))
            if added is None:  # nothing shown shares an equation with it: hide everything
                hidden[:] = values > 0
                break
            hidden[added] = True
    return Protected(cells=hidden[:n], groups=hidden[n:], counts=cells, totals=totals)


def _disclosed(member: NDArray[np.float64], hidden: NDArray[np.bool_]) -> NDArray[np.int64]:
    """The hidden figures the equations fix, as positions (cells, then group totals).

    A group whose total is hidden constrains nothing else (its total takes up any change),
    so the algebra runs on the groups with totals shown and the hidden cells only: a
    hidden cell, or the hidden part of a hidden total, is fixed when it is a combination
    of those groups' equations (it lies in their row space)."""
    n = member.shape[1]
    cell_hidden, total_hidden = hidden[:n], hidden[n:]
    unknown = np.flatnonzero(cell_hidden)
    if unknown.size == 0:  # every cell shown: a hidden total is their sum
        return n + np.flatnonzero(total_hidden)
    by_unknown = member[:, unknown]  # the few hidden cells' columns first: far less to copy
    system = by_unknown[~total_hidden]
    system = system[system.sum(axis=1) > 0]
    # Hidden cells in exactly the same shown groups (places of one council area and class)
    # trade off against each other, so the algebra runs on one column per such pattern,
    # several times smaller; only what weighs a pattern's cells alike can be fixed.
    patterns, pattern_of, repeats = _column_patterns(system)
    if system.shape[0]:
        _, singular, vt = np.linalg.svd(patterns, full_matrices=False)
        basis = vt[: int((singular > _TOLERANCE * max(1.0, float(singular[0]))).sum())]
    else:
        basis = np.zeros((0, patterns.shape[1]))
    # A unit vector lies in the row space exactly when its projection keeps all its length.
    alone = (repeats == 1) & ((basis**2).sum(axis=0) > 1 - 1e-9)
    found = list(unknown[alone[pattern_of]])
    # A hidden total is fixed when it weighs each pattern's cells alike and its weights lie
    # in the row space: worked out for every hidden total at once.
    totals = np.flatnonzero(total_hidden)
    if totals.size:
        weights = by_unknown[totals]
        which = np.zeros((unknown.size, repeats.size))
        which[np.arange(unknown.size), pattern_of] = 1.0
        per_pattern = (weights @ which) / repeats
        alike = np.isclose(weights, per_pattern[:, pattern_of]).all(axis=1)
        residual = per_pattern - (per_pattern @ basis.T) @ basis
        spanned = np.linalg.norm(residual, axis=1) <= 1e-7 * np.maximum(
            1.0, np.linalg.norm(per_pattern, axis=1)
        )
        found += list(n + totals[alike & spanned])
    return np.array(found, dtype=np.int64)


def _column_patterns(
    system: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """The distinct columns of a 0/1 matrix, which column is which, and how many each:
    what np.unique(axis=1) gives (in another order), found from each column's bits packed
    into a few bytes, since sorting whole columns of a national table took seconds."""
    if system.shape[0] == 0:
        return (
            np.zeros((0, 1)),
            np.zeros(system.shape[1], dtype=np.intp),
            np.array([system.shape[1]], dtype=np.intp),
        )
    packed = np.ascontiguousarray(np.packbits(system != 0, axis=0).T)
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, pattern_of, repeats = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return system[:, first], pattern_of.reshape(-1), repeats


def _secondary(
    equations: NDArray[np.float64],
    hidden: NDArray[np.bool_],
    values: NDArray[np.int64],
    target: int,
) -> int | None:
    """A shown figure to hide next: the smallest (a non-zero one first) sharing an equation
    with the disclosed figure at `target`."""
    rows = np.flatnonzero(equations[:, target] != 0)
    neighbours = np.flatnonzero((np.abs(equations[rows]).sum(axis=0) > 0) & ~hidden)
    if neighbours.size == 0:
        return None
    # The smallest non-zero value (or a zero, when all are), the first position among equals.
    nonzero = neighbours[values[neighbours] != 0]
    pool = nonzero if nonzero.size else neighbours
    return int(pool[np.argmin(values[pool])])
