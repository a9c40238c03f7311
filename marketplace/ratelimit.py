"""Throttles for sign-in and password reset, on the maintained `limits` library.

The storage is a `limits` URI: memory:// serves one process; several app workers share
redis:// (SDS_SECURITY__RATE_LIMIT_STORAGE)."""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from marketplace.errors import TooManyAttempts
from marketplace.settings import SecuritySettings


def _key(kind: str, value: str) -> str:
    # Hash account names so the limiter's storage never holds an email address.
    return f"{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()}"


class Throttle:
    def __init__(self, security: SecuritySettings) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(security.rate_limit_storage))
        window = security.sign_in_window_minutes
        self.sign_in_per_account = RateLimitItemPerMinute(security.sign_in_failures_allowed, window)
        self.sign_in_per_address = RateLimitItemPerMinute(
            security.sign_in_failures_allowed * 4, window
        )
        self.reset_per_account = RateLimitItemPerHour(security.password_resets_allowed)
        self.reset_per_address = RateLimitItemPerHour(security.password_resets_allowed * 4)

    def check_sign_in(self, *, email: str, address: str) -> None:
        """Refuse a sign-in attempt once too many have failed recently."""
        self._refuse_if_spent(
            (self.sign_in_per_account, _key("sign-in", email)),
            (self.sign_in_per_address, _key("sign-in-ip", address)),
            message="You have tried to sign in too many times.",
        )

    def sign_in_failed(self, *, email: str, address: str) -> None:
        self._limiter.hit(self.sign_in_per_account, _key("sign-in", email))
        self._limiter.hit(self.sign_in_per_address, _key("sign-in-ip", address))

    def password_reset_requested(self, *, email: str, address: str) -> None:
        """Count a reset request, refusing it once the hourly allowance is spent."""
        limits = (
            (self.reset_per_account, _key("reset", email)),
            (self.reset_per_address, _key("reset-ip", address)),
        )
        self._refuse_if_spent(*limits, message="You have asked for too many password resets.")
        for item, key in limits:
            self._limiter.hit(item, key)

    def _refuse_if_spent(self, *limits: tuple, message: str) -> None:
        for item, key in limits:
            if not self._limiter.test(item, key):
                reset_at = self._limiter.get_window_stats(item, key).reset_time
                wait = max(1, math.ceil(reset_at - time.time()))
                raise TooManyAttempts(message, retry_after_seconds=wait)
