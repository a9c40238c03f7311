"""Small builders for test data, each going through the same services the app uses."""

from __future__ import annotations

import itertools

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import make_hasher
from marketplace.geography import service as geography_service

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)
_cheap_hasher = make_hasher("cheapest")


def make_user(
    db: Session,
    *,
    role: Role = Role.SUPPORTED_PERSON,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    council: str | None = None,
    authority_limit_pence: int | None = None,
    confirmed: bool = True,
    hasher: PasswordHasher = _cheap_hasher,
) -> User:
    number = next(_sequence)
    area = geography_service.find_council_area(db, name_or_code=council) if council else None
    if role == Role.BUDGET_HOLDER:
        area = area or geography_service.find_council_area(db, name_or_code="Highland")
        authority_limit_pence = 100_000 if authority_limit_pence is None else authority_limit_pence
    return accounts_service.create_user(
        db,
        hasher=hasher,
        email=email or f"user{number}@example.org",
        name=name or f"Test Person {number}",
        role=role,
        password=password,
        council=area,
        authority_limit_pence=authority_limit_pence,
        confirmed=confirmed,
    )
