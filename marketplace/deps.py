"""Request-scoped dependencies: the one database transaction per request, and the app's
long-lived helpers (settings, mailer, password hasher, throttle)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from marketplace.db import open_session
from marketplace.errors import DomainError
from marketplace.mail import attach_mailer
from marketplace.ratelimit import Throttle
from marketplace.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's transaction: committed when the route returns, rolled back if it raises.
    Committing happens before the response is sent, so a client never sees a success that
    was not stored."""
    write = request.method not in SAFE_METHODS
    session = open_session(request.app.state.sessionmaker, write=write)
    attach_mailer(session, request.app.state.mailer)
    try:
        yield session
        session.commit()
    except DomainError:
        # The error handler shows the form again after this transaction has ended, and the
        # form's page may read records not loaded yet (an offer's provider, a person's
        # representatives). Roll back, but leave the session open for that page to read in
        # a fresh transaction; the handler closes it (marketplace.web.handle_domain_error).
        session.rollback()
        request.state.session_after_error = session
        raise
    except BaseException:
        # Anything else may be the database itself failing: keep what was loaded (the
        # signed-in user for the error page's header) detached, and end the session.
        session.expunge_all()
        session.rollback()
        session.close()
        raise
    else:
        session.close()


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
