"""The administrators' home, where signing in leads them: every queue of work waiting for
them, with how much is in it now, linking to where it is done."""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.db import utcnow
from providers import reviews as reviews_service
from providers.models import CheckKind
from tests.factories import PASSWORD, make_provider, make_user
from tests.helpers import HtmlClient, page
from tests.providers.test_checks import declare
from tests.providers.test_enquiries import arranged


def queues(client: HtmlClient) -> dict[str, tuple[str, str]]:
    response = client.get("/admin")
    assert response.status_code == 200
    return {
        item.select_one(".ds_summary-list__key a").get_text(strip=True): (
            item.select_one(".ds_summary-list__key a")["href"],
            item.select_one(".ds_summary-list__value").get_text(" ", strip=True),
        )
        for item in page(response).select(".ds_summary-list__item")
    }


def test_the_home_lists_every_queue_with_what_is_waiting(client: HtmlClient, db: Session) -> None:
    admin = make_user(db, role=Role.ADMIN)
    make_user(db, confirmed=False)
    make_user(db).disabled_at = utcnow()
    declare(db, make_provider(db), kind=CheckKind.PVG, reference="1234 5678 9012 3456")
    enquiry = arranged(db)
    reviews_service.leave_review(
        db,
        enquiry=enquiry,
        author=enquiry.person,
        ratings=reviews_service.Ratings(4, 4, 4),
        comment="Good.",
    )

    client.sign_in(admin.email, PASSWORD)
    found = queues(client)
    assert list(found) == ["Accounts", "Checks to verify", "Reviews", "Audit log"]
    assert found["Accounts"][0] == "/admin/users"
    assert "1 disabled, 1 not confirmed yet" in found["Accounts"][1]
    assert found["Checks to verify"] == ("/admin/checks", "1 waiting to be verified")
    assert found["Reviews"] == ("/admin/reviews", "1 posted in the last 7 days to read; 0 hidden")
    assert found["Audit log"][0] == "/admin/audit"
    for path, _ in found.values():
        assert client.get(path).status_code == 200


def test_only_administrators_see_it(client: HtmlClient, db: Session) -> None:
    client.sign_in(make_user(db, role=Role.COMMISSIONER).email, PASSWORD)
    assert client.get("/admin").status_code == 403
