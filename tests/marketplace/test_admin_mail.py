"""Administrators see the mail that keeps failing and send it again."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.audit import AuditAction, AuditEvent
from marketplace.mail import read_outbox
from marketplace.outbox import MAX_ATTEMPTS, MailStatus, QueuedMail, new_message_id
from marketplace.settings import Settings
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient, page


@pytest.fixture
def admin_client(client: HtmlClient, db: Session) -> HtmlClient:
    admin = make_user(db, role=Role.ADMIN, name="Eilidh Admin")
    client.sign_in(admin.email, PASSWORD)
    return client


class TestMail:
    def test_a_mail_that_keeps_failing_is_listed_and_can_be_retried(
        self, admin_client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        stuck = QueuedMail(
            to_address="morag@example.org",
            subject="Your enquiry was answered",
            body="secret link /x?token=abc",
            message_id=new_message_id(),
            status=MailStatus.FAILED,
            attempts=MAX_ATTEMPTS,
            last_error="ConnectionRefusedError: [Errno 111] Connection refused",
        )
        db.add(stuck)
        db.flush()
        listed = page(admin_client.get("/admin/mail"))
        [row] = listed.select("table")[0].select("tbody tr")
        text = row.get_text(" ", strip=True)
        assert "morag@example.org" in text and "Given up" in text and "Connection refused" in text
        assert "token=abc" not in listed.get_text(), "bodies hold links for their recipient alone"
        [seen] = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.subject_type == "mail_outbox",
            )
        ).all()
        assert seen.detail["listing"] == "admin_mail", (
            "a list of people's addresses is a read of personal data"
        )
        assert str(stuck.id) in seen.detail["ids"].split(",")

        response = admin_client.submit(f"/admin/mail/{stuck.id}/retry", {})
        assert response.headers["location"] == "/admin/mail?done=retried"
        assert stuck.status is MailStatus.SENT, "retried at once, after the commit"
        assert [m.subject for m in read_outbox(settings.outbox_dir)] == [
            "Your enquiry was answered"
        ]
        assert (
            "No mail is failing." in page(admin_client.get("/admin/mail?done=retried")).get_text()
        )

    def test_only_administrators_and_bounded_ids(self, admin_client: HtmlClient) -> None:
        assert admin_client.submit("/admin/mail/99999999999999999999/retry", {}).status_code in (
            400,
            404,
            422,
        )
        assert admin_client.submit("/admin/mail/12345/retry", {}).status_code == 404
