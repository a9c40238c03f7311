"""Steps and fixtures for the providers' browser tests: signing in as the demo accounts,
extra browser contexts watched like the fixtures' own pages, and a scene written through
the services (an offer of the demo provider, enquiries to it, a review, a check waiting for
an administrator) for the pages that need something to show."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.db import session_scope
from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount
from marketplace.geography import service as geography_service
from marketplace.mail import Mailer, attach_mailer
from providers import checks as checks_service
from providers import enquiries as enquiries_service
from providers import offers as offers_service
from providers import reviews as reviews_service
from providers import service as providers_service
from providers.check_routes import today
from providers.checks import CheckDetails
from providers.models import (
    AreaType,
    CheckKind,
    Enquiry,
    Offer,
    OfferStatus,
    PriceUnit,
    Provider,
    Taxonomy,
    TaxonomyTerm,
    availability_bit,
)
from providers.offers import Centre, OfferDetails, PriceDetails
from tests.browser.conftest import ACTION_TIMEOUT_MS, LiveServer

PERSON = next(a for a in DEMO_ACCOUNTS if a.role == Role.SUPPORTED_PERSON)
STAFF = next(a for a in DEMO_ACCOUNTS if a.role == Role.PROVIDER_STAFF)
ADMIN = next(a for a in DEMO_ACCOUNTS if a.role == Role.ADMIN)
NEW_PA_PASSWORD = "skye ferry at dawn 2026"


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.org"


def unique_name(name: str) -> str:
    """A name no other run uses, so a row or button can be told apart by it."""
    return f"{name} {uuid.uuid4().hex[:6]}"


# --- steps -------------------------------------------------------------------------------


def main(page: Page) -> Locator:
    return page.get_by_role("main")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def sign_in(page: Page, server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form and land where the account's role starts (providers on
    their listing, people on their own page, and so on)."""
    page.goto(server.url("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_text("Signed in as")).to_be_visible()


def sign_in_as(page: Page, server: LiveServer, account: DemoAccount) -> None:
    sign_in(page, server, account.email, DEMO_PASSWORD)


def navigate(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()


def open_mail(page: Page, server: LiveServer, *, to: str, subject: str) -> None:
    """Open the newest mail to `to` from the development outbox, as a developer would."""
    page.goto(server.url("/dev/outbox"))
    newest = page.get_by_role("row").filter(has_text=to).first
    newest.get_by_role("link", name=subject).click()
    expect(heading(page)).to_have_text(subject)


def follow_link_in_mail(page: Page, server: LiveServer, path_prefix: str) -> None:
    link = page.locator(".app-mail-body a").filter(has_text=server.url(path_prefix))
    expect(link).to_have_count(1)
    link.click()


def choose(scope: Page | Locator, group: str, option: str) -> None:
    """Pick a radio in a named group as a person does: by clicking its label (the design
    system draws its own radio over the label)."""
    fieldset = scope.get_by_role("group", name=group, exact=True)
    fieldset.locator("label").filter(has_text=option).first.click()
    expect(fieldset.get_by_label(option, exact=True)).to_be_checked()


def tick(scope: Page | Locator, label: str) -> None:
    """Tick a box by clicking its label, as a person does: the design system draws the box
    in the label, over the input."""
    box = scope.get_by_label(label, exact=True)
    scope.locator(f"label[for='{box.get_attribute('id')}']").click()
    expect(box).to_be_checked()


def expect_error_summary(page: Page, *messages: str) -> None:
    """The design system's error summary, listing exactly these messages as links."""
    summary = page.locator(".ds_error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(list(messages))
    expect_summary_links_to_fields(page)


def expect_summary_links_to_fields(page: Page) -> None:
    """Each link in the error summary goes to a field on the page, and the title says
    "Error: " (htmx sets the title in the same task as the swap, so it is final by now)."""
    summary = page.locator(".ds_error-summary")
    expect(summary).to_be_visible()
    for link in summary.get_by_role("link").all():
        target = link.get_attribute("href") or ""
        assert target.startswith("#"), target
        expect(page.locator(f"[id='{target[1:]}']")).to_have_count(1)
    assert page.title().startswith("Error: "), page.title()


class SignedIn:
    """Each demo account signed in once through the form, in a browser context of its own;
    a page's context then takes its cookies instead of signing in again."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.browser, self.server = browser, server
        self._cookies: dict[str, list[Any]] = {}

    @classmethod
    def on(cls, browser: Browser | None, server: LiveServer) -> SignedIn:
        """The one for this browser and server, shared by every test of the run."""
        assert browser is not None
        key = (id(browser), server.base_url)
        if key not in _SIGNED_IN:
            _SIGNED_IN[key] = cls(browser, server)
        return _SIGNED_IN[key]

    def enter(self, page: Page, account: DemoAccount) -> None:
        if account.email not in self._cookies:
            context = self.browser.new_context(java_script_enabled=False)
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            sign_in_as(context.new_page(), self.server, account)
            self._cookies[account.email] = context.cookies()
            context.close()
        page.context.add_cookies(self._cookies[account.email])


_SIGNED_IN: dict[tuple[int, str], SignedIn] = {}


# --- a scene for the pages that need something to show ----------------------------------


@dataclass(frozen=True)
class Scene:
    """Ids of what the pages show, written through the services in the live server's
    database. The demo provider's offer is one of the demo's own when it has a published,
    priced one, and made here otherwise."""

    provider_id: int
    provider_name: str
    offer_id: int
    offer_title: str
    open_enquiry_id: int
    """Replied to by the provider, not arranged or declined."""
    arranged_enquiry_id: int
    """Arranged, not reviewed yet."""
    reviewed_enquiry_id: int
    review_id: int
    """Published, not replied to."""


def _demo_offer(session: Session, provider: Provider, staff: User) -> Offer:
    published = [
        o for o in provider.offers if o.status == OfferStatus.PUBLISHED and o.price is not None
    ]
    if published:
        return min(published, key=lambda o: o.id)
    terms = {(t.taxonomy, t.code): t.id for t in session.scalars(select(TaxonomyTerm))}
    offer = offers_service.create_offer(
        session,
        provider=provider,
        actor=staff,
        details=OfferDetails(
            title="Days out and help at home around Inverness",
            description="Trips, shopping and a hand about the house, from a small local team.",
            term_ids=[
                terms[(Taxonomy.KIND_OF_SUPPORT, "help-at-home")],
                terms[(Taxonomy.PERSONAL_OUTCOME, "seeing-people")],
            ],
            area_type=AreaType.RADIUS,
            centre=Centre.of(geography_service.resolve_location(session, text="Inverness")),
            radius_km=20,
            availability=availability_bit(0, 0) | availability_bit(2, 1),
            capacity_amount=15,
        ),
    )
    offers_service.set_price(
        session,
        offer=offer,
        actor=staff,
        details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2400),
    )
    offers_service.publish_offer(session, offer=offer, actor=staff)
    return offer


def build_scene(server: LiveServer) -> Scene:
    with session_scope(server.sessions) as session:
        attach_mailer(session, Mailer(server.settings))
        staff = accounts_service.find_user_by_email(session, STAFF.email)
        person = accounts_service.find_user_by_email(session, PERSON.email)
        assert staff is not None and person is not None
        provider = providers_service.providers_of(session, user=staff)[0]
        offer = _demo_offer(session, provider, staff)
        # A check waiting for an administrator, so the queue has one to show.
        checks_service.declare_check(
            session,
            provider=provider,
            actor=staff,
            details=CheckDetails(
                kind=CheckKind.TRAINING,
                reference=f"Moving and handling {uuid.uuid4().hex[:6]}",
                issuer="Highland Care Training",
            ),
            today=today(),
        )

        def enquiry(message: str, *, answer: str) -> Enquiry:
            sent = enquiries_service.send_enquiry(
                session,
                offer=offer,
                sender=person,
                person=None,
                minutes_per_week=6 * 60,
                availability=availability_bit(1, 0) | availability_bit(3, 1),
                message=message,
            )
            enquiries_service.reply(session, enquiry=sent, author=staff, body=answer)
            return sent

        open_enquiry = enquiry(
            "Could you help me get to the shops on Tuesday mornings?",
            answer="Yes, we could. Shall we meet first?",
        )
        arranged = enquiry(
            "I would like help at home on Thursday afternoons.", answer="We can start next week."
        )
        enquiries_service.mark_arranged(session, enquiry=arranged, actor=staff)
        reviewed = enquiry(
            "Could someone come with me to the lunch club?", answer="Gladly, on Fridays."
        )
        enquiries_service.mark_arranged(session, enquiry=reviewed, actor=staff)
        review = reviews_service.leave_review(
            session,
            enquiry=reviewed,
            author=person,
            ratings=reviews_service.Ratings(outcomes=5, reliability=4, respect=5),
            comment="Kind, on time and good company at the lunch club.",
        )
        session.flush()
        return Scene(
            provider_id=provider.id,
            provider_name=provider.name,
            offer_id=offer.id,
            offer_title=offer.title,
            open_enquiry_id=open_enquiry.id,
            arranged_enquiry_id=arranged.id,
            reviewed_enquiry_id=reviewed.id,
            review_id=review.id,
        )


def new_personal_assistant(server: LiveServer) -> tuple[str, str]:
    """A confirmed personal assistant with no listing yet: (email, name)."""
    email, name = unique_email("pa"), unique_name("Kirsty Macleod")
    server.create_user(
        email=email, name=name, role=Role.PERSONAL_ASSISTANT, password=NEW_PA_PASSWORD
    )
    return email, name


def describe_violations(violations: list[dict]) -> str:
    """axe-core's violations, each with its help and the elements it found, for a failure message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']}")
        lines.append(f"    {violation.get('helpUrl', '')}")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + summary.replace("\n", "\n      "))
    return "\n".join(lines)
