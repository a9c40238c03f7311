"""Idempotency keys for requests that move money: a retried request has exactly one effect
and gets the first answer back; the same key sent with different content is refused.

The client makes the key before its first try and sends it again on every retry: the API's
`Idempotency-Key` header, or a hidden field that a form is rendered with (`new_key()`). The
record of a key is written in the same database transaction as the request's effects, so
both commit or neither does: a request that fails leaves no record, and its retry runs
afresh. Two requests with one key at the same moment are serialised by `hold_key`: on
PostgreSQL a transaction-scoped advisory lock on the key, so the second waits until the
first commits (then replays its answer) or rolls back (then runs itself); on SQLite every
writing transaction already holds the database's one write lock (BEGIN IMMEDIATE). The
UNIQUE key is the last line of defence under both.

A request that moves money calls `once(...)`; the ledger keeps its own key on each ledger
transaction (contracts.ledger) and uses `fingerprint` and `hold_key` from here to do so."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, BeforeValidator
from sqlalchemy import JSON, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.db import Base, utcnow
from marketplace.errors import RuleBroken

JsonValue: TypeAlias = str | int | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
"""What a fingerprint or a stored answer may hold: no floats, so money stays in pence."""

MAX_KEY_LENGTH = 100
_KEY = re.compile(r"[A-Za-z0-9._:/-]{8,100}")

ADVISORY_NAMESPACE = 0x1DE4
"""The first half of the PostgreSQL advisory lock held on a key (the second is a hash of
the key); two-number advisory locks never clash with the audit log's one-number lock."""


def parse_key(value: object) -> str:
    """An idempotency key as a client sends it: 8 to 100 ASCII letters, digits and `._:/-`
    (a UUID, or what `new_key` makes). ValueError with a message fit for a person otherwise."""
    text = value.strip() if isinstance(value, str) else ""
    if not _KEY.fullmatch(text):
        raise ValueError(
            "This form is missing its one-time reference. Go back, reload the page and try again."
        )
    return text


IdempotencyKey = Annotated[str, BeforeValidator(parse_key)]
"""A form field or header holding an idempotency key, parsed by `parse_key`."""


def new_key() -> str:
    """A fresh key for a form to carry in a hidden field: 192 random bits."""
    return secrets.token_urlsafe(24)


def fingerprint(operation: str, content: Mapping[str, JsonValue]) -> str:
    """The sha256 of what a request asks for, over canonical JSON (sorted keys, no spaces,
    ASCII), so equal requests give equal hashes on any machine. Put everything that makes
    two requests different into `content`, the actor included: a key reused by someone
    else then reads as different content and is refused rather than answered."""
    canonical = json.dumps(
        {"operation": operation, "content": content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def hold_key(session: Session, key: str) -> None:
    """Hold `key` until this transaction ends, so that nobody else can act on it meanwhile.
    On SQLite the writing transaction's BEGIN IMMEDIATE has serialised us already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:namespace AS integer), hashtext(:key))"),
            {"namespace": ADVISORY_NAMESPACE, "key": key},
        )


class KeyReused(RuleBroken):
    """The key was used before for a request with different content (L6): nothing is done."""

    def __init__(self) -> None:
        super().__init__(
            "This was already sent once with different details, so it was not done again. "
            "Go back, reload the page and try again."
        )


class IdempotentRequest(Base):
    """One money-moving request that has been carried out, and the answer it was given."""

    __tablename__ = "idempotent_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), unique=True)
    operation: Mapped[str] = mapped_column(String(64))
    """What the request did, e.g. 'isf.approve_delivery'."""
    request_hash: Mapped[str] = mapped_column(String(64))
    """`fingerprint(operation, content)` of the first request with this key."""
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The first answer, given again to every retry."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Answer:
    response: dict[str, Any]
    replayed: bool
    """True when this is the first request's answer given again, nothing having been done."""


def once(
    session: Session,
    *,
    key: str,
    operation: str,
    content: Mapping[str, JsonValue],
    act: Callable[[], dict[str, JsonValue]],
) -> Answer:
    """Run `act` unless a request with this key has already been carried out, and record
    its answer with its effects. A retry with the same content gets the first answer back;
    different content raises KeyReused. Whatever `act` raises leaves no record (the
    caller's transaction rolls back), so a refused request can be tried again."""
    key = parse_key(key)
    request_hash = fingerprint(operation, content)
    hold_key(session, key)
    done = session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == key))
    if done is not None:
        if done.request_hash != request_hash:
            raise KeyReused()
        return Answer(response=done.response, replayed=True)
    response = act()
    session.add(
        IdempotentRequest(
            key=key, operation=operation, request_hash=request_hash, response=response
        )
    )
    session.flush()
    return Answer(response=response, replayed=False)


def answer_once(
    session: Session,
    *,
    key: str,
    operation: str,
    user_id: int,
    content: dict[str, JsonValue],
    act: Callable[[], BaseModel],
) -> dict[str, JsonValue]:
    """`once` for a JSON API: whoever asked is part of what was asked, and the answer is
    the response model `act` returns, as JSON (the first one's, for a retry)."""
    answer = once(
        session,
        key=key,
        operation=operation,
        content={"user": user_id, **content},
        act=lambda: act().model_dump(mode="json"),
    )
    return answer.response
