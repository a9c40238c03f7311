"""Who may use the Open Referral (HSDS) API's routes: anyone (see
tests/marketplace/test_authorisation.py). The feed is public, read-only JSON."""

from __future__ import annotations

from tests.route_rules import PUBLIC

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/openreferral/"): PUBLIC,
    ("GET", "/openreferral/services"): PUBLIC,
    ("GET", "/openreferral/services/{id}"): PUBLIC,
    ("GET", "/openreferral/organizations"): PUBLIC,
    ("GET", "/openreferral/organizations/{id}"): PUBLIC,
    ("GET", "/openreferral/taxonomies"): PUBLIC,
    ("GET", "/openreferral/taxonomies/{id}"): PUBLIC,
    ("GET", "/openreferral/taxonomy_terms"): PUBLIC,
    ("GET", "/openreferral/taxonomy_terms/{id}"): PUBLIC,
    ("GET", "/openreferral/service_at_locations"): PUBLIC,
    ("GET", "/openreferral/service_at_locations/{id}"): PUBLIC,
}
