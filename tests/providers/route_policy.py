"""Who may use the providers' own pages, their public pages and the check queue."""

from __future__ import annotations

from tests.route_rules import ADMIN, PROVIDERS, PUBLIC, SIGNED_IN

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/provider"): PROVIDERS,
    ("GET", "/provider/start"): PROVIDERS,
    ("POST", "/provider/start"): PROVIDERS,
    ("GET", "/provider/profile"): PROVIDERS,
    ("POST", "/provider/profile"): PROVIDERS,
    ("POST", "/provider/photo"): PROVIDERS,
    ("GET", "/provider/staff"): PROVIDERS,
    ("POST", "/provider/staff"): PROVIDERS,
    ("GET", "/provider/join"): PUBLIC,
    ("POST", "/provider/join"): SIGNED_IN,
    ("POST", "/provider/join/account"): PUBLIC,
    ("GET", "/provider/join/{token}"): PUBLIC,
    ("GET", "/provider/offers/new"): PROVIDERS,
    ("POST", "/provider/offers/new"): PROVIDERS,
    ("GET", "/provider/offers/{offer_id}"): PROVIDERS,
    ("POST", "/provider/offers/{offer_id}"): PROVIDERS,
    ("POST", "/provider/offers/{offer_id}/price"): PROVIDERS,
    ("POST", "/provider/offers/{offer_id}/capacity"): PROVIDERS,
    ("POST", "/provider/offers/{offer_id}/{change}"): PROVIDERS,
    ("GET", "/provider/checks"): PROVIDERS,
    ("GET", "/provider/checks/new/{slug}"): PROVIDERS,
    ("POST", "/provider/checks/new/{slug}"): PROVIDERS,
    ("GET", "/admin/checks"): ADMIN,
    ("POST", "/admin/checks/{check_id}/verify"): ADMIN,
    ("POST", "/admin/checks/{check_id}/reject"): ADMIN,
    ("POST", "/admin/providers/{provider_id}/confirm-identity"): ADMIN,
    ("GET", "/admin/offers"): ADMIN,
    ("POST", "/admin/offers/{offer_id}/agree"): ADMIN,
    ("POST", "/admin/offers/{offer_id}/refuse"): ADMIN,
    ("GET", "/offers/{offer_id}"): PUBLIC,
    ("GET", "/providers/{provider_id}"): PUBLIC,
    ("GET", "/providers/{provider_id}/photo"): PUBLIC,
    ("GET", "/providers/{provider_id}/reviews"): PUBLIC,
}
