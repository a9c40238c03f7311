"""What the access log may keep: the path of each request, never its query string, so
one-time tokens and searches (health terms, coordinates) are not written beside the
address that sent them."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"

# Links mailed before tokens moved to query strings carried the token in the path.
_TOKEN_IN_PATH = re.compile(r"^(/confirm-email/|/password-reset/|/provider/join/)[^/?]+")


def redact_target(target: str) -> str:
    """A request target as the log may keep it: without its query, and without a token."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    return _TOKEN_IN_PATH.sub(r"\1…", path)


class StripQueryFilter(logging.Filter):
    """Rewrites uvicorn's access records, whose arguments are (client, method, target,
    http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, StripQueryFilter) for existing in logger.filters):
        logger.addFilter(StripQueryFilter())
