"""Who may use the search, shortlist, compare and ranking pages, the match API and the
readiness check (see tests/marketplace/test_authorisation.py). All are public: the
shortlist of someone not signed in is kept by their browser."""

from __future__ import annotations

from tests.route_rules import PUBLIC

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/find-support"): PUBLIC,
    ("GET", "/find-support/why/{offer_id}"): PUBLIC,
    ("GET", "/compare"): PUBLIC,
    ("GET", "/about/ranking"): PUBLIC,
    ("GET", "/shortlist"): PUBLIC,
    ("POST", "/shortlist/{offer_id}"): PUBLIC,
    ("POST", "/shortlist/{offer_id}/remove"): PUBLIC,
    ("GET", "/api/v1/match"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
}
