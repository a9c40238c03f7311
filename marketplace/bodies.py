"""Bounded request bodies: a request larger than its route allows is refused with 413 before
it is read into memory, whether it declares its length or streams it in chunks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.routing import BaseRoute, compile_path

FORM_MAX_BYTES = 64 * 1024
"""Every form and JSON body: far more than any of our forms needs."""

_LIMIT_ATTRIBUTE = "__max_body_bytes__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def accepts_body(max_bytes: int) -> Callable[[Endpoint], Endpoint]:
    """Declare that a route takes bodies up to `max_bytes` (an upload) instead of the form
    limit. Put it under the router's decorator, so the router registers the marked function."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _LIMIT_ATTRIBUTE, max_bytes)
        return endpoint

    return mark


class BodyTooLarge(Exception):
    """Raised from `receive` inside the app once the streamed body passes the limit; never a
    DomainError, so no handler inside the app turns it into a response before we do."""


class BodyLimitMiddleware:
    """Refuse by Content-Length when the client gives one; otherwise count the chunks as the
    app reads them and stop it at the first one past the limit."""

    def __init__(
        self, app: Any, *, routes: list[BaseRoute], default_max_bytes: int = FORM_MAX_BYTES
    ) -> None:
        self.app = app
        self.routes = routes
        self.default_max_bytes = default_max_bytes
        self._declared: list[tuple[re.Pattern[str], int]] | None = None

    def limit_for(self, path: str) -> int:
        if self._declared is None:
            # Read lazily: the routers are included after the middleware is added.
            self._declared = list(_declared_limits(self.routes, ""))
        return next(
            (limit for regex, limit in self._declared if regex.match(path)), self.default_max_bytes
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
            return

        received = 0
        started = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope: dict[str, Any], send: Any, limit: int) -> None:
        from marketplace import web

        response = web.body_too_large(Request(scope), limit)
        response.headers["Connection"] = "close"
        await response(scope, _no_body, send)


def _declared_limits(routes: list[Any], prefix: str) -> Iterator[tuple[re.Pattern[str], int]]:
    """The routes marked by accepts_body, through included routers (FastAPI keeps those as
    branches, each with its own prefix)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _declared_limits(
                route.original_router.routes, prefix + route.include_context.prefix
            )
        elif hasattr(getattr(route, "endpoint", None), _LIMIT_ATTRIBUTE) and hasattr(route, "path"):
            yield compile_path(prefix + route.path)[0], getattr(route.endpoint, _LIMIT_ATTRIBUTE)


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                # The server refuses a malformed length itself; count the chunks regardless.
                return None
    return None


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def size_in_words(max_bytes: int) -> str:
    if max_bytes >= 1024 * 1024:
        return f"{max_bytes // (1024 * 1024)} MB"
    return f"{max_bytes // 1024} KB"
