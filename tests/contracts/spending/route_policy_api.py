"""Who may use spending's JSON API (see tests/marketplace/test_authorisation.py). The fund
or the delivery decides who reaches it (anyone else gets a 404), and the services decide
who does what; paying providers is the finance staff's."""

from __future__ import annotations

from tests.route_rules import SIGNED_IN

FINANCE = "roles:finance"
DELIVERY = "/api/v1/isfs/{fund_id}/deliveries/{delivery_id}"

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/isfs/{fund_id}/deliveries"): SIGNED_IN,
    ("POST", "/api/v1/isfs/{fund_id}/lines/{line_id}/deliveries"): SIGNED_IN,
    **{
        ("POST", f"{DELIVERY}/{step}"): SIGNED_IN
        for step in ("confirm", "dispute", "resolve", "withdraw", "approve", "refuse")
    },
    ("GET", "/api/v1/payments/owed"): FINANCE,
    ("GET", "/api/v1/payments"): FINANCE,
    ("POST", "/api/v1/payments"): FINANCE,
    ("POST", "/api/v1/isfs/{fund_id}/adjustments"): SIGNED_IN,
    ("GET", "/api/v1/underspend-rule"): FINANCE,
    ("POST", "/api/v1/underspend-rule"): FINANCE,
    ("GET", "/api/v1/isfs/{fund_id}/period-close"): SIGNED_IN,
    ("POST", "/api/v1/isfs/{fund_id}/period-close"): SIGNED_IN,
    ("POST", "/api/v1/isfs/{fund_id}/renewal"): SIGNED_IN,
}
