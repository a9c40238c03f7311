"""No page promises what the product does not do. Individual service funds, their
statements, spending, payments and change of use are built; a page may not offer anything
in the future tense, nor link to addresses that do not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marketplace.settings import PROJECT_ROOT
from tests.helpers import HtmlClient, page

NOT_BUILT = re.compile(
    r"will be able to|coming soon"
    r"|(see|check|track|view) (your|their|the) (budget|fund|balance|statement)"
    r"|keep track of your budget"
    r"|href=\"/(budgets?|isfs?|statements?|change-of-use|ledger)\b",
    re.IGNORECASE,
)
"""Words and links that would offer the parts not built yet."""


def templates() -> list[Path]:
    return sorted((PROJECT_ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize(
    "template", templates(), ids=lambda path: str(path.relative_to(PROJECT_ROOT / "templates"))
)
def test_no_template_offers_what_is_not_built(template: Path) -> None:
    promised = NOT_BUILT.findall(template.read_text())
    assert not promised, f"{template.name} promises {promised}"


def test_the_sweep_would_find_a_promise() -> None:
    assert NOT_BUILT.search("Here you will be able to see your fund at any time")
    assert NOT_BUILT.search('<a href="/isf/3">Your fund</a>')
    assert not NOT_BUILT.search('<a href="/payments">Pay providers</a>')


def test_the_home_page_says_what_is_here_and_says_nothing_is_missing(
    client: HtmlClient,
) -> None:
    text = page(client.get("/")).get_text(" ", strip=True)
    assert "ask for a change of use here" in text
    assert "decide change-of-use requests within their delegated authority" in text
    assert "not handled in this service yet" not in text
    assert "not recorded in this service yet" not in text


def test_the_privacy_notice_lists_only_what_is_held(client: HtmlClient) -> None:
    text = page(client.get("/privacy")).get_text(" ", strip=True)
    assert "individual service fund" in text and "finance staff see the money" in text
    assert "the enquiries you send and the needs you post" in text
