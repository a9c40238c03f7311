"""Where the app may send a browser back to: the one check for every `next`, `back` and
redirect target, so no link or form can turn this site into a springboard to another."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2000
"""Longer than any address the app builds; a longer one is somebody's experiment."""
_DECODE_ROUNDS = 3
"""A value decoded this often and still changing is encoded on purpose, to hide something."""


def _has_hidden_characters(text: str, *, spaces: bool) -> bool:
    """Backslashes, control and format characters (browsers drop tabs and newlines from
    addresses, which can make `/\\t/evil.example` into `//evil.example`), and, if
    `spaces`, any whitespace."""
    for char in text:
        if char == "\\" or (spaces and char.isspace()):
            return True
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return True
    return False


def _decoded(text: str) -> str | None:
    """`text` with its percent-encoding undone until it stops changing; None if it never does."""
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            return text
        text = decoded
    return None


def local_path(value: object, default: str) -> str:
    """`value` if it is a path on this site, else `default`.

    A path on this site starts with exactly one "/" and has no scheme or host. Refused as
    well, raw or once decoded: backslashes anywhere (some browsers read them as "/"),
    whitespace and control characters, and anything too long to be an address we made.
    Only the query may hold encoded spaces (a place name such as "Fort William")."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    if _has_hidden_characters(value, spaces=True):
        return default
    decoded = _decoded(value)
    if decoded is None or _has_hidden_characters(decoded, spaces=False):
        return default
    path = value.split("?", 1)[0].split("#", 1)[0]
    decoded_path = _decoded(path)
    if decoded_path is None or _has_hidden_characters(decoded_path, spaces=True):
        return default
    if decoded_path.startswith("//") or not decoded_path.startswith("/"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
