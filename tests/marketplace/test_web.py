"""Form fields drawn once and kept (web.remembered_field): the same markup as the macro
draws, drawn anew when the choices, the answer or the error change, from the field's own
answer and error alone, and never more than FIELDS_REMEMBERED of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from marketplace import web
from marketplace.web import remembered_field, templates

ds: Any = templates.env.globals["ds"]
KINDS = [("personal-care", "Personal care"), ("help-at-home", "Help at home")]


@pytest.fixture(autouse=True)
def nothing_remembered() -> Iterator[None]:
    web._remembered.clear()
    yield
    web._remembered.clear()


def kinds(values: dict[str, Any], error_for: dict[str | None, str], choices: Any = KINDS) -> str:
    return str(
        remembered_field(
            ds.checkbox_group,
            "kinds",
            "What kind of support?",
            choices,
            values=values,
            error_for=error_for,
            hint="Tick any",
            small=True,
        )
    )


class TestRememberedField:
    def test_is_what_the_macro_draws(self) -> None:
        for values, errors in (
            ({}, {}),
            ({"kinds": ["help-at-home"]}, {}),
            ({"kinds": ["personal-care"]}, {"kinds": "Choose from the list given"}),
        ):
            drawn = ds.checkbox_group(
                "kinds", "What kind of support?", KINDS, values, errors, hint="Tick any", small=True
            )
            assert kinds(values, errors) == str(drawn)
            assert kinds(values, errors) == str(drawn), "the kept copy too"

    def test_is_drawn_anew_when_the_choices_answer_or_error_change(self) -> None:
        first = kinds({}, {})
        assert 'value="day-care"' in kinds({}, {}, [*KINDS, ("day-care", "Day care")])
        assert "checked" in kinds({"kinds": ["personal-care"]}, {})
        assert "Choose from the list given" in kinds({}, {"kinds": "Choose from the list given"})
        assert kinds({}, {}) == first

    def test_reads_only_its_own_answer_and_error(self) -> None:
        alone = kinds({}, {})
        crowded = kinds(
            {"location": "Portree", "csrftoken": "secret-token"},
            {"location": "Enter a place", None: "The page number"},
        )
        assert crowded == alone
        assert len(web._remembered) == 1, "one kept copy for both"
        assert not any("Portree" in str(markup) for markup in web._remembered.values())

    def test_keeps_at_most_its_limit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(web, "FIELDS_REMEMBERED", 3)
        for value in ("a", "b", "c", "d", "e"):
            kinds({"kinds": [value]}, {})
        assert len(web._remembered) == 3
