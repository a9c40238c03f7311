"""Finance staff pay providers what their council's funds owe them: they see what each
provider is owed, record a bank transfer with its reference, the same form sent twice pays
once, and nobody pays more than is owed or from another council's books."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds.accounts import paid_to_providers_account, payable_account
from contracts.funds.models import IndividualServiceFund
from contracts.ledger_check import check_invariants
from contracts.models import LedgerTransaction, ReferenceKind
from contracts.spending import payments
from contracts.spending import service as spending
from contracts.spending.models import ProviderPayment
from marketplace.accounts.models import Role, User
from marketplace.errors import NotAllowed, NotFound, RuleBroken
from marketplace.idempotency import KeyReused
from providers.models import Provider
from tests.contracts.funds.fund_builders import holder_staff
from tests.contracts.spending.test_deliveries import confirmed, funded, offer_line
from tests.factories import make_user

PAID_ON = date(2027, 4, 9)


def owing(db: Session) -> tuple[IndividualServiceFund, Provider, User]:
    """A fund whose line's provider is owed £30 from Highland's funds, and Highland's
    finance staff."""
    fund = funded(db)
    spending.approve_delivery(db, delivery=confirmed(db, fund, minutes=90), by=holder_staff(fund))
    provider = offer_line(fund).provider
    assert provider is not None
    return fund, provider, make_user(db, role=Role.FINANCE, council="Highland")


def pay(db: Session, finance: User, provider: Provider, pence: int, key: str) -> ProviderPayment:
    return payments.record_payment(
        db,
        by=finance,
        provider_id=provider.id,
        amount_pence=pence,
        reference="SDS APR 0001",
        paid_on=PAID_ON,
        idempotency_key=key,
        today=PAID_ON,
    )


def payment_entries(db: Session) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.reference_kind == ReferenceKind.PAYMENT)
        )
        or 0
    )


def test_finance_sees_what_is_owed_and_pays_it(db: Session) -> None:
    fund, provider, finance = owing(db)
    [owed] = payments.owed_by_council(db, by=finance)
    assert (owed.provider.id, owed.owed_pence) == (provider.id, 3_000)
    payment = pay(db, finance, provider, 1_000, "payment-key-0001")
    assert payment.rail.value == "manual" and payment.external_id is None
    assert payable_account(db, provider, fund.council).balance_pence == 2_000
    assert paid_to_providers_account(db, fund.council).balance_pence == 1_000
    assert payments.owed_by_council(db, by=finance)[0].owed_pence == 2_000
    assert payments.payments_by_council(db, by=finance) == [payment]
    assert check_invariants(db).sound


def test_the_same_form_sent_twice_pays_once(db: Session) -> None:
    _, provider, finance = owing(db)
    first = pay(db, finance, provider, 3_000, "payment-key-0002")
    again = pay(db, finance, provider, 3_000, "payment-key-0002")
    assert again.id == first.id
    assert payment_entries(db) == 1
    with pytest.raises(KeyReused):
        pay(db, finance, provider, 2_000, "payment-key-0002")


def test_nobody_pays_more_than_is_owed(db: Session) -> None:
    _, provider, finance = owing(db)
    with pytest.raises(RuleBroken, match="what is owed"):
        pay(db, finance, provider, 3_001, "payment-key-0003")
    with pytest.raises(RuleBroken, match="today or before"):
        payments.record_payment(
            db,
            by=finance,
            provider_id=provider.id,
            amount_pence=100,
            reference="SDS",
            paid_on=date(2027, 4, 10),
            idempotency_key="payment-key-0004",
            today=PAID_ON,
        )
    assert payment_entries(db) == 0


def test_only_finance_staff_of_the_council_pay(db: Session) -> None:
    _, provider, _ = owing(db)
    with pytest.raises(NotFound):
        pay(db, make_user(db, role=Role.FINANCE, council="Fife"), provider, 100, "payment-key-05")
    assert payments.owed_by_council(db, by=make_user(db, role=Role.FINANCE, council="Fife")) == []
    with pytest.raises(NotAllowed):
        pay(
            db,
            make_user(db, role=Role.BUDGET_HOLDER, council="Highland"),
            provider,
            100,
            "k-000006",
        )
