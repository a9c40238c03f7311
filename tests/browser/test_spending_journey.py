"""Spending a fund, end to end in a browser, with JavaScript on and off: the demo provider
records support on Morag Lindsay's fund, Morag confirms it, the provider (her fund's
holder too) approves it, the council's finance officer records the bank transfer, and the
statement shows the money spent. Every page on the way fits a phone and a desktop with no
axe-core findings."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from contracts.funds import service as funds
from contracts.funds.models import BudgetLineKind, FundStatus
from contracts.spending.models import Delivery
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.db import session_scope
from marketplace.demo import DEMO_ACCOUNTS
from tests.browser.conftest import Contexts, LiveServer
from tests.browser.provider_helpers import SignedIn, heading
from tests.browser.sweep import assert_fits_and_accessible

PERSON = next(a for a in DEMO_ACCOUNTS if a.role == Role.SUPPORTED_PERSON)
PROVIDER = next(a for a in DEMO_ACCOUNTS if a.role == Role.PROVIDER_STAFF)
FINANCE = next(a for a in DEMO_ACCOUNTS if a.role == Role.FINANCE)


@dataclass(frozen=True)
class MoragsFund:
    fund_id: int
    line_id: int
    """The line of the plan the holder itself delivers: care at home in the mornings."""
    provider_id: int


@pytest.fixture(scope="module")
def morags_fund(live_server: LiveServer) -> MoragsFund:
    with session_scope(live_server.sessions, write=False) as session:
        person = accounts_service.find_user_by_email(session, PERSON.email)
        assert person is not None
        fund = next(f for f in funds.funds_for(session, user=person))
        assert fund.status == FundStatus.ACTIVE
        line = next(
            line
            for line in fund.lines
            if line.kind == BudgetLineKind.OFFER and line.provider_id == fund.holder_id
        )
        return MoragsFund(fund.id, line.id, fund.holder_id)


@pytest.fixture
def signed_in(browser: Browser, live_server: LiveServer) -> SignedIn:
    return SignedIn.on(browser, live_server)


def pence(text: str) -> int:
    pounds, _, rest = text.strip().lstrip("£").replace(",", "").partition(".")
    return int(pounds) * 100 + int(rest or 0)


def spent_on_the_statement(page: Page, server: LiveServer, fund_id: int) -> int:
    page.goto(server.url(f"/funds/{fund_id}/statement"))
    row = page.locator(".ds_summary-list__item", has_text="Spent on support")
    return pence(row.locator(".ds_summary-list__value").inner_text())


def test_support_is_recorded_confirmed_approved_paid_and_on_the_statement(
    any_page: Page,
    contexts: Contexts,
    live_server: LiveServer,
    signed_in: SignedIn,
    morags_fund: MoragsFund,
) -> None:
    fund_id, line_id = morags_fund.fund_id, morags_fund.line_id
    what = f"Help to get up, washed and dressed ({uuid.uuid4().hex[:8]})"
    person = any_page
    signed_in.enter(person, PERSON)
    spent_before = spent_on_the_statement(person, live_server, fund_id)

    # The provider finds the line it delivers and records an hour and a half.
    provider = contexts.new_page("provider")
    signed_in.enter(provider, PROVIDER)
    provider.goto(live_server.url("/"))
    provider.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Record support"
    ).click()
    expect(heading(provider)).to_have_text("Record support")
    assert_fits_and_accessible(provider)
    provider.locator(f"a[href='/funds/{fund_id}/lines/{line_id}/deliveries']").click()
    assert_fits_and_accessible(provider)
    provider.get_by_label("Hours").fill("1.5")
    provider.get_by_label("What did you do?").fill(what)
    provider.get_by_role("button", name="Record the support").click()
    expect(provider.get_by_role("status")).to_contain_text("The support is recorded")
    expect(provider.locator("#table-recorded")).to_contain_text(what)
    with session_scope(live_server.sessions, write=False) as session:
        cost = session.scalars(
            select(Delivery.amount_pence).where(Delivery.description == what)
        ).one()

    # Morag sees it waiting for her, first, and confirms it.
    person.goto(live_server.url(f"/funds/{fund_id}/deliveries"))
    expect(heading(person)).to_contain_text("Support delivered")
    assert_fits_and_accessible(person)
    waiting = person.locator(".app-delivery", has_text=what)
    waiting.get_by_role("button", name=re.compile(r"^Confirm")).click()
    expect(person.get_by_role("status")).to_contain_text("it is confirmed")

    # The holder opens the delivery's own page and approves it: the fund pays.
    provider.goto(live_server.url(f"/funds/{fund_id}/deliveries"))
    provider.locator(".app-delivery", has_text=what).get_by_role("link").first.click()
    assert_fits_and_accessible(provider)
    provider.get_by_role("button", name="Approve and pay from the fund").click()
    expect(provider.get_by_role("status")).to_contain_text("Approved")

    # Finance records the bank transfer of what Glen Care is owed.
    finance = contexts.new_page("finance")
    signed_in.enter(finance, FINANCE)
    finance.goto(live_server.url("/"))
    finance.get_by_role("navigation", name="Main").get_by_role("link", name="Pay providers").click()
    expect(heading(finance)).to_have_text("Pay providers")
    assert_fits_and_accessible(finance)
    form = finance.locator(f"form[action='/payments/{morags_fund.provider_id}']")
    owed = pence(form.get_by_label("Amount sent").input_value())
    assert owed >= cost
    # Sent without its reference: the message is by the box, in this provider's form.
    form.get_by_role("button", name=re.compile(r"^Record the payment")).click()
    box = f"reference-{morags_fund.provider_id}"
    expect(finance.locator(f"#{box}-error")).to_contain_text("reference")
    expect(finance.locator(f'#error-summary a[href="#{box}"]')).to_be_visible()
    assert_fits_and_accessible(finance)
    form = finance.locator(f"form[action='/payments/{morags_fund.provider_id}']")
    reference = f"SDS {uuid.uuid4().hex[:6].upper()}"
    form.get_by_label("Payment reference").fill(reference)
    form.get_by_role("button", name=re.compile(r"^Record the payment")).click()
    expect(finance.get_by_role("status")).to_contain_text("The payment is recorded")
    expect(finance.locator("#table-paid")).to_contain_text(reference)

    # Morag's statement shows the support spent, on its line too.
    assert spent_on_the_statement(person, live_server, fund_id) == spent_before + cost
    assert_fits_and_accessible(person)
    expect(person.locator("#table-lines")).to_be_visible()
    person.goto(live_server.url(f"/funds/{fund_id}/deliveries"))
    expect(person.locator("#table-deliveries")).to_contain_text(what)
