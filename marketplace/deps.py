"""Request-scoped dependencies: the one database transaction per request, and the app's
long-lived helpers (settings, mailer, password hasher, throttle)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from argon2 import PasswordHasher
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from marketplace.db import open_session, session_scope
from marketplace.errors import DomainError
from marketplace.mail import attach_mailer
from marketplace.ratelimit import Action, Throttle
from marketplace.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDITED = "__sds_audited__"
_WRITES = "_sds_get_writes"
"""Where a route keeps whether its GET writes, once worked out."""
AUDITED_READ = "sds_audited_read"
"""Set on a dependency that records an audited read (accounts.policy.visible)."""

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def audited(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose GET writes (it records who read what in the audit log, or does
    what a link asks, such as confirming an email): its request opens a write transaction
    (SQLite: BEGIN IMMEDIATE, waiting its turn under the busy timeout) instead of a read
    transaction that would have to upgrade half way. A GET that writes without this mark
    raises WriteInReadTransaction, so a route cannot forget it.

        @router.get("/account")
        @audited
        def account(...): ...
    """
    setattr(endpoint, AUDITED, True)
    return endpoint


@contextmanager
def own_write_transaction(request: Request) -> Iterator[Session]:
    """A short write transaction of its own, beside the request's read transaction, for a GET
    that writes only now and then (a search that found nothing): the common case keeps its
    read transaction and never waits for SQLite's write lock."""
    with session_scope(request.app.state.sessionmaker, write=True) as session:
        yield session


def writes(request: Request) -> bool:
    """Whether this request's transaction is opened for writing."""
    if request.method not in SAFE_METHODS:
        return True
    route = request.scope.get("route")
    if route is None:
        return False
    # A route's answer never changes, so it is worked out once, not on every request.
    known: bool | None = getattr(route, _WRITES, None)
    if known is None:
        dependant = getattr(route, "dependant", None)
        known = bool(getattr(getattr(route, "endpoint", None), AUDITED, False)) or (
            dependant is not None and _records_reads(dependant)
        )
        setattr(route, _WRITES, known)
    return known


def _records_reads(dependant: Any) -> bool:
    """Whether any of a route's dependencies records an audited read (a record page's
    loader), so its GET writes even where the route itself is not marked."""
    return any(
        getattr(sub.call, AUDITED_READ, False) or _records_reads(sub)
        for sub in dependant.dependencies
    )


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's transaction: committed when the route returns, rolled back if it raises.
    Committing happens before the response is sent, so a client never sees a success that
    was not stored. GETs read only unless their route is marked @audited.

    Run on the event loop, handing only the database's work to a worker thread: a read
    transaction touches the database first in the route (itself on a worker thread), so
    opening it here saves a page a hand-over to a thread and back; a write transaction
    takes its lock at once, and ending either talks to the database."""
    write = writes(request)
    factory = request.app.state.sessionmaker
    if write:
        session = await run_in_threadpool(open_session, factory, write=True)
    else:
        session = open_session(factory, write=False, strict=True)
    attach_mailer(session, request.app.state.mailer)
    try:
        yield session
        await run_in_threadpool(_commit_and_close, session)
    except DomainError:
        # The error handler shows the form again after this transaction has ended, and the
        # form's page may read records not loaded yet (an offer's provider, a person's
        # representatives). Roll back, but leave the session open for that page to read in
        # a fresh transaction; the handler closes it (marketplace.web.handle_domain_error).
        await run_in_threadpool(session.rollback)
        request.state.session_after_error = session
        raise
    except BaseException:
        # Anything else may be the database itself failing: keep what was loaded (the
        # signed-in user for the error page's header) detached, and end the session.
        await run_in_threadpool(_discard, session)
        raise


def _commit_and_close(session: Session) -> None:
    session.commit()  # if it fails, get_session ends the session as for any failure
    session.close()


def _discard(session: Session) -> None:
    session.expunge_all()
    session.rollback()
    session.close()


# Look-ups on the app's state are `async def`: FastAPI runs a plain `def` dependency on a
# worker thread, and handing each one over and back costs a page more than the look-up.


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_hasher(request: Request) -> PasswordHasher:
    return request.app.state.hasher


async def get_throttle(request: Request) -> Throttle:
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
    request.app.state.throttle.spend(
        action, account=account, address=client_address(request), target_email=target_email
    )
