"""Protections wrapped around every request: security headers (the `secure` library) and
CSRF tokens (`asgi-csrf`, a signed double-submit cookie checked for every unsafe method)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import secure
from asgi_csrf import asgi_csrf_decorator
from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.errors import CsrfRefused
from marketplace.settings import Settings

CSRF_FORM_FIELD = "csrftoken"
CSRF_HEADER = "x-csrftoken"


def content_security_policy() -> secure.ContentSecurityPolicy:
    """No inline script or style anywhere; htmx and the design system are served from here."""
    return (
        secure.ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        .style_src("'self'")
        .img_src("'self'", "data:")
        .connect_src("'self'")
        .font_src("'self'")
        .form_action("'self'")
        .frame_ancestors("'none'")
        .base_uri("'none'")
        .object_src("'none'")
    )


def security_headers(settings: Settings) -> secure.Secure:
    return secure.Secure(
        csp=content_security_policy(),
        hsts=(
            secure.StrictTransportSecurity().max_age(63072000).include_subdomains()
            if settings.is_production
            else None
        ),
        referrer=secure.ReferrerPolicy().set("same-origin"),
        xcto=secure.XContentTypeOptions().set("nosniff"),
        xfo=secure.XFrameOptions().set("DENY"),
        coop=secure.CrossOriginOpenerPolicy().set("same-origin"),
        permissions=secure.PermissionsPolicy().geolocation().camera().microphone(),
    )


class _EveryPath:
    """asgi-csrf skips requests that carry no cookies unless their path is 'always
    protected'; a login-CSRF or a cookieless POST must be refused too, so every path is."""

    def __contains__(self, path: object) -> bool:
        return True


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-csrftoken" if settings.secure_cookies else "csrftoken"


def _is_multipart(scope: Mapping[str, Any]) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"multipart/form-data"
    return False


def _without_bearer_exemption(protected: Any) -> Any:
    """asgi-csrf lets any request with an `Authorization: Bearer` header skip the check, for
    token-authenticated APIs. There is no token scheme here, so a cookie-carrying browser
    request must not be able to opt out by adding the header. Nothing here reads the header,
    so it is dropped before asgi-csrf (and the app) see it."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and any(
            name == b"authorization" for name, _ in scope.get("headers", [])
        ):
            scope = {
                **scope,
                "headers": [(n, v) for n, v in scope["headers"] if n != b"authorization"],
            }
        await protected(scope, receive, send)

    return wrapped


def with_csrf(app: Any, *, settings: Settings, on_failure: Any) -> Any:
    """asgi-csrf for every unsafe request except file uploads: its multipart reader no longer
    works with the current python-multipart, so uploads are checked by check_upload_csrf,
    which every route runs, once the app has parsed the form. Bearer headers earn no
    exemption (see _without_bearer_exemption)."""
    assert settings.secret_key is not None
    protect = asgi_csrf_decorator(
        signing_secret=settings.secret_key.get_secret_value(),
        cookie_name=csrf_cookie_name(settings),
        cookie_secure=settings.secure_cookies,
        cookie_samesite="Lax",
        form_input=CSRF_FORM_FIELD,
        http_header=CSRF_HEADER,
        always_protect=_EveryPath(),
        send_csrf_failed=on_failure,
        skip_if_scope=_is_multipart,
    )
    return _without_bearer_exemption(protect(app))


async def check_upload_csrf(request: Request) -> None:
    """The CSRF check for multipart (file upload) requests: the form's token must be the
    value of the signed CSRF cookie, as asgi-csrf requires of every other request."""
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or not _is_multipart(request.scope):
        return
    settings: Settings = request.app.state.settings
    assert settings.secret_key is not None
    cookie = request.cookies.get(csrf_cookie_name(settings), "")
    form = await request.form()
    sent = form.get(CSRF_FORM_FIELD)
    try:
        URLSafeSerializer(settings.secret_key.get_secret_value()).loads(cookie, "csrftoken")
    except BadSignature:
        raise CsrfRefused() from None
    if not isinstance(sent, str) or not secrets.compare_digest(sent, cookie):
        raise CsrfRefused()
