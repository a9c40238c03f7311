"""The index's offer-to-row map answers as the dict it replaces would, through loads, new
offers, moves, removals and the folding of changes into new arrays."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matching import offer_rows
from matching.offer_rows import OfferRows

offer_ids = st.integers(min_value=1, max_value=60)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), offer_ids, st.integers(min_value=0, max_value=500)),
        st.tuples(st.just("pop"), offer_ids, st.just(0)),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(
    loaded=st.lists(offer_ids, unique=True, max_size=40),
    steps=steps,
    fold_after=st.sampled_from([2, 4_096]),
)
def test_it_answers_as_a_dict_would(
    loaded: list[int], steps: list[tuple[str, int, int]], fold_after: int
) -> None:
    original = offer_rows.COMPACT_AFTER
    offer_rows.COMPACT_AFTER = fold_after
    try:
        rows = OfferRows(loaded)
        model = {offer_id: row for row, offer_id in enumerate(loaded)}
        for step, offer_id, row in steps:
            if step == "put":
                rows[offer_id] = row
                model[offer_id] = row
            else:
                assert rows.pop(offer_id) == model.pop(offer_id, None)
        for offer_id in range(0, 62):
            assert rows.get(offer_id) == model.get(offer_id)
            assert (offer_id in rows) == (offer_id in model)
        assert rows.rows() == sorted(model.values())
        assert len(rows) == len(model)
    finally:
        offer_rows.COMPACT_AFTER = original


def test_an_empty_map_knows_no_offer() -> None:
    rows = OfferRows()
    assert rows.get(7) is None
    assert rows.pop(7) is None
    assert rows.rows() == []
