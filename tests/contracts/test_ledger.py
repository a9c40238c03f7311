"""The ledger's services as the money journeys use them: a council funds an ISF, the ISF
pays for support and fees, a mistake is reversed once, a retried request has one effect,
and no ISF is spent beyond its floor."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts import ledger
from contracts.ledger import (
    Actor,
    AlreadyReversed,
    InsufficientFunds,
    Leg,
    NotReversible,
    Reference,
    UnbalancedTransaction,
)
from contracts.ledger_check import check_invariants
from contracts.models import AccountKind, LedgerPosting, LedgerTransaction, ReferenceKind
from marketplace.accounts.models import Role
from marketplace.errors import RuleBroken
from marketplace.geography import service as geography_service
from marketplace.idempotency import KeyReused
from tests.factories import IsfBooks, fund, make_isf_books, make_provider, make_user

DELIVERY = Reference(ReferenceKind.DELIVERY, "delivery-1")


def pay_provider(db: Session, books: IsfBooks, pence: int, *, key: str) -> LedgerTransaction:
    return ledger.transfer(
        db,
        source=books.isf,
        destination=books.payable,
        amount_pence=pence,
        idempotency_key=key,
        actor=books.actor,
        reason="Tuesday swimming with a PA, 3 hours",
        reference=DELIVERY,
    )


def posting_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(LedgerPosting)) or 0


class TestOpenAccount:
    def test_only_the_council_funding_source_may_be_overdrawn_by_default(self, db: Session) -> None:
        books = make_isf_books(db)
        assert books.funding.allow_overdraft
        assert not any(a.allow_overdraft for a in (books.isf, books.payable, books.fees))
        assert {a.balance_pence for a in (books.funding, books.isf, books.payable)} == {0}
        assert books.isf.currency == "GBP" and books.isf.floor_pence == 0

    def test_each_kind_needs_its_owner(self, db: Session) -> None:
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        provider = make_provider(db, holds_isf=True)
        with pytest.raises(RuleBroken, match="owner"):
            ledger.open_account(db, kind=AccountKind.COUNCIL_FUNDING, name="x", provider=provider)
        with pytest.raises(RuleBroken, match="owner"):
            ledger.open_account(db, kind=AccountKind.PROVIDER_PAYABLE, name="x", council=highland)
        with pytest.raises(RuleBroken, match="owner"):
            ledger.open_account(db, kind=AccountKind.PROVIDER_PAYABLE, name="x", provider=provider)
        with pytest.raises(RuleBroken, match="owner"):
            ledger.open_account(
                db,
                kind=AccountKind.PAID_TO_PROVIDERS,
                name="x",
                council=highland,
                provider=provider,
            )
        with pytest.raises(RuleBroken, match="owner"):
            ledger.open_account(
                db, kind=AccountKind.ISF_FUNDS, name="x", council=highland, provider=provider
            )
        council_held = ledger.open_account(
            db, kind=AccountKind.ISF_FUNDS, name="Held by the council's own team", council=highland
        )
        assert council_held.council_id == highland.id and council_held.provider_id is None  # type: ignore[union-attr]

    def test_a_floor_is_zero_or_below(self, db: Session) -> None:
        provider = make_provider(db, holds_isf=True)
        with pytest.raises(RuleBroken, match="floor"):
            ledger.open_account(
                db, kind=AccountKind.ISF_FUNDS, name="x", provider=provider, floor_pence=100
            )


class TestPosting:
    def test_funding_then_paying_a_provider_moves_the_money(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=200_000)
        paid = pay_provider(db, books, 5_550, key="delivery-1-approval")

        assert ledger.balances_pence(db, [books.funding, books.isf, books.payable]) == {
            books.funding.id: -200_000,
            books.isf.id: 194_450,
            books.payable.id: 5_550,
        }
        assert books.isf.balance_pence == 194_450  # the session's copy agrees with the database
        assert sorted((p.account_id, p.amount_pence) for p in paid.postings) == sorted(
            [(books.isf.id, -5_550), (books.payable.id, 5_550)]
        )
        assert (paid.actor_id, paid.actor_role) == (books.finance.id, Role.FINANCE.value)
        assert paid.reason == "Tuesday swimming with a PA, 3 hours"
        assert (paid.reference_kind, paid.reference_id) == (ReferenceKind.DELIVERY, "delivery-1")
        assert check_invariants(db).sound

    def test_one_transaction_may_pay_a_provider_and_the_fee_together(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        ledger.post_transaction(
            db,
            idempotency_key="month-3-spend-and-fee",
            actor=Actor.system(),
            reason="March: support delivered and the management fee",
            reference=Reference(ReferenceKind.MANAGEMENT_FEE, "2026-03"),
            legs=[Leg(books.isf, -6_000), Leg(books.payable, 5_400), Leg(books.fees, 600)],
        )
        assert ledger.balances_pence(db, [books.isf, books.payable, books.fees]) == {
            books.isf.id: 4_000,
            books.payable.id: 5_400,
            books.fees.id: 600,
        }

    @pytest.mark.parametrize(
        ("amounts", "message"),
        [
            ((500, -400), "sum to £0; these sum to £1.00"),
            ((500,), "two or more"),
            ((500, -500, 0), "more than £0"),
        ],
    )
    def test_postings_that_do_not_balance_are_refused_and_nothing_is_written(
        self, db: Session, amounts: tuple[int, ...], message: str
    ) -> None:
        books = make_isf_books(db, funded_pence=1_000)
        accounts = [books.isf, books.payable, books.fees]
        before = posting_count(db)
        with pytest.raises(UnbalancedTransaction, match=message):
            ledger.post_transaction(
                db,
                idempotency_key="unbalanced-1",
                actor=books.actor,
                reason="Wrong sums",
                reference=DELIVERY,
                legs=[
                    Leg(account, pence) for account, pence in zip(accounts, amounts, strict=False)
                ],
            )
        assert posting_count(db) == before

    def test_one_account_twice_is_refused(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=1_000)
        with pytest.raises(UnbalancedTransaction, match="once"):
            ledger.post_transaction(
                db,
                idempotency_key="twice-account-1",
                actor=books.actor,
                reason="Same account twice",
                reference=DELIVERY,
                legs=[Leg(books.isf, 100), Leg(books.isf, -100)],
            )

    def test_every_entry_says_who(self) -> None:
        assert Actor.system() == Actor(user_id=None, role="system")
        with pytest.raises(ValueError, match="role"):
            Actor(user_id=None, role=Role.FINANCE.value)
        with pytest.raises(ValueError, match="role"):
            Actor(user_id=7, role="system")

    def test_every_entry_says_why(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=1_000)
        with pytest.raises(RuleBroken, match="Say why"):
            pay_provider_with_reason(db, books, reason="   ")
        with pytest.raises(RuleBroken, match="Say why"):
            pay_provider_with_reason(db, books, reason="x" * 501)


def pay_provider_with_reason(db: Session, books: IsfBooks, *, reason: str) -> None:
    ledger.transfer(
        db,
        source=books.isf,
        destination=books.payable,
        amount_pence=100,
        idempotency_key="reasonless-1",
        actor=books.actor,
        reason=reason,
        reference=DELIVERY,
    )


class TestOverdraft:
    def test_an_isf_cannot_pay_more_than_it_holds(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=2_000)
        before = posting_count(db)
        with pytest.raises(InsufficientFunds) as refused:
            pay_provider(db, books, 2_001, key="too-much-1")
        assert "£20.00 is available and this needs £20.01" in refused.value.message
        assert (refused.value.available_pence, refused.value.needed_pence) == (2_000, 2_001)
        assert posting_count(db) == before
        assert ledger.balance_pence(db, books.isf) == 2_000

        pay_provider(db, books, 2_000, key="all-of-it-1")
        assert ledger.balance_pence(db, books.isf) == 0

    def test_a_lower_floor_lets_an_isf_go_that_far_below_zero_and_no_further(
        self, db: Session
    ) -> None:
        books = make_isf_books(db, funded_pence=1_000, floor_pence=-500)
        pay_provider(db, books, 1_500, key="into-contingency-1")
        assert ledger.balance_pence(db, books.isf) == -500
        with pytest.raises(InsufficientFunds):
            pay_provider(db, books, 1, key="beyond-contingency-1")

    def test_a_provider_cannot_be_paid_more_than_it_is_owed(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=1_000)
        pay_provider(db, books, 700, key="owed-to-1")
        with pytest.raises(InsufficientFunds):
            ledger.transfer(
                db,
                source=books.payable,
                destination=books.funding,
                amount_pence=701,
                idempotency_key="overpaid-1",
                actor=books.actor,
                reason="Paid by bank transfer",
                reference=Reference(ReferenceKind.PAYMENT, "BACS-1"),
            )


class TestReversal:
    def test_a_reversal_nets_the_original_to_zero_and_links_it(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        mistake = pay_provider(db, books, 2_500, key="mistake-1")
        reversal = ledger.reverse_transaction(
            db,
            original=mistake,
            idempotency_key="mistake-1-reversed",
            actor=books.actor,
            reason="Recorded against the wrong person",
        )
        assert reversal.reverses_id == mistake.id
        assert (reversal.reference_kind, reversal.reference_id) == (
            ReferenceKind.CORRECTION,
            str(mistake.id),
        )
        net: dict[int, int] = {}
        for posting in [*mistake.postings, *reversal.postings]:
            net[posting.account_id] = net.get(posting.account_id, 0) + posting.amount_pence
        assert set(net.values()) == {0}
        assert ledger.balances_pence(db, [books.isf, books.payable]) == {
            books.isf.id: 10_000,
            books.payable.id: 0,
        }
        assert check_invariants(db).sound

    def test_a_transaction_is_reversed_at_most_once(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        mistake = pay_provider(db, books, 2_500, key="mistake-2")
        reverse = {"original": mistake, "actor": books.actor, "reason": "Wrong person"}
        ledger.reverse_transaction(db, idempotency_key="mistake-2-reversed", **reverse)  # type: ignore[arg-type]
        with pytest.raises(AlreadyReversed):
            ledger.reverse_transaction(db, idempotency_key="mistake-2-reversed-again", **reverse)  # type: ignore[arg-type]
        assert ledger.balance_pence(db, books.isf) == 10_000

    def test_a_reversal_is_not_itself_reversed(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        mistake = pay_provider(db, books, 2_500, key="mistake-3")
        reversal = ledger.reverse_transaction(
            db, original=mistake, idempotency_key="mistake-3-rev", actor=books.actor, reason="x"
        )
        with pytest.raises(NotReversible):
            ledger.reverse_transaction(
                db,
                original=reversal,
                idempotency_key="mistake-3-rev-rev",
                actor=books.actor,
                reason="y",
            )

    def test_funding_already_spent_cannot_be_reversed(self, db: Session) -> None:
        books = make_isf_books(db)
        tranche = fund(db, books, 1_000)
        pay_provider(db, books, 600, key="spent-it-1")
        with pytest.raises(InsufficientFunds):
            ledger.reverse_transaction(
                db,
                original=tranche,
                idempotency_key="clawback-1",
                actor=books.actor,
                reason="Paid twice",
            )


class TestIdempotency:
    def test_a_retry_has_one_effect_and_gets_the_first_answer(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        first = pay_provider(db, books, 1_000, key="approve-delivery-7")
        postings = posting_count(db)
        again = pay_provider(db, books, 1_000, key="approve-delivery-7")
        assert again.id == first.id
        assert posting_count(db) == postings
        assert ledger.balance_pence(db, books.isf) == 9_000

    def test_the_same_key_with_different_content_is_refused(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        pay_provider(db, books, 1_000, key="approve-delivery-8")
        with pytest.raises(KeyReused, match="different details"):
            pay_provider(db, books, 1_001, key="approve-delivery-8")
        assert ledger.balance_pence(db, books.isf) == 9_000

    def test_the_same_key_from_someone_else_is_refused(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        pay_provider(db, books, 1_000, key="approve-delivery-9")
        other = make_user(db, role=Role.FINANCE)
        with pytest.raises(KeyReused):
            ledger.transfer(
                db,
                source=books.isf,
                destination=books.payable,
                amount_pence=1_000,
                idempotency_key="approve-delivery-9",
                actor=Actor.of(other),
                reason="Tuesday swimming with a PA, 3 hours",
                reference=DELIVERY,
            )

    def test_a_refused_request_leaves_its_key_free_for_the_retry(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=500)
        with pytest.raises(InsufficientFunds):
            pay_provider(db, books, 1_000, key="approve-delivery-10")
        fund(db, books, 500)
        paid = pay_provider(db, books, 1_000, key="approve-delivery-10")
        assert paid.idempotency_key == "approve-delivery-10"
        assert ledger.balance_pence(db, books.isf) == 0

    def test_a_replayed_reversal_returns_the_first_reversal(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        mistake = pay_provider(db, books, 2_500, key="mistake-4")
        reverse = {"original": mistake, "actor": books.actor, "reason": "Wrong person"}
        first = ledger.reverse_transaction(db, idempotency_key="mistake-4-rev", **reverse)  # type: ignore[arg-type]
        assert (
            ledger.reverse_transaction(db, idempotency_key="mistake-4-rev", **reverse).id
            == first.id
        )  # type: ignore[arg-type]

    def test_a_key_is_bounded(self, db: Session) -> None:
        books = make_isf_books(db, funded_pence=10_000)
        for key in ("short", "x" * 101, "has space in it", "naïve-key-1234"):
            with pytest.raises(RuleBroken, match="reload"):
                pay_provider(db, books, 100, key=key)
