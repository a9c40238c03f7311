"""Rules: a command reports every rule its input breaks at once, so a person puts them all
right in one go rather than meeting them one round after another."""

from __future__ import annotations

import pytest

from marketplace.errors import FieldError, RuleBroken, Rules


def command(*broken: FieldError, then: str = "") -> Rules:
    """A command's checks finding `broken`, and then (`then="fail"`) an error of its own."""
    with Rules() as rules:
        for problem in broken:
            rules.broken(problem.message, field=problem.field)
        if then == "fail":
            raise ZeroDivisionError
    return rules


def test_every_broken_rule_is_reported_together_in_the_order_found() -> None:
    problems = [
        FieldError("title", "Enter a title"),
        FieldError("rate", "Enter a price of more than £0"),
        FieldError(None, "Something about the form as a whole"),
    ]
    with pytest.raises(RuleBroken) as refused:
        command(*problems)
    assert refused.value.problems == problems
    assert (refused.value.field, refused.value.message) == ("title", "Enter a title")


def test_a_field_keeps_its_first_problem_only() -> None:
    with pytest.raises(RuleBroken) as refused:
        command(
            FieldError("rate", "Enter a price of more than £0"),
            FieldError("rate", "That price looks too high"),
        )
    assert refused.value.problems == [FieldError("rate", "Enter a price of more than £0")]


def test_fine_says_whether_a_field_has_a_problem_yet() -> None:
    rules = Rules()
    rules.broken("Enter a title", field="title")
    assert not rules.fine("title") and rules.fine("rate")


def test_nothing_is_raised_when_every_rule_holds() -> None:
    assert command().problems == []


def test_an_error_inside_the_checks_is_not_hidden_by_them() -> None:
    with pytest.raises(ZeroDivisionError):
        command(FieldError("title", "Enter a title"), then="fail")
