"""Setting up an individual service fund, as the three sides do it: the person asks their
council for one with the holder they chose; the council's budget holder sets the budget;
the person and the holder draw up the plan, which can never allocate more than the budget;
and the fund is active once the person, the holder and the council have each accepted the
agreement as it stands."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds import service as funds
from contracts.funds.models import AgreementParty, FundingSchedule, FundStatus
from contracts.funds.plan import plan_costs
from marketplace.accounts.models import Role
from marketplace.accounts.policy import may_see
from marketplace.audit import AuditEvent, write_pending
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from marketplace.geography import service as geography_service
from providers import offers as offers_service
from providers.models import TravelCharge, availability_bit
from tests.contracts.funds.fund_builders import (
    PERIOD_END,
    PERIOD_START,
    TUESDAY_MORNING,
    agreeing,
    budget_holder,
    holder_offer,
    holder_staff,
    planned,
    requested,
    support_offer,
)
from tests.factories import make_offer, make_provider, make_user
from tests.providers.test_enquiries import represented

MONDAY_EVENING = availability_bit(0, 2)


class TestAskingForAFund:
    def test_a_person_asks_their_council_for_a_fund_held_by_the_provider_they_chose(
        self, db: Session
    ) -> None:
        offer = holder_offer(db, fee_bp=800)
        fund = requested(db, offer=offer)
        assert fund.status == FundStatus.REQUESTED
        assert fund.holder_id == offer.provider_id
        assert fund.council.name == "Highland"
        # The fee is the one the person saw when they chose: a later price does not change it.
        assert offer.price is not None
        agreed_price = offer.price
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=offers_service.PriceDetails(
                unit=agreed_price.unit, rate_pence=agreed_price.rate_pence, management_fee_bp=2000
            ),
        )
        assert fund.holder_price.id == agreed_price.id
        assert fund.holder_price.management_fee_bp == 800

    def test_a_representative_asks_only_for_someone_they_act_for(self, db: Session) -> None:
        person, carer = represented(db)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        fund = funds.request_fund(
            db,
            requester=carer,
            person=person,
            council=highland,
            holder_offer=holder_offer(db),
            note="For my mother.",
        )
        assert fund.person_id == person.id and fund.requested_by_id == carer.id
        with pytest.raises(RuleBroken) as refused:
            funds.request_fund(
                db,
                requester=carer,
                person=make_user(db),
                council=highland,
                holder_offer=holder_offer(db),
                note="For a stranger.",
            )
        assert refused.value.field == "person"

    def test_only_a_provider_that_holds_funds_can_be_chosen(self, db: Session) -> None:
        ordinary = make_offer(db, provider=make_provider(db, holds_isf=False))
        with pytest.raises(RuleBroken) as refused:
            requested(db, offer=ordinary)
        assert "does not hold individual service funds" in refused.value.message

    def test_a_person_has_one_fund_asked_for_or_held_at_a_time(self, db: Session) -> None:
        fund = requested(db)
        with pytest.raises(Conflict):
            requested(db, person=fund.person)
        funds.withdraw_request(db, fund=fund, by=fund.person, reason="I changed my mind")
        assert requested(db, person=fund.person).status == FundStatus.REQUESTED

    def test_staff_cannot_ask_for_a_fund(self, db: Session) -> None:
        with pytest.raises(NotAllowed):
            funds.request_fund(
                db,
                requester=make_user(db, role=Role.PROVIDER_STAFF),
                person=None,
                council=geography_service.find_council_area(db, name_or_code="Highland"),
                holder_offer=holder_offer(db),
                note="Please",
            )


class TestTheBudget:
    def test_the_councils_budget_holder_sets_it_and_the_fund_is_being_agreed(
        self, db: Session
    ) -> None:
        fund, council_side = agreeing(db, annual_budget_pence=1_200_000)
        assert fund.status == FundStatus.AGREEING
        assert fund.budget_set_by_id == council_side.id
        assert fund.funding_schedule == FundingSchedule.MONTHLY
        # 1 April 2027 to 31 March 2028 holds 29 February: still one year, worth one year's budget.
        assert plan_costs(fund).budget_pence == 1_200_000

    def test_a_shorter_period_gets_its_days_share(self, db: Session) -> None:
        fund = requested(db)
        funds.set_budget(
            db,
            fund=fund,
            budget_holder=budget_holder(db),
            annual_budget_pence=365_000,
            period_starts_on=date(2027, 4, 1),
            period_ends_on=date(2027, 4, 30),
            schedule=FundingSchedule.UPFRONT,
        )
        assert plan_costs(fund).budget_pence == 30_000  # £10 a day for 30 days

    def test_another_councils_budget_holder_sees_nothing(self, db: Session) -> None:
        fund = requested(db)
        with pytest.raises(NotFound):
            funds.set_budget(
                db,
                fund=fund,
                budget_holder=budget_holder(db, council="Fife"),
                annual_budget_pence=1_000_000,
                period_starts_on=PERIOD_START,
                period_ends_on=PERIOD_END,
                schedule=FundingSchedule.MONTHLY,
            )
        assert fund.status == FundStatus.REQUESTED

    def test_a_budget_out_of_bounds_or_a_period_over_a_year_is_refused_together(
        self, db: Session
    ) -> None:
        fund = requested(db)
        with pytest.raises(RuleBroken) as refused:
            funds.set_budget(
                db,
                fund=fund,
                budget_holder=budget_holder(db),
                annual_budget_pence=funds.MAX_ANNUAL_BUDGET_PENCE + 1,
                period_starts_on=PERIOD_START,
                period_ends_on=date(2028, 4, 1),
                schedule=FundingSchedule.MONTHLY,
            )
        assert {p.field for p in refused.value.problems} == {"annual_budget", "period_ends_on"}
        assert fund.annual_budget_pence is None and fund.status == FundStatus.REQUESTED

    def test_the_budget_cannot_be_set_below_the_plan(self, db: Session) -> None:
        fund, council_side = planned(db)
        total = plan_costs(fund).total_pence
        with pytest.raises(RuleBroken) as refused:
            funds.set_budget(
                db,
                fund=fund,
                budget_holder=council_side,
                annual_budget_pence=total - 1,
                period_starts_on=PERIOD_START,
                period_ends_on=PERIOD_END,
                schedule=FundingSchedule.MONTHLY,
            )
        assert "£0.01 more than the budget" in refused.value.message
        assert fund.annual_budget_pence == 1_040_000


class TestThePlan:
    def test_a_line_for_an_offer_costs_its_hours_uplifts_and_travel(self, db: Session) -> None:
        fund, _ = agreeing(db)
        outcome = funds.add_outcome(
            db, fund=fund, by=fund.person, own_words="Getting out", term_code="seeing-people"
        )
        offer = support_offer(db, rate_pence=2000)
        assert offer.price is not None
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=offers_service.PriceDetails(
                unit=offer.price.unit,
                rate_pence=2000,
                evening_uplift_bp=2500,
                travel_charge=TravelCharge.PER_VISIT,
                travel_charge_pence=300,
            ),
        )
        line = funds.add_offer_line(
            db,
            fund=fund,
            by=holder_staff(fund),
            offer=offer,
            minutes_per_week=240,
            when=MONDAY_EVENING | TUESDAY_MORNING,
            starts_on=PERIOD_START,
            ends_on=PERIOD_END,
            outcome_ids=[outcome.id],
        )
        # Four hours at £20 (£80), a quarter more on the two evening hours (£10), and two
        # visits' travel at £3 (£6).
        assert line.weekly_pence == 8000 + 1000 + 600
        assert line.offer_price_id == offer.price.id
        assert "Travel: 2 visits at £3.00 a visit: £6.00" in line.costing
        assert [o.own_words for o in line.outcomes] == ["Getting out"]
        costs = plan_costs(fund)
        # 366 days of the period: 366 sevenths of a week's £96.
        assert costs.support_pence == round(9600 * 366 / 7)
        assert costs.fee_pence == round(costs.support_pence / 10)  # the holder's 10%
        assert costs.fee_percent == "10%"

    def test_a_fixed_monthly_fee_is_a_years_twelve_months_or_a_days_share(
        self, db: Session
    ) -> None:
        fund, _ = agreeing(db, fee_bp=None, fixed_pence=3000)
        assert plan_costs(fund).fee_pence == 12 * 3000

    def test_the_plan_can_allocate_the_whole_budget_and_not_a_penny_more(self, db: Session) -> None:
        fund, _ = planned(db)
        headroom = plan_costs(fund).headroom_pence
        assert headroom > 0
        with pytest.raises(RuleBroken) as refused:
            funds.set_contingency(db, fund=fund, by=fund.person, amount_pence=headroom + 1)
        assert refused.value.message.endswith(
            "£0.01 more than the budget of £10,400.00 for the period"
        )
        assert plan_costs(fund).contingency_pence == 0
        funds.set_contingency(db, fund=fund, by=fund.person, amount_pence=headroom)
        assert plan_costs(fund).headroom_pence == 0

    def test_a_line_that_would_overspend_is_not_added(self, db: Session) -> None:
        fund, _ = planned(db)
        lines_before = len(fund.lines)
        with pytest.raises(RuleBroken):
            funds.add_described_line(
                db,
                fund=fund,
                by=holder_staff(fund),
                title="Residential short break",
                weekly_pence=50_000,
                starts_on=PERIOD_START,
                ends_on=PERIOD_END,
                outcome_ids=[fund.outcomes[0].id],
            )
        db.flush()
        assert len(fund.lines) == lines_before

    def test_a_line_serves_outcomes_of_its_own_plan_within_the_period(self, db: Session) -> None:
        fund, _ = planned(db)
        other, _ = planned(db)
        with pytest.raises(RuleBroken) as refused:
            funds.add_described_line(
                db,
                fund=fund,
                by=fund.person,
                title="Gym",
                weekly_pence=500,
                starts_on=PERIOD_START,
                ends_on=date(2028, 4, 30),
                outcome_ids=[other.outcomes[0].id],
            )
        assert refused.value.field == "starts_on"

    def test_the_council_does_not_write_the_plan(self, db: Session) -> None:
        fund, council_side = agreeing(db)
        with pytest.raises(NotAllowed):
            funds.add_outcome(db, fund=fund, by=council_side, own_words="Something")


class TestTheAgreement:
    def test_the_fund_is_active_once_all_three_have_accepted(self, db: Session) -> None:
        fund, council_side = planned(db)
        assert funds.accept_agreement(db, fund=fund, by=fund.person) == AgreementParty.PERSON
        assert funds.accept_agreement(db, fund=fund, by=holder_staff(fund)) == (
            AgreementParty.HOLDER
        )
        assert fund.status == FundStatus.AGREEING
        funds.accept_agreement(db, fund=fund, by=council_side)
        assert fund.status == FundStatus.ACTIVE

    def test_changing_the_plan_asks_everyone_to_accept_again(self, db: Session) -> None:
        fund, _ = planned(db)
        funds.accept_agreement(db, fund=fund, by=fund.person)
        funds.set_contingency(db, fund=fund, by=holder_staff(fund), amount_pence=10_000)
        assert fund.accepted_at(AgreementParty.PERSON) is None

    def test_nothing_to_accept_until_the_plan_has_outcomes_and_support(self, db: Session) -> None:
        fund, _ = agreeing(db)
        with pytest.raises(Conflict) as refused:
            funds.accept_agreement(db, fund=fund, by=fund.person)
        assert "what matters to the person" in refused.value.message

    def test_each_side_accepts_once(self, db: Session) -> None:
        fund, _ = planned(db)
        funds.accept_agreement(db, fund=fund, by=fund.person)
        with pytest.raises(Conflict):
            funds.accept_agreement(db, fund=fund, by=fund.person)

    def test_an_agreed_plan_changes_only_by_a_change_of_use_request(self, db: Session) -> None:
        fund, council_side = planned(db)
        for side in (fund.person, holder_staff(fund), council_side):
            funds.accept_agreement(db, fund=fund, by=side)
        with pytest.raises(Conflict) as refused:
            funds.set_contingency(db, fund=fund, by=fund.person, amount_pence=100)
        assert "change-of-use" in refused.value.message

    def test_the_council_or_the_holder_may_decline_with_reasons(self, db: Session) -> None:
        fund, _ = planned(db)
        with pytest.raises(RuleBroken):
            funds.decline_fund(db, fund=fund, by=holder_staff(fund), reason="  ")
        funds.decline_fund(
            db, fund=fund, by=holder_staff(fund), reason="We have no space for new funds"
        )
        assert fund.status == FundStatus.DECLINED
        assert fund.end_reason == "We have no space for new funds"


class TestWhoSeesAFund:
    def test_only_the_three_sides_and_the_councils_fund_staff(self, db: Session) -> None:
        person, carer = represented(db)
        fund = requested(db, person=person)
        seen_by = {
            "person": person,
            "representative": carer,
            "holder staff": holder_staff(fund),
            "budget holder": budget_holder(db),
            "panel member": make_user(db, role=Role.PANEL_MEMBER, council="Highland"),
            "finance": make_user(db, role=Role.FINANCE, council="Highland"),
        }
        not_seen_by = {
            "another person": make_user(db),
            "another provider": make_provider(db, holds_isf=True).members[0].user,
            "another council's budget holder": budget_holder(db, council="Fife"),
            "another council's finance": make_user(db, role=Role.FINANCE, council="Fife"),
            "a commissioner": make_user(db, role=Role.COMMISSIONER, council="Highland"),
            "an administrator": make_user(db, role=Role.ADMIN),
        }
        assert {name for name, user in seen_by.items() if may_see(db, user, fund)} == set(seen_by)
        assert not {name for name, user in not_seen_by.items() if may_see(db, user, fund)}
        assert [f.id for f in funds.funds_for(db, user=carer)] == [fund.id]
        assert funds.funds_for(db, user=not_seen_by["another council's finance"]) == []

    def test_every_change_is_on_the_audit_log(self, db: Session) -> None:
        fund, _ = planned(db)
        write_pending(db)
        db.flush()
        changes = db.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.subject_type == funds.SUBJECT, AuditEvent.subject_id == str(fund.id)
            )
        ).all()
        assert [change["fields"] for change in changes] == [
            "requested",
            "budget",
            "plan_outcome",
            "budget_line",
        ]
