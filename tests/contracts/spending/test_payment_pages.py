"""The finance page that pays providers: each provider owed money from the council's funds
has its own form, the amount starts at what is owed, a form sent twice pays once, a
problem shows by the box of the form it is about, and only the council's finance staff
reach it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.spending import service as spending
from contracts.spending.models import ProviderPayment
from marketplace.accounts.models import Role, User
from marketplace.db import today
from providers.models import Provider
from tests.contracts.funds.fund_builders import holder_staff
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.page_builders import confirmed, offer_line, running_fund
from tests.factories import make_user
from tests.helpers import HtmlClient, page


def owing(db: Session) -> tuple[Provider, User]:
    """A provider owed £30 from Highland's funds, and Highland's finance staff."""
    fund = running_fund(db)
    spending.approve_delivery(db, delivery=confirmed(db, fund), by=holder_staff(fund))
    provider = offer_line(fund).provider
    assert provider is not None
    return provider, make_user(db, role=Role.FINANCE, council="Highland")


def payments_made(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(ProviderPayment)) or 0


def the_form(client: HtmlClient, provider: Provider) -> dict[str, str]:
    soup = page(client.get("/payments"))
    form = soup.select_one(f"form[action='/payments/{provider.id}']")
    assert form is not None
    return {
        tag["name"]: tag.get("value", "")
        for tag in form.select("input")
        if tag["name"] != "csrftoken"
    }


def test_finance_sees_what_is_owed_and_pays_it_once(db: Session, client: HtmlClient) -> None:
    provider, finance = owing(db)
    as_user(client, finance)
    form = the_form(client, provider)
    assert form["amount"] == "30.00" and form["paid_on"] == today().isoformat()
    form["reference"] = "SDS DEC 0001"
    for _ in range(2):
        answer = client.submit(f"/payments/{provider.id}", form)
        assert answer.status_code == 303 and answer.headers["location"] == "/payments?done=paid"
    assert payments_made(db) == 1
    soup = page(client.get("/payments?done=paid"))
    assert soup.select_one(f"form[action='/payments/{provider.id}']") is None
    assert "SDS DEC 0001" in soup.select_one("#table-paid").get_text()
    csv = client.get("/payments?table=paid&format=csv")
    assert csv.status_code == 200 and "SDS DEC 0001" in csv.text and ",3000," in csv.text


def test_a_problem_shows_by_the_box_of_its_own_form(db: Session, client: HtmlClient) -> None:
    provider, finance = owing(db)
    as_user(client, finance)
    form = the_form(client, provider)
    for sent, field in (
        ({"amount": "31.00", "reference": "X"}, "amount"),
        ({"amount": "1" + "0" * 300, "reference": "X"}, "amount"),
        ({"amount": "-5", "reference": "X"}, "amount"),
        ({"reference": "  "}, "reference"),
        ({"reference": "X" * 101}, "reference"),
        ({"reference": "X", "paid_on": "2099-01-01"}, "paid_on"),
        ({"reference": "X", "paid_on": "not a day"}, "paid_on"),
        ({"reference": "X", "key": ""}, "key"),
    ):
        answer = client.submit(f"/payments/{provider.id}", form | sent)
        assert answer.status_code == 422, sent
        soup = page(answer)
        box = f"{field}-{provider.id}"
        assert soup.select_one(f'#error-summary a[href="#{box}"]') is not None, sent
        if field != "key":
            assert soup.select_one(f"#{box}-error") is not None, sent
    assert payments_made(db) == 0


def test_only_finance_of_the_council_pays(db: Session, client: HtmlClient) -> None:
    provider, finance = owing(db)
    as_user(client, finance)
    form = the_form(client, provider) | {"reference": "X"}
    for someone in (
        make_user(db, role=Role.BUDGET_HOLDER),
        make_user(db, role=Role.PROVIDER_STAFF),
        make_user(db),
    ):
        as_user(client, someone)
        assert client.get("/payments").status_code == 403
        assert client.submit(f"/payments/{provider.id}", form).status_code == 403
    elsewhere = make_user(db, role=Role.FINANCE, council="Fife")
    as_user(client, elsewhere)
    assert provider.name not in page(client.get("/payments")).get_text()
    assert client.submit(f"/payments/{provider.id}", form).status_code == 404
    unlinked = make_user(db, role=Role.FINANCE)
    as_user(client, unlinked)
    assert "not linked to a council" in page(client.get("/payments")).get_text()
    assert client.submit(f"/payments/{provider.id}", form).status_code == 404
    as_user(client, finance)
    assert client.submit("/payments/99999999999999999999", form).status_code == 404
    assert payments_made(db) == 0
