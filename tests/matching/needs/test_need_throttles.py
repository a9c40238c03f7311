"""Posted needs are throttled per account and per client address: the need past the
allowance is a 429 page saying so, and is not posted."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session

from marketplace.ratelimit import Action
from tests.factories import PASSWORD, make_offer, make_user
from tests.helpers import HtmlClient
from tests.matching.needs.need_builders import DESCRIPTION, need_count

NEED = {
    "location": "Portree",
    "kinds_of_support": ["personal-care"],
    "outcomes": ["feeling-safe"],
    "when": ["0-0"],
    "hours": "2.5",
    "description": DESCRIPTION,
}


def refused_with(response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert words in response.text and "Try again in" in response.text


class TestPostedNeeds:
    def test_per_account(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        make_offer(db)
        allowed = app.state.throttle.rules[Action.POSTED_NEED].per_account.amount
        client.sign_in(make_user(db).email, PASSWORD)
        for _ in range(allowed):
            assert client.submit("/needs", NEED).status_code == 303
        refused_with(client.submit("/needs", NEED), "You have posted too many needs.")
        assert need_count(db) == allowed

    def test_per_address(self, app: FastAPI, client: HtmlClient, db: Session) -> None:
        rule = app.state.throttle.rules[Action.POSTED_NEED]
        # Other people at the same address (a shared library computer) post their needs.
        for n in range(rule.per_address.amount):
            app.state.throttle.spend(
                Action.POSTED_NEED,
                account=f"neighbour-{n // rule.per_account.amount}",
                address="testclient",
            )
        client.sign_in(make_user(db).email, PASSWORD)
        refused_with(client.submit("/needs", NEED), "too many needs")
        assert need_count(db) == 0
