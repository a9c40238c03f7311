"""Who may use the fair-price pages' routes (see tests/marketplace/test_authorisation.py):
the explanation of how prices are compared is public, like the offer pages it serves."""

from __future__ import annotations

from tests.route_rules import PUBLIC

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/about/prices"): PUBLIC,
}
