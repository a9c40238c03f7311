"""Every route, as everyone, with hostile values: nothing a browser can send gives a 5xx, and
no role the policy refuses ever gets a success.

The routes are found from the app's router (not a list kept by hand), each is requested
signed out and as every role, and hypothesis fills its path, query and form values with
other scripts' digits, huge numbers, blanks, 10,000 characters, control characters and
markup, alongside real ids and plausible answers so forms get past their first check. POSTs
carry the CSRF token, so forms are really processed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.models import FundingSchedule, IndividualServiceFund
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Role, User
from marketplace.forms import Form
from marketplace.geography import service as geography_service
from matching.deps import warm_offer_index
from providers.models import Offer
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.marketplace.test_authorisation import POLICY, rule_allows

settings.register_profile(
    "every-route",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure names its request
)
ALLOWED_EXAMPLES = 3
"""Per route, for a role the policy lets in: enough to mix hostile and plausible values."""
REFUSED_EXAMPLES = 1
"""Per route, for a role the policy refuses: whatever it sends, it must not succeed."""

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "2147483648",
    "99999999999999999999999999999999",
    "1e309",
    "NaN",
    "١٢٣",  # Arabic-Indic digits
    "１２",  # fullwidth digits
    "٣.٥",
    "1.5",
    "9" * 10_000,
    "a" * 10_000,
    "x\x00y",
    "line\nbreak",
    "tab\there\r\n",
    "\u202eevil",
    "<script>alert(1)</script>",
    "<b>bold</b> & \"quotes\" 'single'",
    "99999-12-31",
    "0000-00-00",
    "2026-02-30",
    "../../etc/passwd",
    "%00",
    "null",
    "true",
]
PLAUSIBLE = [
    "1",
    "2",
    "6",
    "2.5",
    "18.50",
    "10",
    "yes",
    "no",
    "on",
    "Portree",
    "IV51 9EL",
    "Highland",
    "2026-12-03",
    "2030-01-31",
    "2027-06-01",
    "monthly",
    "A real sentence about support.",
    "hour",
    "radius",
    "hours_per_week",
    "personal-care",
    "feeling-safe",
    "carer",
    "supported_person",
    "provider_staff",
    "admin",
    "csv",
    "new@example.org",
]
EXTRA_QUERY_NAMES = [
    "page",
    "q",
    "done",
    "location",
    "hours",
    "kind",
    "format",
    "table",
    "role",
    "status",
    "since",
    "until",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "outcome",
    "outcomes",
    "council",
    "period",
    "sort",
    "when",
    "per_page",
    "next",
    "person",
    "offers",
    "distance",
]


def values(extra: list[str] | None = None) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(PLAUSIBLE + (extra or [])),
        st.text(max_size=30),
        st.integers().map(str),
    )


def form_field_names() -> list[str]:
    names: set[str] = set()
    pending = list(Form.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        names |= set(model.model_fields)
    return sorted(names | {"back", "next"})


def routes_of(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, query names) of every route, through included routers."""
    found: list[tuple[str, str, list[str]]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                queries = [p.alias for p in route.dependant.query_params]
                for method in sorted(route.methods):
                    found.append((method, prefix + route.path, queries))
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(app.routes, "")
    return found


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    """Someone of every role, a provider with a published offer its staff run, a personal
    assistant's own listing, and a representation: real ids for the paths to reach."""
    users = {role: make_user(db, role=role) for role in Role}
    provider = make_provider(db, owner=users[Role.PROVIDER_STAFF], holds_isf=True)
    offer = make_offer(db, provider=provider)
    make_provider(db, owner=users[Role.PERSONAL_ASSISTANT])
    carer = make_user(db, role=Role.REPRESENTATIVE)
    link = accounts_service.add_representative(
        db,
        supported_person=users[Role.SUPPORTED_PERSON],
        representative_email=carer.email,
        relationship_kind=Relationship.CARER,
    )
    fund = being_agreed(db, person=users[Role.SUPPORTED_PERSON], holder_offer=offer, users=users)
    db.flush()
    real = {
        "fund_id": str(fund.id),
        "line_id": str(fund.lines[0].id),
        "offer_id": str(offer.id),
        "provider_id": str(provider.id),
        "user_id": str(carer.id),
        "link_id": str(link.id),
        "kind": "supported-person",
        "slug": "pvg",
        "change": "unpublish",
        "token": "no-such-token",
        "name": "no-such-mail.eml",
        "id": "1",
    }
    return {"users": users, "real": real, "emails": [u.email for u in users.values()]}


def being_agreed(
    db: Session, *, person: User, holder_offer: Offer, users: dict[Role, User]
) -> IndividualServiceFund:
    """A fund the person, the holder's staff and the budget holder of `users` are agreeing,
    with an outcome and a line, so the fund's forms get past their first checks."""
    fund = funds_service.request_fund(
        db,
        requester=person,
        person=None,
        council=geography_service.find_council_area(db, name_or_code="Highland"),
        holder_offer=holder_offer,
        note="Support around my work, please.",
    )
    funds_service.set_budget(
        db,
        fund=fund,
        budget_holder=users[Role.BUDGET_HOLDER],
        annual_budget_pence=1_040_000,
        period_starts_on=date(2027, 4, 1),
        period_ends_on=date(2028, 3, 31),
        schedule=FundingSchedule.MONTHLY,
    )
    outcome = funds_service.add_outcome(db, fund=fund, by=person, own_words="Keeping fit")
    funds_service.add_described_line(
        db,
        fund=fund,
        by=person,
        title="Gym",
        weekly_pence=1_000,
        starts_on=date(2027, 4, 1),
        ends_on=date(2028, 3, 31),
        outcome_ids=[outcome.id],
    )
    return fund


def start(client: TestClient, world: dict[str, Any], role: Role | None) -> dict[str, str]:
    """A fresh session, signed in as someone of `role` (or signed out); its cookies."""
    client.cookies.clear()
    client.get("/sign-in")
    if role is not None:
        response = client.post(
            "/sign-in",
            data={
                "csrftoken": client.cookies["csrftoken"],
                "email": world["users"][role].email,
                "password": PASSWORD,
            },
        )
        assert response.status_code == 303, response.text[:300]
    return dict(client.cookies)


def fill(path: str, draw: Any, real: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        choices = [real[name]] if name in real else []
        value = draw(st.one_of(st.sampled_from([*choices, "1", "2", "3"]), values()))
        return quote(value, safe="") or "x"

    return re.sub(r"\{([a-z_]+)\}", one, path)


def check(response: httpx.Response, *, allowed: bool, htmx: bool, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status}\n{response.text[:2000]}"
    if not allowed:
        sent_to = response.headers.get("location") or response.headers.get("hx-redirect")
        if sent_to is not None:  # a redirect, or htmx's 204 with HX-Redirect
            assert sent_to.startswith("/sign-in"), f"{where}: a refused role was sent to {sent_to}"
        else:
            assert not 200 <= status < 300, f"{where}: a refused role got {status}"
    if htmx and status >= 400 and response.headers.get("content-type", "").startswith("text/html"):
        assert "<html" not in response.text.lower(), f"{where}: htmx got a whole page for {status}"


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: "anonymous" if r is None else r.value)
def test_no_route_breaks_or_lets_in_the_wrong_role(
    app: FastAPI, world: dict[str, Any], role: Role | None
) -> None:
    routes = routes_of(app)
    assert {(m, p) for m, p, _ in routes} == set(POLICY), (
        "the walk finds every route the policy lists"
    )
    fields = form_field_names()
    # A worker that has finished starting: until its offer index has loaded, /readyz
    # answers 503 on purpose, so a load balancer sends people elsewhere.
    warm_offer_index(app.state).join(timeout=60)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        signed_in: dict[str, str] = {"not": "yet"}
        for method, path, queries in routes:
            if path in ("/sign-out", "/account/password"):
                continue  # would end or change the session the rest of the walk needs
            allowed = rule_allows(POLICY[(method, path)], role)
            if dict(client.cookies) != signed_in:  # the last route ended or changed the session
                signed_in = start(client, world, role)
            walk_route(client, world, method, path, queries, fields, allowed=allowed)


def walk_route(
    client: TestClient,
    world: dict[str, Any],
    method: str,
    path: str,
    queries: list[str],
    fields: list[str],
    *,
    allowed: bool,
) -> None:
    names = sorted(set(queries) | set(EXTRA_QUERY_NAMES))

    @settings(
        settings.get_profile("every-route"),
        max_examples=ALLOWED_EXAMPLES if allowed else REFUSED_EXAMPLES,
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        draw = data.draw
        url = fill(path, draw, world["real"])
        asked = draw(st.dictionaries(st.sampled_from(names), values(), max_size=4))
        htmx = draw(st.booleans())
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            response = client.get(url, params=asked, headers=headers)
        else:
            form: dict[str, Any] = draw(
                st.dictionaries(
                    st.sampled_from(fields),
                    st.one_of(values(world["emails"]), st.lists(values(), min_size=2, max_size=3)),
                    max_size=12,
                )
            )
            form["csrftoken"] = client.cookies.get("csrftoken", "")
            response = client.post(url, params=asked, data=form, headers=headers)
        check(response, allowed=allowed, htmx=htmx, where=f"{method} {response.request.url}")

    one_request()
