"""The person's next period: once a fund's period is closed, the council's budget holder
sets up the fund that renews it, with the plan still running and what the close carried
over as part of its budget; the money moves across, in one entry, when all three sides
have agreed it. A fund is renewed once, only after it is closed, and by its own council."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.funding import post_due_tranches, tranches
from contracts.funds.models import FundingSchedule, FundStatus, IndividualServiceFund
from contracts.funds.plan import funded_pence, plan_costs, share_of_year
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.spending import period_end
from contracts.spending import service as spending
from marketplace.accounts.models import User
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from marketplace.money import format_pence
from tests.contracts.funds.fund_builders import (
    PERIOD_END,
    active_fund,
    adds_up,
    budget_holder,
    holder_staff,
    requested,
)
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.test_deliveries import confirmed
from tests.contracts.spending.test_period_end import AFTER, ended_yesterday, finance
from tests.contracts.spending.test_spending_api import call
from tests.helpers import HtmlClient, error_messages, page

NEXT_START, NEXT_END = date(2028, 4, 1), date(2029, 3, 31)
NEXT_YEAR_PENCE = 4_000_000
CARRY_OVER_MAX_PENCE = 50_000
NEXT_PERIOD_FORM = {
    "annual_budget": "40000",
    "period_starts_on": "2028-04-01",
    "period_ends_on": "2029-03-31",
    "funding_schedule": "monthly",
}


def closed_fund(db: Session, *, carry_over_max_pence: int = CARRY_OVER_MAX_PENCE):
    """A fund paid in full, with one approved delivery, closed under a rule that carries
    over up to `carry_over_max_pence` (the fund has more left than £500)."""
    fund = active_fund(db)
    post_due_tranches(db, today=AFTER)
    spending.approve_delivery(db, delivery=confirmed(db, fund), by=holder_staff(fund))
    staff = finance(db)
    period_end.set_underspend_rule(
        db, council=fund.council, by=staff, carry_over_max_pence=carry_over_max_pence
    )
    period_end.close_period(db, fund=fund, by=staff, today=AFTER)
    return fund


def renew(db: Session, fund: IndividualServiceFund, by: User | None = None, **fields: object):
    chosen: dict[str, object] = {
        "annual_budget_pence": NEXT_YEAR_PENCE,
        "period_starts_on": NEXT_START,
        "period_ends_on": NEXT_END,
        "schedule": FundingSchedule.MONTHLY,
    }
    chosen.update(fields)
    return period_end.renew_fund(
        db,
        fund=fund,
        budget_holder=by or budget_holder(db),
        **chosen,  # type: ignore[arg-type]
    )


def test_the_next_period_brings_the_plan_and_the_carried_over_money(db: Session) -> None:
    fund = closed_fund(db)
    renewed = renew(db, fund)
    assert renewed.status == FundStatus.AGREEING and renewed.renews_id == fund.id
    assert (renewed.person_id, renewed.holder_id) == (fund.person_id, fund.holder_id)
    assert renewed.carried_in_pence == CARRY_OVER_MAX_PENCE
    assert [o.own_words for o in renewed.outcomes] == [o.own_words for o in fund.outcomes]
    [line] = renewed.lines
    [last_line] = fund.lines
    assert (line.weekly_pence, line.offer_price_id) == (
        last_line.weekly_pence,
        last_line.offer_price_id,
    )
    assert (line.starts_on, line.ends_on) == (NEXT_START, NEXT_END)
    assert [o.id for o in line.outcomes] == [o.id for o in renewed.outcomes]
    # The council pays in the new year's share; the carried-over money is the rest of
    # the period's budget, and the plan may spend it.
    funded = share_of_year(NEXT_YEAR_PENCE, NEXT_START, NEXT_END)
    assert funded_pence(renewed) == funded
    assert sum(t.amount_pence for t in tranches(renewed)) == funded
    assert plan_costs(renewed).budget_pence == funded + CARRY_OVER_MAX_PENCE
    assert funds.agreement_problems(renewed) == []
    # Agreed by all three, as any fund: the money moves across as it becomes active.
    for side in (renewed.person, holder_staff(renewed), budget_holder(db)):
        funds.accept_agreement(db, fund=renewed, by=side)
    assert renewed.status == FundStatus.ACTIVE
    assert fund.account is not None and renewed.account is not None
    assert (fund.account.balance_pence, renewed.account.balance_pence) == (
        0,
        CARRY_OVER_MAX_PENCE,
    )
    now = statement_of(db, renewed, on=NEXT_START)
    assert now.received_pence == now.available_pence == CARRY_OVER_MAX_PENCE
    assert now.budget_pence == funded + CARRY_OVER_MAX_PENCE and adds_up(now)
    assert now.carried_in_pence == CARRY_OVER_MAX_PENCE
    assert "Carried over from the last period" in now.entries[0].reason
    last = statement_of(db, fund, on=AFTER)
    assert last.available_pence == 0 and adds_up(last)
    assert check_invariants(db).sound


def test_nothing_carried_over_moves_nothing(db: Session) -> None:
    fund = closed_fund(db, carry_over_max_pence=0)
    renewed = renew(db, fund)
    assert renewed.carried_in_pence == 0
    for side in (renewed.person, holder_staff(renewed), budget_holder(db)):
        funds.accept_agreement(db, fund=renewed, by=side)
    assert renewed.account is not None and renewed.account.balance_pence == 0
    assert statement_of(db, renewed, on=NEXT_START).entries == ()


def test_support_that_ended_before_the_period_did_does_not_come_with_it(db: Session) -> None:
    fund = closed_fund(db)
    [line] = fund.lines
    line.ends_on = date(2027, 12, 31)
    db.flush()
    renewed = renew(db, fund)
    assert renewed.lines == [] and funds.agreement_problems(renewed) == [
        "The plan has at least one line of support"
    ]


def test_a_fund_is_renewed_once_after_it_closes_by_its_councils_budget_holder(
    db: Session,
) -> None:
    still_active = active_fund(db)
    with pytest.raises(Conflict, match="once its period has been closed"):
        renew(db, still_active)
    fund = closed_fund(db)
    with pytest.raises(NotAllowed):
        renew(db, fund, by=finance(db))
    with pytest.raises(NotFound):
        renew(db, fund, by=budget_holder(db, "Fife"))
    with pytest.raises(RuleBroken, match="start the next one after that day"):
        renew(db, fund, period_starts_on=PERIOD_END, period_ends_on=date(2029, 3, 30))
    with pytest.raises(RuleBroken, match="A period can be a year at most"):
        renew(db, fund, period_ends_on=date(2029, 4, 1))
    renewed = renew(db, fund)
    with pytest.raises(Conflict, match=f"renewed already, by fund {renewed.id}"):
        renew(db, fund)


def test_a_person_who_has_asked_for_another_fund_is_not_given_a_second(db: Session) -> None:
    fund = closed_fund(db)
    requested(db, person=fund.person)
    with pytest.raises(Conflict, match="already an individual service fund"):
        renew(db, fund)


def test_the_budget_holder_sets_up_the_next_period_from_the_closed_funds_page(
    db: Session, client: HtmlClient
) -> None:
    fund = closed_fund(db)
    council_side = budget_holder(db)
    as_user(client, council_side)
    page_now = page(client.get(f"/funds/{fund.id}"))
    form = page_now.select_one(f"form[action='/funds/{fund.id}/renewal']")
    assert form is not None
    # The next period starts the day after the last ended, and runs a year.
    assert form.select_one("input[name=period_starts_on]")["value"] == "2028-04-01"
    assert form.select_one("input[name=period_ends_on]")["value"] == "2029-03-31"
    refused = client.submit(f"/funds/{fund.id}/renewal", {"annual_budget": "lots"})
    assert refused.status_code == 422 and error_messages(refused)
    sent = client.submit(f"/funds/{fund.id}/renewal", NEXT_PERIOD_FORM)
    assert sent.status_code == 303, sent.text[:500]
    renewed = period_end.renewal_of(db, fund)
    assert renewed is not None and sent.headers["location"].startswith(f"/funds/{renewed.id}")
    next_page = client.get(sent.headers["location"])
    assert "£500.00 carried over from the last period" in next_page.text
    assert "up to £500.00 not spent is carried over into the next period" in next_page.text
    words = " ".join(page(next_page).get_text(" ").split())
    assert f"This fund follows individual service fund {fund.id}" in words
    # The closed fund now points to the next; the person sees the link and no form.
    assert f"/funds/{renewed.id}" in client.get(f"/funds/{fund.id}").text
    as_user(client, fund.person)
    theirs = page(client.get(f"/funds/{fund.id}"))
    assert theirs.select_one(f"a[href='/funds/{renewed.id}']") is not None
    assert theirs.select_one("form[action$='/renewal']") is None
    # Nobody but the council's budget holders may set it up.
    as_user(client, finance(db))
    assert client.submit(f"/funds/{fund.id}/renewal", NEXT_PERIOD_FORM).status_code == 403


def test_the_rule_the_close_and_the_next_period_through_the_api(
    db: Session, client: HtmlClient
) -> None:
    fund = ended_yesterday(db)
    assert fund.period_ends_on is not None
    ended = fund.period_ends_on
    staff = finance(db)
    assert (
        call(client, staff, "/api/v1/underspend-rule", {"carry_over_max_pence": -1}).status_code
        == 422
    )
    set_rule = call(client, staff, "/api/v1/underspend-rule", {"carry_over_max_pence": 25_000})
    assert set_rule.status_code == 201, set_rule.text
    assert client.get("/api/v1/underspend-rule").json()["carry_over_max_pence"] == 25_000
    path = f"/api/v1/isfs/{fund.id}/period-close"
    assert client.get(path).status_code == 404
    closed = call(client, staff, path, key="close-000000001")
    assert closed.status_code == 200, closed.text
    figures = closed.json()
    assert figures["carried_pence"] == 25_000
    assert figures["left_pence"] == figures["carried_pence"] + figures["returned_pence"]
    # A retry with the key has the first answer; the figures can be read again.
    assert call(client, staff, path, key="close-000000001").json() == figures
    assert client.get(path).json() == figures
    starts_on = ended + timedelta(days=1)
    body = {
        "annual_budget_pence": NEXT_YEAR_PENCE,
        "period_starts_on": starts_on.isoformat(),
        "period_ends_on": (starts_on + timedelta(days=364)).isoformat(),
        "funding_schedule": "four_weekly",
    }
    assert call(client, staff, f"/api/v1/isfs/{fund.id}/renewal", body).status_code == 403
    renewed = call(client, budget_holder(db), f"/api/v1/isfs/{fund.id}/renewal", body)
    assert renewed.status_code == 201, renewed.text
    answer = renewed.json()
    assert (answer["status"], answer["renews_id"], answer["carried_in_pence"]) == (
        "agreeing",
        fund.id,
        25_000,
    )
    assert (
        answer["plan"]["budget_pence"]
        == funded_pence(db.get(IndividualServiceFund, answer["id"])) + 25_000
    )


def test_the_statement_and_its_easy_read_say_what_was_left_from_last_year(
    db: Session, client: HtmlClient
) -> None:
    renewed = renew(db, closed_fund(db))
    for side in (renewed.person, holder_staff(renewed), budget_holder(db)):
        funds.accept_agreement(db, fund=renewed, by=side)
    as_user(client, renewed.person)
    statement = " ".join(page(client.get(f"/funds/{renewed.id}/statement")).get_text(" ").split())
    assert f"{format_pence(CARRY_OVER_MAX_PENCE)} carried over from the last period" in statement
    easy = client.get(f"/funds/{renewed.id}/statement/easy-read")
    assert easy.status_code == 200
    lines = [" ".join(p.get_text(" ").split()) for p in page(easy).select(".app-easy-read__line")]
    funded = share_of_year(NEXT_YEAR_PENCE, NEXT_START, NEXT_END)
    assert f"This is {format_pence(funded)} from the council" in lines
    assert f"and {format_pence(CARRY_OVER_MAX_PENCE)} you did not spend last year." in lines
