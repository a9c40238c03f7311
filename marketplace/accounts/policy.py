"""Authorisation in one place. Every route declares who may use it with one of the access
rules below (a test fails for any route that does not), and object-level rules say who may
see which record. An object the user may not see answers exactly like one that does not
exist, so nobody learns what exists by probing ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Representation, Role, User
from marketplace.deps import AppSettings, DbSession
from marketplace.errors import NotAllowed, NotFound, NotSignedIn

T = TypeVar("T")
_UNSET = object()
ACCESS_RULE = "sds_access_rule"
"""Attribute that marks a dependency as a route's access rule; the route audit test reads it."""


def current_user(request: Request, db: DbSession, settings: AppSettings) -> User | None:
    """The signed-in user, or None. A dead session token is marked for the cookie to go."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached
    token: str | None = getattr(request.state, "session_token", None)
    user = None
    if token is not None:
        user = accounts_service.user_for_session(db, token=token, security=settings.security)
        if user is None:
            request.state.session_ended = True
    request.state.user = user
    return user


MaybeUser = Annotated[User | None, Depends(current_user)]


def _rule(name: str, check: Callable[[User | None], None]) -> Callable[..., Any]:
    def dependency(user: MaybeUser) -> User | None:
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


def visibility_rule(model: type[T]) -> Callable[[VisibilityRule], VisibilityRule]:
    """Register who may see records of `model`: rule(session, viewer, record) -> bool."""

    def register(rule: VisibilityRule) -> VisibilityRule:
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
