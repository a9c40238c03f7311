"""Who may use the enquiry and review pages (see tests/marketplace/test_authorisation.py)."""

from __future__ import annotations

from tests.route_rules import ADMIN, PEOPLE, PROVIDERS

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/offers/{offer_id}/enquire"): PEOPLE,
    ("POST", "/offers/{offer_id}/enquire"): PEOPLE,
    ("GET", "/enquiries"): PEOPLE,
    ("GET", "/enquiries/{enquiry_id}"): PEOPLE,
    ("POST", "/enquiries/{enquiry_id}/messages"): PEOPLE,
    ("GET", "/enquiries/{enquiry_id}/review"): PEOPLE,
    ("POST", "/enquiries/{enquiry_id}/review"): PEOPLE,
    ("GET", "/provider/enquiries"): PROVIDERS,
    ("GET", "/provider/enquiries/{enquiry_id}"): PROVIDERS,
    ("POST", "/provider/enquiries/{enquiry_id}/messages"): PROVIDERS,
    ("POST", "/provider/enquiries/{enquiry_id}/arrange"): PROVIDERS,
    ("POST", "/provider/enquiries/{enquiry_id}/decline"): PROVIDERS,
    ("GET", "/provider/reviews/{review_id}/reply"): PROVIDERS,
    ("POST", "/provider/reviews/{review_id}/reply"): PROVIDERS,
    ("GET", "/admin/reviews"): ADMIN,
    ("POST", "/admin/reviews/{review_id}/hide"): ADMIN,
    ("POST", "/admin/reviews/{review_id}/show"): ADMIN,
}
