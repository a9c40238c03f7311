"""Signing in leads each role to its own work: people to their own page, providers to their
listing, commissioners to market gaps, administrators to the work waiting for them, and
council staff who work with funds to their council's individual service funds. A page asked for (on this
site) wins over the landing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from providers.models import ProviderKind
from tests.factories import PASSWORD, make_provider, make_user
from tests.helpers import HtmlClient, page

LANDINGS = {
    Role.SUPPORTED_PERSON: "/your-support",
    Role.REPRESENTATIVE: "/your-support",
    Role.PROVIDER_STAFF: "/provider",
    Role.PERSONAL_ASSISTANT: "/provider",
    Role.COMMISSIONER: "/commissioning",
    Role.ADMIN: "/admin",
    Role.BUDGET_HOLDER: "/changes",
    Role.PANEL_MEMBER: "/changes",
    Role.FINANCE: "/funds",
}


def someone(db: Session, role: Role) -> User:
    if role == Role.PROVIDER_STAFF:
        return make_provider(db, kind=ProviderKind.MICRO_PROVIDER).members[0].user
    if role == Role.PERSONAL_ASSISTANT:
        return make_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT).members[0].user
    return make_user(db, role=role)


def test_every_role_has_a_landing() -> None:
    assert set(LANDINGS) == set(Role)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_signing_in_without_a_page_asked_for_lands_on_the_roles_own_work(
    client: HtmlClient, db: Session, role: Role, htmx: bool
) -> None:
    user = someone(db, role)
    response = client.submit("/sign-in", {"email": user.email, "password": PASSWORD}, htmx=htmx)
    landing = response.headers["HX-Redirect"] if htmx else response.headers["location"]
    assert landing == LANDINGS[role]
    shown = client.get(landing)
    assert shown.status_code == 200, shown.text[:300]
    assert page(shown).select_one(".ds_error-summary") is None


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_a_safe_page_asked_for_wins_over_the_landing(
    client: HtmlClient, db: Session, role: Role
) -> None:
    user = someone(db, role)
    response = client.submit(
        "/sign-in", {"email": user.email, "password": PASSWORD, "next": "/account/password"}
    )
    assert response.headers["location"] == "/account/password"


@pytest.mark.parametrize(
    "role", [Role.BUDGET_HOLDER, Role.PANEL_MEMBER, Role.FINANCE], ids=lambda role: role.value
)
def test_council_roles_are_pointed_to_funds_and_their_own_work(
    client: HtmlClient, db: Session, role: Role
) -> None:
    client.sign_in(someone(db, role).email, PASSWORD)
    shown = page(client.get("/account"))
    assert shown.select_one('main a[href="/funds"]') is not None
    own_work = "/payments" if role == Role.FINANCE else "/changes"
    assert shown.select_one(f'main a[href="{own_work}"]') is not None


@pytest.mark.parametrize(
    "role", [Role.SUPPORTED_PERSON, Role.COMMISSIONER, Role.ADMIN], ids=lambda role: role.value
)
def test_other_roles_are_not_told_about_work_they_do_not_do(
    client: HtmlClient, db: Session, role: Role
) -> None:
    client.sign_in(someone(db, role).email, PASSWORD)
    main = page(client.get("/account")).select_one("main")
    assert main is not None and "change-of-use" not in main.get_text().lower()
