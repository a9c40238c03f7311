"""The journeys people make through the service, driven in chromium against a live server
holding the demo data: signing up and confirming an email address, signing in and out,
the error pattern, CSRF refusals, every demo account's sign-in, an administrator changing
someone's role, keyboard use, and axe-core's accessibility checks on every page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from marketplace.accounts.models import Role
from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount
from tests.browser.conftest import LiveServer
from tests.browser.provider_helpers import (
    SignedIn,
    follow_link_in_mail,
    main,
    open_mail,
    sign_in,
    unique_email,
)
from tests.browser.sweep import assert_fits_and_accessible
from tests.marketplace.accounts.test_landing import LANDINGS

pytestmark = pytest.mark.browser

PERSON = next(a for a in DEMO_ACCOUNTS if a.role == Role.SUPPORTED_PERSON)
REPRESENTATIVE = next(a for a in DEMO_ACCOUNTS if a.role == Role.REPRESENTATIVE)
ADMIN = next(a for a in DEMO_ACCOUNTS if a.role == Role.ADMIN)
ADMIN_NAVIGATION = ("Accounts", "Audit log")


# --- steps shared by the journeys --------------------------------------------------------


def choose(page: Page, label: str) -> None:
    """Pick a radio as a person does: the design system draws its own radio over the label."""
    page.locator("label").filter(has_text=label).click()
    expect(page.get_by_label(label)).to_be_checked()


def request_password_reset(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url("/password-reset"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_url(server.url("/password-reset/sent"))


def navigation_labels(page: Page) -> list[str]:
    return page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()


# --- signing up, confirming, signing in and out ------------------------------------------


def test_a_supported_person_signs_up_confirms_signs_in_and_out(
    any_page: Page, live_server: LiveServer
) -> None:
    page, server = any_page, live_server
    name, email, password = "Shona Mackay", unique_email("shona"), "heather on the hill 2026"

    page.goto(server.url("/sign-up"))
    choose(page, "I get support, or I am looking for support for myself")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(server.url("/sign-up/supported-person"))

    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(server.url("/sign-up/check-email"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    open_mail(page, server, to=email, subject="Confirm your email address")
    follow_link_in_mail(page, server, "/confirm-email?token=")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your email address is confirmed")

    main(page).get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(server.url("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url("/your-support"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your support")
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.url("/signed-out"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")

    page.goto(server.url("/account"))
    expect(page).to_have_url(server.url("/sign-in?next=/account"))


def sign_in_with_wrong_password(page: Page, server: LiveServer, email: str) -> Response:
    page.goto(server.url("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("not the right password")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == server.url("/sign-in")
    ) as posted:
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".ds_error-summary")).to_be_visible()
    return posted.value


def test_a_wrong_password_shows_the_error_summary(
    any_page: Page, javascript: bool, live_server: LiveServer
) -> None:
    page, server = any_page, live_server
    response = sign_in_with_wrong_password(page, server, "finance@example.org")
    assert response.status == 401
    assert (response.request.headers.get("hx-request") == "true") is javascript, (
        "with JavaScript on htmx sends the form (it has hx-post); with it off the browser does"
    )

    summary = page.locator(".ds_error-summary")
    expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(
        "Your email address or password is not right, or your account is not confirmed yet"
    )
    expect(page.get_by_label("Email address")).to_have_value("finance@example.org")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page).to_have_url(server.url("/sign-in"))
    if javascript:
        expect(summary).to_be_focused()


def test_a_page_with_errors_says_so_in_its_title(
    any_page: Page, javascript: bool, live_server: LiveServer
) -> None:
    sign_in_with_wrong_password(any_page, live_server, "panel@example.org")
    # htmx sets the title in the same task as the swap, so it is final once the summary shows.
    assert any_page.title().startswith("Error: Sign in - "), any_page.title()


def test_a_sign_in_posted_without_the_csrf_token_is_refused(
    page: Page, live_server: LiveServer
) -> None:
    server = live_server
    page.goto(server.url("/sign-in"))
    cookies = {c["name"] for c in page.context.cookies()}
    assert "csrftoken" in cookies, "the sign-in page sets the CSRF cookie"

    refused = page.request.post(
        server.url("/sign-in"),
        form={"email": PERSON.email, "password": DEMO_PASSWORD, "next": ""},
        max_redirects=0,
    )
    assert refused.status == 403
    assert "This form could not be sent" in refused.text()
    assert "sds_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(server.url("/account"))
    expect(page).to_have_url(server.url("/sign-in?next=/account"))

    # The same request with the page's token goes through, so the token alone made the difference.
    token = page.locator("input[name=csrftoken]").first.get_attribute("value")
    accepted = page.request.post(
        server.url("/sign-in"),
        form={"csrftoken": token or "", "email": PERSON.email, "password": DEMO_PASSWORD},
        max_redirects=0,
    )
    assert accepted.status == 303


def test_a_supported_person_is_refused_the_administrators_pages(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server, PERSON.email, DEMO_PASSWORD)
    response = page.goto(live_server.url("/admin/users"))
    assert response is not None and response.status == 403, response and response.status
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot use this page")
    expect(page.get_by_text(f"Signed in as {PERSON.name}")).to_be_visible()


def test_a_signed_in_form_with_a_mistake_shows_the_error_summary(
    page_no_js: Page, live_server: LiveServer
) -> None:
    page = page_no_js
    sign_in(page, live_server, REPRESENTATIVE.email, DEMO_PASSWORD)
    page.goto(live_server.url("/account/password"))
    page.get_by_label("Current password").fill("not my current password")
    page.get_by_label("New password").fill("a new long password")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Change password").click()
    assert posted.value.status == 422, posted.value.status
    expect(page.locator(".ds_error-summary")).to_contain_text("There is a problem")


# --- the demo accounts -------------------------------------------------------------------


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=[a.role.value for a in DEMO_ACCOUNTS])
def test_every_demo_account_signs_in_and_sees_its_navigation(
    page: Page, live_server: LiveServer, account: DemoAccount
) -> None:
    sign_in(page, live_server, account.email, DEMO_PASSWORD)
    expect(page.get_by_text(f"Signed in as {account.name}")).to_be_visible()
    expect(page).to_have_url(live_server.url(LANDINGS[account.role]))
    page.goto(live_server.url("/account"))
    expect(main(page)).to_contain_text(account.name)
    expect(main(page)).to_contain_text(account.role.label)

    labels = navigation_labels(page)
    assert "Your account" in labels
    assert "Sign in" not in labels and "Create an account" not in labels
    for label in ADMIN_NAVIGATION:
        assert (label in labels) is (account.role == Role.ADMIN), (account.role, labels)


# --- an administrator changes someone's role ---------------------------------------------


def test_an_administrator_changes_a_role_and_finds_it_in_the_audit_log(
    any_page: Page, live_server: LiveServer
) -> None:
    page, server = any_page, live_server
    email = unique_email("pa")
    name = f"Catriona Bain {uuid.uuid4().hex[:6]}"
    user_id = server.create_user(
        email=email, name=name, role=Role.PERSONAL_ASSISTANT, password="a long enough password"
    )

    sign_in(page, server, ADMIN.email, DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")

    page.get_by_label("Role").select_option(label="Personal assistant")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/admin/users\?.*role=personal_assistant"))
    results = page.locator("#results")
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(results).not_to_contain_text(ADMIN.name)

    results.get_by_role("link", name=name).click()
    expect(page).to_have_url(server.url(f"/admin/users/{user_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)

    page.get_by_label("Role").select_option(label="Commissioner")
    page.get_by_label("Council area").select_option(label="Highland")
    page.get_by_role("button", name="Save role").click()
    expect(page).to_have_url(server.url(f"/admin/users/{user_id}?done=role"))
    expect(page.get_by_role("status")).to_contain_text("The role has been saved")
    expect(page.locator(".ds_summary-list")).to_contain_text("Commissioner")
    assert server.role_of(email) == Role.COMMISSIONER

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    event = (
        page.get_by_role("row")
        .filter(has_text="Role changed")
        .filter(has_text=f"user_account {user_id}")
    )
    expect(event).to_have_count(1)
    expect(event).to_contain_text("to_role: commissioner")


# --- keyboard ----------------------------------------------------------------------------


def test_the_skip_link_comes_first_and_moves_focus_to_the_main_content(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(live_server.url("/sign-in"))
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


# --- accessibility -----------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """How to reach one page, and what it answers."""

    name: str
    path: str | None = None
    steps: Callable[[Page, LiveServer], None] | None = None
    status: int = 200

    def open(self, page: Page, server: LiveServer) -> None:
        if self.path is not None:
            response = page.goto(server.url(self.path))
            assert response is not None and response.status == self.status, (
                self.path,
                response and response.status,
            )
        if self.steps is not None:
            self.steps(page, server)


def _sign_in_with_wrong_password(page: Page, server: LiveServer) -> None:
    sign_in_with_wrong_password(page, server, "budget-holder@example.org")


def _submit_empty(button: str) -> Callable[[Page, LiveServer], None]:
    def steps(page: Page, server: LiveServer) -> None:
        page.get_by_role("button", name=button).click()
        expect(page.locator(".ds_error-summary")).to_be_visible()

    return steps


def _outbox_with_a_mail(page: Page, server: LiveServer) -> None:
    request_password_reset(page, server, "panel@example.org")
    page.goto(server.url("/dev/outbox"))
    expect(page.get_by_role("table")).to_be_visible()


def _one_mail(page: Page, server: LiveServer) -> None:
    request_password_reset(page, server, "pa@example.org")
    open_mail(page, server, to="pa@example.org", subject="Reset your password")


def _confirm_email_page(page: Page, server: LiveServer) -> None:
    email = unique_email("axe")
    page.goto(server.url("/sign-up/representative"))
    page.get_by_label("Full name").fill("Lachlan Ross")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(server.url("/sign-up/check-email"))
    open_mail(page, server, to=email, subject="Confirm your email address")
    follow_link_in_mail(page, server, "/confirm-email?token=")
    expect(page.get_by_role("button", name="Confirm my email address")).to_be_visible()


def _email_confirmed_page(page: Page, server: LiveServer) -> None:
    _confirm_email_page(page, server)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your email address is confirmed")


def _new_password_page(page: Page, server: LiveServer) -> None:
    request_password_reset(page, server, "finance@example.org")
    open_mail(page, server, to="finance@example.org", subject="Reset your password")
    follow_link_in_mail(page, server, "/password-reset/new?token=")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")


def _signed_in_as(
    account: DemoAccount, path: str, status: int = 200
) -> Callable[[Page, LiveServer], None]:
    def steps(page: Page, server: LiveServer) -> None:
        # Signed in once through the form for the run; the journeys test the form itself.
        SignedIn.on(page.context.browser, server).enter(page, account)
        response = page.goto(server.url(path))
        assert response is not None and response.status == status, (
            path,
            response and response.status,
        )

    return steps


def _person_account_with_representatives_form(page: Page, server: LiveServer) -> None:
    _signed_in_as(PERSON, "/account")(page, server)
    expect(page.get_by_role("heading", name="Add someone who acts for you")).to_be_visible()
    expect(page.get_by_role("table", name="People who act for you")).to_contain_text(
        REPRESENTATIVE.name
    )


def _admin_user_page(page: Page, server: LiveServer) -> None:
    _signed_in_as(ADMIN, f"/admin/users/{server.user_id(PERSON.email)}")(page, server)
    expect(page.get_by_role("heading", level=1)).to_have_text(PERSON.name)


def _admin_audit_page(page: Page, server: LiveServer) -> None:
    _signed_in_as(ADMIN, "/admin/audit")(page, server)
    expect(page.get_by_role("table")).to_be_visible()


def visit(
    name: str,
    path: str | None = None,
    steps: Callable[[Page, LiveServer], None] | None = None,
    *,
    status: int = 200,
) -> Any:
    """One page for the accessibility check, as its own test id."""
    return pytest.param(Visit(name, path, steps, status), id=name)


VISITS = [
    visit("home", "/"),
    visit("accessibility", "/accessibility"),
    visit("privacy", "/privacy"),
    visit("sign-in", "/sign-in"),
    visit("sign-in-with-errors", steps=_sign_in_with_wrong_password),
    visit("sign-up", "/sign-up"),
    visit("sign-up-with-errors", "/sign-up", _submit_empty("Continue")),
    visit("sign-up-supported-person", "/sign-up/supported-person"),
    visit(
        "sign-up-supported-person-with-errors",
        "/sign-up/supported-person",
        _submit_empty("Create account"),
    ),
    visit("sign-up-representative", "/sign-up/representative"),
    visit("sign-up-personal-assistant", "/sign-up/personal-assistant"),
    visit("sign-up-provider", "/sign-up/provider"),
    visit("sign-up-provider-with-errors", "/sign-up/provider", _submit_empty("Create account")),
    visit("sign-up-check-email", "/sign-up/check-email"),
    visit("confirm-email", steps=_confirm_email_page),
    visit("email-confirmed", steps=_email_confirmed_page),
    visit("password-reset", "/password-reset"),
    visit("password-reset-with-errors", "/password-reset", _submit_empty("Send the link")),
    visit("password-reset-sent", "/password-reset/sent"),
    visit("password-reset-new-password", steps=_new_password_page),
    visit("signed-out", "/signed-out"),
    visit("outbox", steps=_outbox_with_a_mail),
    visit("outbox-mail", steps=_one_mail),
    visit("not-found", "/no-such-page", status=404),
    visit("find-place", "/places"),
    visit("find-place-answer", "/places?location=Portree"),
    visit("find-place-with-errors", "/places?location=EH999", status=422),
    visit("how-we-place-people", "/about/places"),
    visit("account-supported-person", steps=_person_account_with_representatives_form),
    visit("account-representative", steps=_signed_in_as(REPRESENTATIVE, "/account")),
    visit("account-password", steps=_signed_in_as(PERSON, "/account/password")),
    visit("your-support-person", steps=_signed_in_as(PERSON, "/your-support")),
    visit("your-support-representative", steps=_signed_in_as(REPRESENTATIVE, "/your-support")),
    visit("admin-home", steps=_signed_in_as(ADMIN, "/admin")),
    visit("admin-users", steps=_signed_in_as(ADMIN, "/admin/users")),
    visit("admin-user", steps=_admin_user_page),
    visit("admin-audit", steps=_admin_audit_page),
    visit("forbidden", steps=_signed_in_as(PERSON, "/admin/users", status=403)),
]


@pytest.mark.parametrize("place", VISITS)
def test_the_page_fits_a_phone_and_a_desktop_without_accessibility_violations(
    any_page: Page, live_server: LiveServer, place: Visit
) -> None:
    place.open(any_page, live_server)
    assert_fits_and_accessible(any_page)


def test_places_are_suggested_as_you_type_and_found_without_javascript(
    page: Page, page_no_js: Page, live_server: LiveServer
) -> None:
    page.goto(live_server.url("/places"))
    field = page.get_by_label("Town, village, postcode or coordinates")
    field.press_sequentially("Stor")
    expect(page.locator("#location-suggestions option").first).to_have_attribute(
        "value", "Stornoway"
    )
    field.fill("Stornoway")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#find-place h2")).to_have_text("Stornoway")
    expect(page).to_have_url(re.compile(r"/places\?location=Stornoway$"))

    page_no_js.goto(live_server.url("/places"))
    page_no_js.get_by_label("Town, village, postcode or coordinates").fill("IV51")
    page_no_js.get_by_role("button", name="Find").click()
    expect(page_no_js.locator("#find-place h2")).to_have_text("IV51")
    expect(page_no_js.locator("#find-place")).to_contain_text("Portree")
