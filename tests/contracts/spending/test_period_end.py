"""Closing a fund's period: finance staff close it once it has ended and nothing waits;
the fees still due are charged, the council's rule carries over up to its amount and the
rest goes back to the council in one entry; the closing figures are kept, the statement
still adds up, and a period is closed once. The rule is the council's, with its history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from contracts.funds.accounts import returned_underspend_account
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import FundStatus, IndividualServiceFund
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.spending import period_end
from contracts.spending import service as spending
from marketplace.accounts.models import Role, User
from marketplace.db import today
from marketplace.errors import Conflict, NotAllowed, RuleBroken
from tests.contracts.funds.fund_builders import PERIOD_END, active_fund, adds_up, holder_staff
from tests.contracts.funds.test_fund_pages import as_user
from tests.contracts.spending.test_deliveries import confirmed, recorded
from tests.factories import make_user
from tests.helpers import HtmlClient, page

AFTER = date(2028, 4, 3)
"""The Monday after the period's last day."""


def finance(db: Session, council: str = "Highland") -> User:
    return make_user(db, role=Role.FINANCE, council=council)


def ended_yesterday(db: Session) -> IndividualServiceFund:
    """A year's fund, paid in full, whose period ended yesterday in the real calendar, so
    the pages and the API offer to close it today."""
    ended = today() - timedelta(days=1)
    fund = active_fund(db, period=(ended - timedelta(days=364), ended))
    post_due_tranches(db, today=today())
    return fund


def test_what_is_left_is_carried_over_up_to_the_rule_and_the_rest_goes_back(
    db: Session,
) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=AFTER)
    spending.approve_delivery(db, delivery=confirmed(db, fund), by=holder_staff(fund))
    staff = finance(db)
    period_end.set_underspend_rule(db, council=fund.council, by=staff, carry_over_max_pence=100_000)
    newer = period_end.set_underspend_rule(
        db, council=fund.council, by=staff, carry_over_max_pence=50_000
    )
    assert fund.account is not None
    left = fund.account.balance_pence
    closed = period_end.close_period(db, fund=fund, by=staff, today=AFTER)
    assert fund.status == FundStatus.CLOSED
    assert (closed.rule_id, closed.left_pence) == (newer.id, left)
    assert (closed.carried_pence, closed.returned_pence) == (50_000, left - 50_000)
    assert fund.account.balance_pence == 50_000
    assert returned_underspend_account(db, fund.council).balance_pence == left - 50_000
    statement = statement_of(db, fund, on=AFTER)
    assert adds_up(statement) and statement.available_pence == 50_000
    assert statement.spent_pence == closed.spent_pence == 3_000
    with pytest.raises(Conflict):
        period_end.close_period(db, fund=fund, by=staff, today=AFTER)
    assert check_invariants(db).sound


def test_without_a_rule_everything_left_goes_back(db: Session) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=AFTER)
    closed = period_end.close_period(db, fund=fund, by=finance(db), today=AFTER)
    assert closed.rule_id is None and closed.carried_pence == 0
    assert fund.account is not None and fund.account.balance_pence == 0


def test_a_period_closes_after_its_end_once_nothing_waits(db: Session) -> None:
    fund = active_fund(db)
    post_due_tranches(db, today=AFTER)
    staff = finance(db)
    with pytest.raises(RuleBroken, match="close it after that day"):
        period_end.close_period(db, fund=fund, by=staff, today=PERIOD_END)
    waiting = recorded(db, fund)
    with pytest.raises(RuleBroken, match="1 record of support still waits"):
        period_end.close_period(db, fund=fund, by=staff, today=AFTER)
    spending.withdraw_delivery(
        db, delivery=waiting, by=waiting.provider.members[0].user, reason="Recorded twice"
    )
    period_end.close_period(db, fund=fund, by=staff, today=AFTER)


def test_only_the_councils_finance_staff_close_and_set_the_rule(db: Session) -> None:
    fund = active_fund(db)
    with pytest.raises(NotAllowed):
        period_end.close_period(db, fund=fund, by=holder_staff(fund), today=AFTER)
    with pytest.raises(NotAllowed):
        period_end.set_underspend_rule(
            db, council=fund.council, by=finance(db, "Fife"), carry_over_max_pence=1
        )
    with pytest.raises(RuleBroken):
        period_end.set_underspend_rule(
            db, council=fund.council, by=finance(db), carry_over_max_pence=-1
        )


def test_finance_sets_the_rule_and_closes_the_period_from_the_pages(
    db: Session, client: HtmlClient
) -> None:
    fund = ended_yesterday(db)
    staff = finance(db)
    as_user(client, staff)
    refused = client.submit("/payments/underspend-rule", {"carry_over": "lots"})
    assert refused.status_code == 422
    assert client.submit("/payments/underspend-rule", {"carry_over": "250"}).status_code == 303
    page_before = client.get(f"/funds/{fund.id}/statement")
    assert "carries over up to £250.00" in page_before.text
    key = page(page_before).select_one("input[name=close_key]")["value"]
    assert client.submit(f"/funds/{fund.id}/close").status_code == 422
    closed = client.submit(f"/funds/{fund.id}/close", {"close_key": key})
    assert closed.status_code == 303, closed.text
    # The same form sent again (a double click, a retry) has the first answer.
    again = client.submit(f"/funds/{fund.id}/close", {"close_key": key})
    assert again.headers.get("location") == closed.headers["location"]
    after = client.get(f"/funds/{fund.id}/statement")
    assert after.status_code == 200
    assert "This period is closed." in after.text and "£250.00 is carried over" in after.text
    # The person reads the closing statement; nobody closes it twice.
    assert as_user(client, fund.person).get(f"/funds/{fund.id}/statement").status_code == 200
    as_user(client, staff)
    assert (
        client.submit(f"/funds/{fund.id}/close", {"close_key": "another-key-0001"}).status_code
        == 409
    )


def test_a_refused_close_shows_why_and_both_forms_can_still_be_sent(
    db: Session, client: HtmlClient
) -> None:
    fund = ended_yesterday(db)
    assert fund.period_ends_on is not None
    recorded(db, fund, day=fund.period_ends_on)
    as_user(client, finance(db))
    key = page(client.get(f"/funds/{fund.id}/statement")).select_one("input[name=close_key]")
    refused = client.submit(f"/funds/{fund.id}/close", {"close_key": key["value"]})
    assert refused.status_code in (409, 422), refused.status_code
    assert "1 record of support still waits" in refused.text
    shown = page(refused)
    # The refused close left no record: its key is offered again, and the adjustment form
    # has a key of its own.
    assert shown.select_one("input[name=close_key]")["value"] == key["value"]
    assert shown.select_one("input[name=key]")["value"] not in ("", key["value"])
