"""Who may use the change-of-use transparency page (see tests/marketplace/test_authorisation.py):
anyone; it shows aggregates only."""

from __future__ import annotations

from tests.route_rules import PUBLIC

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/transparency/change-of-use"): PUBLIC,
}
