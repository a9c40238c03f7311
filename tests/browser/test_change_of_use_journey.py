"""Change of use, end to end in a browser, with JavaScript on and off: Morag Lindsay asks to
move £300 from a line of her plan to a new offer and sees what it would do before sending;
the council's budget holder approves it within their authority; a larger request goes to the
resource allocation panel, which declines it with reasons at a sitting; Morag asks for a
review; a purchase she asks for is approved on conditions she reads on her fund's page, and
the fund's holder records what it paid on the new line. Every page on the way fits a phone
and a desktop with no axe-core findings."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from contracts.funds import service as funds
from contracts.funds.models import BudgetLineKind, FundStatus
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.db import session_scope
from marketplace.demo import DEMO_ACCOUNTS
from providers.models import Offer, OfferStatus, PriceUnit
from tests.browser.conftest import Contexts, LiveServer
from tests.browser.provider_helpers import SignedIn, choose, heading
from tests.browser.sweep import assert_fits_and_accessible

PERSON = next(a for a in DEMO_ACCOUNTS if a.role == Role.SUPPORTED_PERSON)
BUDGET_HOLDER = next(a for a in DEMO_ACCOUNTS if a.role == Role.BUDGET_HOLDER)
PANEL_MEMBER = next(a for a in DEMO_ACCOUNTS if a.role == Role.PANEL_MEMBER)


@dataclass(frozen=True)
class MoragsPlan:
    fund_id: int
    line_title: str
    """A weekly line of her plan with more than enough left to move from."""
    offer_id: int
    """A published hourly offer of another provider, to pay for instead."""


@pytest.fixture(scope="module")
def morags_plan(live_server: LiveServer) -> MoragsPlan:
    with session_scope(live_server.sessions, write=False) as session:
        person = accounts_service.find_user_by_email(session, PERSON.email)
        assert person is not None
        fund = next(f for f in funds.funds_for(session, user=person))
        assert fund.status == FundStatus.ACTIVE
        line = max(
            (line for line in fund.lines if line.kind == BudgetLineKind.OFFER),
            key=lambda line: line.weekly_pence or 0,
        )
        offer = session.scalars(
            select(Offer)
            .where(Offer.status == OfferStatus.PUBLISHED, Offer.provider_id != fund.holder_id)
            .order_by(Offer.id)
        )
        hourly = next(o for o in offer if o.price is not None and o.price.unit == PriceUnit.HOUR)
        return MoragsPlan(fund.id, line.title, hourly.id)


@pytest.fixture
def signed_in(browser: Browser, live_server: LiveServer) -> SignedIn:
    return SignedIn.on(browser, live_server)


def ask_for(page: Page, server: LiveServer, fund_id: int, kind: str) -> None:
    page.goto(server.url(f"/funds/{fund_id}/changes"))
    page.get_by_role("link", name="Ask for a change of use").click()
    expect(heading(page)).to_have_text("Ask for a change of use")
    choose(page, "What would you like to change?", kind)
    page.get_by_role("button", name="Continue").click()
    assert_fits_and_accessible(page)


def first_outcome(page: Page) -> None:
    """Tick the first outcome of the plan, by its label as a person does."""
    outcomes = page.get_by_role("group", name="Which outcomes does it serve?")
    outcomes.locator("label").first.click()
    expect(outcomes.locator("input").first).to_be_checked()


def send(page: Page) -> str:
    """See the preview, send, and land on the request's page: its address."""
    page.get_by_role("button", name="See what it would do").click()
    expect(page.get_by_role("heading", name="What it would do")).to_be_visible()
    assert_fits_and_accessible(page)
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("status")).to_contain_text("Your request is sent")
    assert_fits_and_accessible(page)
    return page.url.split("?")[0]


def test_a_move_to_a_new_offer_is_approved_and_a_larger_request_is_declined_then_reviewed(
    any_page: Page,
    contexts: Contexts,
    live_server: LiveServer,
    signed_in: SignedIn,
    morags_plan: MoragsPlan,
) -> None:
    fund_id = morags_plan.fund_id
    words = f"I would like an art class in the village hall ({uuid.uuid4().hex[:6]})"
    person = any_page
    signed_in.enter(person, PERSON)

    # Morag asks to pay for another offer with £300 of a line she uses less.
    ask_for(person, live_server, fund_id, "Pay for another offer")
    person.get_by_label("Which offer?").fill(str(morags_plan.offer_id))
    person.get_by_label("How many hours a week?").fill("1")
    person.locator("label[for='when-1-1']").click()
    person.get_by_label("Take money from another line (optional)").select_option(
        label=morags_plan.line_title
    )
    person.get_by_label("How much from that line? (optional)").fill("300")
    first_outcome(person)
    person.get_by_label("Why? In your own words").fill(words)
    person.get_by_role("button", name="See what it would do").click()
    preview = person.locator("section.app-preview")
    expect(preview).to_contain_text("Projected at the end of the period")
    expect(preview).to_contain_text("A budget holder at the council")
    assert_fits_and_accessible(person)
    person.get_by_role("button", name="Send the request").click()
    expect(person.get_by_role("status")).to_contain_text("Your request is sent")
    first = person.url.split("?")[0]

    # The budget holder finds it in the queue, by its deadline, and approves it.
    holder = contexts.new_page("budget holder")
    signed_in.enter(holder, BUDGET_HOLDER)
    holder.goto(live_server.url("/"))
    holder.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Change-of-use requests"
    ).click()
    expect(heading(holder)).to_have_text("Change-of-use requests")
    assert_fits_and_accessible(holder)
    holder.locator(".app-delivery", has_text=words).get_by_role("link").click()
    assert_fits_and_accessible(holder)
    choose(holder, "What do you decide?", "Approve it")
    holder.get_by_role("button", name="Record the decision").click()
    expect(holder.get_by_role("status")).to_contain_text("Approved")

    person.goto(first)
    expect(person.locator(".ds_summary-list")).to_contain_text("Approved")

    # A larger purchase is above the budget holder's authority: the panel decides it.
    ask_for(person, live_server, fund_id, "A one-off purchase")
    person.get_by_label("What is to be bought?").fill("A powered wheelchair for the beach")
    person.get_by_label("What does it cost?").fill("1600")
    person.get_by_label("Take money from another line (optional)").select_option(
        label=morags_plan.line_title
    )
    person.get_by_label("How much from that line? (optional)").fill("1600")
    first_outcome(person)
    person.get_by_label("Why? In your own words").fill("To get onto the sand at Achmelvich")
    second = send(person)
    expect(person.locator(".ds_summary-list")).to_contain_text("Resource allocation panel")

    # The panel records its sitting and declines it, with reasons.
    panel = contexts.new_page("panel member")
    signed_in.enter(panel, PANEL_MEMBER)
    panel.goto(live_server.url("/changes/sittings"))
    panel.get_by_label("Who sat").fill("Kirsty Fraser (chair)\nA finance officer")
    panel.get_by_role("button", name="Record the sitting").click()
    expect(panel.get_by_role("status")).to_contain_text("The sitting is recorded")
    panel.goto(second)
    assert_fits_and_accessible(panel)
    choose(panel, "What do you decide?", "Decline it")
    panel.get_by_label("At which sitting of the panel?").select_option(index=1)
    panel.get_by_role("button", name="Record the decision").click()
    # Without reasons it is refused, and says so by the box.
    expect(panel.locator("#reasons-error")).to_be_visible()
    assert_fits_and_accessible(panel)
    choose(panel, "What do you decide?", "Decline it")
    panel.get_by_label("At which sitting of the panel?").select_option(index=1)
    panel.get_by_label("Reasons, if you decline it").fill(
        "The council's equipment service lends beach wheelchairs"
    )
    panel.get_by_role("button", name="Record the decision").click()
    expect(panel.get_by_role("status")).to_contain_text("Declined")

    # Morag reads the reasons and asks for a review by someone else.
    person.goto(second)
    expect(person.locator(".ds_summary-list")).to_contain_text("equipment service lends")
    person.get_by_label("Why should it be looked at again?").fill(
        "The loan is for a day; I go every week in summer"
    )
    person.get_by_role("button", name="Ask for a review").click()
    expect(person.get_by_role("status")).to_contain_text("Your request for a review is sent")
    expect(person.locator(".ds_summary-list")).to_contain_text(re.compile("a review of"))
    assert_fits_and_accessible(person)


HOLDER = next(a for a in DEMO_ACCOUNTS if a.role == Role.PROVIDER_STAFF)
"""Staff of the provider that holds Morag's fund: it records what it buys for her."""


def a_receipt(tmp_path: Path) -> Path:
    receipt = tmp_path / "receipt.png"
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, "PNG")
    receipt.write_bytes(out.getvalue())
    return receipt


def test_an_approved_purchase_is_offered_to_its_holder_bought_and_shown_on_her_fund(
    any_page: Page,
    contexts: Contexts,
    live_server: LiveServer,
    signed_in: SignedIn,
    morags_plan: MoragsPlan,
    tmp_path: Path,
) -> None:
    fund_id = morags_plan.fund_id
    stool = f"A shower stool ({uuid.uuid4().hex[:6]})"
    person = any_page
    signed_in.enter(person, PERSON)

    # Morag asks to buy a shower stool with £40 from a line she uses less.
    ask_for(person, live_server, fund_id, "A one-off purchase")
    person.get_by_label("What is to be bought?").fill(stool)
    person.get_by_label("What does it cost?").fill("40")
    person.get_by_label("Take money from another line (optional)").select_option(
        label=morags_plan.line_title
    )
    person.get_by_label("How much from that line? (optional)").fill("40")
    first_outcome(person)
    person.get_by_label("Why? In your own words").fill("I cannot stand in the shower for long")
    asked = send(person)

    # The budget holder approves it on conditions; Morag reads them on her fund's page.
    holder = contexts.new_page("budget holder")
    signed_in.enter(holder, BUDGET_HOLDER)
    holder.goto(asked)
    choose(holder, "What do you decide?", "Approve it")
    holder.get_by_label("Conditions, if you approve it on conditions (optional)").fill(
        "Buy one with a back rest"
    )
    holder.get_by_role("button", name="Record the decision").click()
    expect(holder.get_by_role("status")).to_contain_text("Approved")

    person.goto(live_server.url(f"/funds/{fund_id}"))
    told = person.locator(".app-delivery").filter(has_text=stool)
    expect(told).to_contain_text("Approved")
    expect(told).to_contain_text("Buy one with a back rest")
    assert_fits_and_accessible(person)

    # The fund's holder finds the new purchase line among those it records on, and
    # records what it paid, with the receipt.
    staff = contexts.new_page("fund holder")
    signed_in.enter(staff, HOLDER)
    staff.goto(live_server.url("/deliveries"))
    staff.locator(".app-delivery").filter(has_text=stool).get_by_role("link").click()
    expect(heading(staff)).to_contain_text(stool)
    expect(staff.locator("#record")).to_contain_text("£40.00 of it is left to record")
    assert_fits_and_accessible(staff)
    staff.get_by_label("What it cost").fill("38.50")
    staff.get_by_label("What did you buy?").fill("A shower stool with a back rest")
    staff.get_by_label("Receipt").set_input_files(a_receipt(tmp_path))
    staff.get_by_role("button", name="Record the purchase").click()
    expect(staff.get_by_role("status")).to_contain_text("The purchase is recorded")
