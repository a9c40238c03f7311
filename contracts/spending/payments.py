"""Paying providers what a council's funds owe them. Finance staff see what each provider
is owed from their council's funds and record each payment they send, through a payment
rail: the manual rail (a bank transfer sent by the council's own systems, recorded with
its reference) is the embedded default, and a card or Stripe rail joins later behind the
same small interface. Whatever the rail, the ledger is the record: a payment moves what
is owed into what the council has paid out, once for each key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.accounts import paid_to_providers_account
from contracts.ledger import Actor, InsufficientFunds, Reference, transfer
from contracts.models import AccountKind, LedgerAccount, LedgerTransaction, ReferenceKind
from contracts.spending.models import PaymentRailName, ProviderPayment
from marketplace.accounts.models import Role, User
from marketplace.errors import NotAllowed, NotFound, RuleBroken, Rules
from marketplace.geography.models import CouncilArea
from marketplace.idempotency import KeyReused, hold_key
from marketplace.money import format_pence
from providers.models import Provider

MAX_REFERENCE_LENGTH = 100
OLDEST_PAYMENT = date(2020, 1, 1)


@dataclass(frozen=True)
class PaymentOrder:
    """What a rail is asked to pay: the provider, the amount and the reference it will see."""

    provider: Provider
    amount_pence: int
    reference: str
    idempotency_key: str


@dataclass(frozen=True)
class RailResult:
    external_id: str | None
    """The rail's own id of the payment, for reconciliation; none for a manual transfer."""


class PaymentRail(Protocol):
    name: PaymentRailName

    def send(self, order: PaymentOrder) -> RailResult:
        """Pay, or record a payment already made; the same key never pays twice."""
        ...


class ManualBankTransfer:
    """A bank transfer the council's finance staff have sent from their own systems: the
    rail records it and sends nothing."""

    name = PaymentRailName.MANUAL

    def send(self, order: PaymentOrder) -> RailResult:
        return RailResult(external_id=None)


@dataclass(frozen=True)
class Owed:
    provider: Provider
    account: LedgerAccount
    owed_pence: int


def _finance_of_a_council(by: User) -> int | None:
    """The council whose books `by` keeps; None for finance staff not yet given one (an
    administrator gives it), who see nothing owed and pay nothing."""
    if by.role != Role.FINANCE:
        raise NotAllowed("Only a council's finance staff pay providers")
    return by.council_id


def owed_by_council(session: Session, *, by: User) -> list[Owed]:
    """What each provider is owed from the funds of `by`'s council, most first."""
    council_id = _finance_of_a_council(by)
    if council_id is None:
        return []
    rows = session.execute(
        select(LedgerAccount, Provider)
        .join(Provider, Provider.id == LedgerAccount.provider_id)
        .where(
            LedgerAccount.kind == AccountKind.PROVIDER_PAYABLE,
            LedgerAccount.council_id == council_id,
            LedgerAccount.balance_pence > 0,
        )
        .order_by(LedgerAccount.balance_pence.desc(), Provider.name)
    ).all()
    return [Owed(provider, account, account.balance_pence) for account, provider in rows]


def payments_by_council(session: Session, *, by: User, limit: int = 100) -> list[ProviderPayment]:
    """The council's latest payments to providers, newest first."""
    council_id = _finance_of_a_council(by)
    if council_id is None:
        return []
    return list(
        session.scalars(
            select(ProviderPayment)
            .where(ProviderPayment.council_id == council_id)
            .order_by(ProviderPayment.paid_on.desc(), ProviderPayment.id.desc())
            .limit(limit)
        )
    )


def record_payment(
    session: Session,
    *,
    by: User,
    provider_id: int,
    amount_pence: int,
    reference: str,
    paid_on: date,
    idempotency_key: str,
    today: date,
    rail: PaymentRail | None = None,
) -> ProviderPayment:
    """Finance staff record a payment to a provider of (at most) what their council's funds
    owe it. The same key sent again returns the payment it made; the ledger refuses a key
    used for a different payment."""
    council_id = _finance_of_a_council(by)
    if council_id is None:
        raise NotAllowed("Your account has no council yet: ask an administrator to give it one")
    words = " ".join(reference.split())
    # Held until the transaction ends: the same form sent twice at once pays once.
    hold_key(session, idempotency_key)
    done = session.scalar(
        select(ProviderPayment)
        .join(LedgerTransaction, LedgerTransaction.id == ProviderPayment.transaction_id)
        .where(LedgerTransaction.idempotency_key == idempotency_key)
    )
    if done is not None:
        # A form sent again after it worked: the first answer, nothing paid twice.
        if (done.provider_id, done.amount_pence, done.reference, done.recorded_by_id) != (
            provider_id,
            amount_pence,
            words,
            by.id,
        ):
            raise KeyReused()
        return done
    payable = session.scalar(
        select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.PROVIDER_PAYABLE,
            LedgerAccount.council_id == council_id,
            LedgerAccount.provider_id == provider_id,
        )
    )
    if payable is None:
        raise NotFound("Your council's funds owe this provider nothing")
    with Rules() as rules:
        if not 0 < amount_pence <= payable.balance_pence:
            rules.broken(
                f"Enter an amount from £0.01 to {format_pence(payable.balance_pence)}, "
                "what is owed",
                field="amount",
            )
        if not words or len(words) > MAX_REFERENCE_LENGTH:
            rules.broken(
                f"Enter the payment's reference, {MAX_REFERENCE_LENGTH} characters at most",
                field="reference",
            )
        if not OLDEST_PAYMENT <= paid_on <= today:
            rules.broken("Enter the day the payment was sent, today or before", field="paid_on")
    provider = session.get(Provider, provider_id)
    council = session.get(CouncilArea, council_id)
    assert provider is not None and council is not None
    chosen = rail or ManualBankTransfer()
    try:
        posted = transfer(
            session,
            source=payable,
            destination=paid_to_providers_account(session, council),
            amount_pence=amount_pence,
            idempotency_key=idempotency_key,
            actor=Actor.of(by),
            reason=f"Paid to {provider.name} by {chosen.name.label.lower()}, reference {words}",
            reference=Reference(ReferenceKind.PAYMENT, words[:64]),
        )
    except InsufficientFunds as short:
        raise RuleBroken(
            f"{provider.name} is owed {format_pence(max(short.available_pence, 0))}: "
            "enter that or less",
            field="amount",
        ) from short
    # The ledger entry first, then the rail: a rail that fails rolls the entry back, and
    # a rail that pays has its key to keep it from paying twice.
    result = chosen.send(PaymentOrder(provider, amount_pence, words, idempotency_key))
    payment = ProviderPayment(
        provider_id=provider.id,
        council_id=council_id,
        amount_pence=amount_pence,
        rail=chosen.name,
        reference=words,
        external_id=result.external_id,
        paid_on=paid_on,
        recorded_by_id=by.id,
        transaction_id=posted.id,
    )
    session.add(payment)
    session.flush()
    return payment
