"""`protect` hides exactly what the plain statement of its rule hides. The reference below
is that statement, written for clarity, not speed: the equations are one row per group with
its total shown, over every hidden cell (no classes, no patterns, no peeling); a hidden
figure is fixed when adding its own row (a unit vector for a cell, the group's row for a
total) leaves the rank unchanged, by numpy's rank, a singular value decomposition, where
`protect` row-reduces; and secondary suppression (one figure at a time, checking again
after each), its tie-breaks and its fall-back are spelt out. Same
tables in, the same hidden figures must come out, so every guarantee proved of the rule
(tests/marketplace/test_suppression.py checks them against a linear programme) holds for
the fast code."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from marketplace.suppression import _TRIED, Protected, protect


def reference_protect(
    counts: Sequence[int],
    groups: Sequence[Sequence[int]],
    threshold: int = 10,
    earlier: Sequence[Protected] = (),
) -> tuple[list[bool], list[bool]]:
    n, g = len(counts), len(groups)
    totals = [sum(counts[i] for i in set(members)) for members in groups]
    values = list(counts) + totals
    hidden = [0 < v < threshold for v in values]
    for before in earlier:
        previous = list(before.counts) + list(before.totals)
        shown_before = [not h for h in list(before.cells) + list(before.groups)]
        for i, v in enumerate(values):
            if shown_before[i] and 0 < abs(v - previous[i]) < threshold:
                hidden[i] = True
    while True:
        fixed = reference_fixed(n, groups, hidden)
        if not fixed:
            return hidden[:n], hidden[n:]
        # One figure hidden for the first fixed one (cells come first), then check again.
        target = min(fixed)
        # The figures in an equation with the target: a cell's groups, or a total's own
        # group, with their cells and totals; for a total also, non-zero ones only, the
        # other groups of its cells.
        own = [k for k in range(g) if target in groups[k]] if target < n else [target - n]
        wider = own if target < n else [k for k in range(g) if set(groups[k]) & set(groups[own[0]])]
        near = figures_of(n, groups, own)
        far = figures_of(n, groups, wider) - near
        choices = [
            (values[i] == 0, i in far, values[i], i)
            for i in near | {i for i in far if values[i] != 0}
            if not hidden[i]
        ]
        if choices:
            ordered = [i for *_, i in sorted(choices)]
            # The first of the first few non-zero ones whose hiding alone leaves the target
            # unfixed; else the first (zeros come last).
            protecting = [
                i
                for i in ordered[:_TRIED]
                if values[i] != 0 and target not in reference_fixed(n, groups, hide(hidden, i))
            ]
            hidden[(protecting or ordered)[0]] = True
        elif any(v > 0 and not h for v, h in zip(values, hidden, strict=True)):
            hidden = [h or v > 0 for v, h in zip(values, hidden, strict=True)]
        else:
            hidden = [True] * n + [len(members) > 0 for members in groups]


def hide(hidden: list[bool], i: int) -> list[bool]:
    return [h or j == i for j, h in enumerate(hidden)]


def figures_of(n: int, groups: Sequence[Sequence[int]], chosen: list[int]) -> set[int]:
    """The cells and the totals of the groups `chosen`, as positions."""
    return {i for k in chosen for i in groups[k]} | {n + k for k in chosen}


def reference_fixed(n: int, groups: Sequence[Sequence[int]], hidden: list[bool]) -> list[int]:
    unknown = [i for i in range(n) if hidden[i]]
    rows = np.array(
        [[1.0 if i in members else 0.0 for i in unknown] for k, members in enumerate(groups)]
    ).reshape(len(groups), len(unknown))
    shown_rows = rows[[not hidden[n + k] for k in range(len(groups))]]

    def pinned(row: np.ndarray) -> bool:
        if not row.any():
            return True  # no hidden cell in it: known from what is shown
        rank = np.linalg.matrix_rank(shown_rows) if shown_rows.size else 0
        return bool(np.linalg.matrix_rank(np.vstack([shown_rows, row])) == rank)

    cells = [i for j, i in enumerate(unknown) if pinned(np.eye(len(unknown))[j])]
    totals = [n + k for k in range(len(groups)) if hidden[n + k] and pinned(rows[k])]
    return cells + totals


def assert_same(
    counts: list[int],
    groups: list[list[int]],
    threshold: int = 10,
    earlier: Sequence[Protected] = (),
) -> Protected:
    result = protect(counts, groups, threshold=threshold, earlier=earlier)
    cells, totals = reference_protect(counts, groups, threshold, earlier)
    assert list(result.cells) == cells, (counts, groups)
    assert list(result.groups) == totals, (counts, groups)
    if not earlier:
        # Only a zero already hidden (a difference with an earlier view) can need zeros
        # hidden beside it, or the fall-back (see the module's docstring).
        assert not (result.cells & (result.counts == 0)).any(), (counts, groups)
        assert not (result.groups & (result.totals == 0)).any(), (counts, groups)
    return result


def nested_groups(n: int, councils: int, classes8: int) -> list[list[int]]:
    """The dashboard's shape in small: the whole table, council areas, 8-fold classes and
    the 6-fold ones they make up (the last two 8-fold classes pair up), and each council
    area's classes of both kinds."""
    council = [i % councils for i in range(n)]
    class8 = [(i // councils) % classes8 for i in range(n)]
    class6 = [min(c, max(classes8 - 2, 0)) for c in class8]
    found: dict[tuple[object, ...], list[int]] = {("all",): list(range(n))}
    for i in range(n):
        for key in (
            ("council", council[i]),
            ("class6", class6[i]),
            ("class8", class8[i]),
            ("cc6", council[i], class6[i]),
            ("cc8", council[i], class8[i]),
        ):
            found.setdefault(key, []).append(i)
    return list(found.values())


small_counts = st.lists(
    st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 40)), min_size=1, max_size=24
)


@settings(max_examples=300, deadline=None)
@given(
    small_counts,
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([2, 5, 10]),
)
@example([3, 0, 0, 20, 0, 0], 2, 3, 10)  # one small cell among zeros
@example([4, 6, 30, 0], 1, 4, 10)  # two small cells whose total (10) is shown
def test_the_dashboards_shape_hides_what_the_reference_hides(
    counts: list[int], councils: int, classes8: int, threshold: int
) -> None:
    assert_same(counts, nested_groups(len(counts), councils, classes8), threshold)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 15), min_size=1, max_size=10).flatmap(
        lambda counts: st.tuples(
            st.just(counts),
            st.lists(
                st.lists(st.integers(0, len(counts) - 1), min_size=0, max_size=len(counts)),
                max_size=7,
            ),
        )
    ),
    st.sampled_from([3, 10]),
)
def test_any_groups_at_all_hide_what_the_reference_hides(
    table: tuple[list[int], list[list[int]]], threshold: int
) -> None:
    # Overlapping, repeated, empty and duplicated groups: nothing like a nested table, and
    # equations far from totally unimodular.
    counts, groups = table
    assert_same(counts, groups, threshold)


@settings(max_examples=100, deadline=None)
@given(small_counts, st.integers(1, 3), st.integers(1, 3), st.data())
def test_earlier_views_are_set_against_this_one_as_in_the_reference(
    counts: list[int], councils: int, classes8: int, data: st.DataObject
) -> None:
    groups = nested_groups(len(counts), councils, classes8)
    shorter = [max(0, c - data.draw(st.integers(0, 12))) for c in counts]
    month = assert_same(shorter, groups)
    assert_same(counts, groups, earlier=[month])


def test_a_single_small_cell_in_its_group_takes_its_neighbour_with_it() -> None:
    result = assert_same([4, 25, 30], [[0, 1], [2], [0, 1, 2]])
    assert list(result.cells) == [True, True, False]


def test_two_small_cells_summing_to_a_shown_total_stay_hidden() -> None:
    # 4 + 6 = 10 is shown, and neither small cell can be told from it.
    result = assert_same([4, 6, 30], [[0, 1], [0, 1, 2]])
    assert list(result.cells) == [True, True, False]
    assert not result.groups.any()


def test_one_figure_hidden_beside_a_small_count_protects_its_small_total_too() -> None:
    # Cell 1 (3) is its group's whole total: both are disclosed by the total of 15. Hiding
    # cell 0 protects both at once; the rule once went on to the small total, found nothing
    # shown beside it and hid every figure, Scotland's 15 too.
    result = assert_same([12, 3], [[0, 1], [1]])
    assert list(result.cells) == [True, True]
    assert list(result.groups) == [False, True]


def test_one_figure_hidden_protects_two_small_counts_fixed_by_different_totals() -> None:
    # 3 and 4 are fixed by 23 and 24 less the 20 both groups hold. Hiding the 20 protects
    # both; the rule once went on to hide the 24 for the second as well.
    result = assert_same([3, 4, 20], [[0, 2], [1, 2]])
    assert list(result.cells) == [True, True, True]
    assert not result.groups.any()


def test_a_fixed_total_with_nothing_shown_in_its_group_takes_a_figure_beside_its_cells() -> None:
    # The class's 3 and 4 (total 7, hidden) are not fixed one by one, but their total is:
    # 47 less 40. Nothing in the class's own group is shown, so the rule once hid every
    # figure; the 40, beside its cells in the other group, is enough.
    result = assert_same([3, 4, 40], [[0, 1], [0, 1, 2]])
    assert list(result.cells) == [True, True, True]
    assert list(result.groups) == [True, False]


def test_the_smallest_figure_beside_is_passed_over_when_hiding_it_alone_would_not_protect() -> None:
    # The 1 is fixed by Scotland's 13 less the 12 and the 0. The 12 is the smallest figure
    # beside it, but its own groups' totals (12, shown) would give it straight back; hiding
    # the 13 protects the 1 alone, where the 12 then its five totals were hidden before.
    result = assert_same([0, 1, 12], nested_groups(3, 2, 3))
    assert list(result.cells) == [False, True, False]
    # The small totals (of the 1), and Scotland's.
    assert list(result.groups) == [k == 0 or 0 < t < 10 for k, t in enumerate(result.totals)]


def test_a_fixed_total_showing_only_zeros_takes_a_non_zero_figure_from_its_cells_groups() -> None:
    # The class (3, 4 and two zeros; 7, hidden) is fixed by the council's 19 less its 12.
    # Its own group shows only zeros, and hiding them would not protect it (they are in the
    # same groups as the 3 and 4): the council's 12 is hidden instead.
    counts, groups = [3, 4, 0, 0, 12], [[0, 1, 2, 3], [0, 1, 2, 3, 4]]
    result = assert_same(counts, groups)
    assert list(result.cells) == [True, True, False, False, True]
    assert list(result.groups) == [True, False]


def test_zeros_are_not_hidden_beside_a_small_count() -> None:
    for counts, groups in (
        ([0, 0, 0, 0, 12, 0, 0, 3, 0, 0], nested_groups(10, 1, 2)),
        ([12, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0], nested_groups(11, 3, 3)),
    ):
        result = assert_same(counts, groups)
        assert not (result.cells & (result.counts == 0)).any()
        assert not (result.groups & (result.totals == 0)).any()


def test_the_fall_back_keeps_a_zero_hidden_as_the_difference_with_an_earlier_view() -> None:
    # An earlier view, protected at a threshold of 3, showed 5 at the second place, which
    # now has 0: the 0 is hidden, as 5 less 0 is small here. Only zeros are beside it, and
    # hiding them in turn leaves one fixed with nothing shown near: the fall-back. Hiding
    # every non-zero figure hides nothing new, so every figure is hidden; the old fall-back
    # showed the 0 again, and with it the 5.
    groups = [[0, 1], [0], [0, 1]]
    earlier = protect([20, 5], groups, threshold=3)
    assert not earlier.cells.any()
    result = assert_same([0, 0], groups, earlier=[earlier])
    assert result.cells.all() and result.groups.all()


def test_the_national_shape_at_a_tenth_of_its_size_hides_what_the_reference_hides() -> None:
    rng = np.random.default_rng(2026)
    for _ in range(5):
        counts = [int(c) for c in rng.choice([0, 0, 0, 0, 1, 2, 3, 7, 12, 40], size=120)]
        assert_same(counts, nested_groups(120, 6, 8))


def test_no_cells_and_no_groups() -> None:
    assert_same([], [])
    assert_same([0, 5, 12], [])
    assert_same([], [[], []])
