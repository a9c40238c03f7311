"""Demo data: one account per role, with fictional names, so every journey can be tried.
Loading it twice changes nothing. Later packages add their own demo data here."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.changes.demo import load_demo_changes
from contracts.funds.demo import load_demo_funds
from contracts.spending.demo import load_demo_spending
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Representation, Role, User
from marketplace.db import today
from marketplace.geography import service as geography_service
from matching.gaps.demo import load_demo_unmet_demand
from providers import service as providers_service
from providers.demo.load import DemoMarketplace, load_demo_marketplace
from providers.models import ProviderKind

DEMO_PASSWORD = "demo-password-2026"
"""Every demo account's password. Documented in the README; never use it outside a demo."""


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    email: str
    name: str
    council: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount(Role.SUPPORTED_PERSON, "person@example.org", "Morag Lindsay"),
    DemoAccount(Role.REPRESENTATIVE, "representative@example.org", "Callum Lindsay"),
    DemoAccount(Role.PROVIDER_STAFF, "provider@example.org", "Isla Drummond"),
    DemoAccount(Role.PERSONAL_ASSISTANT, "pa@example.org", "Ewan MacLeod"),
    DemoAccount(Role.COMMISSIONER, "commissioner@example.org", "Fiona Grant", "Highland"),
    DemoAccount(
        Role.BUDGET_HOLDER,
        "budget-holder@example.org",
        "Alasdair Munro",
        "Highland",
    ),
    DemoAccount(Role.PANEL_MEMBER, "panel@example.org", "Kirsty Fraser", "Highland"),
    DemoAccount(Role.FINANCE, "finance@example.org", "Ruaridh Stewart", "Highland"),
    DemoAccount(Role.ADMIN, "admin@example.org", "Eilidh Paterson"),
)
DEMO_ORGANISATION = ("Glen Care Co-operative", ProviderKind.MICRO_PROVIDER)


def load_demo(
    session: Session, *, hasher: PasswordHasher
) -> tuple[list[DemoAccount], DemoMarketplace]:
    """Create whatever demo data is missing; return the demo accounts and what the
    marketplace now holds (the same on every load; `providers_created` says what this one added)."""
    users: dict[Role, User] = {}
    for account in DEMO_ACCOUNTS:
        user = accounts_service.find_user_by_email(session, account.email)
        if user is None:
            council = (
                geography_service.find_council_area(session, name_or_code=account.council)
                if account.council
                else None
            )
            user = accounts_service.create_user(
                session,
                hasher=hasher,
                email=account.email,
                name=account.name,
                role=account.role,
                password=DEMO_PASSWORD,
                council=council,
                confirmed=True,
            )
        users[account.role] = user

    person, representative = users[Role.SUPPORTED_PERSON], users[Role.REPRESENTATIVE]
    linked = session.scalar(
        select(Representation).where(
            Representation.representative_id == representative.id,
            Representation.supported_person_id == person.id,
        )
    )
    if linked is None:
        accounts_service.add_representative(
            session,
            supported_person=person,
            representative_email=representative.email,
            relationship_kind=Relationship.FAMILY,
        )

    staff = users[Role.PROVIDER_STAFF]
    if not providers_service.providers_of(session, user=staff):
        name, kind = DEMO_ORGANISATION
        providers_service.create_provider(session, name=name, kind=kind, owner=staff)
    marketplace = load_demo_marketplace(
        session,
        staff=staff,
        personal_assistant=users[Role.PERSONAL_ASSISTANT],
        admin=users[Role.ADMIN],
    )
    load_demo_unmet_demand(session, today=today())
    load_demo_funds(
        session,
        today=today(),
        hasher=hasher,
        person=person,
        representative=representative,
        budget_holder=users[Role.BUDGET_HOLDER],
        holder_staff=staff,
    )
    # Change of use first: the spending closes last year's funds, whose changes were
    # decided while they were open.
    load_demo_changes(
        session,
        today=today(),
        hasher=hasher,
        admin=users[Role.ADMIN],
        budget_holder=users[Role.BUDGET_HOLDER],
        panel_member=users[Role.PANEL_MEMBER],
        morag=person,
    )
    load_demo_spending(session, today=today(), finance=users[Role.FINANCE], disputing=person)
    return list(DEMO_ACCOUNTS), marketplace
