"""The market-gaps pages at a desktop's 1280 CSS px: every table of figures fits its column
(no sideways scrolling inside its wrapper, nor of the page), for a council's commissioner
and for Scotland's, on the dashboard and on a place's page; and Scotland's map is a map of
council areas, each a link to that council's own figures with the same filters, with no
axe-core findings."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts.models import Role
from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.browser.conftest import LiveServer
from tests.browser.provider_helpers import heading, sign_in, sign_in_as
from tests.browser.sweep import (
    DESKTOP,
    HEIGHT,
    assert_no_axe_findings,
    assert_no_sideways_scroll,
)

pytestmark = pytest.mark.browser

COMMISSIONER = next(a for a in DEMO_ACCOUNTS if a.role == Role.COMMISSIONER)
SCOTLAND = "scotland-commissioner@example.org"

# Each table against the box it sits in: wider than that, it scrolls inside it.
_TABLES = """() => Array.from(document.querySelectorAll('main table'), table => ({
  id: table.id || table.caption?.innerText || '',
  table: table.scrollWidth,
  wrapper: table.parentElement.clientWidth,
}))"""


def tables_fit(page: Page) -> None:
    widths = page.evaluate(_TABLES)
    assert widths, "the page has tables"
    too_wide = [w for w in widths if w["table"] > w["wrapper"]]
    assert not too_wide, f"{page.url}: tables wider than their column at {DESKTOP} px: {too_wide}"
    assert_no_sideways_scroll(page)


def at_desktop(page: Page) -> None:
    page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})


def test_a_council_s_tables_fit_on_the_dashboard_and_a_place_s_page(
    page: Page, live_server: LiveServer
) -> None:
    at_desktop(page)
    sign_in_as(page, live_server, COMMISSIONER)
    page.goto(live_server.url("/commissioning?kind=personal-care&period=365"))
    expect(page.locator("#gap-summary")).to_have_text("Highland: personal care")
    tables_fit(page)
    # A town's name lies over its neighbours' circles: a click on it must reach them.
    names = page.locator("svg.app-gap-map .app-gap-map__labels")
    assert names.evaluate("labels => getComputedStyle(labels).pointerEvents") == "none"
    page.locator("#table-places tbody a").first.click()
    expect(heading(page)).to_have_text(re.compile(r": support that reaches it$"))
    tables_fit(page)


@pytest.fixture(scope="module")
def scotland_commissioner(live_server: LiveServer) -> str:
    """A commissioner for all of Scotland (the demo's is Highland's)."""
    live_server.create_user(
        email=SCOTLAND, name="Morag Scott", role=Role.COMMISSIONER, password=DEMO_PASSWORD
    )
    return SCOTLAND


def test_scotland_s_map_links_each_council_and_its_tables_fit(
    page: Page, live_server: LiveServer, scotland_commissioner: str
) -> None:
    at_desktop(page)
    sign_in(page, live_server, scotland_commissioner, DEMO_PASSWORD)
    page.goto(live_server.url("/commissioning?kind=personal-care"))
    expect(page.locator("#gap-summary")).to_have_text("Scotland: personal care")
    tables_fit(page)
    assert_no_axe_findings(page)

    gap_map = page.locator("svg.app-gap-map")
    links = gap_map.get_by_role("link")
    expect(links).to_have_count(32)
    fife = gap_map.get_by_role("link", name=re.compile(r"^Fife: [\d,.]+ hours a week"))
    fife.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#gap-summary")).to_have_text("Fife: personal care")
    expect(page).to_have_url(
        re.compile(r"/commissioning\?(?=.*kind=personal-care)(?=.*council=S12)")
    )
    tables_fit(page)
