"""The individual service fund pages as the three sides use them: a person asks from a
holder's offer page, the council's budget holder sets the budget, the person and the holder
draw up the plan, all three accept and the page says the fund is active with the plan's
figures. A plan that would go over the budget is refused by its field with a 422 and
nothing written; nobody who may not see a fund learns it exists; each form is for its own
side only; hostile values get a 4xx; every view is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.models import BudgetLine, FundStatus, IndividualServiceFund
from contracts.funds.plan import plan_costs
from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction, AuditEvent
from marketplace.geography import service as geography_service
from marketplace.money import format_pence
from tests.contracts.funds.fund_builders import (
    agreeing,
    budget_holder,
    holder_offer,
    holder_staff,
    planned,
    requested,
    support_offer,
)
from tests.factories import PASSWORD, make_provider, make_user
from tests.helpers import HtmlClient, error_messages, page
from tests.providers.test_enquiries import represented

WHOLE_YEAR = {"period_starts_on": "2027-04-01", "period_ends_on": "2028-03-31"}


def as_user(client: HtmlClient, user: User) -> HtmlClient:
    client.cookies.clear()
    client.sign_in(user.email, PASSWORD)
    return client


def summary(soup: BeautifulSoup, index: int = 0) -> dict[str, str]:
    """One summary list on the page, key to value."""
    return {
        item.select_one(".ds_summary-list__key").get_text(" ", strip=True): item.select_one(
            ".ds_summary-list__value"
        ).get_text(" ", strip=True)
        for item in soup.select(".ds_summary-list")[index].select(".ds_summary-list__item")
    }


def acceptances(soup: BeautifulSoup) -> dict[str, str]:
    listed = soup.select_one("#acceptances").find_next("ol", class_="ds_summary-list")
    return {
        item.select_one(".ds_summary-list__key").get_text(strip=True): item.select_one(
            ".ds_summary-list__value"
        ).get_text(" ", strip=True)
        for item in listed.select(".ds_summary-list__item")
    }


def lines_of(db: Session, fund: IndividualServiceFund) -> int:
    return (
        db.scalar(select(func.count()).select_from(BudgetLine).where(BudgetLine.fund_id == fund.id))
        or 0
    )


def views_of(db: Session, fund: IndividualServiceFund, viewer: User) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.actor_id == viewer.id,
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.subject_type == funds.SUBJECT,
                AuditEvent.subject_id == str(fund.id),
            )
        )
        or 0
    )


def submit_ok(client: HtmlClient, path: str, data: dict[str, Any] | None = None) -> str:
    response = client.submit(path, data)
    assert response.status_code == 303, (response.status_code, error_messages(response))
    location: str = response.headers["location"]
    return location


class TestTheWholeJourney:
    def test_ask_set_the_budget_plan_accept_and_the_fund_is_active(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = holder_offer(db, fee_bp=1000)
        holder = offer.provider
        person = make_user(db)
        council_side = budget_holder(db)
        highland = geography_service.find_council_area(db, name_or_code="Highland")

        as_user(client, person)
        offer_page = page(client.get(f"/offers/{offer.id}"))
        ask = offer_page.find(
            "a", string=f"Ask your council for an individual service fund held by {holder.name}"
        )
        assert ask is not None and ask["href"] == f"/funds/new?offer={offer.id}"
        form_page = client.get(ask["href"])
        assert form_page.status_code == 200
        assert summary(page(form_page))["Management fee"] == "10% of the support it pays for"
        assert len(page(form_page).select("#council option")) == 33  # 32 areas and a prompt
        location = submit_ok(
            client,
            ask["href"],
            {"council": str(highland.id), "note": "I would like support around my work."},
        )
        fund = db.scalars(
            select(IndividualServiceFund).where(IndividualServiceFund.person_id == person.id)
        ).one()
        assert location == f"/funds/{fund.id}?done=requested"
        assert fund.status == FundStatus.REQUESTED and fund.holder_id == holder.id
        path = f"/funds/{fund.id}"

        as_user(client, council_side)
        assert path in client.get("/funds").text
        submit_ok(
            client,
            f"{path}/budget",
            {"annual_budget": "10,400", "funding_schedule": "monthly", **WHOLE_YEAR},
        )

        as_user(client, person)
        submit_ok(
            client, f"{path}/outcomes", {"outcome": "staying-well", "own_words": "Keeping fit"}
        )
        outcome = fund.outcomes[0]
        swimming = support_offer(db, rate_pence=2000)
        submit_ok(
            client,
            f"{path}/lines/offer",
            {
                "offer": f"http://testserver/offers/{swimming.id}?location=Portree",
                "hours": "4",
                "when": ["0-0", "1-0"],
                "line_starts_on": "2027-04-01",
                "line_ends_on": "2028-03-31",
                "line_outcomes": [str(outcome.id)],
            },
        )

        as_user(client, holder_staff(fund))
        submit_ok(client, f"{path}/contingency", {"amount": "250"})
        submit_ok(client, f"{path}/accept")
        as_user(client, person)
        submit_ok(client, f"{path}/accept")
        as_user(client, council_side)
        submit_ok(client, f"{path}/accept")

        db.refresh(fund)
        assert fund.status == FundStatus.ACTIVE
        costs = plan_costs(fund)
        assert costs.contingency_pence == 25_000
        shown = page(client.get(path))
        brief = summary(shown)
        assert brief["Status"] == "Active"
        assert shown.select_one(".ds_tag.ds_tag--green").get_text(strip=True) == "Active"
        assert brief["Budget for the period"].startswith(format_pence(costs.budget_pence))
        assert brief["What it is for"] == "Keeping fit"
        assert brief["Management fee"].startswith(
            f"{format_pence(costs.fee_pence)} for the period, 10% of the planned support"
        )
        # The council has set no underspend rule: everything left goes back.
        assert brief["Money not spent"] == (
            "By Highland Council's rule, money not spent by the end of the period goes back "
            "to the council."
        )
        assert shown.select_one("#total-planned").get_text(strip=True) == format_pence(
            costs.total_pence
        )
        assert shown.select_one("#left-unplanned").get_text(strip=True) == format_pence(
            costs.headroom_pence
        )
        line_text = shown.get_text(" ", strip=True)
        assert format_pence(costs.lines[0].period_pence) in line_text
        assert "Monday morning; Tuesday morning" in line_text
        accepted = acceptances(shown)
        assert accepted["The council"].startswith(f"Accepted by {council_side.name} on ")
        assert accepted["The supported person"].startswith(f"Accepted by {person.name} on ")
        # Once active, nobody is offered a form to change it here.
        assert not shown.select("main form")
        assert views_of(db, fund, council_side) >= 1

    def test_a_representative_asks_for_someone_they_act_for(
        self, client: HtmlClient, db: Session
    ) -> None:
        person, carer = represented(db)
        offer = holder_offer(db)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        as_user(client, carer)
        form = page(client.get(f"/funds/new?offer={offer.id}"))
        assert [o["value"] for o in form.select("#person option")] == ["", str(person.id)]
        submit_ok(
            client,
            f"/funds/new?offer={offer.id}",
            {"person": str(person.id), "council": str(highland.id), "note": "For my mother."},
        )
        fund = db.scalars(
            select(IndividualServiceFund).where(IndividualServiceFund.person_id == person.id)
        ).one()
        assert fund.requested_by_id == carer.id
        assert page(client.get(f"/funds/{fund.id}")).select_one("form[action$='/withdraw']")


class TestRefusals:
    def test_a_line_that_would_go_over_the_budget_is_refused_by_its_field(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund, _ = planned(db)
        before = lines_of(db, fund)
        as_user(client, fund.person)
        response = client.submit(
            f"/funds/{fund.id}/lines/other",
            {
                "title": "Residential short break",
                "weekly": "500",
                "described_starts_on": "2027-04-01",
                "described_ends_on": "2028-03-31",
                "described_outcomes": [str(fund.outcomes[0].id)],
            },
        )
        assert response.status_code == 422
        [message] = error_messages(response)
        assert message.endswith("more than the budget of £10,400.00 for the period")
        shown = page(response)
        assert shown.select_one("#weekly-error").get_text(strip=True) == message
        assert shown.select_one("#weekly")["value"] == "500"
        assert shown.title is not None and shown.title.get_text().startswith("Error: ")
        assert lines_of(db, fund) == before

    def test_htmx_gets_the_fund_fragment_with_the_errors(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund, _ = agreeing(db)
        as_user(client, fund.person)
        response = client.submit(f"/funds/{fund.id}/outcomes", {"own_words": ""}, htmx=True)
        assert response.status_code == 422
        assert "<html" not in response.text.lower()
        assert page(response).select_one("#own_words-error") is not None

    def test_bad_dates_amounts_and_ids_are_explained_not_broken(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund = requested(db)
        as_user(client, budget_holder(db))
        response = client.submit(
            f"/funds/{fund.id}/budget",
            {
                "annual_budget": "1e309",
                "period_starts_on": "2026-02-30",
                "period_ends_on": "99999-12-31",
                "funding_schedule": "whenever",
            },
        )
        assert response.status_code == 422
        assert len(error_messages(response)) == 4
        db.refresh(fund)
        assert fund.annual_budget_pence is None and fund.status == FundStatus.REQUESTED
        for path in ("/funds/abc", "/funds/99999999999", "/funds/١٢", f"/funds/{fund.id}x"):
            assert client.get(path).status_code == 404, path
        as_user(client, fund.person)
        for offer in ("x\x00y", "١٢", "99999999999", "-1"):
            assert client.get("/funds/new", params={"offer": offer}).status_code == 400, offer
        assert client.get("/funds/new").status_code == 404

    def test_a_plan_is_drawn_up_only_once_the_budget_is_set(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund = requested(db)
        as_user(client, fund.person)
        shown = page(client.get(f"/funds/{fund.id}"))
        assert shown.select_one("form[action$='/outcomes']") is None
        response = client.submit(f"/funds/{fund.id}/outcomes", {"own_words": "Seeing friends"})
        assert response.status_code == 409
        assert not fund.outcomes


class TestWhoSeesAndDoesWhat:
    @pytest.mark.parametrize(
        "stranger",
        ["other_council", "commissioner", "other_provider", "other_person", "admin"],
    )
    def test_those_who_may_not_see_a_fund_get_the_404_of_no_fund(
        self, client: HtmlClient, db: Session, stranger: str
    ) -> None:
        fund = requested(db)
        user = {
            "other_council": lambda: budget_holder(db, council="Fife"),
            "commissioner": lambda: make_user(db, role=Role.COMMISSIONER, council="Highland"),
            "other_provider": lambda: make_provider(db, holds_isf=True).members[0].user,
            "other_person": lambda: make_user(db),
            "admin": lambda: make_user(db, role=Role.ADMIN),
        }[stranger]()
        as_user(client, user)
        theirs = client.get(f"/funds/{fund.id}")
        missing = client.get("/funds/999999")
        assert theirs.status_code == missing.status_code == 404
        assert page(theirs).main == page(missing).main
        assert f"/funds/{fund.id}" not in client.get("/funds").text
        assert views_of(db, fund, user) == 0

    def test_the_person_cannot_set_the_budget(self, client: HtmlClient, db: Session) -> None:
        fund = requested(db)
        as_user(client, fund.person)
        shown = page(client.get(f"/funds/{fund.id}"))
        assert shown.select_one("form[action$='/budget']") is None
        response = client.submit(
            f"/funds/{fund.id}/budget",
            {"annual_budget": "10400", "funding_schedule": "monthly", **WHOLE_YEAR},
        )
        assert response.status_code == 403
        db.refresh(fund)
        assert fund.annual_budget_pence is None

    def test_the_holders_staff_accept_for_the_holder_never_for_the_council(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund, _ = planned(db)
        as_user(client, holder_staff(fund))
        shown = page(client.get(f"/funds/{fund.id}"))
        assert shown.select_one("form[action$='/budget']") is None
        button = shown.select_one("form[action$='/accept'] button")
        assert button is not None and button.get_text(strip=True).endswith("as the fund holder")
        submit_ok(client, f"/funds/{fund.id}/accept")
        db.refresh(fund)
        assert fund.holder_accepted_at is not None
        assert fund.council_accepted_at is None and fund.person_accepted_at is None
        again = client.submit(f"/funds/{fund.id}/accept")
        assert again.status_code == 409
        assert fund.status == FundStatus.AGREEING

    def test_council_staff_see_their_councils_funds_and_finance_not_the_persons_words(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund, _ = planned(db)
        panel = make_user(db, role=Role.PANEL_MEMBER, council="Highland")
        finance = make_user(db, role=Role.FINANCE, council="Highland")
        as_user(client, panel)
        assert fund.person.name in client.get("/funds").text
        assert "Keeping fit" in client.get(f"/funds/{fund.id}").text
        as_user(client, finance)
        listed = client.get("/funds").text
        assert f"/funds/{fund.id}" in listed and fund.person.name not in listed
        shown = client.get(f"/funds/{fund.id}")
        assert shown.status_code == 200 and fund.person.name not in shown.text
        assert "Keeping fit" not in shown.text and fund.request_note not in shown.text
        assert "Staying as well as you can" in shown.text
        assert format_pence(plan_costs(fund).total_pence) in shown.text
        assert page(shown).select_one("main form") is None
        assert views_of(db, fund, finance) == 2  # the list and the page

    def test_the_council_or_holder_declines_with_a_reason(
        self, client: HtmlClient, db: Session
    ) -> None:
        fund = requested(db)
        as_user(client, holder_staff(fund))
        refused = client.submit(f"/funds/{fund.id}/decline", {"decline_reason": " "})
        assert refused.status_code == 422
        assert page(refused).select_one("#decline_reason-error") is not None
        submit_ok(client, f"/funds/{fund.id}/decline", {"decline_reason": "We are full."})
        db.refresh(fund)
        assert fund.status == FundStatus.DECLINED
        assert summary(page(client.get(f"/funds/{fund.id}")))["Why it ended"] == "We are full."

    def test_the_offer_page_asks_only_people_and_only_of_holders(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = holder_offer(db)
        ordinary = support_offer(db)
        text = "Ask your council for an individual service fund"
        assert text not in client.get(f"/offers/{offer.id}").text  # signed out
        as_user(client, make_user(db))
        assert text not in client.get(f"/offers/{ordinary.id}").text
        assert client.get(f"/funds/new?offer={ordinary.id}").status_code == 200
        as_user(client, make_user(db, role=Role.COMMISSIONER))
        assert text not in client.get(f"/offers/{offer.id}").text
        assert client.get(f"/funds/new?offer={offer.id}").status_code == 403
