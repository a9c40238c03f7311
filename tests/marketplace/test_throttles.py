"""Floods are throttled: one rule per action (marketplace.ratelimit.rules), counted per
account, per client address and per email address mailed; the attempt past an allowance is
a 429 page saying what and when, and nobody receives more than a few mails an hour that
they did not ask for. Windows are moved with time-machine, never waited for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.errors import TooManyAttempts
from marketplace.mail import read_outbox
from marketplace.ratelimit import Action, Throttle
from marketplace.settings import SecuritySettings, Settings
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient


def mails_to(settings: Settings, email: str) -> int:
    return sum(1 for m in read_outbox(settings.outbox_dir) if m.to == email)


def refused_with(response, words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert words in response.text
    assert "Try again in" in response.text


def sign_up(client: HtmlClient, email: str, kind: str = "supported-person"):  # type: ignore[no-untyped-def]
    return client.submit(
        f"/sign-up/{kind}", {"name": "Ailsa Grant", "email": email, "password": PASSWORD}
    )


class TestTheThrottle:
    def test_the_attempt_past_an_allowance_is_refused_until_the_window_moves_on(self) -> None:
        throttle = Throttle(SecuritySettings())
        allowed = throttle.rules[Action.ENQUIRY].per_account.amount  # type: ignore[union-attr]
        with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False) as clock:
            for _ in range(allowed):
                throttle.spend(Action.ENQUIRY, account=1, address="203.0.113.9")
            with pytest.raises(TooManyAttempts) as refused:
                throttle.spend(Action.ENQUIRY, account=1, address="203.0.113.9")
            assert refused.value.retry_after_seconds == 3600
            assert (
                refused.value.message
                == "You have sent too many enquiries. Try again in 60 minutes."
            )
            # Another account from another address is not held up.
            throttle.spend(Action.ENQUIRY, account=2, address="198.51.100.7")
            clock.shift(timedelta(minutes=59))
            with pytest.raises(TooManyAttempts):
                throttle.spend(Action.ENQUIRY, account=1, address="203.0.113.9")
            clock.shift(timedelta(minutes=1, seconds=1))
            throttle.spend(Action.ENQUIRY, account=1, address="203.0.113.9")

    def test_a_refused_attempt_counts_against_nothing(self) -> None:
        throttle = Throttle(SecuritySettings())
        per_address = throttle.rules[Action.REVIEW].per_address.amount  # type: ignore[union-attr]
        per_account = throttle.rules[Action.REVIEW].per_account.amount  # type: ignore[union-attr]
        for _ in range(per_account):
            throttle.spend(Action.REVIEW, account=1, address="a")
        for _ in range(5):
            with pytest.raises(TooManyAttempts):
                throttle.spend(Action.REVIEW, account=1, address="a")
        # The five refusals did not use up the address's allowance for others.
        for account in range(2, 2 + per_address - per_account):
            throttle.spend(Action.REVIEW, account=account, address="a")
        with pytest.raises(TooManyAttempts):
            throttle.spend(Action.REVIEW, account=99, address="a")


class TestSignUp:
    def test_no_address_receives_more_than_three_mails_an_hour_it_did_not_ask_for(
        self, app: FastAPI, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        victim = make_user(db, email="victim@example.org")
        allowed = settings.security.mails_to_one_address_per_hour
        with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False) as clock:
            # Someone else keeps signing up with the victim's address, from several places.
            for attempt in range(allowed):
                kind = ("supported-person", "representative")[attempt % 2]
                assert sign_up(client, victim.email, kind).status_code == 303
            refused_with(
                sign_up(client, victim.email), "You have tried to create too many accounts."
            )
            # Password resets for the same address share its allowance.
            refused_with(
                client.submit("/password-reset", {"email": victim.email}),
                "too many password resets",
            )
            # The same flood from another address is refused all the same: the count is
            # kept for the address mailed, not for who asked.
            with HtmlClient(app, client=("198.51.100.7", 5000)) as elsewhere:
                refused_with(sign_up(elsewhere, victim.email), "too many accounts")
            assert mails_to(settings, victim.email) == allowed
            clock.shift(timedelta(hours=1, seconds=1))
            assert client.submit("/password-reset", {"email": victim.email}).status_code == 303
            assert mails_to(settings, victim.email) == allowed + 1

    def test_one_address_cannot_sign_up_many_accounts(
        self, app: FastAPI, client: HtmlClient, db: Session
    ) -> None:
        allowed = app.state.throttle.rules[Action.SIGN_UP].per_address.amount
        for n in range(allowed):
            assert sign_up(client, f"person{n}@example.org").status_code == 303
        refused_with(
            sign_up(client, "one-more@example.org"), "You have tried to create too many accounts."
        )
        assert (
            db.scalar(
                select(func.count()).select_from(User).where(User.email == "one-more@example.org")
            )
            == 0
        )

    def test_provider_sign_up_counts_too(self, client: HtmlClient, settings: Settings) -> None:
        answers = {
            "organisation_name": "Strath Support",
            "kind": "micro_provider",
            "name": "Isla Ross",
            "email": "isla@example.org",
            "password": PASSWORD,
        }
        for _ in range(settings.security.mails_to_one_address_per_hour):
            assert client.submit("/sign-up/provider", answers).status_code == 303
        refused_with(client.submit("/sign-up/provider", answers), "too many accounts")
        assert (
            mails_to(settings, "isla@example.org")
            == settings.security.mails_to_one_address_per_hour
        )


class TestPasswordReset:
    def test_per_address_across_many_emails(self, app: FastAPI, client: HtmlClient) -> None:
        allowed = app.state.throttle.rules[Action.PASSWORD_RESET].per_address.amount
        for n in range(allowed):
            assert (
                client.submit("/password-reset", {"email": f"p{n}@example.org"}).status_code == 303
            )
        refused_with(
            client.submit("/password-reset", {"email": "fresh@example.org"}),
            "too many password resets",
        )

    def test_the_refusal_page_points_to_nothing_it_cannot_do(
        self, client: HtmlClient, settings: Settings
    ) -> None:
        for _ in range(settings.security.mails_to_one_address_per_hour):
            client.submit("/password-reset", {"email": "x@example.org"})
        refused = client.submit("/password-reset", {"email": "x@example.org"})
        assert refused.status_code == 429
        assert "reset your password" not in refused.text
