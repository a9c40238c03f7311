"""After a search that htmx answers in place, a screen reader hears how many offers were
found (a polite live region that stays on the page while the results are swapped), and the
focus moves to the results; without JavaScript a skip link takes the keyboard there."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.provider_helpers import heading

pytestmark = pytest.mark.browser

PLACE = "Inverness"
SHOWING = re.compile(r"Showing (\d+) to (\d+) of (\d+) offers? near (.+)")


def results_shown(page: Page) -> Locator:
    return page.locator("#search-results .ds_search-result")


def search(page: Page) -> None:
    page.get_by_role("button", name="Search", exact=True).click()


def test_the_number_found_is_announced_and_the_focus_moves_to_the_results(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(live_server.url("/find-support"))
    status = page.locator("#search-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("")
    # Marks on the window and on the live region itself, which a page load would wipe and
    # an htmx swap keeps: a live region that is replaced is not heard.
    status.evaluate(
        "region => { window.stillTheSamePage = true; region.stillTheSameRegion = true }"
    )

    page.get_by_label("Where do you live?").fill(PLACE)
    search(page)
    expect(status).to_have_text(SHOWING)
    found = SHOWING.fullmatch((status.text_content() or "").strip())
    assert found, status.text_content()
    first, last, total, place = int(found[1]), int(found[2]), int(found[3]), found[4]
    assert first == 1 and total >= last >= 1, found.groups()
    expect(results_shown(page)).to_have_count(last - first + 1)
    assert PLACE in place
    title = page.locator("#search-results-title")
    expect(title).to_have_text(status.text_content() or "")
    expect(title).to_be_focused()
    assert status.evaluate(
        "region => window.stillTheSamePage === true && region.stillTheSameRegion === true"
    ), "the page reloaded or the live region was replaced"

    # A second search that finds nothing is announced too, in the same region.
    page.get_by_text("More ways to narrow the results").click()
    page.get_by_label("Highest price an hour").fill("1")
    search(page)
    expect(status).to_have_text(f"No offers found near {place}")
    expect(results_shown(page)).to_have_count(0)
    expect(page.locator("#search-results-title")).to_be_focused()
    assert status.evaluate("region => region.stillTheSameRegion === true")


def test_a_search_with_a_mistake_keeps_the_focus_on_the_error_summary(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(live_server.url("/find-support"))
    page.get_by_label("Where do you live?").fill(PLACE)
    page.get_by_label("How many hours of support a week?").fill("-3")
    search(page)
    expect(page.locator(".ds_error-summary")).to_be_focused()


def test_without_javascript_a_skip_link_takes_the_keyboard_to_the_results(
    page_no_js: Page, live_server: LiveServer
) -> None:
    page = page_no_js
    page.goto(live_server.url(f"/find-support?location={PLACE}"))
    expect(heading(page)).to_have_text("Find support")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the results")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#search-results-title")).to_be_focused()
    expect(page.locator("#search-results-title")).to_contain_text("Showing 1 to")
