"""The shell's own pages, error pages, the health check, the outbox and the JSON API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.app import create_app
from marketplace.mail import Mailer
from marketplace.settings import Settings
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient, page


class TestHome:
    def test_explains_option_2_and_individual_service_funds(self, client: HtmlClient) -> None:
        text = page(client.get("/")).get_text(" ", strip=True)
        assert "Option 2" in text
        assert "individual service fund" in text

    def test_sends_each_group_to_its_starting_point(self, client: HtmlClient) -> None:
        links = {
            a.get_text(" ", strip=True): a["href"]
            for a in page(client.get("/")).select(".ds_card__link")
        }
        assert len(links) == 4
        for href in links.values():
            target = href.split("?")[0]
            assert client.get(target).status_code == 200, href

    def test_has_the_shell_landmarks(self, client: HtmlClient) -> None:
        soup = page(client.get("/"))
        assert soup.select_one(".ds_skip-links__link")["href"] == "#main-content"
        assert soup.select_one("main#main-content")
        assert soup.select_one("header .ds_phase-banner"), (
            "the phase banner sits inside the header landmark"
        )
        footer_links = [a["href"] for a in soup.select(".ds_site-footer a")]
        assert "/accessibility" in footer_links and "/privacy" in footer_links

    @pytest.mark.parametrize("path", ["/accessibility", "/privacy"])
    def test_statement_pages(self, client: HtmlClient, path: str) -> None:
        assert client.get(path).status_code == 200

    def test_assets_are_served_from_here(self, client: HtmlClient) -> None:
        soup = page(client.get("/"))
        assets = [
            t.get("src") or t.get("href") for t in soup.select("script, link[rel=stylesheet]")
        ]
        assert all(a.startswith("/static/") for a in assets)
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


class TestNavigation:
    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            (
                Role.SUPPORTED_PERSON,
                [
                    "Find support",
                    "Your support",
                    "Your shortlist",
                    "Your enquiries",
                    "Your needs",
                    "Individual service funds",
                    "Your account",
                ],
            ),
            (
                Role.PERSONAL_ASSISTANT,
                [
                    "Find support",
                    "Your listing",
                    "Enquiries",
                    "Needs near you",
                    "Record support",
                    "Individual service funds",
                    "Your account",
                ],
            ),
            (
                Role.FINANCE,
                ["Find support", "Individual service funds", "Pay providers", "Your account"],
            ),
            (
                Role.ADMIN,
                [
                    "Find support",
                    "Work waiting",
                    "Accounts",
                    "Audit log",
                    "Mail",
                    "Change-of-use rules",
                    "Checks to verify",
                    "Your account",
                ],
            ),
            (Role.COMMISSIONER, ["Find support", "Market gaps", "Your account"]),
        ],
    )
    def test_each_role_sees_its_own_links(
        self, client: HtmlClient, db: Session, role: Role, expected: list[str]
    ) -> None:
        client.sign_in(make_user(db, role=role).email, PASSWORD)
        links = [
            a.get_text(strip=True)
            for a in page(client.get("/")).select(".ds_site-navigation__link")
        ]
        assert links == expected

    def test_anonymous_visitors_see_sign_in(self, client: HtmlClient) -> None:
        links = [
            a.get_text(strip=True)
            for a in page(client.get("/")).select(".ds_site-navigation__link")
        ]
        assert links == ["Find support", "Sign in", "Create an account"]


class TestErrorPages:
    def test_404_in_the_service_style(self, client: HtmlClient) -> None:
        response = client.get("/no/such/page")
        assert response.status_code == 404
        assert page(response).h1.get_text(strip=True) == "Page not found"

    def test_a_signed_in_person_keeps_their_header_on_a_404(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(make_user(db, name="Morag Lindsay").email, PASSWORD)
        header = (
            page(client.get("/no/such/page"))
            .select_one(".ds_site-header")
            .get_text(" ", strip=True)
        )
        assert "Signed in as Morag Lindsay" in header

    def test_403_for_a_role_without_access(self, client: HtmlClient, db: Session) -> None:
        client.sign_in(make_user(db).email, PASSWORD)
        response = client.get("/admin/users")
        assert response.status_code == 403
        assert page(response).h1.get_text(strip=True) == "You cannot use this page"

    def test_500_in_the_service_style(self, app: FastAPI) -> None:
        from marketplace.accounts.policy import Public

        @app.get("/explode", dependencies=[Public])
        def explode() -> None:
            raise RuntimeError("boom")

        with HtmlClient(app, raise_server_exceptions=False) as client:
            response = client.get("/explode")
        assert response.status_code == 500
        assert "Sorry, there is a problem with the service" in response.text
        assert "boom" not in response.text


class TestHealth:
    def test_healthy_when_the_database_answers(self, client: HtmlClient) -> None:
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}

    def test_unhealthy_when_it_does_not(self, tmp_path: Path) -> None:
        unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
        with HtmlClient(create_app(make_settings(unreachable, tmp_path))) as client:
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"


class TestOutbox:
    def test_lists_and_shows_mails_outside_production(
        self, client: HtmlClient, settings: Settings
    ) -> None:
        Mailer(settings).deliver(
            to="a@example.org",
            subject="Hello there",
            body="Line one\nhttp://testserver/x",
            message_id="<1@test>",
        )
        listing = page(client.get("/dev/outbox"))
        link = listing.select_one("td a")
        assert link.get_text() == "Hello there"
        shown = page(client.get(link["href"]))
        assert shown.select_one(".app-mail-body a")["href"] == "http://testserver/x"

    def test_refuses_names_outside_the_outbox(self, client: HtmlClient) -> None:
        assert client.get("/dev/outbox/..%2Fsecret_key").status_code == 404
        assert client.get("/dev/outbox/missing.eml").status_code == 404

    def test_hidden_in_production(self, database_url: str, tmp_path: Path) -> None:
        settings = make_settings(
            database_url, tmp_path, env="production", base_url="https://sds.example.org"
        )
        with HtmlClient(create_app(settings)) as client:
            assert client.get("/dev/outbox").status_code == 404
            paths = {getattr(route, "path", "") for route in client.app.routes}  # type: ignore[attr-defined]
        assert not [path for path in paths if path.startswith("/dev/")], "not even registered"


class TestApi:
    def test_openapi_document(self, client: HtmlClient) -> None:
        document = client.get("/api/v1/openapi.json").json()
        assert "/api/v1/me" in document["paths"]
        assert all(path.startswith(("/api/v1/", "/openreferral/")) for path in document["paths"]), (
            "pages stay out"
        )

    def test_council_areas(self, client: HtmlClient) -> None:
        areas = client.get("/api/v1/council-areas").json()
        assert len(areas) == 32
        assert {"gss_code": "S12000017", "name": "Highland"} in areas

    def test_me_needs_sign_in(self, client: HtmlClient) -> None:
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["error"] == "NotSignedIn"

    def test_me(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db, role=Role.BUDGET_HOLDER, council="Highland")
        client.sign_in(user.email, PASSWORD)
        me = client.get("/api/v1/me").json()
        assert (me["role"], me["council"]) == ("budget_holder", "Highland")

    def test_state_changing_api_calls_need_the_csrf_header(self, client: HtmlClient) -> None:
        response = client.post("/api/v1/me", json={})
        assert response.status_code == 403
        assert response.json()["error"] == "CsrfRefused"
