"""The providers' journey in chromium against a live server holding the demo data: a
personal assistant signs up, lists their support on one page, declares a PVG membership
that an administrator verifies; a supported person finds the offer and enquires; the
assistant replies and marks it arranged; the person's review shows on the public page.
Then axe-core's checks on every providers page, and each page loaded without JavaScript."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from marketplace.demo import DemoAccount
from tests.browser.conftest import Contexts, LiveServer
from tests.browser.provider_helpers import (
    ADMIN,
    NEW_PA_PASSWORD,
    PERSON,
    STAFF,
    Scene,
    SignedIn,
    build_scene,
    choose,
    expect_error_summary,
    expect_summary_links_to_fields,
    follow_link_in_mail,
    heading,
    main,
    navigate,
    new_personal_assistant,
    open_mail,
    sign_in,
    sign_in_as,
    tick,
    unique_email,
    unique_name,
)
from tests.browser.sweep import assert_fits_and_accessible

pytestmark = pytest.mark.browser

MOST_FIELDS_TO_LIST = 17
"""A one-person business lists itself in minutes: sign-up and listing ask this many things at
most (15, and since issue 10 who the offer suits and what to call it, so searches for
those people find it and its name is the assistant's own)."""
UNKNOWN_PLACE = re.compile(r"^We cannot find a place called Atlantis Bay in Scotland\.")


@pytest.fixture(scope="session")
def scene(live_server: LiveServer) -> Scene:
    return build_scene(live_server)


@pytest.fixture(scope="session")
def signed_in(browser: Browser, live_server: LiveServer) -> SignedIn:
    return SignedIn.on(browser, live_server)


def fields_a_person_fills_in(page: Page, button: str) -> set[str]:
    """The names of the questions on the form with this submit button (a group of radios
    or checkboxes is one question; the hidden CSRF token is none)."""
    form = main(page).locator("form").filter(has=page.get_by_role("button", name=button))
    expect(form).to_have_count(1)
    controls = form.locator("input:not([type=hidden]):not([type=submit]), select, textarea")
    return {name for control in controls.all() if (name := control.get_attribute("name"))}


def submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).click()


# --- the journey -------------------------------------------------------------------------


def test_a_personal_assistant_lists_support_is_verified_enquired_about_arranged_and_reviewed(
    any_page: Page, javascript: bool, live_server: LiveServer, contexts: Contexts
) -> None:
    pa, server = any_page, live_server
    name, email, password = (
        unique_name("Mairi Nicolson"),
        unique_email("mairi"),
        "peat smoke and sea salt",
    )
    asked: set[str] = set()

    # She signs up as a personal assistant.
    pa.goto(server.url("/sign-up"))
    asked |= fields_a_person_fills_in(pa, "Continue")
    choose(pa, "What do you want to use the service for?", "I work as a personal assistant")
    submit(pa, "Continue")
    expect(pa).to_have_url(server.url("/sign-up/personal-assistant"))
    asked |= fields_a_person_fills_in(pa, "Create account")
    pa.get_by_label("Full name").fill(name)
    pa.get_by_label("Email address").fill(email)
    pa.get_by_label("Create a password").fill(password)
    submit(pa, "Create account")
    expect(pa).to_have_url(server.url("/sign-up/check-email"))

    # She confirms her email address from the mail, and signs in.
    open_mail(pa, server, to=email, subject="Confirm your email address")
    follow_link_in_mail(pa, server, "/confirm-email?token=")
    submit(pa, "Confirm my email address")
    expect(heading(pa)).to_have_text("Your email address is confirmed")
    main(pa).get_by_role("link", name="Sign in").click()
    pa.get_by_label("Email address").fill(email)
    pa.get_by_label("Password", exact=True).fill(password)
    submit(pa, "Sign in")
    # Signing in takes her to her listing which, not set up yet, sends her to start it.
    expect(pa).to_have_url(server.url("/provider/start"))
    expect(heading(pa)).to_have_text("Set up your listing")

    # One page lists her support. First with mistakes, all shown at once: no distance and a
    # place we do not know; then the place alone.
    asked |= fields_a_person_fills_in(pa, "Publish my listing")
    assert len(asked) <= MOST_FIELDS_TO_LIST, sorted(asked)
    pa.get_by_label("About you").fill(
        "I have supported older people on Skye for six years. I like walks, baking and a blether."
    )
    pa.get_by_label("Where are you based?").fill("Atlantis Bay")
    pa.get_by_label("How far will you travel, in km?").fill("0")
    choose(pa, "Do you drive?", "Yes")
    expect(pa.get_by_label("English", exact=True)).to_be_checked()
    tick(pa, "Gaelic")
    tick(pa, "Help at home")
    tick(pa, "Getting out and about")
    tick(pa, "Seeing people")
    tick(pa, "Having things to do")
    tick(pa, "Older people")
    pa.get_by_label("What should your offer be called?").fill("Help at home around Portree")
    pa.get_by_label("Your price for an hour").fill("18.50")
    for when in ("Monday morning", "Wednesday afternoon", "Saturday morning"):
        tick(pa, when)
    pa.get_by_label("How many more hours a week can you take on?").fill("12")
    with pa.expect_response(lambda r: r.request.method == "POST") as posted:
        submit(pa, "Publish my listing")
    assert posted.value.status == 422, posted.value.status
    assert (posted.value.request.headers.get("hx-request") == "true") is javascript, (
        "with JavaScript on htmx sends the form; with it off the browser does"
    )
    expect_error_summary(pa, UNKNOWN_PLACE, "Enter a distance of 1 km or more")
    if javascript:
        expect(pa.locator(".ds_error-summary")).to_be_focused()
    expect(pa.get_by_label("Where are you based?")).to_have_value("Atlantis Bay")
    expect(pa.get_by_label("Gaelic", exact=True)).to_be_checked()
    expect(pa.get_by_label("Wednesday afternoon")).to_be_checked()

    pa.get_by_label("How far will you travel, in km?").fill("25")
    submit(pa, "Publish my listing")
    expect_error_summary(pa, UNKNOWN_PLACE)
    expect(pa.get_by_label("How far will you travel, in km?")).to_have_value("25")

    place = pa.get_by_label("Where are you based?")
    if javascript:
        place.fill("")
        place.press_sequentially("Portr")
        expect(pa.locator("#base-suggestions option").first).to_have_attribute("value", "Portree")
    place.fill("Portree")
    submit(pa, "Publish my listing")
    expect(pa).to_have_url(server.url("/provider?done=published"))
    expect(pa.get_by_role("status")).to_contain_text("Your listing is published")
    expect(heading(pa)).to_have_text(name)
    offers = pa.get_by_role("table", name="Your offers")
    expect(offers.get_by_role("row")).to_have_count(2)
    expect(offers).to_contain_text("Help at home around Portree")
    expect(offers).to_contain_text("Published")
    expect(offers).to_contain_text("£18.50")

    # Her public page, reached from the dashboard.
    main(pa).get_by_role("link", name="See your public page").click()
    expect(pa).to_have_url(re.compile(r"/providers/\d+$"))
    public_page = pa.url
    expect(heading(pa)).to_have_text(name)
    expect(main(pa)).to_contain_text("Portree")
    expect(main(pa)).to_contain_text("English, Gaelic")
    pa.get_by_role("link", name="Help at home around Portree").click()
    expect(pa).to_have_url(re.compile(r"/offers/\d+$"))
    offer_page = pa.url

    # She declares her PVG scheme membership: first a number too short.
    pa.goto(server.url("/provider"))
    main(pa).get_by_role("link", name=re.compile("^Your checks")).click()
    expect(pa).to_have_url(server.url("/provider/checks"))
    main(pa).get_by_role("link", name="PVG scheme membership").click()
    expect(pa).to_have_url(server.url("/provider/checks/new/pvg"))
    pvg = pa.get_by_label("PVG scheme membership number")
    pvg.fill("12345")
    submit(pa, "Add")
    expect_error_summary(pa, "Enter the PVG scheme membership number: 16 digits")
    number = f"{uuid.uuid4().int % 10**16:016d}"
    pvg.fill(" ".join(number[i : i + 4] for i in range(0, 16, 4)))  # spaces as on the record
    submit(pa, "Add")
    expect(pa).to_have_url(server.url("/provider/checks?done=declared"))
    checks = pa.get_by_role("table", name="Checks")
    expect(checks.get_by_role("row").filter(has_text="PVG scheme membership")).to_contain_text(
        "Declared"
    )

    # The administrator verifies it, at another computer.
    admin = contexts.new_page("admin")
    sign_in_as(admin, server, ADMIN)
    navigate(admin, "Checks to verify")
    expect(admin).to_have_url(server.url("/admin/checks"))
    # Oldest first, a page at a time: the check just declared is on the last page.
    pages = admin.get_by_role("navigation", name="Pages of checks to verify")
    pages.locator("a[aria-label^='Page']").last.click()
    expect(admin).to_have_url(re.compile(r"/admin/checks\?page=\d+$"))
    last = admin.url.rsplit("=", 1)[1]
    admin.get_by_role("button", name=f"Verify PVG scheme membership for {name}").click()
    expect(admin).to_have_url(server.url(f"/admin/checks?done=verified&page={last}"))
    expect(admin.get_by_role("status")).to_contain_text("Verified")
    expect(
        admin.get_by_role("button", name=f"Verify PVG scheme membership for {name}")
    ).to_have_count(0)

    pa.goto(offer_page)
    verified = (
        pa.get_by_role("table", name="Checks")
        .get_by_role("row")
        .filter(has_text="PVG scheme membership")
    )
    expect(verified).to_contain_text("Verified")
    expect(verified).to_contain_text("Checked by us on")

    # A supported person finds the offer from the assistant's page and enquires.
    person = contexts.new_page("person")
    sign_in_as(person, server, PERSON)
    person.goto(public_page)
    person.get_by_role("link", name="Help at home around Portree").click()
    expect(person).to_have_url(offer_page)
    main(person).get_by_role("link", name="Send an enquiry").click()
    expect(person).to_have_url(offer_page + "/enquire")
    person.get_by_label("How many hours a week of support are needed?").fill("6")
    tick(person, "Monday morning")
    tick(person, "Wednesday afternoon")
    person.get_by_label("Your message").fill(
        "I would like company on walks and help with the shopping."
    )
    submit(person, "Send enquiry")
    expect(person).to_have_url(re.compile(r"/enquiries/\d+\?done=sent$"))
    enquiry_path = re.sub(r"^.*(/enquiries/\d+).*$", r"\1", person.url)
    expect(person.get_by_role("status")).to_contain_text("Your enquiry has been sent")

    # The assistant replies from her enquiries, then marks the support arranged.
    navigate(pa, "Enquiries")
    expect(pa).to_have_url(server.url("/provider/enquiries"))
    pa.get_by_role("table").get_by_role("link", name=PERSON.name).click()
    expect(pa).to_have_url(server.url("/provider" + enquiry_path))
    request = pa.locator(".ds_summary-list").first
    expect(request.locator("li").filter(has_text="Hours a week")).to_contain_text("6 hours")
    expect(request).to_contain_text("Monday: morning")
    expect(request).to_contain_text("Wednesday: afternoon")
    expect(main(pa)).to_contain_text("company on walks")
    pa.get_by_label("Your message").fill(
        "I would be glad to. Shall we meet for a cup of tea first?"
    )
    submit(pa, "Send message")
    expect(pa).to_have_url(server.url(f"/provider{enquiry_path}?done=replied"))
    expect(pa.get_by_role("status")).to_contain_text("Your reply has been sent")
    submit(pa, "Mark as arranged")
    expect(pa).to_have_url(server.url(f"/provider{enquiry_path}?done=arranged"))
    expect(pa.get_by_role("status")).to_contain_text("marked as arranged")
    expect(main(pa)).to_contain_text("That is final")

    # The person reviews the support; the review shows on the assistant's public page.
    person.goto(server.url(enquiry_path))
    expect(main(person)).to_contain_text("a cup of tea first")
    main(person).get_by_role("link", name=f"Review {name}").click()
    expect(person).to_have_url(server.url(enquiry_path + "/review"))
    choose(person, "How well did the support help with what matters to you?", "5: very good")
    choose(person, "How reliable was the support?", "4: good")
    choose(person, "How respectfully were you treated?", "5: very good")
    comment = f"Mairi is patient and great company on our walks ({uuid.uuid4().hex[:6]})."
    person.get_by_label("Tell other people about the support").fill(comment)
    submit(person, "Publish review")
    expect(person).to_have_url(server.url(enquiry_path + "?done=reviewed"))
    expect(person.get_by_role("status")).to_contain_text("Your review has been published")

    person.goto(public_page)
    expect(main(person)).to_contain_text("1 review from people who arranged support")
    expect(main(person).locator("blockquote")).to_have_text(comment)


# --- every providers page: axe-core, and without JavaScript ------------------------------

NEW_PA = "a new personal assistant"


@dataclass(frozen=True)
class Visit:
    """How to reach one page, what its heading says and what it answers. The heading and
    path may name the scene's fields, like "/offers/{offer_id}"."""

    name: str
    heading: str
    path: str
    who: DemoAccount | str | None = None
    """A demo account, NEW_PA, or nobody signed in."""
    steps: Callable[[Page], None] | None = None
    status: int = 200

    def open(self, page: Page, server: LiveServer, scene: Scene, signed_in: SignedIn) -> None:
        if isinstance(self.who, DemoAccount):
            signed_in.enter(page, self.who)
        elif self.who == NEW_PA:
            email, _ = new_personal_assistant(server)
            sign_in(page, server, email, NEW_PA_PASSWORD)
        path = self.path.format_map(asdict(scene))
        response = page.goto(server.url(path))
        assert response is not None and response.status == self.status, (
            path,
            response and response.status,
        )
        if self.steps is not None:
            self.steps(page)
        expect(heading(page)).to_have_text(self.heading.format_map(asdict(scene)))


def _submit_with_errors(button: str) -> Callable[[Page], None]:
    def steps(page: Page) -> None:
        page.get_by_role("button", name=button).click()
        expect_summary_links_to_fields(page)

    return steps


def _listing_with_errors(page: Page) -> None:
    page.get_by_label("Where are you based?").fill("Atlantis Bay")
    page.get_by_label("How far will you travel, in km?").fill("0")
    _submit_with_errors("Publish my listing")(page)


def _pvg_too_short(page: Page) -> None:
    page.get_by_label("PVG scheme membership number").fill("12345")
    _submit_with_errors("Add")(page)


def visit(
    name: str,
    title: str,
    path: str,
    who: DemoAccount | str | None = None,
    steps: Callable[[Page], None] | None = None,
    *,
    status: int = 200,
) -> Any:
    """One page, as its own test id."""
    return pytest.param(Visit(name, title, path, who, steps, status), id=name)


OFFER, PROVIDER, ENQUIRY = "{offer_title}", "{provider_name}", "Enquiry about {offer_title}"
ASK, REVIEW = "Ask about {offer_title}", "Review {provider_name}"

VISITS = [
    visit("dashboard", PROVIDER, "/provider", STAFF),
    visit("listing", "Set up your listing", "/provider/start", NEW_PA),
    visit(
        "listing-with-errors",
        "Set up your listing",
        "/provider/start",
        NEW_PA,
        _listing_with_errors,
    ),
    visit("profile", "Your profile", "/provider/profile", STAFF),
    visit("staff", "Your staff", "/provider/staff", STAFF),
    visit("offer-new", "Add an offer", "/provider/offers/new", STAFF),
    visit(
        "offer-new-with-errors",
        "Add an offer",
        "/provider/offers/new",
        STAFF,
        _submit_with_errors("Save as a draft"),
    ),
    visit("offer-manage", OFFER, "/provider/offers/{offer_id}", STAFF),
    visit("checks", "Your checks", "/provider/checks", STAFF),
    visit("check-pvg", "PVG scheme membership", "/provider/checks/new/pvg", STAFF),
    visit(
        "check-pvg-with-errors",
        "PVG scheme membership",
        "/provider/checks/new/pvg",
        STAFF,
        _pvg_too_short,
    ),
    visit(
        "check-care-inspectorate",
        "Care Inspectorate registration",
        "/provider/checks/new/care-inspectorate",
        STAFF,
    ),
    visit("check-insurance", "Public liability insurance", "/provider/checks/new/insurance", STAFF),
    visit("check-training", "Training certificate", "/provider/checks/new/training", STAFF),
    visit("admin-checks", "Checks to verify", "/admin/checks", ADMIN),
    visit("admin-offers", "Offers to agree", "/admin/offers", ADMIN),
    visit("offer", OFFER, "/offers/{offer_id}"),
    visit("provider", PROVIDER, "/providers/{provider_id}"),
    visit("provider-reviews", "Reviews of {provider_name}", "/providers/{provider_id}/reviews"),
    visit("enquire", ASK, "/offers/{offer_id}/enquire", PERSON),
    visit(
        "enquire-with-errors",
        ASK,
        "/offers/{offer_id}/enquire",
        PERSON,
        _submit_with_errors("Send enquiry"),
    ),
    visit("enquiries", "Your enquiries", "/enquiries", PERSON),
    visit("enquiry", ENQUIRY, "/enquiries/{open_enquiry_id}", PERSON),
    visit("enquiry-reviewed", ENQUIRY, "/enquiries/{reviewed_enquiry_id}", PERSON),
    visit("provider-enquiries", "Enquiries", "/provider/enquiries", STAFF),
    visit("provider-enquiry", ENQUIRY, "/provider/enquiries/{open_enquiry_id}", STAFF),
    visit("review", REVIEW, "/enquiries/{arranged_enquiry_id}/review", PERSON),
    visit(
        "review-with-errors",
        REVIEW,
        "/enquiries/{arranged_enquiry_id}/review",
        PERSON,
        _submit_with_errors("Publish review"),
    ),
    visit("review-reply", "Reply to a review", "/provider/reviews/{review_id}/reply", STAFF),
    visit("admin-reviews", "Reviews", "/admin/reviews", ADMIN),
    visit("places", "Find a place", "/places"),
    visit("about-places", "How we place people and services", "/about/places"),
]


@pytest.mark.parametrize("place", VISITS)
def test_the_providers_page_works_on_a_phone_and_a_desktop_with_and_without_javascript(
    any_page: Page, live_server: LiveServer, scene: Scene, signed_in: SignedIn, place: Visit
) -> None:
    place.open(any_page, live_server, scene, signed_in)
    content = main(any_page).locator(".ds_layout__content")
    expect(content).to_be_visible()
    expect(content).not_to_be_empty()
    assert_fits_and_accessible(any_page)
