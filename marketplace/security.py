"""Protections wrapped around every request: security headers (the `secure` library) and
CSRF tokens (`asgi-csrf`, a signed double-submit cookie checked for every unsafe method)."""

from __future__ import annotations

from typing import Any

import secure
from asgi_csrf import asgi_csrf_decorator

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


def with_csrf(app: Any, *, settings: Settings, on_failure: Any) -> Any:
    assert settings.secret_key is not None
    protect = asgi_csrf_decorator(
        signing_secret=settings.secret_key.get_secret_value(),
        cookie_name="__Host-csrftoken" if settings.secure_cookies else "csrftoken",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="Lax",
        form_input=CSRF_FORM_FIELD,
        http_header=CSRF_HEADER,
        always_protect=_EveryPath(),
        send_csrf_failed=on_failure,
    )
    return protect(app)
