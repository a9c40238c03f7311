"""The domain error tree. Services raise these; one handler (marketplace.web) turns them into
a page, an htmx fragment or a JSON body with the error's status."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    title = "There is a problem"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
    """Input that is well formed but breaks a rule of the service."""

    status_code = 422


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
