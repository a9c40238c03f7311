"""Floods of enquiries, reviews and staff invitations are throttled per account and per
client address (and invitations per address mailed): the attempt past the allowance is a
429 page saying so, and nothing is written or mailed."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.mail import read_outbox
from marketplace.ratelimit import Action
from marketplace.settings import Settings
from providers.models import Enquiry, Review, StaffInvitation
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.helpers import HtmlClient
from tests.providers.test_enquiries import arranged

ENQUIRY = {"hours": "2.5", "when": ["0-0"], "message": "Help getting to the shops, please."}
REVIEW = {"outcomes": "5", "reliability": "4", "respect": "5", "comment": "Kind and on time."}
CLIENT_ADDRESS = "testclient"
"""Where every request of the test client comes from."""


def as_user(client: HtmlClient, user: User) -> HtmlClient:
    client.cookies.clear()
    client.sign_in(user.email, PASSWORD)
    return client


def count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def refused_with(response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert words in response.text and "Try again in" in response.text


def allowance(app: FastAPI, action: Action) -> tuple[int, int]:
    rule = app.state.throttle.rules[action]
    return rule.per_account.amount, rule.per_address.amount


def use_up_the_address(app: FastAPI, action: Action) -> None:
    """Other people at the same address (a shared library computer) spend its allowance."""
    per_account, per_address = allowance(app, action)
    for n in range(per_address):
        app.state.throttle.spend(
            action, account=f"neighbour-{n // per_account}", address=CLIENT_ADDRESS
        )


class TestEnquiries:
    def test_per_account(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        per_account, _ = allowance(app, Action.ENQUIRY)
        as_user(client, make_user(db))
        offers = [make_offer(db) for _ in range(per_account + 1)]
        for offer in offers[:-1]:
            assert client.submit(f"/offers/{offer.id}/enquire", ENQUIRY).status_code == 303
        before = count(db, Enquiry)
        refused_with(
            client.submit(f"/offers/{offers[-1].id}/enquire", ENQUIRY),
            "You have sent too many enquiries.",
        )
        assert count(db, Enquiry) == before

    def test_per_address(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        use_up_the_address(app, Action.ENQUIRY)
        as_user(client, make_user(db))
        refused_with(
            client.submit(f"/offers/{make_offer(db).id}/enquire", ENQUIRY), "too many enquiries"
        )
        assert count(db, Enquiry) == 0


class TestReviews:
    def test_per_account(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        per_account, _ = allowance(app, Action.REVIEW)
        person = make_user(db)
        enquiries = [arranged(db, sender=person) for _ in range(per_account + 1)]
        as_user(client, person)
        for enquiry in enquiries[:-1]:
            assert client.submit(f"/enquiries/{enquiry.id}/review", REVIEW).status_code == 303
        refused_with(
            client.submit(f"/enquiries/{enquiries[-1].id}/review", REVIEW),
            "You have posted too many reviews.",
        )
        assert count(db, Review) == per_account

    def test_per_address(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        person = make_user(db)
        enquiry = arranged(db, sender=person)
        use_up_the_address(app, Action.REVIEW)
        as_user(client, person)
        refused_with(client.submit(f"/enquiries/{enquiry.id}/review", REVIEW), "too many reviews")
        assert count(db, Review) == 0


class TestStaffInvitations:
    def test_per_account(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        per_account, _ = allowance(app, Action.STAFF_INVITATION)
        as_user(client, make_provider(db).members[0].user)
        for n in range(per_account):
            assert (
                client.submit("/provider/staff", {"email": f"staff{n}@example.org"}).status_code
                == 303
            )
        refused_with(
            client.submit("/provider/staff", {"email": "one-more@example.org"}),
            "too many staff invitations",
        )
        assert count(db, StaffInvitation) == per_account

    def test_per_address(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        use_up_the_address(app, Action.STAFF_INVITATION)
        as_user(client, make_provider(db).members[0].user)
        refused_with(
            client.submit("/provider/staff", {"email": "new@example.org"}),
            "too many staff invitations",
        )

    def test_one_address_is_not_flooded_with_invitations(
        self, app: FastAPI, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        allowed = settings.security.mails_to_one_address_per_hour
        # Several providers, each within its own allowance, invite the same person.
        for _ in range(allowed):
            as_user(client, make_provider(db).members[0].user)
            assert (
                client.submit("/provider/staff", {"email": "target@example.org"}).status_code == 303
            )
        as_user(client, make_provider(db).members[0].user)
        refused_with(
            client.submit("/provider/staff", {"email": "Target@Example.org"}),
            "too many staff invitations",
        )
        assert (
            sum(1 for m in read_outbox(settings.outbox_dir) if m.to == "target@example.org")
            == allowed
        )
