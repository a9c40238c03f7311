"""The public change-of-use figures, as anyone reads them: reached from the footer without
signing in, the demo's real figures with small numbers protected, filtered to one council
with JavaScript on (htmx swaps the figures in) and off (the form's GET), at a phone's and
a desktop's width with no axe-core findings."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.parsing import ascii_whole_number
from tests.browser.conftest import LiveServer
from tests.browser.provider_helpers import heading
from tests.browser.sweep import assert_fits_and_accessible

pytestmark = pytest.mark.browser


def test_anyone_reads_the_figures_and_filters_them_to_a_council(
    any_page: Page, live_server: LiveServer
) -> None:
    any_page.goto(live_server.url("/"))
    any_page.locator("footer").get_by_role("link", name="Change-of-use decisions").click()
    expect(heading(any_page)).to_have_text("Change-of-use decisions")
    table = any_page.locator("#table-decisions")
    expect(table).to_contain_text("Highland")
    # Real figures: some route decided 10 or more times in a quarter, with its median;
    # and small numbers protected.
    counts = table.locator("tbody tr td:nth-child(5)").all_inner_texts()
    assert any(ascii_whole_number(text, low=10, high=10**6) for text in counts), counts
    expect(table.get_by_text("fewer than 10").first).to_be_visible()
    assert_fits_and_accessible(any_page)

    any_page.get_by_label("Council area", exact=True).select_option(label="Highland")
    any_page.get_by_role("button", name="Show the figures").click()
    expect(any_page).to_have_url(re.compile(r"council=\d+"))
    expect(any_page.locator("#table-decisions caption")).to_have_text(re.compile(r", Highland$"))
    expect(any_page.get_by_role("link", name=re.compile(r"Download .*\(CSV\)"))).to_have_attribute(
        "href", re.compile(r"council=\d+&table=decisions&format=csv")
    )
    assert_fits_and_accessible(any_page)
