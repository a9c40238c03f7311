"""Spending through /api/v1, as a provider's or a council's own system would use it: the
same rules as the pages, a retried request with its Idempotency-Key has one effect and the
first answer, the same key with other content is refused, and nobody reaches a fund they
may not see."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds.funding import post_due_tranches
from contracts.funds.models import IndividualServiceFund
from contracts.models import LedgerTransaction
from contracts.spending.models import Delivery
from marketplace.accounts.models import Role, User
from marketplace.db import today
from tests.contracts.funds.fund_builders import active_fund, holder_staff
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.test_deliveries import line_staff, offer_line
from tests.factories import make_user
from tests.helpers import HtmlClient


def current_fund(db: Session) -> IndividualServiceFund:
    """A fund in its period now, its first two months paid in."""
    starts_on = today() - timedelta(days=40)
    fund = active_fund(db, period=(starts_on, starts_on + timedelta(days=364)))
    post_due_tranches(db, today=today())
    return fund


def call(
    client: HtmlClient, user: User, path: str, body: object = None, *, key: str | None = None
) -> httpx.Response:
    as_user(client, user)
    headers = {"x-csrftoken": client.csrf_token()}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json=body if body is not None else {}, headers=headers)


def record(client: HtmlClient, fund: IndividualServiceFund, key: str) -> httpx.Response:
    return call(
        client,
        line_staff(fund),
        f"/api/v1/isfs/{fund.id}/lines/{offer_line(fund).id}/deliveries",
        {"delivered_on": today().isoformat(), "minutes": 120, "description": "Swimming"},
        key=key,
    )


def count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_support_recorded_confirmed_approved_and_paid_through_the_api(
    db: Session, client: HtmlClient
) -> None:
    fund = current_fund(db)
    recorded = record(client, fund, "record-0000001")
    assert recorded.status_code == 201, recorded.text
    delivery = recorded.json()
    assert (delivery["amount_pence"], delivery["status"]) == (4_000, "recorded")
    # A retry of the same request records nothing more and answers the same.
    assert record(client, fund, "record-0000001").json() == delivery
    assert count(db, Delivery) == 1
    base = f"/api/v1/isfs/{fund.id}/deliveries/{delivery['id']}"
    confirmed = call(client, fund.person, f"{base}/confirm")
    assert confirmed.json()["status"] == "confirmed", confirmed.text
    # Approving moves money: without a key it is refused and nothing is paid.
    assert call(client, holder_staff(fund), f"{base}/approve").status_code == 422
    approved = call(client, holder_staff(fund), f"{base}/approve", key="approve-0000001")
    assert approved.json()["status"] == "approved", approved.text
    again = call(client, holder_staff(fund), f"{base}/approve", key="approve-0000001")
    assert again.json() == approved.json()
    paid = db.get(LedgerTransaction, uuid.UUID(approved.json()["ledger_transaction_id"]))
    assert paid is not None and sum(p.amount_pence for p in paid.postings) == 0

    finance = make_user(db, role=Role.FINANCE, council="Highland")
    as_user(client, finance)
    [owed] = client.get("/api/v1/payments/owed").json()
    assert owed["owed_pence"] == 4_000
    payment = {
        "provider_id": owed["provider_id"],
        "amount_pence": 4_000,
        "reference": "SDS 0001",
        "paid_on": today().isoformat(),
    }
    sent = call(client, finance, "/api/v1/payments", payment, key="payment-000001")
    assert sent.status_code == 201, sent.text
    assert call(client, finance, "/api/v1/payments", payment, key="payment-000001").json() == (
        sent.json()
    )
    refused = call(
        client, finance, "/api/v1/payments", {**payment, "amount_pence": 1}, key="payment-000001"
    )
    assert refused.status_code == 422
    assert client.get("/api/v1/payments/owed").json() == []
    assert [p["reference"] for p in client.get("/api/v1/payments").json()] == ["SDS 0001"]


def test_a_dispute_and_its_resolution_through_the_api(db: Session, client: HtmlClient) -> None:
    fund = current_fund(db)
    delivery = record(client, fund, "record-0000002").json()
    base = f"/api/v1/isfs/{fund.id}/deliveries/{delivery['id']}"
    assert call(client, fund.person, f"{base}/dispute", {"reason": ""}).status_code == 422
    disputed = call(client, fund.person, f"{base}/dispute", {"reason": "It was one hour"})
    assert disputed.json()["status"] == "disputed"
    resolved = call(
        client,
        line_staff(fund),
        f"{base}/resolve",
        {"resolution": "Corrected to one hour", "minutes": 60},
    )
    assert (resolved.json()["status"], resolved.json()["amount_pence"]) == ("recorded", 2_000)
    as_user(client, fund.person)
    [listed] = client.get(f"/api/v1/isfs/{fund.id}/deliveries").json()
    assert listed["dispute_reason"] == "It was one hour"
    # Finance staff follow the money, not what was done or said about it.
    as_user(client, make_user(db, role=Role.FINANCE, council="Highland"))
    [followed] = client.get(f"/api/v1/isfs/{fund.id}/deliveries").json()
    assert followed["amount_pence"] == listed["amount_pence"] == 2_000
    assert (followed["description"], followed["dispute_reason"]) == ("", "")


def test_nobody_reaches_a_fund_they_may_not_see(db: Session, client: HtmlClient) -> None:
    fund = current_fund(db)
    delivery = record(client, fund, "record-0000003").json()
    stranger = make_user(db)
    as_user(client, stranger)
    assert client.get(f"/api/v1/isfs/{fund.id}/deliveries").status_code == 404
    base = f"/api/v1/isfs/{fund.id}/deliveries/{delivery['id']}"
    assert call(client, stranger, f"{base}/confirm").status_code == 404
    # A delivery named under another fund is not found there.
    other = current_fund(db)
    assert (
        call(client, other.person, f"/api/v1/isfs/{other.id}/deliveries/{delivery['id']}/confirm")
    ).status_code == 404
    # The provider delivering a line sees its own records of the fund, not the fund.
    as_user(client, line_staff(fund))
    assert [d["id"] for d in client.get(f"/api/v1/isfs/{fund.id}/deliveries").json()] == [
        delivery["id"]
    ]
    assert client.get(f"/api/v1/isfs/{fund.id}").status_code == 404
    # Crafted ids are refused cleanly.
    for bad in ("0", "-1", "99999999999999999999", "1e3", "%20"):
        assert (
            call(
                client, fund.person, f"/api/v1/isfs/{fund.id}/deliveries/{bad}/confirm"
            ).status_code
            == 404
        )


def test_finance_tops_up_a_fund_through_the_api_once(db: Session, client: HtmlClient) -> None:
    fund = current_fund(db)
    assert fund.account is not None
    before = fund.account.balance_pence
    finance = make_user(db, role=Role.FINANCE, council="Highland")
    body = {"adjustment": "top_up", "amount_pence": 5_000, "reason": "Extra support in winter"}
    path = f"/api/v1/isfs/{fund.id}/adjustments"
    first = call(client, finance, path, body, key="adjust-0000001")
    assert first.status_code == 201, first.text
    assert call(client, finance, path, body, key="adjust-0000001").json() == first.json()
    db.refresh(fund.account)
    assert fund.account.balance_pence == before + 5_000
    assert call(client, fund.person, path, body, key="adjust-0000002").status_code == 403
