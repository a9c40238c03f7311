"""Throttles on the maintained `limits` library: sign-in failures, and one rule per action
that can flood (sign-up, password reset, enquiries, posted needs, staff invitations,
reviews), counted per account, per client address and per email address mailed.

The storage is a `limits` URI: memory:// serves one process; several app workers share
redis:// (SDS_SECURITY__RATE_LIMIT_STORAGE)."""

from __future__ import annotations

import enum
import hashlib
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from marketplace.errors import TooManyAttempts
from marketplace.settings import SecuritySettings


def _key(kind: str, value: str) -> str:
    # Hash account names so the limiter's storage never holds an email address.
    return f"{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()}"


class Action(enum.Enum):
    SIGN_UP = "sign-up"
    PASSWORD_RESET = "reset"
    ENQUIRY = "enquiry"
    POSTED_NEED = "need"
    STAFF_INVITATION = "invitation"
    REVIEW = "review"


@dataclass(frozen=True)
class Rule:
    """How often one action may be done in a moving window: by one signed-in account, from
    one client address, and (for actions that mail someone) to one email address."""

    message: str
    per_account: RateLimitItem | None = None
    per_address: RateLimitItem | None = None
    mails_target: bool = False
    """Count the action against the address it mails, in one allowance shared by every
    action that mails someone who may not have asked for it
    (SecuritySettings.mails_to_one_address_per_hour)."""


def rules(security: SecuritySettings) -> dict[Action, Rule]:
    """Every action's rule, in one place. The allowances are far above what a person does
    in an hour, and far below what a script would."""
    return {
        Action.SIGN_UP: Rule(
            "You have tried to create too many accounts.",
            per_address=RateLimitItemPerHour(10),
            mails_target=True,
        ),
        Action.PASSWORD_RESET: Rule(
            "You have asked for too many password resets.",
            per_address=RateLimitItemPerHour(security.password_resets_allowed * 4),
            mails_target=True,
        ),
        Action.ENQUIRY: Rule(
            "You have sent too many enquiries.",
            per_account=RateLimitItemPerHour(10),
            per_address=RateLimitItemPerHour(30),
        ),
        Action.POSTED_NEED: Rule(
            "You have posted too many needs.",
            per_account=RateLimitItemPerHour(5),
            per_address=RateLimitItemPerHour(15),
        ),
        Action.STAFF_INVITATION: Rule(
            "You have sent too many staff invitations.",
            per_account=RateLimitItemPerHour(20),
            per_address=RateLimitItemPerHour(60),
            mails_target=True,
        ),
        Action.REVIEW: Rule(
            "You have posted too many reviews.",
            per_account=RateLimitItemPerHour(10),
            per_address=RateLimitItemPerHour(30),
        ),
    }


class Throttle:
    def __init__(self, security: SecuritySettings) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(security.rate_limit_storage))
        window = security.sign_in_window_minutes
        self.sign_in_per_account = RateLimitItemPerMinute(security.sign_in_failures_allowed, window)
        self.sign_in_per_address = RateLimitItemPerMinute(
            security.sign_in_failures_allowed * 4, window
        )
        self.rules = rules(security)
        self.mails_to_one_address = RateLimitItemPerHour(security.mails_to_one_address_per_hour)

    def spend(
        self,
        action: Action,
        *,
        account: object | None = None,
        address: str | None = None,
        target_email: str | None = None,
    ) -> None:
        """Count one attempt at `action` by `account` (a user id) from `address` (the
        client's), mailing `target_email`; refuse it with TooManyAttempts, counting nothing,
        once any of its allowances is spent."""
        rule = self.rules[action]
        limits: list[tuple[RateLimitItem, str]] = []
        if rule.per_account is not None and account is not None:
            limits.append((rule.per_account, _key(action.value, str(account))))
        if rule.per_address is not None and address is not None:
            limits.append((rule.per_address, _key(f"{action.value}-ip", address)))
        if rule.mails_target and target_email:
            limits.append((self.mails_to_one_address, _key("mail-to", target_email)))
        self._refuse_if_spent(*limits, message=rule.message)
        for item, key in limits:
            self._limiter.hit(item, key)

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
        self.spend(Action.PASSWORD_RESET, address=address, target_email=email)

    def _refuse_if_spent(self, *limits: tuple, message: str) -> None:
        for item, key in limits:
            if not self._limiter.test(item, key):
                reset_at = self._limiter.get_window_stats(item, key).reset_time
                wait = max(1, math.ceil(reset_at - time.time()))
                minutes = math.ceil(wait / 60)
                when = f"{minutes} minutes" if minutes > 1 else "a minute"
                raise TooManyAttempts(f"{message} Try again in {when}.", retry_after_seconds=wait)
