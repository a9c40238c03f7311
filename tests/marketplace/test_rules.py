"""Rules: a command reports every rule its input breaks at once, so a person puts them all
right in one go rather than meeting them one round after another."""

from __future__ import annotations

import pytest

from marketplace.errors import FieldError, RuleBroken, Rules


def test_every_broken_rule_is_reported_together_in_the_order_found() -> None:
    with pytest.raises(RuleBroken) as refused, Rules() as rules:
        rules.broken("Enter a title", field="title")
        rules.broken("Enter a price of more than £0", field="rate")
        rules.broken("Something about the form as a whole")
    assert refused.value.problems == [
        FieldError("title", "Enter a title"),
        FieldError("rate", "Enter a price of more than £0"),
        FieldError(None, "Something about the form as a whole"),
    ]
    assert (refused.value.field, refused.value.message) == ("title", "Enter a title")


def test_a_field_keeps_its_first_problem_only() -> None:
    with pytest.raises(RuleBroken) as refused, Rules() as rules:
        rules.broken("Enter a price of more than £0", field="rate")
        assert not rules.fine("rate") and rules.fine("title")
        rules.broken("That price looks too high", field="rate")
    assert [p.message for p in refused.value.problems] == ["Enter a price of more than £0"]


def test_nothing_is_raised_when_every_rule_holds() -> None:
    with Rules() as rules:
        pass
    assert rules.problems == []


def test_an_error_inside_the_checks_is_not_hidden_by_them() -> None:
    with pytest.raises(ZeroDivisionError), Rules() as rules:
        rules.broken("Enter a title", field="title")
        _ = 1 // 0
