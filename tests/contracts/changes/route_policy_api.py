"""Who may use change of use's JSON API (see tests/marketplace/test_authorisation.py). The
fund or the request decides who reaches it (anyone else gets a 404), and the services
decide who does what; the queue is for those who decide, sittings are the panel's, and the
council's rules and delegated authority are administrators'."""

from __future__ import annotations

from tests.route_rules import ADMIN, SIGNED_IN

DECIDERS = "roles:budget_holder,panel_member"
PANEL = "roles:panel_member"
CHANGE = "/api/v1/changes/{change_id}"

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/isfs/{fund_id}/changes"): SIGNED_IN,
    ("POST", "/api/v1/isfs/{fund_id}/changes"): SIGNED_IN,
    ("POST", "/api/v1/isfs/{fund_id}/changes/preview"): SIGNED_IN,
    ("GET", CHANGE): SIGNED_IN,
    **{
        ("POST", f"{CHANGE}/{step}"): SIGNED_IN
        for step in ("withdraw", "answer", "review", "approve", "decline", "ask", "escalate")
    },
    ("GET", "/api/v1/changes"): DECIDERS,
    ("POST", "/api/v1/panel-sittings"): PANEL,
    ("GET", "/api/v1/change-rules"): ADMIN,
    ("POST", "/api/v1/change-rules"): ADMIN,
    ("GET", "/api/v1/budget-holders/{user_id}/authority"): ADMIN,
    ("POST", "/api/v1/budget-holders/{user_id}/authority"): ADMIN,
}
