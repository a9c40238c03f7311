"""Small numbers stay hidden: every count from 1 to 9 reads "fewer than 10", and no hidden
count can be worked out from the totals shown. The oracle is independent of the code's
linear algebra: a linear programme finds the smallest and largest value each hidden cell
could take, given every figure shown and that counts are not negative; a cell is safe
when those differ."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.suppression import NOT_SHOWN, protect, shown

linprog = pytest.importorskip(
    "scipy.optimize", reason="scipy comes with the test extra (through access)"
).linprog


def range_of_hidden(
    counts: list[int], groups: list[list[int]], cells_hidden: np.ndarray, groups_hidden: np.ndarray
) -> dict[str, tuple[float, float]]:
    """For each hidden cell and hidden total, the least and most it could be given what
    is shown."""
    counts_array = np.array(counts)
    unknown = np.flatnonzero(cells_hidden)
    rows, rhs = [], []
    for k, members in enumerate(groups):
        if groups_hidden[k]:
            continue
        shown_sum = sum(counts[i] for i in members if not cells_hidden[i])
        row = np.zeros(unknown.size)
        for j, cell in enumerate(unknown):
            if cell in members:
                row[j] = 1
        if row.any():
            rows.append(row)
            rhs.append(counts_array[members].sum() - shown_sum)
    kwargs = {"A_eq": np.array(rows), "b_eq": np.array(rhs)} if rows else {}
    objectives = {
        f"cell {cell}": np.eye(1, unknown.size, j).reshape(-1) for j, cell in enumerate(unknown)
    }
    for k, members in enumerate(groups):
        if groups_hidden[k]:
            objectives[f"total {k}"] = np.isin(unknown, members).astype(float)
    ranges = {}
    for name, objective in objectives.items():
        if not objective.any():
            ranges[name] = (0.0, 0.0)  # nothing hidden in it: the total is the sum shown
            continue
        low = linprog(objective, bounds=[(0, None)] * unknown.size, **kwargs)
        high = linprog(-objective, bounds=[(0, None)] * unknown.size, **kwargs)
        ranges[name] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return ranges


def assert_nothing_small_disclosed(
    counts: list[int], groups: list[list[int]], threshold: int = 10
) -> None:
    result = protect(counts, groups, threshold=threshold)
    for i, count in enumerate(counts):
        if 0 < count < threshold:
            assert result.cells[i], f"cell {i} ({count}) is small and must be hidden"
    for k, total in enumerate(result.totals):
        if 0 < total < threshold:
            assert result.groups[k], f"total {k} ({total}) is small and must be hidden"
    for figure, (low, high) in range_of_hidden(counts, groups, result.cells, result.groups).items():
        assert high - low >= 1 - 1e-6, f"{figure} is pinned to {low}..{high} by the figures shown"


def test_a_small_count_reads_fewer_than_ten_and_a_second_one_is_hidden_beside_it() -> None:
    # Two places in one class: 3 and 20 searches, with the class total shown (23).
    result = protect([3, 20, 40], [[0, 1], [2], [0, 1, 2]])
    assert list(result.cells) == [True, True, False]
    assert shown(3, True, 10) == "fewer than 10"
    assert shown(20, True, 10) == NOT_SHOWN
    assert shown(40, False, 10) == "40"


def test_a_small_total_is_hidden_and_its_only_count_with_it() -> None:
    result = protect([0, 4, 0], [[0, 1, 2]])
    assert list(result.cells) == [False, True, False]
    assert list(result.groups) == [True]


def test_nothing_is_hidden_when_no_count_is_small() -> None:
    result = protect([0, 12, 30], [[0, 1], [2], [0, 1, 2]])
    assert not result.cells.any() and not result.groups.any()


def test_a_total_that_would_give_away_a_small_group_total_by_subtraction_is_protected() -> None:
    # Classes A (cells 0, 1) and B (cell 2) under a grand total: A's total is 5, so it is
    # hidden; grand total minus B would give it back unless something more is hidden.
    counts, groups = [2, 3, 50], [[0, 1], [2], [0, 1, 2]]
    assert_nothing_small_disclosed(counts, groups)


def test_a_hidden_total_made_of_cells_another_total_adds_up_is_protected() -> None:
    # Cells 0 and 1 (3 and 4) make both class A's total and, with cell 2, a council's;
    # shown, the council total less cell 2 would give class A's hidden total.
    assert_nothing_small_disclosed([3, 4, 25, 30], [[0, 1], [0, 1, 2], [2, 3], [0, 1, 2, 3]])


def test_linked_tables_of_councils_and_classes_are_protected_together() -> None:
    # Six places in two councils and two classes, with every margin shown.
    councils = [[0, 1, 2], [3, 4, 5]]
    classes = [[0, 3], [1, 4], [2, 5]]
    counts = [4, 15, 22, 30, 11, 13]
    assert_nothing_small_disclosed(counts, [*councils, *classes, list(range(6))])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=14),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=3),
)
def test_no_hidden_count_can_be_worked_out_from_any_totals_shown(
    counts: list[int], councils: int, classes: int
) -> None:
    n = len(counts)
    council_of = [i % councils for i in range(n)]
    class_of = [(i // councils) % classes for i in range(n)]
    groups = [list(range(n))]
    groups += [[i for i in range(n) if council_of[i] == c] for c in range(councils)]
    groups += [[i for i in range(n) if class_of[i] == k] for k in range(classes)]
    groups += [
        [i for i in range(n) if council_of[i] == c and class_of[i] == k]
        for c in range(councils)
        for k in range(classes)
    ]
    assert_nothing_small_disclosed(counts, [g for g in groups if g])


def test_a_small_count_that_is_its_groups_whole_total_leaves_the_grand_total_shown() -> None:
    # Hiding the 12 beside the 3 protects the 3 and its group's total of 3 at once.
    assert_nothing_small_disclosed([12, 3], [[0, 1], [1]])
    result = protect([12, 3], [[0, 1], [1]])
    assert not result.groups[0], "the total of 15 gives nothing away"


def test_a_fixed_total_whose_group_shows_only_zeros_is_protected_without_hiding_them() -> None:
    counts, groups = [3, 4, 0, 0, 12], [[0, 1, 2, 3], [0, 1, 2, 3, 4]]
    assert_nothing_small_disclosed(counts, groups)
    assert not protect(counts, groups).cells[2:4].any()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=8).flatmap(
        lambda counts: st.tuples(
            st.just(counts),
            st.lists(
                st.lists(
                    st.integers(0, len(counts) - 1),
                    min_size=1,
                    max_size=len(counts),
                    unique=True,  # the oracle counts each member once
                ),
                max_size=6,
            ),
        )
    )
)
def test_no_hidden_count_can_be_worked_out_whatever_the_groups(
    table: tuple[list[int], list[list[int]]],
) -> None:
    # Overlapping and repeated groups, far from a nested table: the safety of the rule
    # must not rest on the dashboard's shape.
    counts, groups = table
    assert_nothing_small_disclosed(counts, groups)


def test_a_longer_period_is_hidden_where_less_the_shorter_it_would_tell_a_small_count() -> None:
    groups = [[0, 1], [0, 1, 2]]
    month = protect([15, 20, 40], groups)
    assert not month.cells.any()
    # Three months: 18 at the first place would tell 3 searches in the two months before.
    quarter = protect([18, 35, 52], groups, earlier=[month])
    assert quarter.cells[0], "18 less the month's 15 is 3"
    for figure, (low, high) in range_of_hidden(
        [18, 35, 52], groups, quarter.cells, quarter.groups
    ).items():
        assert high - low >= 1, f"{figure} is pinned by the quarter's own totals"
    shown_both = ~np.concatenate([month.cells, month.groups]) & ~np.concatenate(
        [quarter.cells, quarter.groups]
    )
    between = np.concatenate([quarter.counts, quarter.totals]) - np.concatenate(
        [month.counts, month.totals]
    )
    assert not (shown_both & (between > 0) & (between < 10)).any()
