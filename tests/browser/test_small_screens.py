"""A phone's 320 CSS px: the forms with a days-and-times grid fit without sideways
scrolling, with JavaScript on and off; the design system's mobile menu opens with
JavaScript (its button) and without it (its label and checkbox); a signed-in person's
name does not squeeze the service name out of sight; and the sweep (both widths, with and
without JavaScript, axe-core) over the pages the other files' sweeps do not reach."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from contracts.changes.models import ChangeRequest, ChangeRoute, ChangeStatus
from contracts.funds import service as funds
from contracts.funds.models import FundStatus, IndividualServiceFund
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.db import session_scope
from marketplace.demo import DEMO_ACCOUNTS, DemoAccount
from tests.browser.conftest import LiveServer
from tests.browser.provider_helpers import SignedIn, heading, sign_in, sign_in_as
from tests.browser.sweep import (
    HEIGHT,
    PHONE,
    assert_fits_and_accessible,
    assert_no_sideways_scroll,
)

pytestmark = pytest.mark.browser

PERSON = next(a for a in DEMO_ACCOUNTS if a.role == Role.SUPPORTED_PERSON)
STAFF = next(a for a in DEMO_ACCOUNTS if a.role == Role.PROVIDER_STAFF)
SERVICE_NAME = "SDS Marketplace"


def on_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": PHONE, "height": HEIGHT})


@pytest.mark.parametrize(
    ("path", "who", "grid"),
    [
        ("/find-support", None, "When do you need support?"),
        ("/needs/new", PERSON, "When is support needed?"),
        ("/provider/offers/new", STAFF, "When is it available?"),
    ],
    ids=["search-form", "needs-form", "offer-form"],
)
def test_a_form_with_a_days_and_times_grid_fits_a_phone(
    any_page: Page, live_server: LiveServer, path: str, who: DemoAccount | None, grid: str
) -> None:
    page = any_page
    on_a_phone(page)
    if who is not None:
        sign_in_as(page, live_server, who)
    page.goto(live_server.url(path))
    folded = page.locator("details").filter(has=page.locator("legend", has_text=grid))
    if folded.count():
        folded.locator("summary").click()
    fieldset = page.get_by_role("group", name=grid)
    expect(fieldset).to_be_visible()
    # Every box in the grid is on the screen, not past its right edge.
    boxes = fieldset.get_by_role("checkbox")
    assert boxes.count() >= 7 * 3
    for box in boxes.all():
        label = page.locator(f"label[for='{box.get_attribute('id')}']")
        area = label.bounding_box()
        assert area is not None and area["x"] >= 0 and area["x"] + area["width"] <= PHONE, (
            box.get_attribute("value"),
            area,
        )
    assert_no_sideways_scroll(page)


def test_the_mobile_menu_opens_with_its_button(page: Page, live_server: LiveServer) -> None:
    on_a_phone(page)
    page.goto(live_server.url("/"))
    main_navigation = page.get_by_role("navigation", name="Main")
    expect(main_navigation).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(main_navigation).to_be_visible()
    main_navigation.get_by_role("link", name="Find support").click()
    expect(heading(page)).to_have_text("Find support")
    assert_no_sideways_scroll(page)


def test_the_mobile_menu_opens_without_javascript(
    page_no_js: Page, live_server: LiveServer
) -> None:
    page = page_no_js
    on_a_phone(page)
    page.goto(live_server.url("/"))
    main_navigation = page.get_by_role("navigation", name="Main")
    expect(main_navigation).to_be_hidden()
    page.locator("label.js-toggle-menu").click()
    expect(main_navigation).to_be_visible()
    main_navigation.get_by_role("link", name="Find support").click()
    expect(heading(page)).to_have_text("Find support")


def test_the_mobile_menu_opens_from_the_keyboard_without_javascript(
    page_no_js: Page, live_server: LiveServer
) -> None:
    page = page_no_js
    on_a_phone(page)
    page.goto(live_server.url("/"))
    menu = page.get_by_role("checkbox", name="Menu")
    menu.focus()
    page.keyboard.press("Space")
    expect(menu).to_be_checked()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_the_desktop_shows_the_navigation_without_a_menu(
    any_page: Page, live_server: LiveServer
) -> None:
    page = any_page
    page.goto(live_server.url("/"))
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator(".js-toggle-menu:visible")).to_have_count(0)
    expect(page.get_by_role("checkbox", name="Menu")).to_have_count(0)


def test_the_service_name_stays_readable_when_signed_in_on_a_phone(
    any_page: Page, live_server: LiveServer
) -> None:
    page = any_page
    on_a_phone(page)
    email = f"long-name-{id(page)}@example.org"
    name = "Morag Catriona Macdonald-Mackenzie of Ardnamurchan"
    live_server.create_user(
        email=email, name=name, role=Role.SUPPORTED_PERSON, password="a long enough password"
    )
    sign_in(page, live_server, email, "a long enough password")
    title = page.locator(".ds_site-branding__title")
    expect(title).to_have_text(SERVICE_NAME)
    # On one line, wholly on the screen: not squeezed into a sliver beside the name.
    box = title.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE, box
    line_height = title.evaluate("element => parseFloat(getComputedStyle(element).lineHeight)")
    assert box["height"] < 2 * line_height, ("the service name wraps", box, line_height)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_sideways_scroll(page)


# --- the pages the other sweeps do not reach: each at both widths, JavaScript on and off ----

COMMISSIONER = next(a for a in DEMO_ACCOUNTS if a.role == Role.COMMISSIONER)
BUDGET_HOLDER = next(a for a in DEMO_ACCOUNTS if a.role == Role.BUDGET_HOLDER)
PERSONAL_ASSISTANT = next(a for a in DEMO_ACCOUNTS if a.role == Role.PERSONAL_ASSISTANT)
PANEL_MEMBER = next(a for a in DEMO_ACCOUNTS if a.role == Role.PANEL_MEMBER)
ADMIN = next(a for a in DEMO_ACCOUNTS if a.role == Role.ADMIN)


def _first_place_in_the_gaps(page: Page) -> None:
    # From the places table: on the map a town's circle can lie under its suburbs' smaller
    # ones (drawn on top so that each can be reached), so its centre is not its own.
    page.locator("main table a[href^='/commissioning/places/']").first.click()
    expect(page).to_have_url(re.compile(r"/commissioning/places/\d+"))


@dataclass(frozen=True)
class Visit:
    path: str
    who: DemoAccount | None = None
    steps: Callable[[Page], None] | None = None


SWEEP = [
    pytest.param(Visit("/"), id="home"),
    pytest.param(Visit("/", PERSON), id="home-signed-in"),
    pytest.param(Visit("/find-support", PERSON), id="find-support-signed-in"),
    pytest.param(Visit("/needs", PERSON), id="needs"),
    pytest.param(Visit("/needs/new", PERSON), id="needs-new"),
    pytest.param(Visit("/provider/needs", STAFF), id="provider-needs"),
    pytest.param(Visit("/provider/needs", PERSONAL_ASSISTANT), id="personal-assistant-needs"),
    pytest.param(Visit("/account", BUDGET_HOLDER), id="account-budget-holder"),
    pytest.param(Visit("/commissioning", COMMISSIONER), id="commissioning"),
    pytest.param(
        Visit("/commissioning", COMMISSIONER, _first_place_in_the_gaps), id="commissioning-place"
    ),
    pytest.param(Visit("/commissioning/sites", COMMISSIONER), id="commissioning-sites"),
    pytest.param(
        Visit("/find-support?location=IV27+4JY&kinds_of_support=personal-care"),
        id="find-support-from-a-remote-postcode",
    ),
    pytest.param(Visit("/about/gaps"), id="about-gaps"),
    pytest.param(Visit("/changes", BUDGET_HOLDER), id="change-of-use-queue"),
    pytest.param(
        Visit("/changes?status=approved&route=", BUDGET_HOLDER), id="change-of-use-queue-decided"
    ),
    pytest.param(
        Visit("/changes?status=approved&route=&page=10000", BUDGET_HOLDER),
        id="change-of-use-queue-past-the-end",
    ),
    pytest.param(Visit("/changes/sittings", PANEL_MEMBER), id="panel-sittings"),
    pytest.param(Visit("/admin/change-rules?council=Highland", ADMIN), id="change-rules"),
    pytest.param(Visit("/admin/delegated-authority", ADMIN), id="delegated-authority"),
]


@pytest.fixture(scope="session")
def signed_in(browser: Browser, live_server: LiveServer) -> SignedIn:
    return SignedIn.on(browser, live_server)


@pytest.mark.parametrize("place", SWEEP)
def test_the_page_fits_a_phone_and_a_desktop_without_accessibility_violations(
    any_page: Page, live_server: LiveServer, signed_in: SignedIn, place: Visit
) -> None:
    if place.who is not None:
        signed_in.enter(any_page, place.who)
    response = any_page.goto(live_server.url(place.path))
    assert response is not None and response.ok, (place.path, response and response.status)
    if place.steps is not None:
        place.steps(any_page)
    expect(heading(any_page)).to_be_visible()
    assert_fits_and_accessible(any_page)


# --- individual service funds: the demo's, active and being agreed, as each side sees them -

REPRESENTATIVE = next(a for a in DEMO_ACCOUNTS if a.role == Role.REPRESENTATIVE)
FINANCE = next(a for a in DEMO_ACCOUNTS if a.role == Role.FINANCE)
HOLDER = next(a for a in DEMO_ACCOUNTS if a.role == Role.PROVIDER_STAFF)


@dataclass(frozen=True)
class DemoFunds:
    active: int
    """The demo person's fund, held by the demo provider and paid in monthly."""
    agreeing: int
    """A fund the demo provider holds that is still being agreed, so every form shows."""
    holder_offer: int
    line: int
    """The line of the active fund that its holder delivers, where it records support."""
    closed: int
    """Last year's fund, its period closed under the council's underspend rule."""
    waiting: str
    """The page of a change-of-use request waiting for a budget holder."""
    for_panel: str
    """The page of one waiting for the resource allocation panel."""


@pytest.fixture(scope="session")
def demo_funds(live_server: LiveServer) -> DemoFunds:
    with session_scope(live_server.sessions, write=False) as session:
        person = accounts_service.find_user_by_email(session, PERSON.email)
        assert person is not None
        active = next(f for f in funds.funds_for(session, user=person))
        agreeing = session.scalar(
            select(IndividualServiceFund)
            .where(IndividualServiceFund.status == FundStatus.AGREEING)
            .order_by(IndividualServiceFund.id)
            .limit(1)
        )
        closed = session.scalar(
            select(IndividualServiceFund.id).where(
                IndividualServiceFund.status == FundStatus.CLOSED
            )
        )
        assert active.status == FundStatus.ACTIVE and agreeing is not None and closed is not None
        line = next(line for line in active.lines if line.provider_id == active.holder_id)
        waiting = {
            route: session.scalars(
                select(ChangeRequest)
                .where(ChangeRequest.status == ChangeStatus.WAITING, ChangeRequest.route == route)
                .order_by(ChangeRequest.id)
                .limit(1)
            ).one()
            for route in (ChangeRoute.DELEGATED, ChangeRoute.PANEL)
        }
        return DemoFunds(
            active=active.id,
            agreeing=agreeing.id,
            holder_offer=active.holder_offer_id,
            line=line.id,
            closed=closed,
            waiting=f"/funds/{waiting[ChangeRoute.DELEGATED].fund_id}/changes/"
            f"{waiting[ChangeRoute.DELEGATED].id}",
            for_panel=f"/funds/{waiting[ChangeRoute.PANEL].fund_id}/changes/"
            f"{waiting[ChangeRoute.PANEL].id}",
        )


FUND_PAGES = [
    pytest.param(PERSON, "/funds/{active}", id="fund-active-person"),
    pytest.param(FINANCE, "/funds/{active}", id="fund-active-finance"),
    pytest.param(PERSON, "/funds/{active}/statement", id="statement-person"),
    pytest.param(PERSON, "/funds/{active}/statement/easy-read", id="statement-easy-read"),
    pytest.param(FINANCE, "/funds/{active}/statement", id="statement-finance"),
    pytest.param(HOLDER, "/funds/{agreeing}", id="fund-agreeing-holder"),
    pytest.param(BUDGET_HOLDER, "/funds/{agreeing}", id="fund-agreeing-budget-holder"),
    pytest.param(FINANCE, "/funds/{agreeing}", id="fund-agreeing-finance"),
    pytest.param(BUDGET_HOLDER, "/funds", id="funds-budget-holder"),
    pytest.param(REPRESENTATIVE, "/funds/new?offer={offer}", id="fund-new-representative"),
    pytest.param(PERSON, "/funds/{active}/deliveries", id="deliveries-person"),
    pytest.param(HOLDER, "/funds/{active}/deliveries", id="deliveries-holder"),
    pytest.param(FINANCE, "/funds/{active}/deliveries", id="deliveries-finance"),
    pytest.param(HOLDER, "/deliveries", id="record-support-list"),
    pytest.param(HOLDER, "/funds/{active}/lines/{line}/deliveries", id="record-support-form"),
    pytest.param(FINANCE, "/payments", id="pay-providers"),
    pytest.param(FINANCE, "/funds/{closed}/statement", id="statement-closed-finance"),
    pytest.param(BUDGET_HOLDER, "/funds/{closed}", id="fund-closed-next-period-budget-holder"),
    pytest.param(PERSON, "/funds/{active}/changes", id="changes-of-use-person"),
    pytest.param(PERSON, "/funds/{active}/changes/new", id="change-of-use-kind"),
    pytest.param(PERSON, "/funds/{active}/changes/new?kind=new_offer", id="change-of-use-offer"),
    pytest.param(BUDGET_HOLDER, "{waiting}", id="change-of-use-to-decide"),
    pytest.param(PANEL_MEMBER, "{for_panel}", id="change-of-use-panel"),
]


@pytest.mark.parametrize(("who", "path"), FUND_PAGES)
def test_the_fund_pages_fit_a_phone_and_a_desktop_without_accessibility_violations(
    any_page: Page,
    live_server: LiveServer,
    signed_in: SignedIn,
    demo_funds: DemoFunds,
    who: DemoAccount,
    path: str,
) -> None:
    signed_in.enter(any_page, who)
    address = path.format(
        active=demo_funds.active,
        agreeing=demo_funds.agreeing,
        offer=demo_funds.holder_offer,
        line=demo_funds.line,
        closed=demo_funds.closed,
        waiting=demo_funds.waiting,
        for_panel=demo_funds.for_panel,
    )
    response = any_page.goto(live_server.url(address))
    assert response is not None and response.ok, (path, response and response.status)
    expect(heading(any_page)).to_be_visible()
    assert_fits_and_accessible(any_page)


def test_the_fund_prints_as_its_agreement_without_forms_or_the_sites_header(
    page: Page, live_server: LiveServer, signed_in: SignedIn, demo_funds: DemoFunds
) -> None:
    signed_in.enter(page, HOLDER)
    page.goto(live_server.url(f"/funds/{demo_funds.agreeing}"))
    expect(page.locator("main form").first).to_be_visible()
    page.emulate_media(media="print")
    for form in page.locator("main form").all():
        expect(form).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    for section in ("The agreement in brief", "The support plan", "Acceptances"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(page.locator("#total-planned")).to_be_visible()
