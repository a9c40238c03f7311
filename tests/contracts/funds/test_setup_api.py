"""Setting up a fund through /api/v1, as a person's or a council's own system would: the
person asks, the council sets the budget, the plan is drawn up, all three accept and the
fund is active; the same rules as the pages refuse the wrong side and bad input, and a
fund someone may not see is not found."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from contracts.funds.models import IndividualServiceFund
from marketplace.accounts.models import User
from marketplace.geography import service as geography_service
from tests.contracts.funds.fund_builders import (
    PERIOD_END,
    PERIOD_START,
    budget_holder,
    holder_offer,
    support_offer,
)
from tests.contracts.funds.test_fund_pages import as_user
from tests.factories import make_user
from tests.helpers import HtmlClient


def call(client: HtmlClient, user: User, path: str, body: object = None) -> httpx.Response:
    as_user(client, user)
    return client.post(
        f"/api/v1{path}", json=body or {}, headers={"x-csrftoken": client.csrf_token()}
    )


def test_a_fund_is_asked_for_planned_and_agreed_through_the_api(
    db: Session, client: HtmlClient
) -> None:
    person, holder = make_user(db), holder_offer(db)
    highland = geography_service.find_council_area(db, name_or_code="Highland")
    assert highland is not None
    asked = call(
        client,
        person,
        "/isfs",
        {"holder_offer_id": holder.id, "council_id": highland.id, "note": "Around my work"},
    )
    assert asked.status_code == 201, asked.text
    fund_id = asked.json()["id"]
    assert (asked.json()["status"], asked.json()["plan"]) == ("requested", None)

    council_side = budget_holder(db)
    budget = {
        "annual_budget_pence": 1_040_000,
        "period_starts_on": PERIOD_START.isoformat(),
        "period_ends_on": PERIOD_END.isoformat(),
        "funding_schedule": "monthly",
    }
    # Only the council sets the budget.
    assert call(client, person, f"/isfs/{fund_id}/budget", budget).status_code == 403
    set_ = call(client, council_side, f"/isfs/{fund_id}/budget", budget)
    assert set_.json()["plan"]["budget_pence"] == 1_040_000, set_.text

    outcome = call(client, person, f"/isfs/{fund_id}/outcomes", {"own_words": "Keeping fit"})
    assert outcome.status_code == 200, outcome.text
    fund = db.get_one(IndividualServiceFund, fund_id)
    line = {
        "offer_id": support_offer(db).id,
        "minutes_per_week": 240,
        "when": ["0-0"],  # Monday mornings
        "starts_on": PERIOD_START.isoformat(),
        "ends_on": PERIOD_END.isoformat(),
        "outcome_ids": [fund.outcomes[0].id],
    }
    planned = call(client, person, f"/isfs/{fund_id}/lines/offer", line)
    assert planned.status_code == 200, planned.text
    [costed] = planned.json()["plan"]["lines"]
    assert costed["weekly_pence"] == 8_000  # 4 hours at £20
    bad_days = call(client, person, f"/isfs/{fund_id}/lines/offer", {**line, "when": ["9-9"]})
    assert bad_days.status_code == 422

    for side in (person, holder.provider.members[0].user, council_side):
        accepted = call(client, side, f"/isfs/{fund_id}/accept")
        assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"


def test_the_wrong_side_and_a_stranger_are_refused(db: Session, client: HtmlClient) -> None:
    person, holder = make_user(db), holder_offer(db)
    highland = geography_service.find_council_area(db, name_or_code="Highland")
    assert highland is not None
    asked = call(
        client,
        person,
        "/isfs",
        {"holder_offer_id": holder.id, "council_id": highland.id, "note": "Please"},
    ).json()
    stranger = make_user(db)
    assert (
        call(client, stranger, f"/isfs/{asked['id']}/withdraw", {"reason": "x"}).status_code == 404
    )
    assert (
        call(
            client,
            person,
            "/isfs",
            {"holder_offer_id": 999_999, "council_id": highland.id, "note": "x"},
        ).status_code
        == 404
    )
    declined = call(
        client, budget_holder(db), f"/isfs/{asked['id']}/decline", {"reason": "Not yet"}
    )
    assert declined.json()["status"] == "declined", declined.text
    assert call(client, person, f"/isfs/{asked['id']}/withdraw", {"reason": "x"}).status_code == 409
