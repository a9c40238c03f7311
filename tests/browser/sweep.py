"""The checks every page passes in the sweeps: at a phone's 320 CSS px and a desktop's 1280,
with JavaScript on and off, no sideways scrolling of the page; and no axe-core findings (not
even minor ones, which is stricter than "no serious findings") at the desktop width with
JavaScript on and at the phone width with it off. Those two are where the markup differs
most (the design system's scripts and the wide layout; the stacked, script-free phone
layout); axe at all four would double the sweeps' time for little more."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.browser.provider_helpers import describe_violations

PHONE, DESKTOP = 320, 1280
WIDTHS = (DESKTOP, PHONE)
HEIGHT = 800

# Lists the elements that stick out past the right edge, innermost first, so a failure
# names the culprit rather than only the page.
_SIDEWAYS = """() => {
  const root = document.scrollingElement;
  const edge = root.clientWidth;
  if (root.scrollWidth <= edge) return {scrollWidth: root.scrollWidth, clientWidth: edge, culprits: []};
  const wide = Array.from(document.body.querySelectorAll('*')).filter(element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > edge + 0.5;
  });
  const innermost = wide.filter(element => !wide.some(other => other !== element && element.contains(other)));
  const describe = element => element.tagName.toLowerCase()
    + (element.id ? '#' + element.id : '')
    + (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '')
    + ' right=' + Math.round(element.getBoundingClientRect().right)
    + ' "' + (element.textContent || '').trim().slice(0, 40) + '"';
  return {scrollWidth: root.scrollWidth, clientWidth: edge, culprits: innermost.slice(0, 8).map(describe)};
}"""


def assert_no_sideways_scroll(page: Page) -> None:
    found = page.evaluate(_SIDEWAYS)
    assert found["scrollWidth"] <= found["clientWidth"], (
        f"{page.url} scrolls sideways at {page.viewport_size}: scrollWidth "
        f"{found['scrollWidth']} > clientWidth {found['clientWidth']}; sticking out:\n    "
        + "\n    ".join(found["culprits"])
    )


def assert_no_axe_findings(page: Page) -> None:
    violations = Axe().run(page).response["violations"]
    assert not violations, (
        f"axe-core found {len(violations)} violation(s) on {page.url} at "
        f"{page.viewport_size}:\n" + describe_violations(violations)
    )


def _javascript_on(page: Page) -> bool:
    # Playwright's own evaluate runs even where the page's scripts are off; app.js marks
    # <html> when it has run.
    return bool(page.evaluate("() => document.documentElement.classList.contains('js-enabled')"))


def _axe_on_the_page_as_served(page: Page) -> None:
    """axe-core cannot finish in a page with JavaScript off (it waits on timers that never
    fire), so check the very markup that page shows, scripts removed, at the same address
    and width in a twin page where axe alone runs. Styles still load from the server."""
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.S | re.I)
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(viewport=page.viewport_size)
    try:
        twin = context.new_page()
        twin.route(
            page.url,
            lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
        )
        twin.goto(page.url)
        assert_no_axe_findings(twin)
    finally:
        context.close()


def assert_fits_and_accessible(page: Page) -> None:
    """The page as it is now, at each width in turn (the same page, resized, as a person
    turning a tablet would see it): no sideways scrolling, and no axe findings at the
    desktop with JavaScript on and at the phone with it off."""
    # A click on a link returns once the navigation has begun, when the new document may
    # not exist yet: check the page that is arriving, once it has loaded.
    page.wait_for_load_state("load")
    javascript = _javascript_on(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        assert_no_sideways_scroll(page)
        if javascript and width == DESKTOP:
            assert_no_axe_findings(page)
        elif not javascript and width == PHONE:
            _axe_on_the_page_as_served(page)
