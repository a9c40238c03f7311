"""Account pages as people use them: sign up, confirm, sign in and out, reset and change a
password, name a representative; with and without htmx."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction, AuditEvent
from marketplace.mail import read_outbox
from marketplace.ratelimit import Throttle
from marketplace.settings import Settings
from providers.models import ProviderMember
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient, error_messages, page
from tests.marketplace.accounts.test_service import CountingHasher


def latest_link(settings: Settings, marker: str) -> str:
    mail = read_outbox(settings.outbox_dir)[0]
    url = next(line for line in mail.body.splitlines() if marker in line)
    return url.removeprefix(settings.base_url)


class TestSignUpJourney:
    def test_choose_sign_up_confirm_and_sign_in(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        chosen = client.submit("/sign-up", {"account": "representative"})
        assert chosen.headers["location"] == "/sign-up/representative"
        assert "Representative" in client.get("/sign-up/representative").text
        created = client.submit(
            "/sign-up/representative",
            {"name": "Callum Ross", "email": "callum@example.org", "password": PASSWORD},
        )
        assert created.headers["location"] == "/sign-up/check-email"
        user = db.scalar(select(User).where(User.email == "callum@example.org"))
        assert user is not None and user.role == Role.REPRESENTATIVE

        refused = client.submit("/sign-in", {"email": "callum@example.org", "password": PASSWORD})
        assert refused.status_code == 401

        link = latest_link(settings, "/confirm-email?token=")
        assert "Confirm my email address" in client.get(link).text
        assert user.email_confirmed_at is None, "opening the link alone confirms nothing"
        assert "Your email address is confirmed" in client.submit(link).text

        client.sign_in("callum@example.org", PASSWORD)
        account = client.get("/account")
        assert account.status_code == 200
        assert "Callum Ross" in account.text
        assert "People you act for" in account.text

    def test_a_provider_signs_up_with_their_organisation(
        self, client: HtmlClient, db: Session
    ) -> None:
        response = client.submit(
            "/sign-up/provider",
            {
                "organisation_name": "Strath Support",
                "kind": "micro_provider",
                "name": "Isla Ross",
                "email": "isla@example.org",
                "password": PASSWORD,
            },
        )
        assert response.headers["location"] == "/sign-up/check-email"
        member = db.scalar(
            select(ProviderMember).join(User).where(User.email == "isla@example.org")
        )
        assert member is not None and member.is_owner
        assert member.user.role == Role.PROVIDER_STAFF
        assert member.provider.name == "Strath Support"

    def test_empty_answers_get_the_error_pattern_and_nothing_is_written(
        self, client: HtmlClient, db: Session
    ) -> None:
        before = db.scalar(select(User.id).order_by(User.id.desc()).limit(1))
        response = client.submit(
            "/sign-up/supported-person", {"name": "", "email": "not-an-email", "password": "short"}
        )
        assert response.status_code == 422
        assert error_messages(response) == [
            "Enter your full name",
            "Enter an email address in the correct format, like name@example.com",
        ]
        soup = page(response)
        assert soup.title.get_text().startswith("Error: ")
        assert [a["href"] for a in soup.select(".ds_error-summary__list a")] == ["#name", "#email"]
        assert soup.select_one("#email")["aria-invalid"] == "true"
        assert soup.select_one("#email")["value"] == "not-an-email", "what was typed is kept"
        assert "#name" in {
            f"#{q.select_one('input')['id']}" for q in soup.select(".ds_question--error")
        }
        assert db.scalar(select(User.id).order_by(User.id.desc()).limit(1)) == before

    def test_a_weak_password_is_explained_by_its_field(self, client: HtmlClient) -> None:
        response = client.submit(
            "/sign-up/supported-person",
            {"name": "A B", "email": "ab@example.org", "password": "short"},
        )
        assert response.status_code == 422
        assert error_messages(response) == ["Password must be 12 characters or more"]
        assert page(response).select_one("#password").get("value") is None, (
            "passwords are never echoed"
        )

    def test_htmx_gets_only_the_form_back(self, client: HtmlClient) -> None:
        response = client.submit("/sign-up/supported-person", {"name": ""}, htmx=True)
        assert response.status_code == 422
        assert "<html" not in response.text
        fragment = page(response)
        assert fragment.select_one("#sign-up-form .ds_error-summary") is not None
        assert fragment.title.get_text() == "Error: Create your account - SDS Marketplace"

    def test_hostile_text_is_shown_as_text(self, client: HtmlClient, db: Session) -> None:
        hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2) hx-get="/x">'
        user = make_user(db, name=hostile)
        client.sign_in(user.email, PASSWORD)
        response = client.get("/account")
        assert hostile not in response.text
        assert page(response).select_one(".ds_summary-list__value").get_text() == hostile
        assert not page(response).select("img, [onerror], main [hx-get]")

    def test_unknown_kind_of_account_is_not_found(self, client: HtmlClient) -> None:
        assert client.get("/sign-up/admin").status_code == 404

    def test_no_choice_is_explained(self, client: HtmlClient) -> None:
        response = client.submit("/sign-up", {})
        assert response.status_code == 422
        assert error_messages(response) == ["Choose what you want to use the service for"]
        assert client.submit("/sign-up", {"account": "admin"}).status_code == 422


class TestSignInAndOut:
    def test_sign_in_goes_to_the_page_asked_for_on_this_site_only(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        ok = client.submit(
            "/sign-in", {"email": user.email, "password": PASSWORD, "next": "/account/password"}
        )
        assert ok.headers["location"] == "/account/password"
        client.cookies.clear()
        for evil in ("https://evil.example.com/", "//evil.example.com", "/\\evil.example.com"):
            response = client.submit(
                "/sign-in", {"email": user.email, "password": PASSWORD, "next": evil}
            )
            assert response.headers["location"] == "/your-support"

    def test_a_page_that_needs_sign_in_sends_people_to_sign_in_and_back(
        self, client: HtmlClient
    ) -> None:
        response = client.get("/account/password")
        assert response.headers["location"] == "/sign-in?next=/account/password"
        form = page(client.get(response.headers["location"]))
        assert form.select_one("input[name=next]")["value"] == "/account/password"

    def test_wrong_password_says_so_without_saying_which_part(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        wrong = client.submit("/sign-in", {"email": user.email, "password": "not my password!"})
        unknown = client.submit(
            "/sign-in", {"email": "nobody@example.org", "password": "not my password!"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert error_messages(wrong) == error_messages(unknown)

    def test_an_unknown_address_is_answered_and_throttled_like_a_known_one(
        self, client: HtmlClient, db: Session, app: FastAPI
    ) -> None:
        counting = CountingHasher(
            time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8
        )
        app.state.hasher = counting
        user = make_user(db, hasher=counting)
        client.submit("/sign-in", {"email": "warm-up@example.org", "password": "not my password!"})
        answers = {}
        for email in (user.email, "nobody@example.org"):
            app.state.throttle = Throttle(app.state.settings.security)  # each starts afresh
            counting.verified = counting.hashed = 0
            statuses = [
                client.submit(
                    "/sign-in", {"email": email, "password": "not my password!"}
                ).status_code
                for _ in range(6)
            ]
            answers[email] = (statuses, counting.verified, counting.hashed)
        assert answers[user.email] == answers["nobody@example.org"] == ([401] * 5 + [429], 5, 0)

    def test_sign_out_ends_the_session_and_is_audited(
        self, client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        client.sign_in(user.email, PASSWORD)
        assert client.submit("/sign-out").headers["location"] == "/signed-out"
        assert client.get("/account").status_code == 303
        actions = list(db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)))
        assert AuditAction.SIGN_IN_SUCCEEDED in actions and AuditAction.SIGNED_OUT in actions

    def test_the_header_shows_who_is_signed_in(self, client: HtmlClient, db: Session) -> None:
        user = make_user(db, name="Morag Lindsay")
        client.sign_in(user.email, PASSWORD)
        header = page(client.get("/")).select_one(".ds_site-header")
        assert "Signed in as Morag Lindsay" in header.get_text(" ", strip=True)
        assert [a.get_text(strip=True) for a in header.select(".ds_site-navigation__link")] == [
            "Find support",
            "Your support",
            "Your shortlist",
            "Your enquiries",
            "Your needs",
            "Individual service funds",
            "Your account",
        ]


class TestPasswords:
    def test_reset_by_emailed_link(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        user = make_user(db)
        assert (
            client.submit("/password-reset", {"email": user.email}).headers["location"]
            == "/password-reset/sent"
        )
        link = latest_link(settings, "/password-reset/new?token=")
        assert client.get(link).status_code == 200
        done = client.submit(link, {"password": "my brand new passphrase"})
        assert done.headers["location"] == "/sign-in?reset=true"
        client.sign_in(user.email, "my brand new passphrase")
        assert client.get(link).status_code == 404, "a used link is gone"

    def test_reset_for_an_unknown_address_looks_the_same(
        self, client: HtmlClient, settings: Settings
    ) -> None:
        response = client.submit("/password-reset", {"email": "nobody@example.org"})
        assert response.headers["location"] == "/password-reset/sent"
        assert read_outbox(settings.outbox_dir) == []

    def test_change_password(self, client: HtmlClient, db: Session, hasher) -> None:  # type: ignore[no-untyped-def]
        user = make_user(db)
        client.sign_in(user.email, PASSWORD)
        wrong = client.submit(
            "/account/password",
            {"current_password": "not it at all", "new_password": "another passphrase"},
        )
        assert wrong.status_code == 422
        assert error_messages(wrong) == ["Your current password is not right"]
        done = client.submit(
            "/account/password",
            {"current_password": PASSWORD, "new_password": "another passphrase"},
        )
        assert done.headers["location"] == "/account?done=password-changed"
        assert "Your password has been changed" in client.get(done.headers["location"]).text
        assert (
            accounts_service.authenticate(
                db, hasher=hasher, email=user.email, password="another passphrase"
            )
            == user
        )


class TestRepresentatives:
    def test_a_person_adds_and_removes_a_representative(
        self, client: HtmlClient, db: Session
    ) -> None:
        person = make_user(db)
        carer = make_user(db, role=Role.REPRESENTATIVE, name="Callum Carer")
        client.sign_in(person.email, PASSWORD)
        added = client.submit(
            "/account/representatives", {"email": carer.email, "relationship_kind": "carer"}
        )
        assert added.headers["location"] == "/account?done=representative-added"
        account = client.get("/account")
        assert "Callum Carer" in account.text
        remove_action = page(account).select_one("form[action$='/remove']")["action"]
        assert (
            client.submit(remove_action).headers["location"]
            == "/account?done=representative-removed"
        )
        assert "Callum Carer" not in client.get("/account").text

    def test_an_unknown_representative_is_explained_in_the_form(
        self, client: HtmlClient, db: Session
    ) -> None:
        person = make_user(db)
        client.sign_in(person.email, PASSWORD)
        response = client.submit(
            "/account/representatives",
            {"email": "nobody@example.org", "relationship_kind": ""},
            htmx=True,
        )
        assert response.status_code == 422
        assert "Choose how this person is related to you" in response.text
        response = client.submit(
            "/account/representatives",
            {"email": "nobody@example.org", "relationship_kind": "carer"},
        )
        assert response.status_code == 422
        assert error_messages(response)[0].startswith("There is no representative account")

    def test_the_representative_sees_who_they_act_for(
        self, client: HtmlClient, db: Session
    ) -> None:
        person = make_user(db, name="Morag Person")
        carer = make_user(db, role=Role.REPRESENTATIVE)
        from marketplace.accounts.models import Relationship

        accounts_service.add_representative(
            db,
            supported_person=person,
            representative_email=carer.email,
            relationship_kind=Relationship.GUARDIAN,
        )
        client.sign_in(carer.email, PASSWORD)
        assert "Morag Person (guardian)" in client.get("/account").text


class TestMailedLinks:
    """Tokens travel in query strings (which the access log drops), and links mailed
    before that still lead somewhere."""

    def test_a_mailed_link_carries_its_token_in_the_query_and_old_links_are_redirected(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        user = make_user(db)
        client.submit("/password-reset", {"email": user.email})
        link = latest_link(settings, "/password-reset/")
        path, _, query = link.partition("?")
        assert path == "/password-reset/new" and query.startswith("token=")
        token = query.removeprefix("token=")

        moved = client.get(f"/password-reset/{token}")
        assert (moved.status_code, moved.headers["location"]) == (303, link)
        assert client.get(moved.headers["location"]).status_code == 200

    def test_old_and_broken_links_get_a_page_not_an_error(self, client: HtmlClient) -> None:
        for old in ("/confirm-email/abc", "/password-reset/abc", "/provider/join/abc"):
            moved = client.get(old)
            assert moved.status_code == 303
            assert moved.headers["location"].endswith("?token=abc")
            assert client.get(moved.headers["location"]).status_code in (200, 404)
        for broken in (
            "/password-reset/new",
            "/password-reset/new?token=",
            "/provider/join?token=" + "x" * 5000,
        ):
            assert 400 <= client.get(broken).status_code < 500
        assert client.get("/password-reset/new?token=nope").status_code == 404
