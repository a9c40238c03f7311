"""Authorisation in one place. Every route declares who may use it with one of the access
rules below (a test fails for any route that does not), and object-level rules say who may
see which record. An object the user may not see answers exactly like one that does not
exist, so nobody learns what exists by probing ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from marketplace import audit
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Representation, Role, User
from marketplace.deps import AUDITED_READ, AppSettings, DbSession
from marketplace.errors import NotAllowed, NotFound, NotSignedIn
from marketplace.parsing import record_id

T = TypeVar("T")
ACCESS_RULE = "sds_access_rule"
"""Attribute that marks a dependency as a route's access rule; the route audit test reads it."""


async def current_user(request: Request, db: DbSession, settings: AppSettings) -> User | None:
    """The signed-in user, or None. A dead session token is marked for the cookie to go.
    Without a session cookie nothing is read, so this runs on the event loop; the database
    is read on a worker thread only when there is a session to look up."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    token: str | None = getattr(request.state, "session_token", None)
    user = None
    if token is not None:
        user = await run_in_threadpool(
            accounts_service.user_for_session, db, token=token, security=settings.security
        )
        if user is None:
            request.state.session_ended = True
    request.state.user = user
    return user


MaybeUser = Annotated[User | None, Depends(current_user)]


def _rule(name: str, check: Callable[[User | None], None]) -> Callable[..., Any]:
    # A check reads only the user already loaded, so it runs on the event loop rather than
    # being handed to a worker thread.
    async def dependency(user: MaybeUser) -> User | None:
        check(user)
        return user

    dependency.__name__ = f"access_{name}"
    setattr(dependency, ACCESS_RULE, name)
    return dependency


def _anyone(user: User | None) -> None:
    return None


def _signed_in(user: User | None) -> None:
    if user is None:
        raise NotSignedIn("Sign in to use this page")


anyone = _rule("public", _anyone)
"""Anyone, signed in or not."""
signed_in = _rule("signed_in", _signed_in)
"""Any signed-in user, whatever their role."""


def roles(*allowed: Role) -> Callable[..., Any]:
    """Signed-in users with one of these roles; others get 403."""

    def check(user: User | None) -> None:
        _signed_in(user)
        assert user is not None
        if user.role not in allowed:
            raise NotAllowed("Your account does not give you access to this page")

    return _rule("roles:" + ",".join(sorted(role.value for role in allowed)), check)


Public = Depends(anyone)
SignedInUser = Annotated[User, Depends(signed_in)]
AdminUser = Annotated[User, Depends(roles(Role.ADMIN))]

VisibilityRule = Callable[[Session, User, Any], bool]
_visibility: dict[type, VisibilityRule] = {}
# The decorator hands back the rule with its own signature (a rule may accept `User | None`).
R = TypeVar("R", bound=VisibilityRule)


def visibility_rule(model: type[T]) -> Callable[[R], R]:
    """Register who may see records of `model`: rule(session, viewer, record) -> bool."""

    def register(rule: R) -> R:
        _visibility[model] = rule
        return rule

    return register


def may_see(session: Session, viewer: User, record: Any) -> bool:
    rule = _visibility.get(type(record))
    if rule is None:
        raise LookupError(f"no visibility rule for {type(record).__name__}")
    return rule(session, viewer, record)


def load_visible(session: Session, model: type[T], record_id: int, viewer: User) -> T:
    """The record if it exists and the viewer may see it; otherwise the same 404 either way."""
    record = session.get(model, record_id)
    if record is None or not may_see(session, viewer, record):
        raise NotFound("Page not found")
    return record


def parse_record_id(text: str) -> int:
    """A record id from a path or a form, by the shared parser (marketplace.parsing): anything
    that cannot be one is the 404 of a record that does not exist."""
    number = record_id(text)
    if number is None:
        raise NotFound("Page not found")
    return number


def visible(
    model: type[T],
    *,
    param: str,
    access: Callable[..., Any],
    audit_subject: str | None,
    rule: VisibilityRule | None = None,
) -> Callable[..., T]:
    """A dependency for a record page that does every step, so no route can forget one:
    after the route's `access` rule (the same dependency the route declares), it parses the
    path parameter `param` with the bounded parser, loads the `model` record, answers 404
    when it is missing or the user may not see it (by `rule`, or the model's registered
    visibility rule), and records the audited read under `audit_subject`. Pages that change
    the record pass audit_subject=None: the service audits the change instead.

        Need = Annotated[
            PostedNeed,
            Depends(visible(PostedNeed, param="need_id", access=..., audit_subject="posted_need")),
        ]
    """
    check = rule or may_see

    # A default, not Annotated: annotations are strings here, and `access` is not a global.
    def dependency(request: Request, db: DbSession, user: User | None = Depends(access)) -> Any:
        if user is None:
            raise NotSignedIn("Sign in to use this page")
        record_id = parse_record_id(str(request.path_params.get(param, "")))
        record = db.get(model, record_id)
        if record is None or not check(db, user, record):
            raise NotFound("Page not found")
        if audit_subject is not None:
            audit.record_read(db, actor=user, subject_type=audit_subject, subject_id=record_id)
        return record

    dependency.__name__ = f"visible_{model.__name__}"
    setattr(dependency, AUDITED_READ, audit_subject is not None)
    return dependency


# The person's side ----------------------------------------------------------------------
# Who may act for a supported person is decided by the live representation, never by who
# wrote a record: a representative removed by the person loses, at once, every enquiry and
# need they sent for them.


def on_persons_side(session: Session, user: User, person_id: int) -> bool:
    """The person themself, or a representative acting for them now."""
    if user.id == person_id:
        return True
    return user.role == Role.REPRESENTATIVE and accounts_service.acts_for(
        session, representative=user, supported_person_id=person_id
    )


def on_persons_side_filter(user: User, person_id: ColumnElement[int] | Any) -> ColumnElement[bool]:
    """on_persons_side as an SQL condition on a person-id column, for lists."""
    if user.role != Role.REPRESENTATIVE:
        return person_id == user.id
    acted_for = select(Representation.supported_person_id).where(
        Representation.representative_id == user.id
    )
    return or_(person_id == user.id, person_id.in_(acted_for))


@visibility_rule(User)
def _may_see_user(session: Session, viewer: User, user: User) -> bool:
    if viewer.role == Role.ADMIN or viewer.id == user.id:
        return True
    return viewer.role == Role.REPRESENTATIVE and accounts_service.acts_for(
        session, representative=viewer, supported_person_id=user.id
    )


@visibility_rule(Representation)
def _may_see_representation(session: Session, viewer: User, link: Representation) -> bool:
    return viewer.role == Role.ADMIN or viewer.id in (
        link.representative_id,
        link.supported_person_id,
    )
