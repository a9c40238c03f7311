"""Who may use the individual service fund pages and API (see tests/marketplace/test_authorisation.py).
A fund's own pages are open to any signed-in user because the fund decides who sees it:
anyone else gets the 404 of a fund that does not exist."""

from __future__ import annotations

from tests.route_rules import PEOPLE, SIGNED_IN

FUND_LISTS = (
    "roles:budget_holder,finance,panel_member,personal_assistant,provider_staff,"
    "representative,supported_person"
)
"""Everyone who may have funds to see."""

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/funds/new"): PEOPLE,
    ("POST", "/funds/new"): PEOPLE,
    ("GET", "/funds"): FUND_LISTS,
    ("GET", "/funds/{fund_id}"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/budget"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/outcomes"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/lines/offer"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/lines/other"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/contingency"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/lines/{line_id}/remove"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/accept"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/withdraw"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/decline"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/statement"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/adjustments"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/close"): SIGNED_IN,
    ("POST", "/funds/{fund_id}/renewal"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/statement/easy-read"): SIGNED_IN,
    ("GET", "/api/v1/isfs"): FUND_LISTS,
    ("GET", "/api/v1/isfs/{fund_id}"): SIGNED_IN,
    ("GET", "/api/v1/isfs/{fund_id}/statement"): SIGNED_IN,
    ("POST", "/api/v1/isfs"): PEOPLE,
    **{
        ("POST", f"/api/v1/isfs/{{fund_id}}/{action}"): SIGNED_IN
        for action in (
            "budget",
            "outcomes",
            "lines/offer",
            "lines/other",
            "contingency",
            "lines/{line_id}/remove",
            "accept",
            "withdraw",
            "decline",
        )
    },
}
