"""The ledger accounts an individual service fund's money moves through: its council's
funding source, the fund's own account (opened when the fund becomes active), its
holder's management fees, what each provider is owed from the council's funds, and what
the council has paid out to providers; and the carrying over of a closed period's money
into the fund of the next as that fund opens. One of each: the database refuses a second, and
two requests opening one at once both get the one that was kept."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.funds.models import IndividualServiceFund
from contracts.ledger import Actor, Reference, open_account, transfer
from contracts.models import AccountKind, LedgerAccount, ReferenceKind
from marketplace.accounts.models import User
from marketplace.geography.models import CouncilArea
from providers.models import Provider


def council_funding_account(session: Session, council: CouncilArea) -> LedgerAccount:
    """The council's funding source, opened the first time a fund of the council needs it."""
    return _the_one(
        session, AccountKind.COUNCIL_FUNDING, f"{council.name} Council funding", council=council
    )


def management_fees_account(session: Session, holder: Provider) -> LedgerAccount:
    """Where the fees a holder charges its funds go, opened with its first active fund."""
    return _the_one(
        session, AccountKind.MANAGEMENT_FEES, f"Management fees of {holder.name}", provider=holder
    )


def payable_account(session: Session, provider: Provider, council: CouncilArea) -> LedgerAccount:
    """What `provider` is owed from `council`'s funds, opened with its first approved
    delivery there: each council's finance staff pay their own council's share."""
    return _the_one(
        session,
        AccountKind.PROVIDER_PAYABLE,
        f"Owed to {provider.name} from {council.name} Council funds",
        provider=provider,
        council=council,
    )


def paid_to_providers_account(session: Session, council: CouncilArea) -> LedgerAccount:
    """What the council's finance staff have paid out to providers, from its first payment."""
    return _the_one(
        session,
        AccountKind.PAID_TO_PROVIDERS,
        f"Paid to providers by {council.name} Council",
        council=council,
    )


def returned_underspend_account(session: Session, council: CouncilArea) -> LedgerAccount:
    """Underspend returned to the council when funds' periods close, from the first."""
    return _the_one(
        session,
        AccountKind.RETURNED_UNDERSPEND,
        f"Underspend returned to {council.name} Council",
        council=council,
    )


def _the_one(
    session: Session,
    kind: AccountKind,
    name: str,
    *,
    council: CouncilArea | None = None,
    provider: Provider | None = None,
) -> LedgerAccount:
    """The account of `kind` its owners have, opened under `name` if there is none yet."""
    query = select(LedgerAccount).where(LedgerAccount.kind == kind)
    if council is not None:
        query = query.where(LedgerAccount.council_id == council.id)
    if provider is not None:
        query = query.where(LedgerAccount.provider_id == provider.id)
    found = session.scalar(query)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return open_account(session, kind=kind, name=name, council=council, provider=provider)
    except IntegrityError:
        # Another request opened it at the same moment (the first approval for a provider
        # in two funds at once, say): the unique index kept one, and it is theirs.
        return session.scalars(query).one()


def open_fund_accounts(session: Session, fund: IndividualServiceFund, *, by: User) -> LedgerAccount:
    """The fund's own account, held by its holder, never below zero; and the council's and
    the holder's accounts it will need, if they are not open yet. A fund that follows a
    closed period receives what that period carried over, from the closed fund's account,
    as it opens (`by` made it active)."""
    council_funding_account(session, fund.council)
    management_fees_account(session, fund.holder)
    account = open_account(
        session,
        kind=AccountKind.ISF_FUNDS,
        # By number: finance staff follow the money without seeing who it is for.
        name=f"Individual service fund {fund.id}",
        provider=fund.holder,
    )
    fund.account = account
    last = fund.renews
    if last is not None and fund.carried_in_pence:
        assert last.account is not None and last.period_ends_on is not None
        transfer(
            session,
            source=last.account,
            destination=account,
            amount_pence=fund.carried_in_pence,
            idempotency_key=f"carry-over:{last.id}",
            actor=Actor.of(by),
            reason=f"Carried over from the last period, which ended on "
            f"{last.period_ends_on:%-d %B %Y}",
            reference=Reference(ReferenceKind.CARRY_OVER, str(last.id)),
        )
    return account
