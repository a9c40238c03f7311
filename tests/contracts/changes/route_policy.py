"""Who may use the change-of-use pages (see tests/marketplace/test_authorisation.py). A
fund's requests are open to any signed-in user because the fund decides who sees them:
anyone else gets the 404 of a record that does not exist. The queue is for the council
staff who decide; the panel's sittings for its members."""

from __future__ import annotations

from tests.route_rules import ADMIN, SIGNED_IN

DECIDERS = "roles:budget_holder,panel_member"
PANEL = "roles:panel_member"

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/funds/{fund_id}/changes"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/changes/new"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/changes/preview"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/changes"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/changes/{change_id}"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/changes/{change_id}/withdraw"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/changes/{change_id}/answer"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/changes/{change_id}/review"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/changes/{change_id}/decide"): SIGNED_IN,
    ("GET", "/changes"): DECIDERS,
    ("GET", "/changes/sittings"): PANEL,
    ("POST", "/changes/sittings"): PANEL,
    ("GET", "/admin/change-rules"): ADMIN,
    ("POST", "/admin/change-rules"): ADMIN,
    ("GET", "/admin/delegated-authority"): ADMIN,
    ("GET", "/admin/delegated-authority/{user_id}"): ADMIN,
    ("POST", "/admin/delegated-authority/{user_id}"): ADMIN,
}
