"""The ledger against a model of itself in plain Python: Hypothesis opens ISFs, funds them,
moves money between accounts, reverses entries and retries earlier requests (unchanged,
and changed) in any order, and after every step the database's balances must equal the
model's and every invariant must hold."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from contracts import ledger
from contracts.ledger import AlreadyReversed, InsufficientFunds, NotReversible
from contracts.ledger_check import check_invariants
from contracts.models import AccountKind, LedgerAccount, LedgerTransaction
from marketplace.errors import DomainError
from marketplace.idempotency import KeyReused
from providers.models import Provider
from tests.factories import make_isf_books

AMOUNTS = st.integers(min_value=1, max_value=3_000)


@dataclass(frozen=True)
class Request:
    """A request to the ledger as a client would send it again: the same key, the same
    content. A reversal names the key of the request it reverses."""

    key: str
    reason: str
    source_id: int | None = None
    destination_id: int | None = None
    amount_pence: int = 0
    reverses_key: str | None = None


@dataclass
class Posted:
    request: Request
    transaction_id: uuid.UUID
    legs: dict[int, int]
    """Account id to amount in pence, as the model worked it out."""
    reversed: bool = False


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        # One database transaction per example, rolled back at its end; one savepoint per
        # request, rolled back when the ledger refuses it, as a request's would be.
        self.connection = engine.connect()
        self.outer = self.connection.begin()
        self.db = Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        books = make_isf_books(self.db)
        self.actor = books.actor
        self.holder = self.db.get_one(Provider, books.isf.provider_id)
        self.funding = books.funding
        self.isfs = [books.isf]
        self.accounts: dict[int, LedgerAccount] = {
            a.id: a for a in (books.funding, books.isf, books.payable, books.fees)
        }
        self.balances = dict.fromkeys(self.accounts, 0)
        self.posted: dict[str, Posted] = {}
        self.numbers = itertools.count()

    def teardown(self) -> None:
        self.db.close()
        self.outer.rollback()
        self.connection.close()

    # What the model says ---------------------------------------------------------------

    def floor_of(self, account_id: int) -> int | None:
        account = self.accounts[account_id]
        return None if account.allow_overdraft else account.floor_pence

    def refusal_for(self, legs: dict[int, int]) -> type[DomainError] | None:
        for account_id, pence in legs.items():
            floor = self.floor_of(account_id)
            if floor is not None and self.balances[account_id] + pence < floor:
                return InsufficientFunds
        return None

    def expect(self, request: Request) -> tuple[dict[int, int], type[DomainError] | None]:
        if request.reverses_key is None:
            assert request.source_id is not None and request.destination_id is not None
            legs = {
                request.source_id: -request.amount_pence,
                request.destination_id: request.amount_pence,
            }
            return legs, self.refusal_for(legs)
        original = self.posted[request.reverses_key]
        legs = {account_id: -pence for account_id, pence in original.legs.items()}
        if original.request.reverses_key is not None:
            return legs, NotReversible
        if original.reversed:
            return legs, AlreadyReversed
        return legs, self.refusal_for(legs)

    # What the ledger does --------------------------------------------------------------

    def send(self, request: Request) -> uuid.UUID | DomainError:
        try:
            with self.db.begin_nested():
                if request.reverses_key is None:
                    assert request.source_id is not None and request.destination_id is not None
                    posted = ledger.transfer(
                        self.db,
                        source=self.accounts[request.source_id],
                        destination=self.accounts[request.destination_id],
                        amount_pence=request.amount_pence,
                        idempotency_key=request.key,
                        actor=self.actor,
                        reason=request.reason,
                        reference=ledger.Reference(ledger.ReferenceKind.FINANCE_ADJUSTMENT),
                    )
                else:
                    original = self.posted[request.reverses_key].transaction_id
                    posted = ledger.reverse_transaction(
                        self.db,
                        original=self.db.get_one(LedgerTransaction, original),
                        idempotency_key=request.key,
                        actor=self.actor,
                        reason=request.reason,
                    )
                return posted.id
        except DomainError as refusal:
            return refusal

    def carry_out(self, request: Request) -> None:
        legs, refusal = self.expect(request)
        answer = self.send(request)
        if refusal is not None:
            assert isinstance(answer, refusal), answer
            return
        assert isinstance(answer, uuid.UUID), answer
        for account_id, pence in legs.items():
            self.balances[account_id] += pence
        if request.reverses_key is not None:
            self.posted[request.reverses_key].reversed = True
        self.posted[request.key] = Posted(request, answer, legs)

    def new_key(self) -> str:
        return f"request-{next(self.numbers):05d}"

    # Rules -----------------------------------------------------------------------------

    @rule(floor=st.sampled_from([0, -300]))
    def open_isf(self, floor: int) -> None:
        isf = ledger.open_account(
            self.db,
            kind=AccountKind.ISF_FUNDS,
            name=f"ISF {len(self.isfs) + 1}",
            provider=self.holder,
            floor_pence=floor,
        )
        self.isfs.append(isf)
        self.accounts[isf.id] = isf
        self.balances[isf.id] = 0

    @rule(data=st.data(), amount=AMOUNTS)
    def fund(self, data: st.DataObject, amount: int) -> None:
        isf = data.draw(st.sampled_from(self.isfs))
        self.carry_out(
            Request(
                key=self.new_key(),
                reason="Funding tranche",
                source_id=self.funding.id,
                destination_id=isf.id,
                amount_pence=amount,
            )
        )

    @rule(data=st.data(), amount=AMOUNTS)
    def transfer(self, data: st.DataObject, amount: int) -> None:
        spendable = sorted(a for a in self.accounts if a != self.funding.id)
        source = data.draw(st.sampled_from(spendable))
        destination = data.draw(st.sampled_from(sorted(set(self.accounts) - {source})))
        self.carry_out(
            Request(
                key=self.new_key(),
                reason="Support delivered",
                source_id=source,
                destination_id=destination,
                amount_pence=amount,
            )
        )

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from(sorted(self.posted)))
        self.carry_out(Request(key=self.new_key(), reason="Put right", reverses_key=original))

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        first = self.posted[data.draw(st.sampled_from(sorted(self.posted)))]
        assert self.send(first.request) == first.transaction_id

    @precondition(lambda self: self.posted)
    @rule(data=st.data(), change=st.sampled_from(["reason", "amount"]))
    def retry_with_different_content(self, data: st.DataObject, change: str) -> None:
        first = self.posted[data.draw(st.sampled_from(sorted(self.posted)))].request
        if change == "amount" and first.reverses_key is None:
            changed = replace(first, amount_pence=first.amount_pence + 1)
        else:
            changed = replace(first, reason=first.reason + " again")
        assert isinstance(self.send(changed), KeyReused)

    # After every step ------------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        assert ledger.balances_pence(self.db, self.accounts.values()) == self.balances
        ours = select(func.count()).where(LedgerTransaction.idempotency_key.like("request-%"))
        assert self.db.scalar(ours) == len(self.posted)
        report = check_invariants(self.db)
        assert report.sound, report.violations


def run_machine(engine: Engine, *, examples: int, steps: int) -> None:
    run_state_machine_as_test(
        lambda: LedgerMachine(engine),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_the_ledger_behaves_like_its_model(engine: Engine) -> None:
    run_machine(engine, examples=15, steps=20)


@pytest.mark.slow
def test_the_ledger_behaves_like_its_model_at_length(engine: Engine) -> None:
    run_machine(engine, examples=200, steps=50)
