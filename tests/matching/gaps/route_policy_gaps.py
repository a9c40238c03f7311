"""Who may use the market-gaps pages (see tests/marketplace/test_authorisation.py): the
figures are for commissioners; how they are worked out is public."""

from __future__ import annotations

from tests.route_rules import COMMISSIONER, PUBLIC

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/commissioning"): COMMISSIONER,
    ("GET", "/commissioning/places/{settlement_id}"): COMMISSIONER,
    ("POST", "/commissioning/places/{settlement_id}/invitations"): COMMISSIONER,
    ("GET", "/commissioning/sites"): COMMISSIONER,
    ("GET", "/about/gaps"): PUBLIC,
}
