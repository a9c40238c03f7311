"""The double-entry ledger of individual service funds: opening accounts, posting balanced
transactions, reversing them and reading balances back (its invariants are checked by
contracts.ledger_check).

Design overview
===============

Amounts are integer pence, GBP only. A ledger transaction is two or more postings, one per
account, that sum to zero. An account's balance is the sum of its postings: a positive
posting adds to the account, a negative one takes from it. So money moves from the account
given the negative amount to the account given the positive one:

    =====================  ==============  ===========================================
    account kind           normal balance  the balance means
    =====================  ==============  ===========================================
    council_funding        0 or below      minus what the council has put into ISFs,
                                           net of what came back (the only account
                                           that may go negative by default)
    isf_funds              floor or above  money available to spend on the person's
                                           plan (the floor is 0 unless a recorded
                                           contingency or decision lowers it)
    provider_payable       0 or above      owed to the provider from one council's
                                           funds, not yet paid
    management_fees        0 or above      fees the holder has charged
    returned_underspend    0 or above      underspend returned to the council
    paid_to_providers      0 or above      what the council's finance staff have paid
                                           out to providers (money that has left)
    =====================  ==============  ===========================================

    funding tranche        council_funding -x, isf_funds +x
    delivery approved      isf_funds -(x+f), provider_payable +x, management_fees +f
                           (f: the holder's fee as a share of what is spent, if any)
    management fee         isf_funds -x, management_fees +x
    provider paid          provider_payable -x, paid_to_providers +x
    underspend returned    isf_funds -x, returned_underspend +x

Who owns an account is a real foreign key on the account for each kind of owner that
exists: `council_id` for a council's funding, returned underspend and payments out,
`provider_id` and `council_id` both for what a provider is owed (kept apart for each
council, whose finance staff pay it), and either one for what an ISF holder keeps (the
ISF's money and its fees), since an ISF is held by a provider or by the council's own
team. A CHECK ties each kind to its owner. An ISF names its account (the fund's
`account_id`, unique); a polymorphic owner (type plus id, no foreign key) was rejected
because nothing would stop it naming a record that does not exist.

The database enforces every rule as well as this module, the same way on SQLite and
PostgreSQL, so a bug here or a hand-written statement cannot break them:

- Postings are written first and the ledger_transaction row last, as their seal. The
  postings name the transaction through a foreign key that is DEFERRED, so they may be
  written before it exists, but a posting still without its transaction at COMMIT fails
  the foreign key (SQLite's deferred foreign keys are its one check made at COMMIT).
- Writing the transaction row checks, in a trigger, that its postings sum to zero and
  number exactly its `posting_count` (two or more, by a CHECK), and that a reversal
  mirrors its original exactly; then it adds them to the accounts' cached balances, whose
  CHECK `allow_overdraft OR balance_pence >= floor_pence` refuses an account below its
  floor.
- A trigger refuses a posting for a transaction whose row is already written, and others
  refuse UPDATE and DELETE of postings and transactions (PostgreSQL TRUNCATE too; SQLite
  an INSERT OR REPLACE over a row, which deletes without DELETE triggers), and any change
  to an account's kind, currency or owner. An account opens at zero.
- Hence every committed posting belongs to a transaction that was checked when its row
  was written, after all its postings, and nothing can change since: every committed
  transaction balances. PostgreSQL runs writers side by side, and a trigger cannot see
  another session's uncommitted rows, so hand-written postings could name a transaction
  that another session has sealed but not yet committed. A deferred constraint trigger
  closes that gap: at each COMMIT it checks every new posting's transaction again, sum
  and `posting_count`, so even a balanced pair slipped in is refused. SQLite has one
  writer at a time, so it has no such gap.

What the database cannot tell apart is a trigger's update of a cached balance from
anybody else's, so a hand-written UPDATE of balance_pence is found by `sds-market ledger
check` rather than refused.

Overdraft and concurrency: before writing, `post_transaction` locks the touched accounts
with SELECT ... FOR UPDATE in ascending id order (so two transactions never wait for each
other in a cycle) and checks each new balance against the account's floor, refusing with
InsufficientFunds. On SQLite FOR UPDATE does nothing and the writing transaction's BEGIN
IMMEDIATE has taken the database's single write lock instead. No Python-side lock is used.

Idempotency (L6): each ledger transaction carries a unique idempotency key and the
fingerprint of what was asked for. Posting again with the key and the same content returns
the first transaction and changes nothing; different content raises KeyReused. The key is
held (marketplace.idempotency.hold_key) before it is looked up, so two requests with one
key at once take turns. Callers choose keys that name the cause, such as
'tranche:812', or pass on the key a client sent with its request.

Nothing here commits: the caller owns the transaction, so a posting commits or rolls back
with whatever caused it (an approval, a payment, a decision)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from contracts.models import (
    COUNCIL_OWNED,
    CURRENCY,
    HOLDER_OWNED,
    MAX_REASON_LENGTH,
    PROVIDER_OWNED_FOR_A_COUNCIL,
    SYSTEM_ROLE,
    AccountKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    ReferenceKind,
)
from marketplace.errors import Conflict, RuleBroken
from marketplace.idempotency import KeyReused, fingerprint, hold_key, parse_key
from marketplace.money import format_pence
from marketplace.parsing import CONTROL_CHARACTERS

if TYPE_CHECKING:
    from marketplace.accounts.models import User
    from marketplace.geography.models import CouncilArea
    from providers.models import Provider

MAX_POSTING_PENCE = 10**13
"""No single posting moves £100bn or more; far beyond any budget, well inside BIGINT."""

POSTING_OPERATION = "ledger.post"
"""The operation named in every ledger transaction's fingerprint."""


class UnbalancedTransaction(RuleBroken):
    """Postings that do not make a ledger transaction: fewer than two, a zero amount, one
    account twice, or amounts that do not sum to zero."""


class InsufficientFunds(RuleBroken):
    """A posting would take an account below its floor."""

    def __init__(self, account: LedgerAccount, *, needed_pence: int) -> None:
        self.account_id = account.id
        self.available_pence = account.balance_pence - account.floor_pence
        self.needed_pence = needed_pence
        super().__init__(
            f"There is not enough money in {account.name}: "
            f"{format_pence(max(self.available_pence, 0))} is available "
            f"and this needs {format_pence(needed_pence)}.",
            field="amount",
        )


class AlreadyReversed(Conflict):
    """A ledger transaction is reversed at most once."""


class NotReversible(RuleBroken):
    """A reversal is not reversed in turn: post the original entry again instead."""


@dataclass(frozen=True)
class Actor:
    """Who caused a ledger transaction: a signed-in person in their role at the time, or
    the service itself doing scheduled work."""

    user_id: int | None
    role: str

    def __post_init__(self) -> None:
        if (self.user_id is None) != (self.role == SYSTEM_ROLE):
            raise ValueError("a person acts in their role; only the service acts as 'system'")

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, role=user.role.value)

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, role=SYSTEM_ROLE)


@dataclass(frozen=True)
class Reference:
    """The record a ledger transaction is for: its kind and, where there is one, its id."""

    kind: ReferenceKind
    id: str | None = None

    def __post_init__(self) -> None:
        if self.id is not None and not 0 < len(self.id) <= 64:
            raise ValueError("a reference id is 1 to 64 characters")


@dataclass(frozen=True)
class Leg:
    """One account's share of a ledger transaction to be posted, in pence: positive adds
    to the account, negative takes from it."""

    account: LedgerAccount
    amount_pence: int


def open_account(
    session: Session,
    *,
    kind: AccountKind,
    name: str,
    council: CouncilArea | None = None,
    provider: Provider | None = None,
    allow_overdraft: bool | None = None,
    floor_pence: int = 0,
) -> LedgerAccount:
    """Open an account of `kind`, owned by `council` or `provider` (or, for what a provider
    is owed, by the provider for that council) as the kind requires,
    at a balance of zero. Only a council's funding source may be overdrawn by default."""
    name = " ".join(name.split())
    if not name or len(name) > 200 or CONTROL_CHARACTERS.search(name):
        raise RuleBroken("Give the account a name of 200 characters or fewer", field="name")
    owners = {
        **dict.fromkeys(COUNCIL_OWNED, (council is not None and provider is None)),
        **dict.fromkeys(
            PROVIDER_OWNED_FOR_A_COUNCIL, (provider is not None and council is not None)
        ),
        **dict.fromkeys(HOLDER_OWNED, ((council is None) != (provider is None))),
    }
    if not owners[kind]:
        raise RuleBroken(f"A {kind.label.lower()} account needs the owner its kind has")
    if isinstance(floor_pence, bool) or not -MAX_POSTING_PENCE < floor_pence <= 0:
        raise RuleBroken("An account's floor is £0 or below", field="floor")
    account = LedgerAccount(
        kind=kind,
        name=name,
        currency=CURRENCY,
        council_id=council.id if council is not None else None,
        provider_id=provider.id if provider is not None else None,
        allow_overdraft=kind.overdrawn_by_default if allow_overdraft is None else allow_overdraft,
        floor_pence=floor_pence,
        balance_pence=0,
    )
    session.add(account)
    session.flush()
    return account


def post_transaction(
    session: Session,
    *,
    idempotency_key: str,
    actor: Actor,
    reason: str,
    reference: Reference,
    legs: Sequence[Leg],
) -> LedgerTransaction:
    """Post `legs` as one ledger transaction, or return the transaction already posted
    with this key for the same content (KeyReused for different content). Refuses legs
    that do not balance (UnbalancedTransaction) or would take an account below its floor
    (InsufficientFunds), writing nothing."""
    return _post(
        session,
        idempotency_key=idempotency_key,
        actor=actor,
        reason=reason,
        reference=reference,
        legs=legs,
        reverses=None,
    )


def transfer(
    session: Session,
    *,
    source: LedgerAccount,
    destination: LedgerAccount,
    amount_pence: int,
    idempotency_key: str,
    actor: Actor,
    reason: str,
    reference: Reference,
) -> LedgerTransaction:
    """Move `amount_pence` (more than 0) from `source` to `destination`: the common case of
    post_transaction, with two legs."""
    if isinstance(amount_pence, bool) or amount_pence <= 0:
        raise UnbalancedTransaction("Enter an amount of more than £0", field="amount")
    return post_transaction(
        session,
        idempotency_key=idempotency_key,
        actor=actor,
        reason=reason,
        reference=reference,
        legs=[Leg(source, -amount_pence), Leg(destination, amount_pence)],
    )


def reverse_transaction(
    session: Session,
    *,
    original: LedgerTransaction,
    idempotency_key: str,
    actor: Actor,
    reason: str,
    reference: Reference | None = None,
) -> LedgerTransaction:
    """Post the exact opposite of `original`, linked to it, so that together they net to
    zero: how a posted entry is corrected. Once only (AlreadyReversed), never a reversal
    itself (NotReversible), and not if the money has gone since (InsufficientFunds). The
    reference defaults to a correction of the original."""
    legs = [Leg(posting.account, -posting.amount_pence) for posting in original.postings]
    return _post(
        session,
        idempotency_key=idempotency_key,
        actor=actor,
        reason=reason,
        reference=reference or Reference(ReferenceKind.CORRECTION, str(original.id)),
        legs=legs,
        reverses=original,
    )


def balance_pence(session: Session, account: LedgerAccount) -> int:
    """The account's balance as committed work sees it now: the cached sum of its postings."""
    return balances_pence(session, [account])[account.id]


def balances_pence(session: Session, accounts: Iterable[LedgerAccount]) -> dict[int, int]:
    """Balances of several accounts in one statement, by account id."""
    ids = [account.id for account in accounts]
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.balance_pence).where(LedgerAccount.id.in_(ids))
    )
    return {account_id: balance for account_id, balance in rows}  # noqa: C416


def available_pence(account: LedgerAccount) -> int | None:
    """How much may still be taken from the account: down to its floor, or None when it
    may be overdrawn without limit."""
    return None if account.allow_overdraft else account.balance_pence - account.floor_pence


def transaction_fingerprint(
    *,
    actor_id: int | None,
    actor_role: str,
    reason: str,
    reference_kind: str,
    reference_id: str | None,
    reverses_id: uuid.UUID | None,
    postings: Iterable[tuple[int, int]],
) -> str:
    """The fingerprint of a ledger transaction's content, from what is asked for or, the
    same, from what was stored (so `ledger check` can recompute it): `postings` are
    (account id, amount in pence) in any order."""
    return fingerprint(
        POSTING_OPERATION,
        {
            "actor": [actor_id, actor_role],
            "reason": reason,
            "reference": [str(reference_kind), reference_id],
            "reverses": str(reverses_id) if reverses_id is not None else None,
            "postings": [[account_id, amount] for account_id, amount in sorted(postings)],
        },
    )


def _post(
    session: Session,
    *,
    idempotency_key: str,
    actor: Actor,
    reason: str,
    reference: Reference,
    legs: Sequence[Leg],
    reverses: LedgerTransaction | None,
) -> LedgerTransaction:
    try:
        key = parse_key(idempotency_key)
    except ValueError as error:
        raise RuleBroken(str(error)) from None
    reason = _clean_reason(reason)
    _check_legs(legs)
    request_hash = transaction_fingerprint(
        actor_id=actor.user_id,
        actor_role=actor.role,
        reason=reason,
        reference_kind=reference.kind.value,
        reference_id=reference.id,
        reverses_id=reverses.id if reverses is not None else None,
        postings=[(leg.account.id, leg.amount_pence) for leg in legs],
    )

    hold_key(session, key)
    earlier = session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)
    )
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise KeyReused()
        return earlier

    accounts = _lock_accounts(session, [leg.account.id for leg in legs])
    if reverses is not None:
        # After the locks: a reversal of the same original committed meanwhile is seen now.
        _check_reversible(session, reverses)
    for leg in legs:
        account = accounts[leg.account.id]
        if not account.allow_overdraft and (
            account.balance_pence + leg.amount_pence < account.floor_pence
        ):
            raise InsufficientFunds(account, needed_pence=-leg.amount_pence)

    transaction_id = uuid.uuid4()
    # Postings first, then the row that seals them: the order the database insists on.
    session.add_all(
        LedgerPosting(
            transaction_id=transaction_id, account_id=leg.account.id, amount_pence=leg.amount_pence
        )
        for leg in legs
    )
    session.flush()
    transaction = LedgerTransaction(
        id=transaction_id,
        idempotency_key=key,
        request_hash=request_hash,
        posting_count=len(legs),
        reverses_id=reverses.id if reverses is not None else None,
        actor_id=actor.user_id,
        actor_role=actor.role,
        reason=reason,
        reference_kind=reference.kind,
        reference_id=reference.id,
    )
    session.add(transaction)
    session.flush()
    # The database's trigger has moved the balances; the locked rows' new values are known.
    for leg in legs:
        account = accounts[leg.account.id]
        set_committed_value(account, "balance_pence", account.balance_pence + leg.amount_pence)
    return transaction


def _clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_LENGTH or CONTROL_CHARACTERS.search(reason):
        raise RuleBroken(f"Say why, in {MAX_REASON_LENGTH} characters or fewer", field="reason")
    return reason


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise UnbalancedTransaction("A ledger transaction needs two or more postings")
    for leg in legs:
        amount = leg.amount_pence
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedTransaction("Amounts are whole pence")
        if amount == 0 or abs(amount) >= MAX_POSTING_PENCE:
            raise UnbalancedTransaction("Each posting moves more than £0 and less than £100bn")
        if leg.account.id is None:
            raise UnbalancedTransaction("Open an account before posting to it")
    if len({leg.account.id for leg in legs}) != len(legs):
        raise UnbalancedTransaction("Each account appears once in a ledger transaction")
    total = sum(leg.amount_pence for leg in legs)
    if total != 0:
        raise UnbalancedTransaction(
            f"The postings must sum to £0; these sum to {format_pence(total)}"
        )


def _lock_accounts(session: Session, account_ids: Sequence[int]) -> dict[int, LedgerAccount]:
    """The accounts, read afresh and locked until the transaction ends, in ascending id
    order: every writer takes its locks in that one order, so none waits in a cycle."""
    rows = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.id.in_(account_ids))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {account.id: account for account in rows}


def _check_reversible(session: Session, original: LedgerTransaction) -> None:
    if original.reverses_id is not None:
        raise NotReversible(
            "This entry is itself a reversal, so it cannot be reversed: post the original "
            "entry again instead"
        )
    reversal = session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == original.id)
    )
    if reversal is not None:
        raise AlreadyReversed(f"This entry was already reversed by ledger transaction {reversal}")
