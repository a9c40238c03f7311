"""The matcher's two cookies, both signed with the app's secret so a browser cannot forge
them, HttpOnly, SameSite=Lax, and Secure (with the __Host- prefix) over TLS:

- the shortlist of someone not signed in: up to 20 offer ids, kept for 30 days;
- the searches that found nothing which this browser has already recorded today, as
  keyed hashes of the place, kinds of support and outcomes, so that reloading a page, or
  htmx asking for it again, counts one search once. The hashes are keyed with the secret,
  so nobody holding the cookie can work out which place was searched for."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, Signer

from marketplace.settings import Settings
from matching.schemas import SupportWanted

SHORTLIST_DAYS = 30
SECONDS_PER_DAY = 86_400
SEARCHES_REMEMBERED = 40
"""Most empty searches remembered a day; older ones are forgotten first (the cookie stays
small, and a browser making more than this is counted again, which is harmless)."""
HASH_CHARACTERS = 12


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
            self.name, self.signer.sign(value).decode(), max_age=self.max_age, path="/",
            secure=self.secure, httponly=True, samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(self.name, path="/", secure=self.secure, httponly=True, samesite="lax")


def shortlist_cookie(settings: Settings) -> SignedCookie:
    return SignedCookie(settings, name="sds_shortlist", salt="sds-shortlist", max_age=SHORTLIST_DAYS * SECONDS_PER_DAY)


def read_offer_ids(cookie: SignedCookie, request: Request) -> list[int]:
    """The offer ids kept in the cookie, in the order they were added."""
    value = cookie.read(request) or ""
    return [int(part) for part in value.split("-") if part.isdigit()]


def write_offer_ids(cookie: SignedCookie, response: Response, offer_ids: list[int]) -> None:
    if offer_ids:
        cookie.write(response, "-".join(str(offer_id) for offer_id in offer_ids))
    else:
        cookie.clear(response)


class EmptySearches:
    """Which searches that found nothing this browser has recorded today."""

    def __init__(self, settings: Settings) -> None:
        assert settings.secret_key is not None
        self.cookie = SignedCookie(settings, name="sds_searches", salt="sds-empty-searches", max_age=SECONDS_PER_DAY)
        self.key = hashlib.sha256(b"sds-empty-searches:" + settings.secret_key.get_secret_value().encode()).digest()

    def fingerprint(self, wanted: SupportWanted) -> str:
        """A short keyed hash of what the unmet-demand record holds: place, kinds, outcomes."""
        described = "|".join(
            (str(wanted.location.settlement.id), ",".join(map(str, sorted(wanted.kinds))), ",".join(map(str, sorted(wanted.outcomes))))
        )
        return hmac.new(self.key, described.encode(), hashlib.sha256).hexdigest()[:HASH_CHARACTERS]

    def recorded(self, request: Request, *, today: date) -> list[str]:
        value = self.cookie.read(request) or ""
        day, _, hashes = value.partition(":")
        return hashes.split(".") if day == today.isoformat() and hashes else []

    def remember(self, response: Response, *, recorded: list[str], fingerprint: str, today: date) -> None:
        kept = [*recorded, fingerprint][-SEARCHES_REMEMBERED:]
        self.cookie.write(response, f"{today.isoformat()}:{'.'.join(kept)}")
