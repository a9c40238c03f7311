"""The search's answers carried in an address: read back bounded, what cannot be read named
and left out (never an error page), and carried on as the person typed them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from providers.asked import carried_query, read_asked
from providers.models import availability_bit


def test_good_answers_are_read_and_carried_on_as_typed(db: Session) -> None:
    asked = read_asked(
        db,
        [
            ("location", "Portree"),
            ("hours", "2.5"),
            ("when", "0-0"),
            ("when", "5-2"),
            ("page", "3"),
        ],
    )
    assert asked.location is not None and asked.location.settlement.name == "Portree"
    assert (asked.minutes_per_week, asked.when, asked.problems) == (
        150,
        availability_bit(0, 0) | availability_bit(5, 2),
        [],
    )
    assert asked.query() == "location=Portree&hours=2.5&when=0-0&when=5-2"


def test_hostile_answers_are_named_and_left_out(db: Session) -> None:
    asked = read_asked(
        db, [("location", "x" * 10_000), ("hours", "٣" * 500), *[("when", "9-9")] * 1000]
    )
    assert (asked.location, asked.minutes_per_week, asked.when) == (None, None, 0)
    assert [problem.field for problem in asked.problems] == ["location", "hours", "when"]
    assert asked.query() == ""


def test_links_carry_only_the_answers_they_should() -> None:
    assert (
        carried_query(
            [("location", " Portree "), ("sort", "cheapest"), ("hours", ""), ("when", "1-1")]
        )
        == "location=Portree&when=1-1"
    )
