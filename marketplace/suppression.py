"""Small-number suppression for every published figure (the commissioner views, the
change-of-use transparency page): a count of people, searches or requests from
1 to threshold - 1 (9 by default) is shown as "fewer than 10", and further figures are
hidden where the totals shown would let someone work a hidden one out by subtraction.

The figures are cells (one per place) and group totals (a council area, an urban-rural
class, a council area's class, the whole table). Every group gives one equation: the sum
of its cells equals its total. A hidden figure is disclosed when those equations, with the
shown figures put in, fix its value. That is checked exactly, by linear algebra: the hidden
figures are the unknowns, and an unknown is fixed when every solution of the homogeneous
system has it zero (its column is outside the null space; equally, its unit vector lies
in the equations' row space, which row reduction finds).

While some hidden figure is fixed, one more figure is hidden beside the first fixed one
(cells before totals, by position), and the check is made again before anything else is
hidden: one hide often protects several fixed figures at once (two small counts in one
equation, or a small count and its group's small total), and hiding a figure for each of
them in turn hid figures nobody needed hidden. The figures beside the fixed one are the
shown figures sharing an equation with it (a cell's equations are its groups', a total's
its own group's), in order: non-zero ones first, the smallest first. A fixed total whose
own group shows nothing non-zero (its counts all hidden, their sum fixed by other totals)
also has the non-zero figures of its counts' other groups beside it, after its own, since
only those equations can fix it. The one hidden is the first of the first few (_TRIED)
non-zero ones whose hiding alone leaves the fixed figure unfixed, checked exactly, or else
the first: the smallest figure beside a fixed one is often outside the equations that fix
it, and hiding those in turn hid 29 figures (Scotland's total among them) beside the small
ones on the demo's three months of searches, where 5 totals suffice. The loop ends only
when the exact check finds nothing fixed, and each step hides one more figure, so it ends.

Zeros. A zero that is shown is put into the equations like any shown figure; hidden, it
is one more unknown, so on paper it can unfix a figure. In practice it protects little:
"not shown" tells a reader it is 0 or at least the threshold, so in an equation x + z = 3
with x "fewer than 10" it is worked out at once; and a zero in exactly the same groups as
hidden counts leaves their sum as fixed as before, which is how zeros hidden beside a
fixed total used to spread through a table for many rounds. So zeros come last, and only
from the fixed figure's own equations. While no zero is hidden, they are never reached: a
fixed cell that is not zero is fixed by some shown total, which holds it and so is not
zero; a fixed total that is not zero either shows a non-zero count of its own or has a
hidden count, not zero, in some shown total, which is then beside it. A zero is hidden at
first only as the difference with an earlier view protected at a lower threshold (with
the same threshold, a figure shown there is 0 or at least the threshold, so its difference
with a 0 here is not small); in a group of zeros it can be fixed, and only zeros are then
beside it, which is when hiding one is needed.

When nothing shown shares an equation with a fixed figure, every non-zero figure is
hidden (zeros already hidden stay so): every total then shown is 0, so the only hidden
cells it holds are zeros, and the loop goes on for those. Should that hide nothing new,
every figure is hidden but the totals of groups with no cells (0 whatever is shown),
leaving no equation at all. By the argument above, only a zero hidden as a difference
can lead here; on the demo's views (one threshold) it is never reached.

This is the standard primary and secondary suppression of official statistics; like
them, it does not hide what bounds alone give away ("fewer than 10" already says 1 to 9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DEFAULT_THRESHOLD = 10
NOT_SHOWN = "not shown"
"""A figure hidden only so that a small one cannot be worked out from it."""
_TOLERANCE = 1e-9
_TRIED = 6
"""How many figures beside a fixed one are tried, in order, for one that protects it alone."""


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
    table = _Table(cells, groups)
    totals, values = table.totals, table.values
    hidden = np.concatenate(
        [(cells > 0) & (cells < threshold), (totals > 0) & (totals < threshold)]
    )
    for before in earlier:
        shown_before = ~np.concatenate([before.cells, before.groups])
        between = np.abs(values - np.concatenate([before.counts, before.totals]))
        hidden |= shown_before & (between > 0) & (between < threshold)
    fixed = _disclosed(table, hidden)
    while fixed.size:
        # One more hidden beside the first disclosed figure, then check again: that one
        # hide often protects the other disclosed figures too.
        target = int(fixed[0])
        waiting = table.beside(target, hidden)
        if waiting.size:
            # Tried in order, so the smallest that protects the target alone is hidden;
            # zeros come last and are not tried (see the module's docstring). The check
            # made for the one hidden is the next round's.
            added, after = int(waiting[0]), None
            tried = waiting[:_TRIED]
            for candidate in tried[values[tried] > 0]:
                hidden[candidate] = True
                check = _disclosed(table, hidden)
                hidden[candidate] = False
                if not (check == target).any():
                    added, after = int(candidate), check
                    break
                if candidate == added:
                    after = check
            hidden[added] = True
            fixed = _disclosed(table, hidden) if after is None else after
            continue
        # Nothing shown near it: hide every non-zero figure (zeros hidden so far stay
        # hidden: some are differences with an earlier view), which leaves no shown total
        # with a hidden cell in it. Should that hide nothing new, hide every figure but the
        # totals of groups with no cells, which are 0 whatever is shown.
        more = (values > 0) & ~hidden
        hidden |= more if more.any() else np.concatenate([cells >= 0, table.member.any(axis=1)])
        fixed = _disclosed(table, hidden)
    n = cells.size
    return Protected(cells=hidden[:n], groups=hidden[n:], counts=cells, totals=totals)


class _Table:
    """Which cells each group holds, and the same by class: cells in exactly the same
    groups (the places of one council area and 8-fold class) are one class, so the
    algebra runs on the classes holding hidden cells rather than on every hidden cell."""

    def __init__(self, cells: NDArray[np.int64], groups: Sequence[Sequence[int]]) -> None:
        self.n = n = cells.size
        self.member = np.zeros((len(groups), n), dtype=np.bool_)
        for k, positions in enumerate(groups):
            self.member[k, list(positions)] = True
        self.classes, self.class_of, _ = _column_patterns(self.member)
        by_class = np.zeros(self.classes.shape[1], dtype=np.int64)
        np.add.at(by_class, self.class_of, cells)
        # Integer products, not float ones: numpy leaves them to its own loops rather than
        # a threaded BLAS, which on a busy machine made small products far slower.
        self.totals = self.classes.astype(np.int64) @ by_class
        self.values = np.concatenate([cells, self.totals])
        self._queues: dict[tuple[bool, int], NDArray[np.intp]] = {}
        self._passed: dict[tuple[bool, int], int] = {}

    def beside(self, target: int, hidden: NDArray[np.bool_]) -> NDArray[np.intp]:
        """The shown figures to hide beside the disclosed figure at `target`, in this
        order: the non-zero figures sharing an equation with it (a cell's equations are its
        groups', a total's its own group's), then, for a total, the non-zero figures of its
        cells' other groups, then the zeros of its own equations; the smallest first, then
        the first position. Empty if none is shown (see the module's docstring for why).

        The figures wait in that order (alike for a class's cells), and since hidden
        figures stay hidden, those passed over at the front are never needed again: each
        call starts where the last one for them stopped. With every place in the whole
        table's total, each has nearly every figure beside it."""
        key = (target < self.n, int(self.class_of[target]) if target < self.n else target)
        queue = self._queues.get(key)
        if queue is None:
            if target < self.n:
                rows = np.flatnonzero(self.member[:, target])
                wider = rows
            else:
                rows = np.array([target - self.n])
                wider = np.flatnonzero(self.member[:, self.member[rows[0]]].any(axis=1))
            near, far = self._figures_of(rows), self._figures_of(wider)
            far &= ~near & (self.values > 0)
            positions = np.flatnonzero(near | far)
            value, further = self.values[positions], far[positions]
            queue = self._queues[key] = positions[
                np.lexsort((positions, value, further, value == 0))
            ]
        passed = self._passed.get(key, 0)
        if passed < queue.size and hidden[queue[passed]]:
            waiting = ~hidden[queue[passed:]]
            passed = passed + int(waiting.argmax()) if waiting.any() else queue.size
        self._passed[key] = passed
        rest = queue[passed:]
        return rest[~hidden[rest]]

    def _figures_of(self, rows: NDArray[np.intp]) -> NDArray[np.bool_]:
        """The cells and totals of the groups `rows`."""
        figures = np.zeros(self.values.size, dtype=np.bool_)
        figures[: self.n] = self.member[rows].any(axis=0)
        figures[self.n + rows] = True
        return figures


def _disclosed(table: _Table, hidden: NDArray[np.bool_]) -> NDArray[np.int64]:
    """The hidden figures the equations fix, as positions (cells, then group totals).

    A group whose total is hidden constrains nothing else (its total takes up any change),
    so the algebra runs on the groups with totals shown and the hidden cells only: a
    hidden cell, or the hidden part of a hidden total, is fixed when it is a combination
    of those groups' equations (it lies in their row space)."""
    n = table.n
    cell_hidden, total_hidden = hidden[:n], hidden[n:]
    if not cell_hidden.any():  # every cell shown: a hidden total is their sum
        return n + np.flatnonzero(total_hidden)
    in_class = np.bincount(table.class_of[cell_hidden], minlength=table.classes.shape[1])
    active = np.flatnonzero(in_class)
    by_class = table.classes[:, active]
    system = by_class[~total_hidden]
    system = system[system.any(axis=1)]
    # Hidden cells in exactly the same shown groups trade off against each other, so the
    # algebra runs on one column per such pattern (whole classes, as the groups do not
    # tell a class's cells apart); only what weighs a pattern's cells alike can be fixed.
    patterns, pattern_of, _ = _column_patterns(system)
    repeats = np.bincount(pattern_of, weights=in_class[active]).astype(np.int64)
    unit, rest = _peel(patterns)
    reduced, pivots = _row_reduce(patterns[:, rest])
    # In reduced row echelon form a unit vector lies in the row space exactly when it is
    # one of the rows: a pivot's row with nothing beside its pivot.
    unit[rest[pivots[(reduced != 0).sum(axis=1) == 1]]] = True
    fixed_class = np.zeros(table.classes.shape[1], dtype=np.bool_)
    fixed_class[active] = ((repeats == 1) & unit)[pattern_of]
    found = list(np.flatnonzero(cell_hidden & fixed_class[table.class_of]))
    # A hidden total is fixed when it holds each pattern's cells all or none, and that
    # choice of patterns lies in the row space: worked out for every hidden total at once.
    totals = np.flatnonzero(total_hidden)
    if totals.size:
        order = np.argsort(pattern_of, kind="stable")
        starts = np.searchsorted(pattern_of[order], np.arange(repeats.size))
        weighed = by_class[totals].astype(np.int64) * in_class[active]
        held = np.add.reduceat(weighed[:, order], starts, axis=1)
        alike = ((held == 0) | (held == repeats)).all(axis=1)
        # The peeled patterns' unit vectors are in the row space: only the rest is tested.
        weights = (held == repeats)[:, rest].astype(np.float64)
        # What is left of each after taking away the rows its pivot entries call for
        # (einsum: its own loop, not a threaded BLAS; see _Table).
        residual = weights - np.einsum("tr,rp->tp", weights[:, pivots], reduced)
        spanned = np.linalg.norm(residual, axis=1) <= 1e-7 * np.maximum(
            1.0, np.linalg.norm(weights, axis=1)
        )
        found += list(n + totals[alike & spanned])
    return np.array(found, dtype=np.int64)


def _peel(patterns: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """The columns whose unit vectors an equation with one unknown puts in the row space
    (a place whose council area's class total is shown: the commonest case by far), found
    by propagation, and the columns left for elimination.

    Exact: when a unit vector e_p is in the row space, a vector v is in it exactly when v
    without its p-th entry is in the row space of the matrix without column p. So column p
    goes, which may leave another equation with one unknown, and so on."""
    left = np.ones(patterns.shape[1], dtype=np.bool_)
    unit = np.zeros(patterns.shape[1], dtype=np.bool_)
    weights = patterns.astype(np.int64)
    while True:
        single = (weights @ left) == 1
        if not single.any():
            return unit, np.flatnonzero(left)
        alone = (patterns[single] & left).argmax(axis=1)
        unit[alone] = True
        left[alone] = False


def _row_reduce(
    matrix: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The reduced row echelon form of a 0/1 matrix (its non-zero rows) and each row's
    pivot column, by Gauss-Jordan elimination with partial pivoting.

    Elimination rather than a singular value decomposition: it touches only the rows a
    pivot's column has, and needs no LAPACK call, whose threads made a decomposition of a
    few hundred rows take a quarter of a second on a busy two-core machine. The tables
    here (nested areas crossed with nested classes) have totally unimodular equations, so
    every entry stays 0 or plus or minus 1 and the arithmetic is exact; the tolerance is
    for any other grouping."""
    work = matrix.astype(np.float64)
    rows, columns = work.shape
    pivots: list[int] = []
    top = 0
    for column in range(columns):
        if top == rows:
            break
        below = np.abs(work[top:, column])
        best = int(below.argmax())
        if below[best] <= _TOLERANCE:
            continue
        best += top
        if best != top:
            work[[top, best]] = work[[best, top]]
        # Columns before this one are zero in the pivot row and, below it, everywhere.
        work[top, column:] /= work[top, column]
        hit = np.flatnonzero(work[:, column])
        hit = hit[hit != top]
        if hit.size:
            block = work[hit, column:] - np.outer(work[hit, column], work[top, column:])
            block[np.abs(block) <= _TOLERANCE] = 0.0
            work[hit, column:] = block
        pivots.append(column)
        top += 1
    return work[:top], np.array(pivots, dtype=np.intp)


def _column_patterns(
    system: NDArray[np.bool_],
) -> tuple[NDArray[np.bool_], NDArray[np.intp], NDArray[np.intp]]:
    """The distinct columns of a 0/1 matrix, which column is which, and how many each:
    what np.unique(axis=1) gives (in another order), found from each column's bits packed
    into a few bytes, since sorting whole columns of a national table took seconds."""
    if system.shape[0] == 0:
        return (
            np.zeros((0, 1), dtype=np.bool_),
            np.zeros(system.shape[1], dtype=np.intp),
            np.array([system.shape[1]], dtype=np.intp),
        )
    packed = np.ascontiguousarray(np.packbits(system, axis=0).T)
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, pattern_of, repeats = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return system[:, first], pattern_of.reshape(-1), repeats
