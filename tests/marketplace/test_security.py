"""The CSRF wrapper gives no way out: a header claiming a token scheme we do not have does
not excuse a state-changing request from its CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from tests.factories import PASSWORD, make_user
from tests.helpers import HtmlClient


@pytest.mark.parametrize("authorization", ["Bearer anything", "Bearer ", "bearer x", "Basic eDp5"])
def test_an_authorization_header_does_not_stand_in_for_the_csrf_token(
    client: HtmlClient, db: Session, authorization: str
) -> None:
    user = make_user(db)
    client.csrf_token()  # the browser has its CSRF cookie, as a victim's would
    signed_in = client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD},
        headers={"Authorization": authorization},
    )
    assert signed_in.status_code == 403
    signed_up = client.post(
        "/sign-up/supported-person",
        data={"name": "Mhairi", "email": "bearer@example.org", "password": PASSWORD},
        headers={"Authorization": authorization},
    )
    assert signed_up.status_code == 403
    assert db.scalar(select(User).where(User.email == "bearer@example.org")) is None


def test_without_cookies_a_bearer_header_is_refused_too(client: HtmlClient) -> None:
    client.cookies.clear()
    response = client.post(
        "/sign-up/supported-person",
        data={"name": "Mhairi", "email": "bearer@example.org", "password": PASSWORD},
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 403


def test_with_the_token_an_authorization_header_changes_nothing(
    client: HtmlClient, db: Session
) -> None:
    user = make_user(db)
    response = client.post(
        "/sign-in",
        data={"csrftoken": client.csrf_token(), "email": user.email, "password": PASSWORD},
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 303
