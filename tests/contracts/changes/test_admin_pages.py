"""An administrator sets a council's change-of-use rules (a new version each time, the old
ones listed) and a budget holder's delegated authority (with its history), on pages; bad
input is explained by its field and writes nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contracts.changes import rules as change_rules
from marketplace.accounts.models import Role
from marketplace.geography import service as geography_service
from tests.contracts.funds.test_fund_pages import as_user
from tests.factories import make_user
from tests.helpers import HtmlClient, page

RULES = {
    "council": "S12000017",
    "light_touch_limit": "250",
    "delegated_days": "3",
    "panel_days": "10",
    "reminder_days": "1",
    "panel_first_sits_on": "2027-01-07",
    "panel_every_days": "14",
    "note": "Agreed by the integration joint board",
}


def test_an_administrator_saves_a_new_version_of_a_councils_rules(
    db: Session, client: HtmlClient
) -> None:
    as_user(client, make_user(db, role=Role.ADMIN))
    shown = page(client.get("/admin/change-rules?council=Highland"))
    assert shown.select_one('input[name="delegated_days"]')["value"] == "5"  # the defaults
    saved = client.submit("/admin/change-rules", RULES)
    assert saved.status_code == 303
    highland = geography_service.find_council_area(db, name_or_code="Highland")
    rules = change_rules.rules_in_force(db, highland.id)
    assert (rules.version, rules.delegated_days, rules.light_touch_limit_pence) == (2, 3, 25_000)
    history = page(client.get("/admin/change-rules?council=S12000017")).select("tbody tr")
    assert len(history) == 2
    refused = client.submit("/admin/change-rules", {**RULES, "delegated_days": "99", "note": ""})
    assert refused.status_code == 422
    assert change_rules.rules_in_force(db, highland.id).version == 2


def test_an_administrator_sets_a_budget_holders_limits_and_sees_their_history(
    db: Session, client: HtmlClient
) -> None:
    admin = make_user(db, role=Role.ADMIN)
    holder = make_user(db, role=Role.BUDGET_HOLDER, council="Highland")
    as_user(client, admin)
    listed = page(client.get("/admin/delegated-authority?council=Highland"))
    assert listed.find("a", href=f"/admin/delegated-authority/{holder.id}") is not None
    for per_request, per_year in (("500", "2000"), ("1500", "6000")):
        sent = client.submit(
            f"/admin/delegated-authority/{holder.id}",
            {"per_request": per_request, "per_fund_year": per_year, "note": "Team manager"},
        )
        assert sent.status_code == 303
    authority = change_rules.authority_of(db, holder.id)
    assert authority is not None and authority.per_request_pence == 150_000
    assert len(page(client.get(f"/admin/delegated-authority/{holder.id}")).select("tbody tr")) == 2
    refused = client.submit(
        f"/admin/delegated-authority/{holder.id}",
        {"per_request": "900", "per_fund_year": "100", "note": "Backwards"},
    )
    assert refused.status_code == 422
    assert page(refused).select_one("#per_fund_year-error") is not None
    not_a_holder = make_user(db, role=Role.PANEL_MEMBER, council="Highland")
    assert client.get(f"/admin/delegated-authority/{not_a_holder.id}").status_code == 404
