"""argon2id password hashing and the rules for a new password (OWASP ASVS 2.1)."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from marketplace.errors import RuleBroken

MIN_LENGTH = 12
MAX_LENGTH = 128


def make_hasher(profile: str) -> PasswordHasher:
    """RFC 9106 low-memory (64 MiB, t=3, p=4) in service; the cheapest profile in tests."""
    if profile == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def check_new_password(password: str, *, email: str, field: str = "password") -> None:
    """Length is the rule that matters; no composition rules (ASVS 2.1.9)."""
    if len(password) < MIN_LENGTH:
        raise RuleBroken(f"Password must be {MIN_LENGTH} characters or more", field=field)
    if len(password) > MAX_LENGTH:
        raise RuleBroken(f"Password must be {MAX_LENGTH} characters or fewer", field=field)
    if password.strip().lower() == email.strip().lower() or len(set(password)) < 4:
        raise RuleBroken("Choose a password that is harder to guess", field=field)


def verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
