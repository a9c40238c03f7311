"""The matcher's cookie: the shortlist of someone not signed in (up to 20 offer ids, kept for
30 days), signed with the app's secret so a browser cannot forge it, HttpOnly,
SameSite=Lax, and Secure (with the __Host- prefix) over TLS."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, Signer

from marketplace.settings import Settings

SHORTLIST_DAYS = 30
SECONDS_PER_DAY = 86_400


class SignedCookie:
    """One cookie whose value is signed, with the attributes every cookie here keeps."""

    def __init__(self, settings: Settings, *, name: str, salt: str, max_age: int) -> None:
        assert settings.secret_key is not None
        self.secure = settings.secure_cookies
        self.name = f"__Host-{name}" if self.secure else name
        self.max_age = max_age
        self.signer = Signer(settings.secret_key.get_secret_value(), salt=salt)

    def read(self, request: Request) -> str | None:
        """The value, or None when absent or not signed by us."""
        raw = request.cookies.get(self.name)
        if not raw:
            return None
        try:
            return self.signer.unsign(raw).decode()
        except BadSignature:
            return None

    def write(self, response: Response, value: str) -> None:
        response.set_cookie(
            self.name,
            self.signer.sign(value).decode(),
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            self.name, path="/", secure=self.secure, httponly=True, samesite="lax"
        )


def shortlist_cookie(settings: Settings) -> SignedCookie:
    return SignedCookie(
        settings,
        name="sds_shortlist",
        salt="sds-shortlist",
        max_age=SHORTLIST_DAYS * SECONDS_PER_DAY,
    )


def read_offer_ids(cookie: SignedCookie, request: Request) -> list[int]:
    """The offer ids kept in the cookie, in the order they were added."""
    value = cookie.read(request) or ""
    return [int(part) for part in value.split("-") if part.isdigit()]


def write_offer_ids(cookie: SignedCookie, response: Response, offer_ids: list[int]) -> None:
    if offer_ids:
        cookie.write(response, "-".join(str(offer_id) for offer_id in offer_ids))
    else:
        cookie.clear(response)
