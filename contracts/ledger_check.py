"""The ledger's invariants checked over the whole database, for `sds-market ledger check`
and the tests: each names what is wrong, where, and what was expected against what was
found. The database refuses most breaches as they happen (contracts.ledger's design
overview); this finds what got past it, such as a trigger dropped by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from contracts.ledger import transaction_fingerprint
from contracts.models import LedgerAccount, LedgerPosting, LedgerTransaction
from marketplace.idempotency import IdempotentRequest


@dataclass(frozen=True)
class Violation:
    rule: str
    """Which invariant, in a few words."""
    subject: str
    """The transaction, account, posting or key it is about."""
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.rule}: expected {self.expected}, found {self.found}"


@dataclass(frozen=True)
class LedgerReport:
    accounts: int
    transactions: int
    postings: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.violations


def check_invariants(session: Session) -> LedgerReport:
    """Every invariant over every row. Each check is one statement (or one pass), so each
    is consistent in itself; run it in one snapshot (PostgreSQL REPEATABLE READ, or any
    SQLite read transaction) for a report consistent throughout."""
    violations = [
        *_unbalanced_transactions(session),
        *_postings_without_transaction(session),
        *_whole_ledger_not_zero(session),
        *_cached_balances_wrong(session),
        *_accounts_below_floor(session),
        *_keys_with_two_effects(session),
        *_content_not_what_the_key_asked(session),
        *_reversals_not_once_or_not_mirrors(session),
    ]
    return LedgerReport(
        accounts=_count(session, select(func.count()).select_from(LedgerAccount)),
        transactions=_count(session, select(func.count()).select_from(LedgerTransaction)),
        postings=_count(session, select(func.count()).select_from(LedgerPosting)),
        violations=violations,
    )


def _count(session: Session, statement: Select[int]) -> int:
    return session.scalar(statement) or 0


def _transaction(transaction_id: object) -> str:
    return f"ledger transaction {transaction_id}"


def _account(account_id: int, name: str) -> str:
    return f"ledger account {account_id} ({name})"


def _postings(count: int) -> str:
    return f"{count} posting{'' if count == 1 else 's'}"


def _unbalanced_transactions(session: Session) -> Iterator[Violation]:
    t = LedgerTransaction
    count = func.count(LedgerPosting.id)
    total = func.coalesce(func.sum(LedgerPosting.amount_pence), 0)
    rows = session.execute(
        select(t.id, t.posting_count, count, total)
        .outerjoin(LedgerPosting, LedgerPosting.transaction_id == t.id)
        .group_by(t.id, t.posting_count)
        .having(or_(count < 2, count != t.posting_count, total != 0))
        .order_by(t.id)
    )
    for transaction_id, sealed_with, postings, pence in rows:
        yield Violation(
            "postings must sum to 0 (L1)",
            _transaction(transaction_id),
            f"the {_postings(sealed_with)} it was sealed with (2 or more) summing to 0p",
            f"{_postings(postings)} summing to {pence}p",
        )


def _postings_without_transaction(session: Session) -> Iterator[Violation]:
    rows = session.execute(
        select(LedgerPosting.id, LedgerPosting.transaction_id, LedgerPosting.amount_pence)
        .where(~exists().where(LedgerTransaction.id == LedgerPosting.transaction_id))
        .order_by(LedgerPosting.id)
    )
    for posting_id, transaction_id, pence in rows:
        yield Violation(
            "every posting belongs to a written transaction (L1)",
            f"ledger posting {posting_id} of {pence}p",
            f"{_transaction(transaction_id)} to exist",
            "no such transaction",
        )


def _whole_ledger_not_zero(session: Session) -> Iterator[Violation]:
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerPosting.amount_pence), 0)).join(
            LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id
        )
    )
    if total:
        yield Violation("all postings sum to 0 (L2)", "the whole ledger", "0p", f"{total}p")


def _posting_sums() -> Select[int, int]:
    """Each account's sum of postings of written transactions: its true balance."""
    return (
        select(
            LedgerPosting.account_id.label("account_id"),
            func.sum(LedgerPosting.amount_pence).label("total"),
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .group_by(LedgerPosting.account_id)
    )


def _cached_balances_wrong(session: Session) -> Iterator[Violation]:
    sums = _posting_sums().subquery()
    truth = func.coalesce(sums.c.total, 0)
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.name, LedgerAccount.balance_pence, truth)
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance_pence != truth)
        .order_by(LedgerAccount.id)
    )
    for account_id, name, cached, pence in rows:
        yield Violation(
            "cached balance equals the sum of postings (L3)",
            _account(account_id, name),
            f"{pence}p (the sum of its postings)",
            f"{cached}p cached",
        )


def _accounts_below_floor(session: Session) -> Iterator[Violation]:
    sums = _posting_sums().subquery()
    truth = func.coalesce(sums.c.total, 0)
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.name, LedgerAccount.floor_pence, truth)
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(~LedgerAccount.allow_overdraft, truth < LedgerAccount.floor_pence)
        .order_by(LedgerAccount.id)
    )
    for account_id, name, floor, pence in rows:
        yield Violation(
            "no account below its floor (L4)",
            _account(account_id, name),
            f"a balance of {floor}p or more",
            f"{pence}p",
        )


def _keys_with_two_effects(session: Session) -> Iterator[Violation]:
    for column, what in (
        (LedgerTransaction.idempotency_key, "ledger transactions"),
        (IdempotentRequest.key, "requests carried out"),
    ):
        rows = session.execute(
            select(column, func.count()).group_by(column).having(func.count() > 1).order_by(column)
        )
        for key, times in rows:
            yield Violation(
                "one effect per idempotency key (L6)",
                f"idempotency key {key!r}",
                f"1 of the {what}",
                str(times),
            )


def _content_not_what_the_key_asked(session: Session) -> Iterator[Violation]:
    """Each transaction's stored fingerprint, recomputed from what it holds: a mismatch is
    a row whose content is not what its key was first used for."""
    t, p = LedgerTransaction, LedgerPosting
    rows = session.execute(
        select(
            t.id, t.request_hash, t.actor_id, t.actor_role, t.reason, t.reference_kind,
            t.reference_id, t.reverses_id, p.account_id, p.amount_pence,
        )
        .join(p, p.transaction_id == t.id)
        .order_by(t.id)
        .execution_options(yield_per=2000)
    )  # fmt: skip
    for transaction_id, group in groupby(rows, key=lambda row: row.id):
        legs = list(group)
        first = legs[0]
        recomputed = transaction_fingerprint(
            actor_id=first.actor_id,
            actor_role=first.actor_role,
            reason=first.reason,
            reference_kind=first.reference_kind,
            reference_id=first.reference_id,
            reverses_id=first.reverses_id,
            postings=[(leg.account_id, leg.amount_pence) for leg in legs],
        )
        if recomputed != first.request_hash:
            yield Violation(
                "content is what its idempotency key was used for (L6)",
                _transaction(transaction_id),
                f"request hash {first.request_hash[:12]}…",
                f"content hashing to {recomputed[:12]}…",
            )


def _reversals_not_once_or_not_mirrors(session: Session) -> Iterator[Violation]:
    t = LedgerTransaction
    twice = session.execute(
        select(t.reverses_id, func.count())
        .where(t.reverses_id.is_not(None))
        .group_by(t.reverses_id)
        .having(func.count() > 1)
        .order_by(t.reverses_id)
    )
    for original_id, times in twice:
        yield Violation(
            "reversed at most once (L5)",
            _transaction(original_id),
            "1 reversal",
            f"{times} reversals",
        )

    original = aliased(LedgerTransaction)
    of_reversals = session.execute(
        select(t.id, t.reverses_id)
        .join(original, original.id == t.reverses_id)
        .where(original.reverses_id.is_not(None))
        .order_by(t.id)
    )
    for reversal_id, original_id in of_reversals:
        yield Violation(
            "a reversal is not itself reversed (L5)",
            _transaction(reversal_id),
            "to reverse an original entry",
            f"it reverses the reversal {original_id}",
        )

    # A reversal and its original net to zero on every account, each account posted once
    # by each of the two (one posting per account per transaction).
    p = LedgerPosting
    net = func.sum(p.amount_pence)
    unmatched = session.execute(
        select(t.id, p.account_id, net, func.count())
        .join(p, or_(p.transaction_id == t.id, p.transaction_id == t.reverses_id))
        .where(t.reverses_id.is_not(None))
        .group_by(t.id, p.account_id)
        .having(or_(net != 0, func.count() != 2))
        .order_by(t.id, p.account_id)
    )
    for reversal_id, account_id, pence, postings in unmatched:
        yield Violation(
            "a reversal nets its original to 0 (L5)",
            f"{_transaction(reversal_id)} on ledger account {account_id}",
            "the original's posting and its exact opposite, netting to 0p",
            f"{_postings(postings)} netting to {pence}p",
        )
