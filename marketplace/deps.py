"""Request-scoped dependencies: the one database transaction per request, and the app's
long-lived helpers (settings, mailer, password hasher, throttle)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from marketplace.db import session_scope
from marketplace.mail import attach_mailer
from marketplace.ratelimit import Action, Throttle
from marketplace.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's transaction: committed when the route returns, rolled back if it raises.
    Committing happens before the response is sent, so a client never sees a success that
    was not stored."""
    write = request.method not in SAFE_METHODS
    with session_scope(request.app.state.sessionmaker, write=write) as session:
        attach_mailer(session, request.app.state.mailer)
        try:
            yield session
        except BaseException:
            # The error handler renders its page after this transaction has ended. Detach
            # what was loaded first, so the page can still read it (the signed-in user for
            # the header, the records a form shows again) instead of finding it expired.
            session.expunge_all()
            raise


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_hasher(request: Request) -> PasswordHasher:
    return request.app.state.hasher


def get_throttle(request: Request) -> Throttle:
    return request.app.state.throttle


DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Hasher = Annotated[PasswordHasher, Depends(get_hasher)]
ThrottleDep = Annotated[Throttle, Depends(get_throttle)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def spend_allowance(
    request: Request, action: Action, *, account: int | None = None, target_email: str | None = None
) -> None:
    """Count one `action` by this account from this client address (mailing `target_email`),
    or refuse it with 429 once its allowance is spent (marketplace.ratelimit.rules)."""
    get_throttle(request).spend(
        action, account=account, address=client_address(request), target_email=target_email
    )
