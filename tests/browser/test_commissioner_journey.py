"""Journey 3 in chromium against a live server: a Highland commissioner signs in, opens
Market gaps, asks for personal care in remote rural areas, finds the places no offer
reaches (in the headline, the places table and the map), downloads the places as CSV and
checks it against the page, opens a gap place's page (by keyboard from the map, or from the
table), then asks where three new providers should be based. Run with JavaScript on (htmx
swapping the figures in place, the address pushed) and off (plain GET forms), with
axe-core's checks on each page when JavaScript is on (axe runs in the page)."""

from __future__ import annotations

import csv
import re
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from marketplace.accounts.models import Role
from marketplace.demo import DEMO_ACCOUNTS
from tests.browser.conftest import LiveServer
from tests.browser.provider_helpers import (
    describe_violations,
    heading,
    main,
    navigate,
    sign_in_as,
)

pytestmark = pytest.mark.browser

COMMISSIONER = next(a for a in DEMO_ACCOUNTS if a.role == Role.COMMISSIONER)
AREA = "Highland"
KIND = "Personal care"
CLASS = "Remote rural area"
# Chosen, not left as the form shows it, as a commissioner looking at the last month would.
PERIOD = "The last 30 days"
GAP_LABEL = ": no offer in reach, "


def no_accessibility_violations(page: Page) -> None:
    result = Axe().run(page)
    assert result.violations_count == 0, (
        f"axe-core found {result.violations_count} violation(s) on {page.url}:\n"
        + describe_violations(result.response["violations"])
    )


def tab_to(page: Page, target: Locator, *, most: int = 100) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through the page."""
    for _ in range(most):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {target}")


def mark_page(page: Page) -> None:
    """A mark on the window that a full page load would wipe and an htmx swap keeps."""
    page.evaluate("() => { window.stillTheSamePage = true }")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("() => window.stillTheSamePage === true"), (
        "the page reloaded instead of swapping"
    )


def table_rows(table: Locator) -> tuple[list[str], list[list[str]]]:
    """A table's column headings and its body's cells as the page shows them, read at once."""
    found = table.evaluate(
        """table => [
            Array.from(table.tHead.rows[0].cells, cell => cell.innerText.trim()),
            Array.from(table.tBodies[0].rows, row => Array.from(row.cells, cell => cell.innerText.trim())),
        ]"""
    )
    return found[0], found[1]


def table_records(table: Locator) -> list[dict[str, str]]:
    headings, rows = table_rows(table)
    assert len(set(headings)) == len(headings), headings
    return [dict(zip(headings, row, strict=True)) for row in rows]


def submit(page: Page, button: Locator) -> None:
    """Press a GET form's button and check the server answered: with JavaScript off the new
    page, with it on htmx's fragment, from the form's own address."""
    path = urlparse(page.url).path
    with page.expect_response(
        lambda response: urlparse(response.url).path == path and response.request.method == "GET"
    ) as answer:
        button.click()
    assert answer.value.ok, f"{answer.value.url} answered {answer.value.status}"


def number(text: str) -> int:
    return int(text.replace(",", ""))


def read_headline(page: Page) -> dict[str, int]:
    text = page.locator("#headline-without").inner_text().strip()
    found = re.fullmatch(r"([\d,]+) of ([\d,]+) \((\d+)%\), in (\d+) of (\d+) places", text)
    assert found, text
    people, population, _, places_without, places = (number(part) for part in found.groups())
    return {
        "people": people,
        "population": population,
        "places_without": places_without,
        "places": places,
    }


PLACES_COLUMNS = (
    "Place",
    "Council area",
    "Urban-rural class (6-fold)",
    "Population",
    "Hours a week per 1,000 residents",
    "Providers in reach",
)


def same_as_page(page_row: dict[str, str], csv_row: dict[str, str]) -> bool:
    """A CSV row holds the page's row: the same words, the same counts (without the page's
    thousands commas) and the same hours to the page's one decimal place."""
    for column, shown in page_row.items():
        exported = csv_row[column]
        if column.startswith("Hours"):
            if abs(float(exported) - float(shown.replace(",", ""))) > 0.05 + 1e-9:
                return False
        elif shown.replace(",", "") != exported.replace(",", ""):
            return False
    return True


# --- journey 3 -----------------------------------------------------------------------------


def test_a_highland_commissioner_finds_the_remote_rural_gap_and_where_to_base_new_providers(
    any_page: Page, javascript: bool, live_server: LiveServer
) -> None:
    page, server = any_page, live_server
    sign_in_as(page, server, COMMISSIONER)
    navigate(page, "Market gaps")
    expect(heading(page)).to_have_text("Market gaps")
    expect(main(page)).to_contain_text(f"Area: {AREA}")

    # Personal care in remote rural areas.
    filters = page.locator("#gap-filters")
    if javascript:
        mark_page(page)
    filters.get_by_label("Kind of support", exact=True).select_option(label=KIND)
    filters.get_by_label("Urban-rural class", exact=True).select_option(label=CLASS)
    filters.get_by_label("Searches and needs from", exact=True).select_option(label=PERIOD)
    submit(page, filters.get_by_role("button", name="Show the figures"))
    expect(page.locator("#gap-summary")).to_have_text(f"{AREA}: remote rural areas: personal care")
    # The address holds the filters, so the view can be shared; with htmx it is pushed.
    expect(page).to_have_url(
        re.compile(r"/commissioning\?(?=.*kind=personal-care)(?=.*class=6)(?=.*period=30)")
    )
    if javascript:
        assert_not_reloaded(page)

    # The headline: people with no offer in reach.
    headline = read_headline(page)
    assert headline["people"] > 0 and headline["places_without"] > 0, headline
    expect(page.locator("#headline-hours")).to_have_text(
        re.compile(r"^[\d,]+\.\d \(\d+% of Scotland's [\d,]+\.\d\)$")
    )
    expect(page.locator("#headline-searches")).to_have_text(re.compile(rf" in {PERIOD.lower()}$"))

    # The places table: remote rural Highland places, those with no provider in reach first,
    # and they add up to the headline.
    places = page.get_by_role(
        "table", name=re.compile(rf"^Places in {AREA}: remote rural areas: personal care")
    )
    rows = table_records(places)
    assert len(rows) == headline["places"]
    assert {(row["Council area"], row["Urban-rural class (6-fold)"]) for row in rows} == {
        (AREA, CLASS)
    }
    gaps = [row for row in rows if row["Providers in reach"] == "0"]
    assert rows[: len(gaps)] == gaps, "the places with no provider in reach come first"
    assert len(gaps) == headline["places_without"]
    assert sum(number(row["Population"]) for row in gaps) == headline["people"]
    assert {row["Hours a week per 1,000 residents"] for row in gaps} == {"0.0"}

    # The map shows the same places, each a link that names its figures.
    gap_map = page.locator("svg.app-gap-map")
    expect(gap_map).to_be_visible()
    labels: list[str] = gap_map.get_by_role("link").evaluate_all(
        "links => links.map(link => link.getAttribute('aria-label'))"
    )
    assert len(labels) == len(rows)
    assert {label for label in labels if GAP_LABEL in label} == {
        f"{row['Place']}{GAP_LABEL}{row['Population']} people" for row in gaps
    }
    expect(page.locator("figure figcaption")).to_contain_text(
        f"{len(rows)} places in {AREA}, each a circle sized by its population. "
        f"{len(gaps)} have no offer of personal care in reach"
    )
    if javascript:
        no_accessibility_violations(page)

    # The places as CSV hold the same places and numbers as the page.
    download_link = page.get_by_role("link", name=re.compile(r"^Download “Places in .*” \(CSV\)$"))
    expect(download_link).to_have_attribute("href", re.compile(r"[?&]table=places&format=csv$"))
    expect(download_link).to_have_attribute("download", "")
    with page.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert download.suggested_filename == "market-gaps-places.csv"
    with open(download.path(), newline="", encoding="utf-8") as exported:
        records = list(csv.DictReader(exported))
    assert set(PLACES_COLUMNS) <= set(records[0]), records[0]
    assert [record["Place"] for record in records] == [row["Place"] for row in rows]
    mismatched = [
        (row, record)
        for row, record in zip(rows, records, strict=True)
        if not same_as_page(row, record)
    ]
    assert not mismatched, mismatched

    # One gap place's page: by keyboard from the map (which needs no JavaScript), or from the table.
    place = gaps[0]["Place"]
    if not javascript:
        link = gap_map.get_by_role(
            "link", name=f"{place}{GAP_LABEL}{gaps[0]['Population']} people", exact=True
        )
        # Read down to the map (a click on its heading is where the next Tab starts from).
        main(page).get_by_role("heading", name="Map", level=2, exact=True).click()
        tab_to(page, link)
        page.keyboard.press("Enter")
    else:
        places.get_by_role("link", name=place, exact=True).click()
    expect(heading(page)).to_have_text(f"{place}: support that reaches it")
    expect(page).to_have_url(re.compile(r"/commissioning/places/\d+\?(?=.*kind=personal-care)"))
    expect(main(page)).to_contain_text("(6-fold: remote rural area)")
    expect(page.locator("#no-reach")).to_have_text(
        f"No published offer of personal care reaches {place}."
    )
    by_kind = table_records(page.get_by_role("table", name="Support here, by kind"))
    care = next(row for row in by_kind if row["Kind of support"] == KIND)
    assert care["Providers in reach"] == "0", care
    if javascript:
        no_accessibility_violations(page)

    # Back to the figures, and where three new providers would bring the most into reach.
    main(page).get_by_role("link", name="Back to market gaps").click()
    expect(heading(page)).to_have_text("Market gaps")
    expect(page.locator("#kind")).to_have_value("personal-care")
    page.get_by_role("link", name="Suggest bases for new providers").click()
    expect(heading(page)).to_have_text("Suggest bases for new providers")
    site_form = page.locator("#site-form")
    expect(site_form.get_by_label("Kind of support", exact=True)).to_have_value("personal-care")
    if javascript:
        mark_page(page)
        before = page.locator("#sites").element_handle()
    site_form.get_by_label("How many new providers?").select_option("3")
    submit(page, site_form.get_by_role("button", name="Suggest bases"))
    expect(page).to_have_url(
        re.compile(r"/commissioning/sites\?(?=.*kind=personal-care)(?=.*count=3)")
    )
    if javascript:
        page.wait_for_function("element => !element.isConnected", arg=before)  # swapped out
        assert_not_reloaded(page)
    results = page.locator("#site-results")
    expect(results.get_by_role("heading", level=2)).to_have_text(
        f"3 bases for personal care in {AREA}"
    )
    summary = page.locator("#site-summary").inner_text().strip()
    found = re.fullmatch(
        rf"([\d,]+) people in {AREA} live in places no offer of personal care reaches\. "
        r"These bases would bring ([\d,]+) of them into reach: at least (\d+)% of the most any 3 bases could, "
        r"a figure proven for this answer\.",
        summary,
    )
    assert found, summary
    unreached, gained, share = (number(part) for part in found.groups())
    assert 0 < gained <= unreached and 0 < share <= 100, summary

    bases = table_records(
        results.get_by_role("table", name="Suggested bases for new providers of personal care")
    )
    assert [base["Order"] for base in bases] == ["1", "2", "3"]
    assert all(
        base["Council area"] == AREA and number(base["People newly in reach"]) > 0 for base in bases
    ), bases
    assert sum(number(base["People newly in reach"]) for base in bases) == gained
    _, before_after = table_rows(
        results.get_by_role("table", name=re.compile(r"now and with the new providers$"))
    )
    now = {row[0]: number(row[1]) for row in before_after}
    after = {row[0]: number(row[2]) for row in before_after}
    assert now[CLASS] == headline["people"], "the same remote rural gap as the dashboard's"
    assert sum(now.values()) == unreached and sum(now.values()) - sum(after.values()) == gained
    if javascript:
        no_accessibility_violations(page)
