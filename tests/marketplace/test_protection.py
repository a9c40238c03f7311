"""Protections around every request: CSRF refusal, sign-in and reset throttles, security
headers, and the session cookie's rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from itsdangerous import TimestampSigner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.cookies import SessionCookieMiddleware
from marketplace.accounts.models import Role, User
from marketplace.db import Base
from marketplace.settings import Settings
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient, error_messages
from tests.marketplace.test_authorisation import POLICY, concrete


def row_counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        table.name: db.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


class TestCsrf:
    @pytest.fixture
    def signed_in_admin(self, client: HtmlClient, db: Session) -> dict[str, Any]:
        admin = make_user(db, role=Role.ADMIN)
        other = make_user(db, role=Role.PANEL_MEMBER)
        client.sign_in(admin.email, PASSWORD)
        return {"target_user_id": other.id, "link_id": 1, "admin": admin}

    @pytest.mark.parametrize("route", [k for k in POLICY if k[0] == "POST"], ids=lambda k: k[1])
    def test_a_post_without_a_token_is_refused_and_changes_nothing(
        self,
        client: HtmlClient,
        db: Session,
        signed_in_admin: dict[str, Any],
        route: tuple[str, str],
    ) -> None:
        before = row_counts(db)
        role_before = db.get(User, signed_in_admin["target_user_id"]).role  # type: ignore[union-attr]
        response = client.post(
            concrete(route[1], signed_in_admin),
            data={
                "email": "x@example.org",
                "password": PASSWORD,
                "role": "admin",
                "account": "representative",
            },
        )
        assert response.status_code == 403
        assert "could not be sent" in response.text
        assert row_counts(db) == before
        assert db.get(User, signed_in_admin["target_user_id"]).role == role_before  # type: ignore[union-attr]

    def test_the_refusal_page_keeps_the_signed_in_header(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(make_user(db, name="Morag Lindsay").email, PASSWORD)
        refused = client.post("/account/password", data={"current_password": PASSWORD})
        assert refused.status_code == 403
        assert "Signed in as Morag Lindsay" in refused.text

    def test_a_post_with_no_cookies_at_all_is_refused(self, app: FastAPI, db: Session) -> None:
        before = row_counts(db)
        with HtmlClient(app) as fresh:
            response = fresh.post(
                "/sign-up/supported-person",
                data={"name": "A", "email": "a@example.org", "password": PASSWORD},
            )
        assert response.status_code == 403
        assert row_counts(db) == before

    def test_a_token_from_another_browser_is_refused(
        self, app: FastAPI, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        with HtmlClient(app) as other_browser:
            stolen = other_browser.csrf_token()
        client.csrf_token()
        response = client.post(
            "/sign-in", data={"csrftoken": stolen, "email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 403

    def test_htmx_requests_send_the_token_as_a_header(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        token = client.csrf_token()
        response = client.post(
            "/sign-in",
            data={"email": user.email, "password": PASSWORD},
            headers={"HX-Request": "true", "x-csrftoken": token},
        )
        assert response.status_code == 204
        assert response.headers["HX-Redirect"] == "/your-support"
        without = client.post(
            "/sign-in",
            data={"email": user.email, "password": PASSWORD},
            headers={"HX-Request": "true"},
        )
        assert without.status_code == 403

    def test_every_page_puts_the_token_where_htmx_sends_it(self, client: HtmlClient) -> None:
        page = client.get("/sign-in")
        token = client.cookies["csrftoken"]
        assert f'hx-headers:inherited=\'{{"x-csrftoken": "{token}"}}\'' in page.text


class TestSignInThrottle:
    def test_the_sixth_failed_sign_in_within_15_minutes_answers_429(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        for attempt in range(5):
            response = client.submit(
                "/sign-in", {"email": user.email, "password": "wrong password here"}
            )
            assert response.status_code == 401, attempt
        sixth = client.submit("/sign-in", {"email": user.email, "password": PASSWORD})
        assert sixth.status_code == 429
        assert int(sixth.headers["Retry-After"]) > 0
        assert "Too many attempts" in sixth.text
        assert "reset your password" in sixth.text

    def test_other_accounts_are_not_locked_out(self, client: HtmlClient, db: Session) -> None:
        victim, other = make_user(db), make_user(db)
        for _ in range(5):
            client.submit("/sign-in", {"email": victim.email, "password": "wrong password here"})
        assert (
            client.submit("/sign-in", {"email": other.email, "password": PASSWORD}).status_code
            == 303
        )

    def test_successful_sign_ins_do_not_count(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        for _ in range(7):
            client.cookies.clear()
            assert (
                client.submit("/sign-in", {"email": user.email, "password": PASSWORD}).status_code
                == 303
            )

    def test_password_resets_are_throttled_too(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        for _ in range(3):
            assert client.submit("/password-reset", {"email": user.email}).status_code == 303
        assert client.submit("/password-reset", {"email": user.email}).status_code == 429


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        "path",
        [
            "/",
            "/sign-in",
            "/no-such-page",
            "/api/v1/council-areas",
            "/api/v1/me",
            "/static/app/app.css",
            "/healthz",
        ],
    )
    def test_on_every_kind_of_response(self, client: HtmlClient, path: str) -> None:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers

    def test_on_htmx_fragments_and_csrf_refusals(self, client: HtmlClient) -> None:
        fragment = client.submit("/sign-in", {"email": "", "password": ""}, htmx=True)
        refused = client.post("/sign-in", data={})
        for response in (fragment, refused):
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]

    def test_hsts_in_production(self, database_url: str, tmp_path: Any) -> None:
        from marketplace.app import create_app

        settings = make_settings(
            database_url, tmp_path, env="production", base_url="https://sds.example.org"
        )
        with HtmlClient(create_app(settings)) as production:
            response = production.get("/healthz")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")

    def test_signed_in_pages_are_never_cached(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        client.sign_in(user.email, PASSWORD)
        assert client.get("/account").headers["Cache-Control"] == "no-store"


class TestSessionCookie:
    def cookie_header(self, response: Any) -> str:
        return next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "sds_session" in v
        )

    def test_http_only_and_same_site(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        header = self.cookie_header(client.sign_in(user.email, PASSWORD))
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header

    def test_secure_and_host_prefixed_over_tls(self, database_url: str, tmp_path: Any) -> None:
        settings = make_settings(database_url, tmp_path, base_url="https://sds.example.org")
        middleware = SessionCookieMiddleware(None, settings=settings)
        header = middleware._set_cookie("token").decode()
        assert header.startswith("__Host-sds_session=")
        assert "Secure" in header
        assert "Path=/" in header
        assert "Domain" not in header

    def test_signing_in_rotates_the_session(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        client.sign_in(user.email, PASSWORD)
        first = client.cookies["sds_session"]
        client.sign_in(user.email, PASSWORD)
        second = client.cookies["sds_session"]
        assert first != second
        client.cookies.set("sds_session", first)
        assert client.get("/account").status_code == 303

    def test_a_cookie_from_before_sign_out_no_longer_works(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        client.sign_in(user.email, PASSWORD)
        kept = client.cookies["sds_session"]
        assert client.submit("/sign-out").status_code == 303
        client.cookies.set("sds_session", kept)
        assert client.get("/account").status_code == 303

    def test_an_idle_session_ends(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        user = make_user(db)
        client.sign_in(user.email, PASSWORD)
        token = (
            TimestampSigner(settings.secret_key.get_secret_value(), salt="sds-session")
            .unsign(  # type: ignore[union-attr]
                client.cookies["sds_session"]
            )
            .decode()
        )
        idle = settings.security.session_idle_minutes * 60

        class SignedLongAgo(TimestampSigner):
            def get_timestamp(self) -> int:
                return super().get_timestamp() - idle - 5

        stale = (
            SignedLongAgo(settings.secret_key.get_secret_value(), salt="sds-session")
            .sign(token)
            .decode()
        )  # type: ignore[union-attr]
        client.cookies.set("sds_session", stale)
        assert client.get("/account").status_code == 303

        class SignedJustNow(TimestampSigner):
            def get_timestamp(self) -> int:
                return super().get_timestamp() - idle + 60

        fresh = (
            SignedJustNow(settings.secret_key.get_secret_value(), salt="sds-session")
            .sign(token)
            .decode()
        )  # type: ignore[union-attr]
        client.cookies.set("sds_session", fresh)
        assert client.get("/account").status_code == 200

    def test_a_forged_cookie_is_ignored(self, client: HtmlClient, db: Session) -> None:
        make_user(db)
        client.cookies.set("sds_session", "made-up.value.here")
        assert client.get("/account").status_code == 303


def test_error_messages_helper_reads_the_summary(client: HtmlClient) -> None:
    response = client.submit("/sign-in", {"email": "", "password": ""})
    assert error_messages(response) == ["Enter your email address", "Enter your password"]


class TestUploadCsrf:
    """File uploads are multipart, which asgi-csrf cannot read any more; the app checks them."""

    def test_an_upload_without_the_token_is_refused(self, client: HtmlClient, db: Session) -> None:
        from tests.factories import make_provider

        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        client.csrf_token()
        refused = client.post(
            "/provider/photo", files={"photo": ("a.png", b"\x89PNG\r\n\x1a\nxx", "image/png")}
        )
        stolen = client.post(
            "/provider/photo",
            data={"csrftoken": "made-up"},
            files={"photo": ("a.png", b"\x89PNG\r\n\x1a\nxx", "image/png")},
        )
        assert refused.status_code == stolen.status_code == 403
        db.refresh(provider)
        assert provider.photo is None
