"""Who may use the spending pages (see tests/marketplace/test_authorisation.py). A fund's
deliveries are open to any signed-in user because the fund (or the delivery) decides who
sees it: anyone else gets the 404 of a record that does not exist."""

from __future__ import annotations

from tests.route_rules import PROVIDERS, SIGNED_IN

FINANCE = "roles:finance"

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/funds/{fund_id}/deliveries"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/deliveries/{delivery_id}"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/deliveries/{delivery_id}/receipt"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/deliveries/{delivery_id}/confirm"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/deliveries/{delivery_id}/dispute"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/deliveries/{delivery_id}/resolve"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/deliveries/{delivery_id}/withdraw"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/deliveries/{delivery_id}/approve"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/deliveries/{delivery_id}/refuse"): SIGNED_IN,
    ("GET", "/deliveries"): PROVIDERS,
    ("GET", "/funds/{fund_id}/lines/{line_id}/deliveries"): PROVIDERS,
    ("POST", "/funds/{fund_id}/lines/{line_id}/deliveries"): PROVIDERS,
    ("GET", "/payments"): FINANCE,
    ("POST", "/payments/{provider_id}"): FINANCE,
    ("POST", "/payments/underspend-rule"): FINANCE,
}
