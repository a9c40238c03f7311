"""Small builders for test data, each going through the same services the app uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from contracts import ledger
from contracts.funds.accounts import (
    council_funding_account,
    management_fees_account,
    payable_account,
)
from contracts.models import AccountKind, LedgerAccount, LedgerTransaction, ReferenceKind
from marketplace import db as marketplace_db
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import make_hasher
from marketplace.geography import service as geography_service
from providers import checks as checks_service
from providers import offers as offers_service
from providers import service as providers_service
from providers import taxonomy as taxonomy_service
from providers import verification
from providers.checks import CheckDetails
from providers.models import (
    AreaType,
    CheckKind,
    Offer,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    Taxonomy,
    availability_bit,
)

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)
_cheap_hasher = make_hasher("cheapest")


def make_user(
    db: Session,
    *,
    role: Role = Role.SUPPORTED_PERSON,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    council: str | None = None,
    confirmed: bool = True,
    hasher: PasswordHasher = _cheap_hasher,
) -> User:
    number = next(_sequence)
    area = geography_service.find_council_area(db, name_or_code=council) if council else None
    if role == Role.BUDGET_HOLDER:
        area = area or geography_service.find_council_area(db, name_or_code="Highland")
    return accounts_service.create_user(
        db,
        hasher=hasher,
        email=email or f"user{number}@example.org",
        name=name or f"Test Person {number}",
        role=role,
        password=password,
        council=area,
        confirmed=confirmed,
    )


def term_ids(db: Session, taxonomy: Taxonomy, codes: tuple[str, ...]) -> list[int]:
    found = {t.code: t.id for t in taxonomy_service.terms(db, taxonomy)}
    return [found[code] for code in codes]


WEEKDAY_DAYTIMES = sum(availability_bit(day, period) for day in range(5) for period in (0, 1))


def make_provider(
    db: Session,
    *,
    kind: ProviderKind = ProviderKind.MICRO_PROVIDER,
    name: str | None = None,
    owner: User | None = None,
    base: str = "Portree",
    holds_isf: bool = False,
) -> Provider:
    owner_role = (
        Role.PERSONAL_ASSISTANT if kind == ProviderKind.PERSONAL_ASSISTANT else Role.PROVIDER_STAFF
    )
    owner = owner or make_user(db, role=owner_role)
    provider = providers_service.create_provider(
        db, name=name or f"{owner.name}'s support", kind=kind, owner=owner
    )
    providers_service.set_base(db, provider, geography_service.resolve_location(db, text=base))
    provider.holds_isf = holds_isf
    db.flush()
    return provider


def verify_provider(db: Session, provider: Provider, *, admin: User | None = None) -> Provider:
    """Make `provider` verified the way an administrator does: its identity confirmed and
    the checks its kind must have (providers.verification) declared and verified."""
    admin = admin or make_user(db, role=Role.ADMIN)
    today = marketplace_db.today()
    owner = provider.members[0].user
    for kind in verification.REQUIRED_CHECKS[provider.kind]:
        number = next(_sequence)
        reference = {
            CheckKind.CARE_INSPECTORATE: f"CS{2012000000 + number:010d}",
            CheckKind.PVG: f"{1000000000000000 + number:016d}",
        }.get(kind, f"POLICY-{number}")
        check = checks_service.declare_check(
            db,
            provider=provider,
            actor=owner,
            today=today,
            details=CheckDetails(
                kind=kind, reference=reference, expires_on=today + timedelta(days=365)
            ),
        )
        checks_service.verify_check(db, check=check, admin=admin)
    if provider.identity_confirmed_at is None:
        verification.confirm_identity(db, provider=provider, admin=admin)
    db.flush()
    return provider


def make_verified_provider(db: Session, **fields: Any) -> Provider:
    """make_provider(), then verified: posted needs reach only verified providers."""
    return verify_provider(db, make_provider(db, **fields))


def make_offer(
    db: Session,
    *,
    provider: Provider | None = None,
    title: str = "Support at home",
    kinds: tuple[str, ...] = ("personal-care",),
    outcomes: tuple[str, ...] = ("feeling-safe",),
    radius_km: float = 20,
    rate_pence: int = 2000,
    unit: PriceUnit = PriceUnit.HOUR,
    capacity_hours: int = 20,
    publish: bool = True,
    agree_wide_area: bool = True,
) -> Offer:
    """A published offer (or a draft). One whose area is wide enough to need an
    administrator's agreement (providers.areas.needs_agreement) is agreed by one, unless
    `agree_wide_area` is False: then it waits for agreement."""
    provider = provider or make_provider(db)
    actor = provider.members[0].user
    details = offers_service.OfferDetails(
        title=title,
        description="Help with what matters to you.",
        term_ids=term_ids(db, Taxonomy.KIND_OF_SUPPORT, kinds)
        + term_ids(db, Taxonomy.PERSONAL_OUTCOME, outcomes),
        area_type=AreaType.RADIUS,
        radius_km=radius_km,
        availability=WEEKDAY_DAYTIMES,
        capacity_amount=capacity_hours,
    )
    offer = offers_service.create_offer(db, provider=provider, actor=actor, details=details)
    offers_service.set_price(
        db,
        offer=offer,
        actor=actor,
        details=offers_service.PriceDetails(
            unit=unit, rate_pence=rate_pence, unit_minutes=180 if unit.needs_length else None
        ),
    )
    if publish:
        offers_service.publish_offer(db, offer=offer, actor=actor)
        if agree_wide_area and offer.status == OfferStatus.AWAITING_AGREEMENT:
            offers_service.agree_area(db, offer=offer, admin=make_user(db, role=Role.ADMIN))
    return offer


@dataclass(frozen=True)
class IsfBooks:
    """The ledger accounts around one ISF: where its council's money comes from, the ISF
    itself, what its provider is owed and the holder's fees; and a finance officer."""

    funding: LedgerAccount
    isf: LedgerAccount
    payable: LedgerAccount
    fees: LedgerAccount
    finance: User

    @property
    def actor(self) -> ledger.Actor:
        return ledger.Actor.of(self.finance)


def make_isf_books(
    db: Session, *, funded_pence: int = 0, floor_pence: int = 0, council: str = "Highland"
) -> IsfBooks:
    """Open the accounts of one ISF held by a provider and, if `funded_pence`, fund it from
    the council once."""
    number = next(_sequence)
    area = geography_service.find_council_area(db, name_or_code=council)
    assert area is not None
    holder = make_provider(db, holds_isf=True)
    books = IsfBooks(
        funding=council_funding_account(db, area),
        isf=ledger.open_account(
            db,
            kind=AccountKind.ISF_FUNDS,
            name=f"ISF {number}",
            provider=holder,
            floor_pence=floor_pence,
        ),
        payable=payable_account(db, holder, area),
        fees=management_fees_account(db, holder),
        finance=make_user(db, role=Role.FINANCE),
    )
    if funded_pence:
        fund(db, books, funded_pence)
    return books


def fund(db: Session, books: IsfBooks, pence: int, *, key: str | None = None) -> LedgerTransaction:
    """A funding tranche of `pence` from the council into the ISF."""
    return ledger.transfer(
        db,
        source=books.funding,
        destination=books.isf,
        amount_pence=pence,
        idempotency_key=key or f"tranche-{next(_sequence):06d}",
        actor=ledger.Actor.system(),
        reason="Monthly funding tranche",
        reference=ledger.Reference(ReferenceKind.FUNDING_TRANCHE, str(next(_sequence))),
    )
