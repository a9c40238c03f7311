"""The domain error tree. Services raise these; one handler (marketplace.web) turns them into
a page, an htmx fragment or a JSON body with the error's status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class FieldError:
    """One thing wrong, and the form field it belongs to (None: the form as a whole)."""

    field: str | None
    message: str


class DomainError(Exception):
    status_code = 400
    title = "There is a problem"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems: list[FieldError] = [FieldError(field, message)]


class NotSignedIn(DomainError):
    """The page needs a signed-in user; pages answer by sending the browser to sign in."""

    status_code = 401
    title = "Sign in to continue"


class NotFound(DomainError):
    """Unknown, or not visible to this user: the two answer the same so nothing leaks."""

    status_code = 404
    title = "Page not found"


class NotAllowed(DomainError):
    """The user's role may not use this page at all."""

    status_code = 403
    title = "You cannot use this page"


class Conflict(DomainError):
    status_code = 409


class RuleBroken(DomainError):
    """Input that is well formed but breaks a rule of the service: one rule, or several
    found together (`problems`) so the person can put them all right at once."""

    status_code = 422

    @classmethod
    def every(cls, problems: Sequence[FieldError]) -> RuleBroken:
        first = problems[0]
        error = cls(first.message, field=first.field)
        error.problems = list(problems)
        return error


class Rules:
    """Checks the rules of one command and reports every one broken, not just the first:

        with Rules() as rules:
            if not title:
                rules.broken("Enter a title", field="title")

    Leaving the block raises one RuleBroken holding them all. A field keeps its first
    problem only, and `rules.fine(field)` lets a check that builds on another skip."""

    def __init__(self) -> None:
        self.problems: list[FieldError] = []

    def broken(self, message: str, *, field: str | None = None) -> None:
        if field is None or self.fine(field):
            self.problems.append(FieldError(field, message))

    def fine(self, field: str) -> bool:
        return all(problem.field != field for problem in self.problems)

    def __enter__(self) -> Rules:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None and self.problems:
            raise RuleBroken.every(self.problems)


class TooManyAttempts(DomainError):
    status_code = 429
    title = "Too many attempts"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class SendElsewhere(DomainError):
    """The page is not for this user yet; pages send the browser to `location` instead
    (a personal assistant with no listing is sent to set one up)."""

    status_code = 409

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message)
        self.location = location


class CsrfRefused(DomainError):
    """A state-changing request without the page's CSRF token: refused, nothing changed."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__(
            "This form could not be sent because it had expired or came from another site. "
            "Go back, reload the page and try again."
        )
