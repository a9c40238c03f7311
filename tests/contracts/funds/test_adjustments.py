"""Finance staff of a fund's council record top-ups and clawbacks on its statement, each
with a reason the person reads: the form's one-time key makes a form sent twice do it once,
a clawback cannot take the fund below zero, and nobody else may record one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.funding import post_due_tranches
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.models import LedgerTransaction, ReferenceKind
from marketplace.accounts.models import Role, User
from marketplace.audit import AuditEvent, write_pending
from marketplace.db import today
from tests.contracts.funds.fund_builders import active_fund, budget_holder
from tests.contracts.funds.test_fund_pages import as_user, submit_ok
from tests.factories import make_user
from tests.helpers import HtmlClient, error_messages, page

APRIL_TRANCHE = 30 * 100 * 100
"""The first monthly tranche of a £36,600 year of 366 days: April's 30 days at £100."""


def adjustments(db: Session) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.reference_kind == ReferenceKind.FINANCE_ADJUSTMENT)
        )
        or 0
    )


def finance_of(db: Session, council: str = "Highland") -> User:
    return make_user(db, role=Role.FINANCE, council=council)


def form_key(client: HtmlClient, fund_id: int) -> str:
    soup = page(client.get(f"/funds/{fund_id}/statement"))
    field = soup.select_one('#statement input[name="key"]')
    assert field is not None
    return str(field["value"])


def test_a_top_up_is_received_with_its_reason_and_once(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=date(2027, 4, 1))
    finance = finance_of(db)
    as_user(client, finance)
    form = {
        "adjustment": "top_up",
        "amount": "250",
        "reason": "Extra support after a hospital stay",
        "key": form_key(client, fund.id),
    }
    location = submit_ok(client, f"/funds/{fund.id}/adjustments", form)
    assert location == f"/funds/{fund.id}/statement?done=adjusted"
    submit_ok(client, f"/funds/{fund.id}/adjustments", form)  # sent again: nothing more
    assert adjustments(db) == 1
    statement = statement_of(db, fund, on=today())
    assert statement.received_pence == APRIL_TRANCHE + 25_000
    last = statement.entries[-1]
    assert last.reason == "Top-up from the council: Extra support after a hospital stay"
    assert last.caused_by == f"{finance.name} (finance)"
    write_pending(db)
    db.flush()
    changes = db.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.subject_type == funds_service.SUBJECT, AuditEvent.subject_id == str(fund.id)
        )
    ).all()
    assert [c["fields"] for c in changes if c.get("fields") == "top_up"] == ["top_up"]
    assert check_invariants(db).sound


def test_a_clawback_cannot_take_the_fund_below_zero(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=date(2027, 4, 1))
    as_user(client, finance_of(db))
    response = client.submit(
        f"/funds/{fund.id}/adjustments",
        {
            "adjustment": "clawback",
            "amount": f"{APRIL_TRANCHE / 100 + 0.01:.2f}",
            "reason": "Unspent money from last year",
            "key": form_key(client, fund.id),
        },
    )
    assert response.status_code == 422
    assert "£3,000.00 is available and this needs £3,000.01" in error_messages(response)[0]
    assert adjustments(db) == 0
    submit_ok(
        client,
        f"/funds/{fund.id}/adjustments",
        {
            "adjustment": "clawback",
            "amount": "3000",
            "reason": "Unspent money from last year",
            "key": form_key(client, fund.id),
        },
    )
    assert statement_of(db, fund, on=today()).available_pence == 0


def test_the_same_key_with_another_amount_is_refused(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    as_user(client, finance_of(db))
    key = form_key(client, fund.id)
    first = {"adjustment": "top_up", "amount": "10", "reason": "Equipment", "key": key}
    submit_ok(client, f"/funds/{fund.id}/adjustments", first)
    response = client.submit(f"/funds/{fund.id}/adjustments", first | {"amount": "20"})
    assert response.status_code == 422
    assert adjustments(db) == 1


def test_only_the_councils_finance_staff_record_them(db: Session, client: HtmlClient) -> None:
    fund = active_fund(db)
    form = {"adjustment": "top_up", "amount": "10", "reason": "Because", "key": "k" * 20}
    for someone, status in (
        (budget_holder(db), 403),
        (fund.person, 403),
        (finance_of(db, council="Fife"), 404),
        (make_user(db, role=Role.COMMISSIONER, council="Highland"), 404),
    ):
        as_user(client, someone)
        response = client.submit(f"/funds/{fund.id}/adjustments", form)
        assert response.status_code == status, someone.role
    assert adjustments(db) == 0
    as_user(client, fund.person)
    assert page(client.get(f"/funds/{fund.id}/statement")).select_one("#adjust") is None
