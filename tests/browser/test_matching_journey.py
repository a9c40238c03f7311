"""Journey 1 in chromium against a live server: a person in a remote rural place (Lairg, in
Sutherland) finds the support that reaches them, narrows it, shortlists three offers,
compares them side by side and enquires; another person posts a need that a personal
assistant answers. Run with JavaScript on and off, once with the keyboard alone, and with
axe-core's checks on every page the journeys pass through."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import make_hasher
from marketplace.db import session_scope
from marketplace.geography import service as geography_service
from marketplace.mail import Mailer, attach_mailer
from providers import checks as checks_service
from providers import offers as offers_service
from providers import service as providers_service
from providers.check_routes import today
from providers.checks import CheckDetails
from providers.models import (
    AreaType,
    CheckKind,
    PriceUnit,
    Provider,
    ProviderKind,
    Taxonomy,
    TaxonomyTerm,
    availability_bit,
)
from providers.offers import OfferDetails, PriceDetails
from tests.browser.conftest import Contexts, LiveServer
from tests.browser.provider_helpers import (
    PERSON,
    describe_violations,
    heading,
    main,
    sign_in,
    tick,
    unique_email,
)
from tests.browser.sweep import assert_fits_and_accessible
from tests.factories import verify_provider

pytestmark = pytest.mark.browser

PLACE = "Lairg"
PASSWORD = "machair and the long light"
WEEKDAY_DAYTIMES = sum(availability_bit(day, period) for day in range(5) for period in (0, 1))
HOURS = 6


@dataclass(frozen=True)
class Market:
    """Offers around Lairg, written through the services; titles unique to this run."""

    personal_assistant: str
    """Her offer's title: personal care and getting out, £17.00 an hour."""
    fund_holder: str
    """A micro-provider that holds individual service funds: £24.00 an hour and an 8 % fee."""
    registered: str
    """A registered provider in Dornoch: £27.00 an hour."""
    housing: str
    """Housing support only, so it goes when the person asks for personal care."""
    pa_email: str
    pa_name: str

    @property
    def personal_care(self) -> list[str]:
        return [self.personal_assistant, self.fund_holder, self.registered]


def _publish(
    session: Session,
    provider: Provider,
    actor: User,
    *,
    title: str,
    kinds: list[int],
    outcomes: list[int],
    base: str,
    radius_km: float,
    rate_pence: int,
    fee_bp: int | None = None,
) -> None:
    """Publish an offer of `rate_pence` an hour (and `fee_bp` basis points of management fee)
    reaching `radius_km` around `base`."""
    location = geography_service.resolve_location(session, text=base)
    offer = offers_service.create_offer(
        session,
        provider=provider,
        actor=actor,
        details=OfferDetails(
            title=title,
            description="Support around Lairg and the villages near it.",
            term_ids=kinds + outcomes,
            area_type=AreaType.RADIUS,
            centre=offers_service.Centre.of(location),
            radius_km=radius_km,
            availability=WEEKDAY_DAYTIMES,
            capacity_amount=12,
        ),
    )
    offers_service.set_price(
        session,
        offer=offer,
        actor=actor,
        details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=rate_pence, management_fee_bp=fee_bp),
    )
    offers_service.publish_offer(session, offer=offer, actor=actor)


def build_market(server: LiveServer) -> Market:
    suffix = uuid.uuid4().hex[:6]
    titles = {
        "pa": f"Care and company around Lairg {suffix}",
        "fund": f"Home care from Sutherland Community Care {suffix}",
        "registered": f"Personal care from Dornoch {suffix}",
        "housing": f"Keeping your tenancy {suffix}",
    }
    pa_email, pa_name = unique_email("eilidh"), f"Eilidh Mackay {suffix}"
    hasher = make_hasher("cheapest")
    with session_scope(server.sessions) as session:
        attach_mailer(session, Mailer(server.settings))
        terms = {(t.taxonomy, t.code): t.id for t in session.scalars(select(TaxonomyTerm))}

        def ids(taxonomy: Taxonomy, *codes: str) -> list[int]:
            return [terms[(taxonomy, code)] for code in codes]

        care = ids(Taxonomy.KIND_OF_SUPPORT, "personal-care")
        pa_user = accounts_service.create_user(
            session,
            hasher=hasher,
            email=pa_email,
            name=pa_name,
            role=Role.PERSONAL_ASSISTANT,
            password=PASSWORD,
            confirmed=True,
        )
        pa = providers_service.start_personal_assistant(session, user=pa_user)
        providers_service.set_base(
            session, pa, geography_service.resolve_location(session, text=PLACE)
        )
        _publish(
            session,
            pa,
            pa_user,
            title=titles["pa"],
            kinds=care + ids(Taxonomy.KIND_OF_SUPPORT, "getting-out-and-about"),
            outcomes=ids(Taxonomy.PERSONAL_OUTCOME, "feeling-safe", "seeing-people"),
            base=PLACE,
            radius_km=25,
            rate_pence=1700,
        )

        def organisation(name: str, kind: ProviderKind, base: str) -> tuple[Provider, User]:
            owner = accounts_service.create_user(
                session,
                hasher=hasher,
                email=unique_email("staff"),
                name=f"{name} staff",
                role=Role.PROVIDER_STAFF,
                password=PASSWORD,
                confirmed=True,
            )
            provider = providers_service.create_provider(
                session, name=f"{name} {suffix}", kind=kind, owner=owner
            )
            providers_service.set_base(
                session, provider, geography_service.resolve_location(session, text=base)
            )
            return provider, owner

        fund, fund_owner = organisation(
            "Sutherland Community Care", ProviderKind.MICRO_PROVIDER, "Golspie"
        )
        fund.holds_isf = True
        _publish(
            session,
            fund,
            fund_owner,
            title=titles["fund"],
            kinds=care + ids(Taxonomy.KIND_OF_SUPPORT, "help-at-home"),
            outcomes=ids(Taxonomy.PERSONAL_OUTCOME, "living-where-you-want"),
            base="Golspie",
            radius_km=40,
            rate_pence=2400,
            fee_bp=800,
        )
        registered, registered_owner = organisation(
            "Dornoch Care Partnership", ProviderKind.REGISTERED_PROVIDER, "Dornoch"
        )
        check = checks_service.declare_check(
            session,
            provider=registered,
            actor=registered_owner,
            details=CheckDetails(kind=CheckKind.CARE_INSPECTORATE, reference="CS2019301234"),
            today=today(),
        )
        admin = accounts_service.find_user_by_email(session, "admin@example.org")
        assert admin is not None
        checks_service.verify_check(session, check=check, admin=admin)
        verify_provider(session, pa, admin=admin)  # posted needs reach only verified providers
        _publish(
            session,
            registered,
            registered_owner,
            title=titles["registered"],
            kinds=care,
            outcomes=ids(Taxonomy.PERSONAL_OUTCOME, "feeling-safe"),
            base="Dornoch",
            radius_km=45,
            rate_pence=2700,
        )
        housing, housing_owner = organisation(
            "Highland Homes Support", ProviderKind.MICRO_PROVIDER, "Lairg"
        )
        _publish(
            session,
            housing,
            housing_owner,
            title=titles["housing"],
            kinds=ids(Taxonomy.KIND_OF_SUPPORT, "housing-support"),
            outcomes=ids(Taxonomy.PERSONAL_OUTCOME, "living-where-you-want"),
            base=PLACE,
            radius_km=30,
            rate_pence=2000,
        )
    return Market(
        personal_assistant=titles["pa"],
        fund_holder=titles["fund"],
        registered=titles["registered"],
        housing=titles["housing"],
        pa_email=pa_email,
        pa_name=pa_name,
    )


@pytest.fixture(scope="session")
def market(live_server: LiveServer) -> Market:
    return build_market(live_server)


def no_accessibility_violations(page: Page) -> None:
    result = Axe().run(page)
    assert result.violations_count == 0, (
        f"axe-core found {result.violations_count} violation(s) on {page.url}:\n"
        + describe_violations(result.response["violations"])
    )


def result_titles(page: Page) -> list[str]:
    return [
        title.strip()
        for title in page.locator("#search-results .ds_search-result__title").all_inner_texts()
    ]


def result(page: Page, title: str) -> Locator:
    return page.locator(".ds_search-result").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def search(page: Page) -> None:
    page.get_by_role("button", name="Search", exact=True).click()


# --- journey 1 -----------------------------------------------------------------------------


def test_a_person_in_a_remote_place_finds_narrows_shortlists_compares_and_enquires(
    any_page: Page, javascript: bool, live_server: LiveServer, market: Market
) -> None:
    page, server = any_page, live_server

    # Where they live and what would help.
    page.goto(server.url("/"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find support").click()
    expect(heading(page)).to_have_text("Find support")
    page.get_by_label("Where do you live?").fill(PLACE)
    tick(page, "Personal care")
    page.get_by_label("How many hours of support a week?").fill(str(HOURS))
    search(page)
    expect(page.locator("#search-summary")).to_contain_text(f"near {PLACE}")
    found = result_titles(page)
    assert set(market.personal_care) <= set(found)
    assert market.housing not in found
    # The address holds the search, so it can be shared; with htmx too (pushed).
    expect(page).to_have_url(
        re.compile(r"/find-support\?.*location=Lairg.*kinds_of_support=personal-care")
    )
    pa_result = result(page, market.personal_assistant)
    expect(pa_result).to_contain_text("£17.00 an hour")
    expect(pa_result).to_contain_text(f"£102.00 a week for {HOURS} hours")
    if javascript:
        no_accessibility_violations(page)

    # Why one is ranked where it is: a page of its own, which fits a phone, and back.
    why = re.compile(r"^Why it is ranked here\s*: " + re.escape(market.personal_assistant) + "$")
    pa_result.get_by_role("link", name=why).click()
    expect(heading(page)).to_have_text(f"Why {market.personal_assistant} is ranked here")
    expect(page.get_by_role("table")).to_contain_text("Distance")
    expect(page.get_by_role("table")).to_contain_text("Gives the kind of support you chose")
    size = page.viewport_size
    assert_fits_and_accessible(page)
    if size is not None:
        page.set_viewport_size(size)
    page.get_by_role("link", name="Back to your results").click()
    expect(page.locator("#search-summary")).to_contain_text(f"near {PLACE}")
    expect(result(page, market.personal_assistant)).to_be_visible()

    # Only providers who can hold their fund.
    page.get_by_text("More ways to narrow the results").click()
    tick(page, "Only providers who can hold an individual service fund (Option 2)")
    search(page)
    # With htmx the results change in place; wait for them as a person would look.
    expect(result(page, market.personal_assistant)).to_have_count(0)
    expect(result(page, market.registered)).to_have_count(0)
    expect(result(page, market.fund_holder)).to_have_count(1)
    expect(result(page, market.fund_holder)).to_contain_text(
        "including a management fee of £11.52 (8%)"
    )

    # Back to everyone (the narrowing stays open while a filter in it is used), and three
    # on the shortlist.
    isf = page.get_by_label("Only providers who can hold an individual service fund (Option 2)")
    page.locator(f"label[for='{isf.get_attribute('id')}']").click()
    expect(isf).not_to_be_checked()
    search(page)
    expect(result(page, market.personal_assistant)).to_have_count(1)
    for title in market.personal_care:
        offer = result(page, title)
        offer.get_by_role("button", name=f"Add {title} to shortlist").click()
        expect(result(page, title).get_by_text("Added to your shortlist")).to_be_visible()

    # Side by side.
    result(page, market.registered).get_by_role("link", name="See your shortlist").click()
    expect(heading(page)).to_have_text("Your shortlist")
    if javascript:
        no_accessibility_violations(page)
    for title in market.personal_care:
        tick(page, f"Compare {title}")
    page.get_by_label("Where do you live? (optional)").fill(PLACE)
    page.get_by_label("How many hours of support a week? (optional)").fill(str(HOURS))
    page.get_by_role("button", name="Compare the offers you ticked").click()
    expect(heading(page)).to_have_text("Compare offers")
    table = main(page).locator("table")
    for title in market.personal_care:
        expect(table.get_by_role("columnheader").filter(has_text=title)).to_have_count(1)
    totals = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Total a week"))
    for total in ("£102.00", "£155.52", "£162.00"):
        expect(totals).to_contain_text(total)
    expect(
        table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Distance from you"))
    ).to_contain_text("km")
    if javascript:
        no_accessibility_violations(page)

    # Enquire: signing in on the way, and the shortlist comes along.
    table.get_by_role("link", name=f"Send an enquiry about {market.personal_assistant}").click()
    expect(heading(page)).to_have_text("Sign in")
    page.get_by_label("Email address").fill(PERSON.email)
    page.get_by_label("Password", exact=True).fill("demo-password-2026")
    page.get_by_role("button", name="Sign in").click()
    # The place and hours come along from the comparison: nothing to type again.
    expect(page).to_have_url(re.compile(rf"/offers/\d+/enquire\?location={PLACE}&hours={HOURS}$"))
    expect(page.get_by_label("How many hours a week of support are needed?")).to_have_value(
        str(HOURS)
    )
    expect(page.locator("#week-total")).to_contain_text("Total a week: £102.00")
    tick(page, "Tuesday morning")
    page.get_by_label("Your message").fill(
        "Could you help me get up and ready on Tuesday mornings?"
    )
    page.get_by_role("button", name="Send enquiry").click()
    expect(page.get_by_text("Your enquiry has been sent")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your shortlist").click()
    for title in market.personal_care:
        expect(main(page).get_by_role("link", name=title, exact=True)).to_be_visible()


# --- the same search with the keyboard alone ------------------------------------------------


def tab_to(page: Page, target: Locator, *, most: int = 250) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through the page."""
    for _ in range(most):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {target}")


def test_the_search_and_the_shortlist_work_with_the_keyboard_alone(
    any_page: Page, javascript: bool, live_server: LiveServer, market: Market
) -> None:
    page = any_page
    page.goto(live_server.url("/find-support"))
    tab_to(page, page.get_by_label("Where do you live?"))
    page.keyboard.type(PLACE)
    tab_to(page, page.get_by_label("Personal care", exact=True))
    page.keyboard.press("Space")
    expect(page.get_by_label("Personal care", exact=True)).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Search", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator("#search-summary")).to_contain_text(f"near {PLACE}")
    add = page.get_by_role("button", name=f"Add {market.registered} to shortlist")
    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(result(page, market.registered).get_by_text("Added to your shortlist")).to_be_visible()
    remove = page.get_by_role("button", name=f"Remove {market.registered} from your shortlist")
    if javascript:
        # htmx swapped only the button's region: the keyboard is still where it was.
        expect(remove).to_be_focused()
    tab_to(page, remove)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=f"Add {market.registered} to shortlist")).to_be_visible()


# --- a posted need, answered --------------------------------------------------------------


def test_a_person_posts_a_need_that_a_personal_assistant_answers(
    any_page: Page, javascript: bool, live_server: LiveServer, market: Market, contexts: Contexts
) -> None:
    person, server = any_page, live_server
    email = unique_email("morag")
    server.create_user(
        email=email, name="Morag Sinclair", role=Role.SUPPORTED_PERSON, password=PASSWORD
    )
    sign_in(person, server, email, PASSWORD)
    person.get_by_role("navigation", name="Main").get_by_role("link", name="Your needs").click()
    main(person).get_by_role("link", name="Post a need").first.click()
    expect(heading(person)).to_have_text("Post a need")
    if javascript:
        no_accessibility_violations(person)
    person.get_by_label("Where is the support needed?").fill(PLACE)
    tick(person, "Personal care")
    tick(person, "Feeling safe")
    tick(person, "Monday morning")
    person.get_by_label("How many hours a week of support are needed?").fill("4")
    description = "Help to get washed and dressed, and a chat over breakfast."
    person.get_by_label("Describe the support you need").fill(description)
    person.get_by_role("button", name="Post your need").click()
    expect(heading(person)).to_contain_text(f"near {PLACE}")
    need_url = person.url
    if javascript:
        no_accessibility_violations(person)

    pa = contexts.new_page("personal assistant")
    sign_in(pa, server, market.pa_email, PASSWORD)
    pa.get_by_role("navigation", name="Main").get_by_role("link", name="Needs near you").click()
    expect(heading(pa)).to_have_text("Needs near you")
    if javascript:
        no_accessibility_violations(pa)
    main(pa).get_by_role("link", name=f"Personal care near {PLACE}").first.click()
    # What the person wrote stays with them until they share it with this provider.
    expect(main(pa)).to_contain_text("has not shared what they wrote")
    expect(main(pa)).not_to_contain_text(description)
    expect(main(pa)).not_to_contain_text("Morag")
    if javascript:
        no_accessibility_violations(pa)
    pa.get_by_label("Which of your offers would you use?").select_option(
        label=market.personal_assistant
    )
    pa.get_by_label("Your message").fill(
        "I live in Lairg and could come on Monday mornings from next week."
    )
    pa.get_by_role("button", name="Send response").click()
    expect(main(pa)).to_contain_text("I live in Lairg and could come on Monday mornings")

    person.goto(need_url)
    expect(main(person)).to_contain_text(market.pa_name)
    expect(main(person)).to_contain_text("I live in Lairg and could come on Monday mornings")
    main(person).get_by_role(
        "button", name=f"Share my details with this provider ({market.pa_name})"
    ).click()
    expect(main(person)).to_contain_text(f"{market.pa_name} can read what you wrote")
    pa_need_url = pa.url
    pa.goto(pa_need_url)
    expect(main(pa)).to_contain_text(description)
    enquire = main(person).get_by_role("link", name=f"Send an enquiry to {market.pa_name}")
    expect(enquire).to_be_visible()
    if javascript:
        no_accessibility_violations(person)


# --- pages without a journey of their own ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/about/ranking", "How we rank"),
        ("/about/prices", "How we compare prices"),
        ("/about/needs", "Who sees a posted need"),
        ("/shortlist", "Your shortlist"),
        ("/find-support", "Find support"),
        ("/find-support?location=Inverness&hours=6", "Find support"),
        ("/find-support?location=Atlantis+Bay&hours=0", "Find support"),
        (
            f"/find-support?location={PLACE}&kinds_of_support=overnight-support&max_price=1",
            "Find support",
        ),
    ],
)
def test_the_matching_page_fits_a_phone_and_a_desktop_without_accessibility_violations(
    any_page: Page, live_server: LiveServer, path: str, title: str
) -> None:
    any_page.goto(live_server.url(path))
    expect(heading(any_page)).to_contain_text(title)
    assert_fits_and_accessible(any_page)
