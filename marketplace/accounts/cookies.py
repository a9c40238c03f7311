"""The session cookie. It carries a random session token, signed with a timestamp: a cookie
older than the idle timeout is refused without touching the database, and every response
to a signed-in browser re-signs it, so the idle clock restarts. The token's row in
user_session (checked by policy.current_user) makes sign-out and revocation immediate."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, TimestampSigner

from marketplace.settings import Settings

Scope = dict[str, Any]


class SessionCookieMiddleware:
    def __init__(self, app: Any, *, settings: Settings) -> None:
        self.app = app
        self.secure = settings.secure_cookies
        # The __Host- prefix pins the cookie to this host over TLS (ASVS 3.4.4).
        self.name = "__Host-sds_session" if self.secure else "sds_session"
        self.idle_seconds = settings.security.session_idle_minutes * 60
        assert settings.secret_key is not None
        self.signer = TimestampSigner(settings.secret_key.get_secret_value(), salt="sds-session")

    def _token_from(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:
                    return None
                morsel = cookie.get(self.name)
                if morsel is None:
                    continue
                try:
                    return self.signer.unsign(morsel.value, max_age=self.idle_seconds).decode()
                except BadSignature:
                    return None
        return None

    def _set_cookie(self, token: str | None) -> bytes:
        attributes = ["Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            attributes.append("Secure")
        if token is None:
            value = f"{self.name}=; Max-Age=0"
        else:
            signed = self.signer.sign(token).decode()
            value = f"{self.name}={signed}; Max-Age={self.idle_seconds}"
        return "; ".join([value, *attributes]).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        token = self._token_from(scope)
        if token is not None:
            state["session_token"] = token

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                new_token = state.get("new_session_token")
                if new_token is not None:
                    headers.append((b"set-cookie", self._set_cookie(new_token)))
                elif state.get("session_ended"):
                    headers.append((b"set-cookie", self._set_cookie(None)))
                elif token is not None and not scope["path"].startswith("/static/"):
                    headers.append((b"set-cookie", self._set_cookie(token)))
                if (new_token or token) and not scope["path"].startswith("/static/"):
                    # Pages for a signed-in person must never sit in a shared cache (ASVS 8.2.1).
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
