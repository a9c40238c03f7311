"""Authorisation is declared once per route and enforced the same way everywhere.

POLICY lists every route with the access rule it must have; a route missing from it, or
with another rule, fails. Then every route is requested as every role (and anonymously)
and must answer as its rule says."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Role
from marketplace.accounts.policy import ACCESS_RULE
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient, page
from tests.route_rules import PUBLIC, SIGNED_IN


def load_policy() -> dict[tuple[str, str], str]:
    """Every package's tests/**/route_policy*.py lists its routes' rules; together they
    must cover every route of the app."""
    merged: dict[tuple[str, str], str] = {}
    for path in sorted(Path(__file__).resolve().parents[1].rglob("route_policy*.py")):
        module_name = ".".join(
            path.relative_to(Path(__file__).resolve().parents[2]).with_suffix("").parts
        )
        policy = importlib.import_module(module_name).POLICY
        overlap = set(policy) & set(merged)
        assert not overlap, f"{path.name} lists routes listed elsewhere: {overlap}"
        merged.update(policy)
    return merged


POLICY = load_policy()


def rules_in(dependant: Any) -> list[str]:
    rule = getattr(dependant.call, ACCESS_RULE, None)
    found = [rule] if rule is not None else []
    for sub in dependant.dependencies:
        found += rules_in(sub)
    return found


def app_routes(app: FastAPI) -> dict[tuple[str, str], list[str]]:
    """Every (method, path) with the access rules found on it, through included routers
    (FastAPI keeps those as branches, each with its prefix and router-wide dependencies)."""
    found: dict[tuple[str, str], list[str]] = {}

    def walk(routes: list[Any], prefix: str, inherited: list[str]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                rules = inherited + rules_in(route.dependant)
                for method in route.methods:
                    found[(method, prefix + route.path)] = rules
            elif hasattr(route, "original_router"):
                context = route.include_context
                router_rules = [
                    r
                    for d in context.dependencies
                    for r in [getattr(d.dependency, ACCESS_RULE, None)]
                    if r
                ]
                walk(
                    route.original_router.routes, prefix + context.prefix, inherited + router_rules
                )

    walk(app.routes, "", [])
    return found


def test_every_route_declares_exactly_the_rule_in_the_policy(app: FastAPI) -> None:
    routes = app_routes(app)
    assert set(routes) == set(POLICY), "every route must be listed in POLICY, and only routes"
    for key, rules in routes.items():
        assert set(rules) == {POLICY[key]}, key  # one rule, however many dependencies ask for it


def rule_allows(rule: str, role: Role | None) -> bool:
    if rule == PUBLIC:
        return True
    if role is None:
        return False
    return rule == SIGNED_IN or role.value in rule.removeprefix("roles:").split(",")


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    """A user of every role, plus a representation between two other people."""
    users = {role: make_user(db, role=role) for role in Role}
    person, carer = make_user(db), make_user(db, role=Role.REPRESENTATIVE)
    link = accounts_service.add_representative(
        db,
        supported_person=person,
        representative_email=carer.email,
        relationship_kind=Relationship.CARER,
    )
    db.flush()
    return {"users": users, "link_id": link.id, "target_user_id": person.id}


def concrete(path: str, world: dict[str, Any]) -> str:
    """The path with its parameters filled; any id not named here is one that does not
    exist, which allowed roles must answer with 404, not 500."""
    filled = (
        path.replace("{user_id}", str(world["target_user_id"]))
        .replace("{link_id}", str(world["link_id"]))
        .replace("{kind}", "supported-person")
        .replace("{token}", "no-such-token")
        .replace("{name}", "no-such-mail.eml")
    )
    return re.sub(r"\{[a-z_]+\}", "999999", filled)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: "anonymous" if r is None else r.value)
def test_every_route_answers_each_role_as_its_rule_says(
    client: HtmlClient, world: dict[str, Any], role: Role | None
) -> None:
    if role is not None:
        client.sign_in(world["users"][role].email, PASSWORD)
    for (method, path), rule in POLICY.items():
        if path == "/sign-out":
            continue  # would end the session the rest of the walk needs; tested on its own
        url = concrete(path, world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrftoken": client.csrf_token()})
        where = f"{method} {url} as {role}"
        if rule_allows(rule, role):
            assert response.status_code != 403, where
            assert not response.headers.get("location", "").startswith("/sign-in?next="), where
            assert response.status_code < 500, where
        elif role is None:
            if path.startswith("/api/"):
                assert response.status_code == 401, where
            else:
                assert response.status_code == 303, where
                assert response.headers["location"] == f"/sign-in?next={url}", where
        else:
            assert response.status_code == 403, where


class TestObjectsOthersMayNotSee:
    def test_someone_elses_representation_answers_as_if_it_did_not_exist(
        self, client: HtmlClient, db: Session, world: dict[str, Any]
    ) -> None:
        stranger = make_user(db)
        client.sign_in(stranger.email, PASSWORD)
        theirs = client.submit(f"/account/representatives/{world['link_id']}/remove")
        missing = client.submit("/account/representatives/999999/remove")
        assert theirs.status_code == missing.status_code == 404
        assert page(theirs).main == page(missing).main
        person = db.get(type(stranger), world["target_user_id"])
        assert person is not None
        assert accounts_service.representations_of(db, user=person), "the link is untouched"

    def test_an_unknown_account_id_is_a_plain_404_for_admins(
        self, client: HtmlClient, world: dict[str, Any]
    ) -> None:
        client.sign_in(world["users"][Role.ADMIN].email, PASSWORD)
        assert client.get("/admin/users/999999").status_code == 404
