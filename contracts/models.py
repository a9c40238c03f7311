"""The ledger's tables: accounts with their cached balances, ledger transactions and their
postings. The rules, the sign convention and how the database enforces them are in
contracts.ledger's design overview; the triggers are in the ledger_1 migration."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, TimestampMixin, str_enum, utcnow
from marketplace.idempotency import MAX_KEY_LENGTH

CURRENCY = "GBP"
"""The ledger holds pounds sterling only; a second currency would need every balance rule
applied per currency."""

SYSTEM_ROLE = "system"
"""The actor role of work the service does by itself on a schedule (funding tranches,
management fees), which no signed-in person caused."""

MAX_REASON_LENGTH = 500


class AccountKind(enum.StrEnum):
    COUNCIL_FUNDING = "council_funding"
    """Where a council's money comes from: it goes below zero by what the council has put
    into ISFs, net of what came back (the ledger's 'world'). Owned by the council."""
    ISF_FUNDS = "isf_funds"
    """An individual service fund's money, held for the supported person. Owned by its
    holder: a provider that holds ISFs, or the council whose own team holds it."""
    PROVIDER_PAYABLE = "provider_payable"
    """What a provider is owed for support delivered and approved, until it is paid."""
    MANAGEMENT_FEES = "management_fees"
    """Management fees an ISF holder has charged. Owned by the holder."""
    RETURNED_UNDERSPEND = "returned_underspend"
    """Underspend returned to a council at the end of a period. Owned by the council."""
    PAID_TO_PROVIDERS = "paid_to_providers"
    """What a council's finance staff have paid out to providers: money that has left the
    ledger for providers' bank accounts (the ledger's 'world' on the way out). Owned by
    the council."""

    @property
    def label(self) -> str:
        return {
            AccountKind.COUNCIL_FUNDING: "Council funding",
            AccountKind.ISF_FUNDS: "Individual service fund",
            AccountKind.PROVIDER_PAYABLE: "Owed to provider",
            AccountKind.MANAGEMENT_FEES: "Management fees",
            AccountKind.RETURNED_UNDERSPEND: "Returned underspend",
            AccountKind.PAID_TO_PROVIDERS: "Paid to providers",
        }[self]

    @property
    def overdrawn_by_default(self) -> bool:
        """Only a council's funding source may go below zero unless told otherwise."""
        return self == AccountKind.COUNCIL_FUNDING


COUNCIL_OWNED = (
    AccountKind.COUNCIL_FUNDING,
    AccountKind.RETURNED_UNDERSPEND,
    AccountKind.PAID_TO_PROVIDERS,
)
PROVIDER_OWNED_FOR_A_COUNCIL = (AccountKind.PROVIDER_PAYABLE,)
"""Owned by a provider and kept apart for each council whose funds owe it, so that each
council's finance staff see and pay only what their council's funds owe."""
HOLDER_OWNED = (AccountKind.ISF_FUNDS, AccountKind.MANAGEMENT_FEES)
"""Owned by whoever holds the ISF: a provider, or a council's own team."""


class ReferenceKind(enum.StrEnum):
    """What a ledger transaction is for: the record that caused it, by kind."""

    FUNDING_TRANCHE = "funding_tranche"
    """A tranche of an ISF's funding schedule, posted on its date."""
    FINANCE_ADJUSTMENT = "finance_adjustment"
    """A top-up or clawback finance recorded, with its reason."""
    DELIVERY = "delivery"
    """Support delivered against a budget line, confirmed and approved."""
    MANAGEMENT_FEE = "management_fee"
    """A period's management fee."""
    CHANGE_OF_USE_DECISION = "change_of_use_decision"
    """A decision to use the money differently from the plan."""
    PAYMENT = "payment"
    """A payment sent to a provider."""
    PERIOD_END = "period_end"
    """Closing a period under the council's underspend rule."""
    CARRY_OVER = "carry_over"
    """What a closed period carried over, moved into the fund of the person's next one."""
    CORRECTION = "correction"
    """A mistake put right, usually by reversing the entry that made it."""


OWNER_FITS_KIND = (
    "(kind IN ('council_funding', 'returned_underspend', 'paid_to_providers')"
    " AND council_id IS NOT NULL AND provider_id IS NULL)"
    " OR (kind = 'provider_payable' AND provider_id IS NOT NULL AND council_id IS NOT NULL)"
    " OR (kind IN ('isf_funds', 'management_fees')"
    " AND (council_id IS NULL) <> (provider_id IS NULL))"
)
"""Each kind of account has the owner its kind says (the spending_1 migration's rule)."""


class LedgerAccount(TimestampMixin, Base):
    """A place money is: a council's funding, an ISF, what a provider is owed, fees or
    returned underspend. Its balance is the sum of its postings, cached in balance_pence."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint(f"currency = '{CURRENCY}'", name="sterling"),
        CheckConstraint("floor_pence <= 0", name="floor_not_above_zero"),
        CheckConstraint("allow_overdraft OR balance_pence >= floor_pence", name="above_floor"),
        CheckConstraint(OWNER_FITS_KIND, name="owner_fits_kind"),
        # One funding source and one paid-out account a council, one fees account a holder,
        # one payable a provider for each council: money is never split between two, even
        # when two funds become active at once.
        *(
            Index(
                f"uq_ledger_account_one_{kind}",
                *owner,
                unique=True,
                sqlite_where=text(f"kind = '{kind}'"),
                postgresql_where=text(f"kind = '{kind}'"),
            )
            for kind, owner in (
                ("council_funding", ("council_id",)),
                ("management_fees", ("provider_id",)),
                ("paid_to_providers", ("council_id",)),
                ("returned_underspend", ("council_id",)),
                ("provider_payable", ("provider_id", "council_id")),
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind))
    name: Mapped[str] = mapped_column(String(200))
    """What people see it called, e.g. 'Highland Council funding'."""
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    council_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT"), index=True
    )
    """The owning council (see AccountKind for which kinds a council owns)."""
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="RESTRICT"), index=True
    )
    """The owning provider (see AccountKind for which kinds a provider owns)."""
    allow_overdraft: Mapped[bool] = mapped_column(default=False)
    """May go below any floor at all: true for a council's funding source only, by default."""
    floor_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    """The lowest balance allowed, in pence: 0, or below 0 where a recorded contingency or
    decision lets the account be overdrawn by that much."""
    balance_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    """The sum of this account's postings in pence, kept by the database's triggers."""


class LedgerTransaction(Base):
    """A set of postings that sum to zero, posted at once, never changed afterwards: who
    caused it, why, and the idempotency key it was asked for with."""

    __tablename__ = "ledger_transaction"
    __table_args__ = (
        CheckConstraint(
            f"actor_id IS NOT NULL OR actor_role = '{SYSTEM_ROLE}'", name="someone_caused_it"
        ),
        CheckConstraint("trim(reason) <> ''", name="has_a_reason"),
        CheckConstraint("posting_count >= 2", name="two_or_more_postings"),
        Index("ix_ledger_transaction_reference", "reference_kind", "reference_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    """Made by the ledger before the postings are written, which name it (see ledger.py)."""
    idempotency_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    """The fingerprint of what was asked for, compared when the key is used again."""
    posting_count: Mapped[int]
    """How many postings it was sealed with: a posting added later, by any session, makes
    the count wrong and is refused."""
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transaction.id", ondelete="RESTRICT"), unique=True
    )
    """The transaction this one reverses; each is reversed at most once."""
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    """Who caused it; none for the service's own scheduled work."""
    actor_role: Mapped[str] = mapped_column(String(32))
    """Their role at the time (roles change), or 'system'."""
    reason: Mapped[str] = mapped_column(String(MAX_REASON_LENGTH))
    """Why, in words a person reading the statement understands."""
    reference_kind: Mapped[ReferenceKind] = mapped_column(str_enum(ReferenceKind))
    reference_id: Mapped[str | None] = mapped_column(String(64))
    """The id of the record that caused it (a tranche, a delivery, a decision), if any."""
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[LedgerPosting]] = relationship(
        viewonly=True, order_by="LedgerPosting.id", lazy="selectin"
    )


class LedgerPosting(Base):
    """One account's share of a ledger transaction, in pence: positive adds to the account's
    balance, negative takes from it."""

    __tablename__ = "ledger_posting"
    __table_args__ = (
        UniqueConstraint("transaction_id", "account_id"),
        CheckConstraint("amount_pence <> 0", name="not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        # Deferred: postings are written before the transaction row that seals them, and a
        # posting left without one cannot be committed (contracts.ledger explains).
        ForeignKey(
            "ledger_transaction.id", ondelete="RESTRICT", deferrable=True, initially="DEFERRED"
        )
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_account.id", ondelete="RESTRICT"), index=True
    )
    amount_pence: Mapped[int] = mapped_column(BigInteger)

    account: Mapped[LedgerAccount] = relationship(lazy="joined")
