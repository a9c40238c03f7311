"""Asking for a change of use: the preview, the overspend rule, routing by the council's
rules and delegated authority (at the limit and a penny over), deadlines in working days,
and what each kind of change does to the plan once approved."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.models import ChangeKind, ChangeRoute, ChangeStatus, ChangeStep
from contracts.funds.models import BudgetLineKind
from contracts.funds.plan import line_period_pence
from contracts.funds.statement import statement_of
from contracts.spending.fees import fee_on_pence
from marketplace.accounts.models import Role
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from providers import offers as offers_service
from providers.models import PriceUnit
from tests.contracts.changes.change_builders import (
    TUESDAY,
    active_plan,
    administrator,
    ask,
    at,
    budget_holder_with,
    mails_to,
)
from tests.contracts.funds.fund_builders import MONDAY_MORNING, TUESDAY_MORNING
from tests.factories import make_offer, make_provider, make_user


def draft(db: Session, plan, **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("outcome_ids", (plan.swimming.outcomes[0].id,))
    fields.setdefault("reason", "Because it suits me better.")
    fields.setdefault("starts_on", TUESDAY)
    asked = changes.ChangeAsked(**fields)
    request = changes.draft_request(db, fund=plan.fund, by=plan.person, asked=asked, today=TUESDAY)
    shown, _ = changes.preview(db, plan.fund, request, today=TUESDAY)
    return shown


class TestThePreview:
    def test_a_purchase_shows_what_it_adds_to_the_commitments_and_takes_off_the_projection(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        before = statement_of(db, plan.fund, on=TUESDAY)
        shown = draft(
            db, plan, kind=ChangeKind.PURCHASE, title="A bike for the summer", amount_pence=30_000
        )
        assert shown.statement == before
        assert shown.committed_after_pence == before.committed_pence + 30_000
        fee_added = fee_on_pence(plan.fund, before.committed_pence + 30_000) - fee_on_pence(
            plan.fund, before.committed_pence
        )
        assert shown.projected_after_pence == before.projected_end_pence - 30_000 - fee_added
        assert shown.amount_pence == 30_000
        assert shown.overspend_pence == 0

    def test_moving_money_between_lines_changes_neither_commitment_nor_projection(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        shown = draft(
            db,
            plan,
            kind=ChangeKind.MOVE,
            from_line_id=plan.swimming.id,
            line_id=plan.gym.id,
            moved_pence=12_345,
        )
        assert shown.committed_after_pence == shown.statement.committed_pence
        assert shown.projected_after_pence == shown.statement.projected_end_pence
        assert (shown.route, shown.amount_pence) == (ChangeRoute.LIGHT_TOUCH, 12_345)

    def test_nothing_is_written_by_a_preview(self, db: Session) -> None:
        plan = active_plan(db)
        lines = [(line.id, line.moved_pence, line.ends_on) for line in plan.fund.lines]
        draft(db, plan, kind=ChangeKind.PAUSE, line_id=plan.swimming.id)
        db.flush()
        db.expire_all()
        assert [(line.id, line.moved_pence, line.ends_on) for line in plan.fund.lines] == lines
        assert changes_on(db, plan) == []


def changes_on(db: Session, plan) -> list:  # type: ignore[no-untyped-def]
    return decisions.requests_on(db, plan.fund)


class TestOverspending:
    def test_a_purchase_beyond_the_contingency_cannot_be_sent_and_says_by_how_much(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        before = statement_of(db, plan.fund, on=TUESDAY)
        # The projection keeps the contingency, the headroom and what was not spent so far;
        # a purchase of all of it and £1 more goes over by £1 and the fee on it.
        amount = before.projected_end_pence + 100
        fee_added = fee_on_pence(plan.fund, before.committed_pence + amount) - fee_on_pence(
            plan.fund, before.committed_pence
        )
        with pytest.raises(RuleBroken) as refused:
            ask(db, plan, kind=ChangeKind.PURCHASE, title="A mobility scooter", amount_pence=amount)
        over = amount + fee_added - before.projected_end_pence
        assert f"overspend the fund by £{over / 100:,.2f} beyond its contingency" in str(
            refused.value.message
        )
        assert changes_on(db, plan) == []

    def test_the_same_purchase_can_be_sent_when_money_is_moved_from_another_line_for_it(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        before = statement_of(db, plan.fund, on=TUESDAY)
        amount = before.projected_end_pence + 100
        request = ask(
            db,
            plan,
            kind=ChangeKind.PURCHASE,
            title="A mobility scooter",
            amount_pence=amount,
            from_line_id=plan.swimming.id,
            moved_pence=amount,
        )
        assert request.status == ChangeStatus.WAITING

    def test_a_change_that_saves_money_is_never_refused_for_overspending(self, db: Session) -> None:
        plan = active_plan(db)
        request = ask(db, plan, kind=ChangeKind.PAUSE, line_id=plan.swimming.id)
        assert request.amount_pence > 0 and request.status == ChangeStatus.WAITING


class TestRouting:
    def test_a_move_between_lines_for_the_same_outcome_is_approved_at_once_with_a_notice(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        request = ask(
            db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=20_000
        )
        assert (request.route, request.status) == (ChangeRoute.LIGHT_TOUCH, ChangeStatus.APPROVED)
        assert request.decided_by_id is None and request.decided_under_id == request.rules_id
        assert (plan.swimming.moved_pence, plan.gym.moved_pence) == (-20_000, 20_000)
        assert [event.step for event in request.events] == [ChangeStep.SENT, ChangeStep.APPROVED]
        assert mails_to(db, plan.person) == ["Your change of use is approved"]

    def test_light_touch_stops_at_the_councils_limit_for_the_period(self, db: Session) -> None:
        plan = active_plan(db)
        limit = change_rules.DEFAULT_RULES.light_touch_limit_pence
        first = ask(
            db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=limit - 1
        )
        second = ask(db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=2)
        assert first.route == ChangeRoute.LIGHT_TOUCH
        assert second.route != ChangeRoute.LIGHT_TOUCH
        third = ask(db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=1)
        assert third.route == ChangeRoute.LIGHT_TOUCH  # exactly the limit, all told

    def test_a_move_to_a_line_for_another_outcome_is_not_light_touch(self, db: Session) -> None:
        plan = active_plan(db)
        budget_holder_with(db, per_request_pence=50_000)
        request = ask(
            db, plan, from_line_id=plan.swimming.id, line_id=plan.lunch_club.id, moved_pence=100
        )
        assert (request.route, request.status) == (ChangeRoute.DELEGATED, ChangeStatus.WAITING)

    def test_at_a_budget_holders_limit_they_decide_and_a_penny_over_the_panel_does(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=30_000)
        at_limit = ask(
            db, plan, kind=ChangeKind.PURCHASE, title="Swimming kit", amount_pence=30_000
        )
        over = ask(db, plan, kind=ChangeKind.PURCHASE, title="Swimming kit", amount_pence=30_001)
        assert at_limit.route == ChangeRoute.DELEGATED
        assert over.route == ChangeRoute.PANEL
        assert mails_to(db, holder) == ["A change-of-use request to decide"]

    def test_what_a_budget_holder_approved_on_the_fund_counts_towards_their_yearly_limit(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=30_000, per_fund_year_pence=40_000)
        first = ask(db, plan, kind=ChangeKind.PURCHASE, title="Swimming kit", amount_pence=30_000)
        decisions.approve_request(db, request=first, by=holder, now=at(TUESDAY))
        at_year = ask(db, plan, kind=ChangeKind.PURCHASE, title="Goggles", amount_pence=10_000)
        over_year = ask(db, plan, kind=ChangeKind.PURCHASE, title="Goggles", amount_pence=10_001)
        assert at_year.route == ChangeRoute.DELEGATED
        assert over_year.route == ChangeRoute.PANEL

    def test_with_no_delegated_authority_set_everything_beyond_light_touch_goes_to_the_panel(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        request = ask(db, plan, kind=ChangeKind.PURCHASE, title="A kettle", amount_pence=2_000)
        rules = change_rules.DEFAULT_RULES
        assert request.route == ChangeRoute.PANEL
        assert request.sitting_on == change_rules.next_sitting(rules, TUESDAY)
        assert request.sitting_on > TUESDAY
        assert (request.sitting_on - rules.panel_first_sits_on).days % 14 == 0


class TestDeadlines:
    def test_a_budget_holder_has_five_working_days_not_counting_christmas_or_new_year(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        budget_holder_with(db, per_request_pence=50_000)
        christmas_eve = date(2027, 12, 24)  # a Friday
        request = ask(
            db,
            plan,
            kind=ChangeKind.PURCHASE,
            title="A warm coat",
            amount_pence=8_000,
            on=christmas_eve,
        )
        # Christmas Day and Boxing Day fall at the weekend and are observed on Monday 27 and
        # Tuesday 28; New Year's Day and 2 January (a Scottish holiday) fall at the next
        # weekend and are observed on Monday 3 and Tuesday 4 January. The five working days
        # are 29, 30 and 31 December and 5 and 6 January.
        assert request.due_on == date(2028, 1, 6)

    def test_working_days_skip_weekends_and_scotlands_own_holidays(self) -> None:
        st_andrews_day = date(2027, 11, 30)  # a Tuesday
        assert change_rules.public_holiday(st_andrews_day) is not None
        assert not change_rules.is_working_day(st_andrews_day)
        assert change_rules.add_working_days(date(2027, 11, 29), 1) == date(2027, 12, 1)
        assert change_rules.add_working_days(date(2027, 11, 27), 0) == date(2027, 11, 29)
        assert change_rules.working_days_between(date(2027, 11, 26), date(2027, 12, 1)) == 2

    def test_light_touch_is_decided_the_day_it_is_sent(self, db: Session) -> None:
        plan = active_plan(db)
        request = ask(db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=1)
        assert request.due_on == TUESDAY


class TestWhatAnApprovalDoes:
    def test_a_new_offer_is_costed_at_its_price_when_asked_and_added_as_a_line(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=500_000)
        offer = make_offer(
            db, title="Art class in the village hall", rate_pence=2500, unit=PriceUnit.HOUR
        )
        request = ask(
            db,
            plan,
            kind=ChangeKind.NEW_OFFER,
            offer_id=offer.id,
            minutes_per_week=120,
            when=TUESDAY_MORNING,
            from_line_id=plan.swimming.id,
            moved_pence=200_000,
        )
        assert request.weekly_pence == 5_000  # 2 hours at £25
        decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
        line = request.new_line
        assert line is not None and line.kind == BudgetLineKind.OFFER
        assert (line.starts_on, line.ends_on, line.weekly_pence) == (
            TUESDAY,
            plan.fund.period_ends_on,
            5_000,
        )
        assert line.offer_price_id == request.offer_price_id
        assert plan.swimming.moved_pence == -200_000
        assert [o.id for o in line.outcomes] == [o.id for o in request.outcomes]

    def test_new_hours_on_a_line_keep_its_agreed_price_and_carry_on_as_a_new_line(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=500_000)
        swimming_offer = plan.swimming.offer
        assert swimming_offer is not None and swimming_offer.price is not None
        offers_service.set_price(
            db,
            offer=swimming_offer,
            actor=swimming_offer.provider.members[0].user,
            details=offers_service.PriceDetails(unit=swimming_offer.price.unit, rate_pence=3000),
        )
        september = date(2027, 9, 6)
        request = ask(
            db,
            plan,
            kind=ChangeKind.HOURS,
            line_id=plan.swimming.id,
            minutes_per_week=360,
            when=MONDAY_MORNING,
            starts_on=september,
        )
        assert request.weekly_pence == 12_000  # 6 hours at the agreed £20, not the new £30
        decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))
        new = request.new_line
        assert new is not None and new.replaces_id == plan.swimming.id
        assert plan.swimming.ends_on == september - timedelta(days=1)
        assert (new.starts_on, new.ends_on, new.minutes_per_week) == (
            september,
            plan.fund.period_ends_on,
            360,
        )

    def test_two_changes_waiting_on_one_line_cannot_both_carry_it_on(self, db: Session) -> None:
        # Both were asked about the line as it was; once one has changed it, the other
        # would pay its weeks twice, so it cannot be approved until asked again.
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=500_000)
        september, november = date(2027, 9, 6), date(2027, 11, 1)
        fewer = ask(
            db,
            plan,
            kind=ChangeKind.HOURS,
            line_id=plan.swimming.id,
            minutes_per_week=60,
            when=MONDAY_MORNING,
            starts_on=november,
        )
        paused = ask(db, plan, kind=ChangeKind.PAUSE, line_id=plan.swimming.id, starts_on=september)
        more = ask(
            db,
            plan,
            kind=ChangeKind.HOURS,
            line_id=plan.swimming.id,
            minutes_per_week=360,
            when=MONDAY_MORNING,
            starts_on=september,
        )
        decisions.approve_request(db, request=fewer, by=holder, now=at(TUESDAY))
        for waiting in (more, paused):
            with pytest.raises(RuleBroken) as refused:
                decisions.approve_request(db, request=waiting, by=holder, now=at(TUESDAY))
            assert "has changed since" in refused.value.message
            assert waiting.status == ChangeStatus.WAITING
        assert [line.replaces_id for line in plan.fund.lines].count(plan.swimming.id) == 1
        with pytest.raises(RuleBroken):
            ask(db, plan, kind=ChangeKind.PAUSE, line_id=plan.swimming.id, starts_on=september)

    def test_a_paused_line_cannot_have_its_hours_changed_or_be_paused_again(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=500_000)
        july = date(2027, 7, 5)
        pause = ask(db, plan, kind=ChangeKind.PAUSE, line_id=plan.swimming.id, starts_on=july)
        decisions.approve_request(db, request=pause, by=holder, now=at(TUESDAY))
        for kind in (ChangeKind.PAUSE, ChangeKind.HOURS):
            with pytest.raises(RuleBroken) as refused:
                ask(
                    db,
                    plan,
                    kind=kind,
                    line_id=plan.swimming.id,
                    minutes_per_week=60,
                    when=MONDAY_MORNING,
                    starts_on=date(2027, 6, 7),
                )
            assert "is paused from 5 July 2027: ask to start it again first" in (
                refused.value.message
            )

    def test_a_paused_line_stops_and_can_be_started_again_until_the_day_it_was_to_end(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=500_000)
        july, october = date(2027, 7, 5), date(2027, 10, 4)
        pause = ask(db, plan, kind=ChangeKind.PAUSE, line_id=plan.swimming.id, starts_on=july)
        decisions.approve_request(db, request=pause, by=holder, now=at(TUESDAY))
        assert (plan.swimming.ends_on, plan.swimming.paused_on) == (july - timedelta(days=1), july)
        resume = ask(db, plan, kind=ChangeKind.RESUME, line_id=plan.swimming.id, starts_on=october)
        with pytest.raises(NotAllowed):  # nobody decides what they asked for
            decisions.approve_request(db, request=resume, by=plan.person, now=at(TUESDAY))
        decisions.approve_request(db, request=resume, by=holder, now=at(TUESDAY))
        again = resume.new_line
        assert again is not None
        assert (again.starts_on, again.ends_on, again.weekly_pence) == (
            october,
            plan.fund.period_ends_on,
            plan.swimming.weekly_pence,
        )
        with pytest.raises(RuleBroken):
            ask(db, plan, kind=ChangeKind.RESUME, line_id=plan.swimming.id, starts_on=october)

    def test_money_moved_out_of_a_line_is_no_longer_committed_on_it(self, db: Session) -> None:
        plan = active_plan(db)
        before = line_period_pence(
            plan.swimming, plan.fund.period_starts_on, plan.fund.period_ends_on
        )[0]  # type: ignore[arg-type]
        ask(db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=5_000)
        after = line_period_pence(
            plan.swimming, plan.fund.period_starts_on, plan.fund.period_ends_on
        )[0]  # type: ignore[arg-type]
        assert before - after == 5_000
        statement = statement_of(db, plan.fund, on=TUESDAY)
        assert (
            statement.projected_end_pence
            == draft(
                db, plan, kind=ChangeKind.PAUSE, line_id=plan.gym.id, starts_on=date(2028, 3, 31)
            ).statement.projected_end_pence
        )

    def test_more_cannot_be_moved_out_of_a_line_than_it_still_has(self, db: Session) -> None:
        plan = active_plan(db)
        late = date(2028, 3, 27)
        with pytest.raises(RuleBroken) as refused:
            ask(
                db,
                plan,
                from_line_id=plan.gym.id,
                line_id=plan.swimming.id,
                moved_pence=100_000,
                on=late,
            )
        assert refused.value.field == "moved"


class TestWhoMayAsk:
    def test_the_holders_staff_may_ask_and_another_provider_may_not_even_see_the_fund(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        request = ask(
            db,
            plan,
            by=plan.holder,
            from_line_id=plan.swimming.id,
            line_id=plan.gym.id,
            moved_pence=100,
        )
        assert request.requested_by_id == plan.holder.id
        stranger = make_provider(db).members[0].user
        with pytest.raises(NotFound):
            ask(
                db,
                plan,
                by=stranger,
                from_line_id=plan.swimming.id,
                line_id=plan.gym.id,
                moved_pence=100,
            )

    def test_the_council_does_not_ask_for_changes_it_decides(self, db: Session) -> None:
        plan = active_plan(db)
        with pytest.raises(NotAllowed):
            ask(
                db,
                plan,
                by=plan.council_side,
                from_line_id=plan.swimming.id,
                line_id=plan.gym.id,
                moved_pence=100,
            )

    def test_a_withdrawn_request_cannot_be_decided(self, db: Session) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        request = ask(db, plan, kind=ChangeKind.PURCHASE, title="A kettle", amount_pence=2_000)
        changes.withdraw_request(db, request=request, by=plan.person, reason="Got one as a gift")
        assert request.status == ChangeStatus.WITHDRAWN
        with pytest.raises(Conflict):
            decisions.approve_request(db, request=request, by=holder, now=at(TUESDAY))


class TestRulesAsData:
    def test_a_new_version_of_the_rules_applies_to_requests_sent_after_it_and_decisions_name_it(
        self, db: Session
    ) -> None:
        plan = active_plan(db)
        holder = budget_holder_with(db, per_request_pence=50_000)
        sent_under_first = ask(
            db, plan, kind=ChangeKind.PURCHASE, title="A kettle", amount_pence=2_000
        )
        first = change_rules.rules_in_force(db, plan.fund.council_id)
        assert first.version == 1 and first.set_by_id is None
        values = change_rules.RuleValues(
            **{
                **change_rules.DEFAULT_RULES.__dict__,
                "delegated_days": 2,
                "light_touch_limit_pence": 0,
            }
        )
        second = change_rules.set_rules(
            db,
            council=plan.fund.council,
            by=administrator(db),
            values=values,
            note="Quicker decisions, agreed by the partnership board",
        )
        assert second.version == 2
        sent_under_second = ask(
            db, plan, kind=ChangeKind.PURCHASE, title="A kettle", amount_pence=2_000
        )
        assert sent_under_first.rules_id == first.id
        assert sent_under_first.due_on == change_rules.add_working_days(TUESDAY, 5)
        assert sent_under_second.due_on == change_rules.add_working_days(TUESDAY, 2)
        decisions.approve_request(db, request=sent_under_first, by=holder, now=at(TUESDAY))
        assert sent_under_first.decided_under_id == second.id
        no_light_touch = ask(
            db, plan, from_line_id=plan.swimming.id, line_id=plan.gym.id, moved_pence=1
        )
        assert no_light_touch.route == ChangeRoute.DELEGATED

    def test_only_administrators_change_rules_and_authority(self, db: Session) -> None:
        plan = active_plan(db)
        with pytest.raises(NotAllowed):
            change_rules.set_rules(
                db,
                council=plan.fund.council,
                by=plan.council_side,
                values=change_rules.DEFAULT_RULES,
                note="Mine",
            )
        with pytest.raises(NotAllowed):
            change_rules.set_authority(
                db,
                holder=plan.council_side,
                by=plan.council_side,
                per_request_pence=10**7,
                per_fund_year_pence=10**7,
                note="Mine",
            )

    def test_delegated_authority_keeps_its_history(self, db: Session) -> None:
        holder = budget_holder_with(db, per_request_pence=10_000)
        admin = administrator(db)
        change_rules.set_authority(
            db,
            holder=holder,
            by=admin,
            per_request_pence=25_000,
            per_fund_year_pence=60_000,
            note="Promoted to team manager",
        )
        history = change_rules.authority_history(db, holder.id)
        assert (history[0].per_request_pence, history[0].set_by_id) == (25_000, admin.id)
        assert [a.per_request_pence for a in history] == [25_000, 10_000]
        assert change_rules.authority_of(db, holder.id) == history[0]

    def test_limits_out_of_order_are_refused(self, db: Session) -> None:
        holder = make_user(db, role=Role.BUDGET_HOLDER)
        with pytest.raises(RuleBroken):
            change_rules.set_authority(
                db,
                holder=holder,
                by=administrator(db),
                per_request_pence=20_000,
                per_fund_year_pence=10_000,
                note="Oops",
            )
