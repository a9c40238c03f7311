"""Administrators manage roles and browse the audit log; both pages record what they do."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from marketplace import audit
from marketplace.accounts.models import Role
from marketplace.audit import AuditAction, AuditEvent, AuditFilter
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient, error_messages, page


@pytest.fixture
def admin_client(client: HtmlClient, db: Session) -> HtmlClient:
    admin = make_user(db, role=Role.ADMIN, name="Eilidh Admin")
    client.sign_in(admin.email, PASSWORD)
    client.admin = admin  # type: ignore[attr-defined]
    return client


class TestAccounts:
    def test_list_filters_by_role_and_text(self, admin_client: HtmlClient, db: Session) -> None:
        make_user(db, role=Role.FINANCE, name="Ruaridh Money")
        make_user(db, role=Role.PANEL_MEMBER, name="Kirsty Panel")
        finance = page(admin_client.get("/admin/users?role=finance"))
        names = [a.get_text() for a in finance.select("#results td a")]
        assert names == ["Ruaridh Money"]
        searched = page(admin_client.get("/admin/users?q=kirsty"))
        assert [a.get_text() for a in searched.select("#results td a")] == ["Kirsty Panel"]

    def test_htmx_filtering_returns_the_results_only(self, admin_client: HtmlClient) -> None:
        response = admin_client.get("/admin/users?role=admin", headers={"HX-Request": "true"})
        assert response.status_code == 200
        fragment = page(response)
        assert fragment.html is None
        assert fragment.select_one("#results")
        assert fragment.title.get_text() == "Accounts - SDS Marketplace"
        assert "HX-Request" in response.headers["Vary"]

    def test_a_malformed_filter_gets_a_clear_answer(self, admin_client: HtmlClient) -> None:
        assert admin_client.get("/admin/users?role=emperor").status_code == 422
        assert admin_client.get("/admin/users?page=abc").status_code == 400

    def test_viewing_an_account_is_audited(self, admin_client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        assert admin_client.get(f"/admin/users/{user.id}").status_code == 200
        viewed = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.subject_id == str(user.id),
            )
        ).all()
        assert [(e.actor_id, e.subject_type) for e in viewed] == [
            (admin_client.admin.id, "user_account")
        ]  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("path", "listing"),
        [("/admin/users?role=finance", "admin_users"), ("/admin/reviews", "admin_reviews")],
    )
    def test_each_list_of_people_shown_is_audited_naming_who_was_on_it(
        self, admin_client: HtmlClient, db: Session, path: str, listing: str
    ) -> None:
        listed = make_user(db, role=Role.FINANCE)
        assert admin_client.get(path).status_code == 200
        admin_client.get(path)
        views = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.actor_id == admin_client.admin.id,  # type: ignore[attr-defined]
                AuditEvent.subject_id.is_(None),
            )
        ).all()
        assert [e.detail["listing"] for e in views] == [listing, listing]
        if listing == "admin_users":
            assert views[0].detail["ids"] == str(listed.id)

    def test_make_someone_a_budget_holder(self, admin_client: HtmlClient, db: Session) -> None:
        user = make_user(db, role=Role.PANEL_MEMBER)
        response = admin_client.submit(
            f"/admin/users/{user.id}/role",
            {"role": "budget_holder", "council": "Highland"},
        )
        assert response.headers["location"] == f"/admin/users/{user.id}?done=role"
        db.refresh(user)
        assert (user.role, user.council.name) == (Role.BUDGET_HOLDER, "Highland")  # type: ignore[union-attr]
        # What they may approve alone is set on its own page, with its history.
        shown = page(admin_client.get(f"/admin/users/{user.id}"))
        assert shown.find("a", href=f"/admin/delegated-authority/{user.id}") is not None

    def test_a_role_that_breaks_the_rules_is_explained(
        self, admin_client: HtmlClient, db: Session
    ) -> None:
        user = make_user(db)
        response = admin_client.submit(
            f"/admin/users/{user.id}/role",
            {"role": "budget_holder", "council": ""},
        )
        assert response.status_code == 422
        assert error_messages(response) == ["A budget holder must belong to a council area"]
        db.refresh(user)
        assert user.role == Role.SUPPORTED_PERSON

    def test_disable_and_enable(self, admin_client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        admin_client.submit(f"/admin/users/{user.id}/disable")
        db.refresh(user)
        assert user.disabled_at is not None
        admin_client.submit(f"/admin/users/{user.id}/enable")
        db.refresh(user)
        assert user.disabled_at is None


class TestAuditLog:
    def test_browse_and_filter(self, admin_client: HtmlClient, db: Session) -> None:
        user = make_user(db)
        admin_client.submit(f"/admin/users/{user.id}/disable")
        everything = page(admin_client.get("/admin/audit"))
        assert "Account disabled" in everything.get_text()
        only_disabled = page(
            admin_client.get(f"/admin/audit?action=account_disabled&subject_id={user.id}")
        )
        rows = only_disabled.select("#results tbody tr")
        assert len(rows) == 1
        assert "Account disabled" in rows[0].get_text()

    def test_bad_dates_get_a_clear_answer(self, admin_client: HtmlClient) -> None:
        assert admin_client.get("/admin/audit?since=yesterday").status_code == 400

    def test_never_holds_personal_data(self, client: HtmlClient, db: Session) -> None:
        person = make_user(db, email="morag.secret@example.org", name="Morag Secret")
        client.submit("/sign-in", {"email": person.email, "password": "a wrong password"})
        client.submit(
            "/sign-in", {"email": "unknown.person@example.org", "password": "a wrong password"}
        )
        client.sign_in(person.email, PASSWORD)
        client.get("/account")
        client.submit(
            "/account/password",
            {"current_password": PASSWORD, "new_password": "a new passphrase here"},
        )
        stored = repr(
            [
                (e.subject_type, e.subject_id, e.actor_role, e.detail)
                for e in db.scalars(select(AuditEvent))
            ]
        )
        for secret in ("morag", "secret", "unknown.person", PASSWORD, "a new passphrase"):
            assert secret not in stored.lower()

    @pytest.mark.parametrize(
        "statement", ["UPDATE audit_event SET action = 'signed_out'", "DELETE FROM audit_event"]
    )
    def test_is_append_only_in_the_database(self, db: Session, statement: str) -> None:
        audit.record(db, actor=None, action=AuditAction.SIGN_IN_FAILED)
        audit.write_pending(db)  # entries wait for the commit, or for a query of the log
        nested = db.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        nested.rollback()
        assert db.scalars(select(AuditEvent)).all()

    def test_browse_pages_newest_first(self, db: Session) -> None:
        for _ in range(5):
            audit.record(db, actor=None, action=AuditAction.SIGN_IN_FAILED)
        db.flush()
        first = audit.browse(
            db, filters=AuditFilter(action=AuditAction.SIGN_IN_FAILED), page=1, page_size=2
        )
        second = audit.browse(
            db, filters=AuditFilter(action=AuditAction.SIGN_IN_FAILED), page=2, page_size=2
        )
        assert first.total == 5 and first.pages == 3
        assert first.items[0].id > first.items[1].id > second.items[0].id


def test_a_person_viewing_their_account_is_audited(client: HtmlClient, db: Session) -> None:
    person = make_user(db)
    client.sign_in(person.email, PASSWORD)
    client.get("/account")
    assert db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.RECORD_VIEWED, AuditEvent.actor_id == person.id
        )
    )
