"""Who may use a person's own page (see tests/marketplace/test_authorisation.py)."""

from __future__ import annotations

from tests.route_rules import PEOPLE

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/your-support"): PEOPLE,
}
