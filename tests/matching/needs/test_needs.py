"""Posted needs through their life: a person (or their representative) posts a need; it
reaches every provider whose published offers reach the person and fit it, and no other;
providers respond and the person is mailed; a need nobody answers in 14 days becomes unmet
and is counted as unmet demand without personal data; the daily run sends open needs to
providers whose offers have come to fit them since, and changes nothing when run again;
only the people a need concerns can see it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Role, User
from marketplace.accounts.policy import may_see
from marketplace.audit import AuditAction, AuditEvent
from marketplace.cli import app as cli_app
from marketplace.db import SCOTTISH_TIME, make_engine, make_sessionmaker, session_scope, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.forms import FormInvalid
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import Settings, get_settings
from matching.index import OfferIndex
from matching.models import UnmetDemand, UnmetDemandSource
from matching.needs import service as needs_service
from matching.needs import views as need_views
from matching.needs.models import NeedResponse, NeedStatus, PostedNeed
from providers import offers as offers_service
from providers.models import Offer, OfferStatus, Taxonomy
from tests.factories import make_offer, make_user, make_verified_provider
from tests.matching.needs.need_builders import (
    DESCRIPTION,
    SUNDAY_NIGHT,
    mails_to,
    make_trusted_offer,
    need_count,
    organisation_with_two_staff,
    post,
)
from tests.providers.test_enquiries import represented


@pytest.fixture
def index() -> OfferIndex:
    """A fresh index for each test: an index keeps the offers it has read."""
    return OfferIndex()


def member_of(offer: Offer) -> User:
    return offer.provider.members[0].user


def delivered(need: PostedNeed) -> dict[int, int]:
    return {delivery.provider_id: delivery.offer_id for delivery in need.deliveries}


def unmet_records(db: Session) -> list[UnmetDemand]:
    return list(
        db.scalars(select(UnmetDemand).where(UnmetDemand.source == UnmetDemandSource.POSTED_NEED))
    )


class TestPostingReachesTheProvidersThatFit:
    def test_only_providers_with_a_published_offer_that_reaches_and_fits(
        self, db: Session, index: OfferIndex
    ) -> None:
        fits = make_trusted_offer(db, title="Morning care")
        far_away = make_trusted_offer(db, provider=make_verified_provider(db, base="Inverness"))
        paused = make_trusted_offer(db)
        offers_service.pause_offer(db, offer=paused, actor=member_of(paused))
        withdrawn = make_trusted_offer(db)
        offers_service.withdraw_offer(db, offer=withdrawn, actor=member_of(withdrawn))
        other_kind = make_trusted_offer(db, kinds=("help-at-home",))
        draft = make_trusted_offer(db, publish=False)
        need = post(db, index)
        assert delivered(need) == {fits.provider_id: fits.id}
        assert {
            far_away.provider_id,
            paused.provider_id,
            withdrawn.provider_id,
            other_kind.provider_id,
            draft.provider_id,
        }.isdisjoint(delivered(need))
        assert (need.status, need.location_label, need.settlement.name, need.minutes_per_week) == (
            NeedStatus.OPEN,
            "Portree",
            "Portree",
            360,
        )
        assert need.respond_by == need.created_at + timedelta(days=14)

    def test_a_provider_with_several_fitting_offers_gets_it_once_through_one_of_them(
        self, db: Session, index: OfferIndex
    ) -> None:
        first = make_trusted_offer(db)
        second = make_trusted_offer(db, provider=first.provider, title="Evening care")
        need = post(db, index)
        assert list(delivered(need)) == [first.provider_id]
        assert delivered(need)[first.provider_id] in {first.id, second.id}

    def test_times_it_cannot_cover_keep_it_away(self, db: Session, index: OfferIndex) -> None:
        make_trusted_offer(db)  # weekday daytimes only
        assert post(db, index, when=SUNDAY_NIGHT).deliveries == []

    def test_every_member_is_mailed_what_is_needed_but_not_who_needs_it_nor_their_words(
        self, db: Session, index: OfferIndex, settings: Settings
    ) -> None:
        provider, owner, staff = organisation_with_two_staff(db, settings)
        make_trusted_offer(db, provider=provider, title="Morning care")
        person = make_user(db, name="Morag Lindsay", email="morag@example.org")
        need = post(
            db,
            index,
            poster=person,
            outcomes=["feeling-safe", "seeing-people"],
            minutes_per_week=150,
        )
        db.commit()
        for member in (owner, staff):
            [mail] = [m for m in mails_to(settings, member) if "need" in m.subject]
            assert mail.subject == "Someone near Portree needs support"
            for shown in (
                "Portree",
                "Personal care",
                "2 hours 30 minutes",
                "Monday: morning",
                f"/provider/needs/{need.id}",
                "Morning care",
            ):
                assert shown in mail.body, shown
            for kept_off_mail in ("Morag", "Lindsay", "morag@", DESCRIPTION, "Feeling safe"):
                assert kept_off_mail not in mail.body, kept_off_mail
        assert mails_to(settings, person) == []

    def test_a_representative_posts_for_the_person_they_act_for(
        self, db: Session, index: OfferIndex
    ) -> None:
        person, carer = represented(db)
        need = post(db, index, poster=carer, person=person)
        assert (need.person_id, need.posted_by_id) == (person.id, carer.id)
        stranger = make_user(db)
        with pytest.raises(FormInvalid) as refused:
            post(db, index, poster=carer, person=stranger)
        assert [(e.field, e.message) for e in refused.value.problems] == [
            ("person", "Choose a person you act for")
        ]

    def test_every_problem_is_refused_at_once_and_nothing_is_written(
        self, db: Session, index: OfferIndex
    ) -> None:
        make_trusted_offer(db)
        before = need_count(db)
        with pytest.raises(FormInvalid) as refused:
            post(
                db,
                index,
                location="Atlantis",
                kinds_of_support=[],
                outcomes=["no-such-outcome"],
                minutes_per_week=0,
                when=0,
                description="Help\x00",
            )
        fields = {e.field for e in refused.value.problems}
        assert fields == {
            "location",
            "kinds_of_support",
            "outcomes",
            "hours",
            "when",
            "description",
        }
        assert need_count(db) == before

    @pytest.mark.parametrize("minutes", [0, 169 * 60])
    def test_hours_outside_a_week_are_refused(
        self, db: Session, index: OfferIndex, minutes: int
    ) -> None:
        with pytest.raises(FormInvalid) as refused:
            post(db, index, minutes_per_week=minutes)
        assert [e.field for e in refused.value.problems] == ["hours"]

    def test_a_place_outside_scotland_is_refused(self, db: Session, index: OfferIndex) -> None:
        with pytest.raises(FormInvalid) as refused:
            post(db, index, location="51.50, -0.12")
        [error] = refused.value.problems
        assert error.field == "location" and "not on land in Scotland" in error.message


class TestResponding:
    def test_the_first_response_answers_the_need_and_mails_the_person_and_who_posted_it(
        self, db: Session, index: OfferIndex, settings: Settings
    ) -> None:
        person, carer = represented(db)
        offer = make_trusted_offer(db)
        need = post(db, index, poster=carer, person=person)
        response = needs_service.respond(
            db, need=need, member=member_of(offer), offer=offer, message="We can help on Mondays."
        )
        assert need.status == NeedStatus.ANSWERED
        assert (response.provider_id, response.offer_id, response.message) == (
            offer.provider_id,
            offer.id,
            "We can help on Mondays.",
        )
        db.commit()
        subject = f"{offer.provider.name} has responded to your need"
        for told in (person, carer):
            assert [m.subject for m in mails_to(settings, told) if "need" in m.subject] == [subject]

    def test_a_second_provider_may_respond_but_no_provider_twice(
        self, db: Session, index: OfferIndex
    ) -> None:
        one, two = make_trusted_offer(db), make_trusted_offer(db)
        need = post(db, index)
        needs_service.respond(
            db, need=need, member=member_of(one), offer=one, message="We can help."
        )
        needs_service.respond(db, need=need, member=member_of(two), offer=two, message="So can we.")
        assert need.status == NeedStatus.ANSWERED and len(need.responses) == 2
        with pytest.raises(Conflict, match="has already responded"):
            needs_service.respond(db, need=need, member=member_of(one), offer=one, message="Again.")

    def test_only_the_providers_own_published_offers_may_be_offered(
        self, db: Session, index: OfferIndex
    ) -> None:
        mine, theirs = make_trusted_offer(db), make_trusted_offer(db)
        paused = make_trusted_offer(db, provider=mine.provider, title="Paused care")
        offers_service.pause_offer(db, offer=paused, actor=member_of(mine))
        need = post(db, index)
        for offer in (theirs, paused, None):
            with pytest.raises(FormInvalid) as refused:
                needs_service.respond(
                    db, need=need, member=member_of(mine), offer=offer, message="We can help."
                )
            assert [e.field for e in refused.value.problems] == ["offer"]
        assert need.responses == [] and need.status == NeedStatus.OPEN

    def test_a_provider_the_need_did_not_reach_cannot_respond(
        self, db: Session, index: OfferIndex
    ) -> None:
        make_trusted_offer(db)
        far = make_trusted_offer(db, provider=make_verified_provider(db, base="Inverness"))
        need = post(db, index)
        with pytest.raises(NotFound):
            needs_service.respond(
                db, need=need, member=member_of(far), offer=far, message="We can help."
            )

    def test_no_responses_once_the_time_is_up_or_the_need_is_closed(
        self, db: Session, index: OfferIndex
    ) -> None:
        offer = make_trusted_offer(db)
        late = post(db, index)
        with pytest.raises(Conflict, match="no longer taking responses"):
            needs_service.respond(
                db,
                need=late,
                member=member_of(offer),
                offer=offer,
                message="Hello.",
                now=late.respond_by,
            )
        closed = post(db, index)
        needs_service.close_need(db, need=closed, actor=closed.person)
        assert closed.status == NeedStatus.CLOSED and closed.closed_at is not None
        with pytest.raises(Conflict):
            needs_service.respond(
                db, need=closed, member=member_of(offer), offer=offer, message="Hello."
            )
        with pytest.raises(Conflict):
            needs_service.close_need(db, need=closed, actor=closed.person)

    def test_only_the_persons_side_may_close_it(self, db: Session, index: OfferIndex) -> None:
        offer = make_trusted_offer(db)
        need = post(db, index)
        for someone in (make_user(db), member_of(offer)):
            with pytest.raises(NotFound):
                needs_service.close_need(db, need=need, actor=someone)
        assert need.status == NeedStatus.OPEN


class TestUnmetDemand:
    def test_a_need_nobody_answers_in_14_days_is_counted_without_personal_data(
        self, db: Session, index: OfferIndex, settings: Settings
    ) -> None:
        person = make_user(db)
        need = post(
            db,
            index,
            poster=person,
            kinds_of_support=["personal-care", "help-at-home"],
            outcomes=["feeling-safe"],
            client_groups=["older-people"],
        )
        before = len(unmet_records(db))
        just_before = needs_service.run_daily(
            db, index=index, now=need.respond_by - timedelta(seconds=1)
        )
        assert just_before.unmet == 0 and need.status == NeedStatus.OPEN

        done = needs_service.run_daily(db, index=index, now=need.respond_by)
        assert done.unmet == 1 and need.status == NeedStatus.UNMET
        [record] = unmet_records(db)[before:]
        assert record.settlement.name == "Portree" and record.council_id == need.council_id
        assert sorted(t.code for t in record.terms) == [
            "feeling-safe",
            "help-at-home",
            "personal-care",
        ]
        assert record.recorded_on == need.respond_by.astimezone(SCOTTISH_TIME).date()
        db.commit()
        assert [m.subject for m in mails_to(settings, person)] == [
            "Nobody has responded to your need"
        ]

    def test_the_record_cannot_lead_back_to_the_person(self, db: Session) -> None:
        columns = {column.name for column in inspect(UnmetDemand).columns}
        assert columns == {"id", "source", "settlement_id", "council_id", "recorded_on"}
        tables = {
            UnmetDemand.__table__,
            *(
                t
                for t in UnmetDemand.__table__.metadata.tables.values()
                if t.name == "unmet_demand_term"
            ),
        }
        pointed_at = {fk.column.table.name for table in tables for fk in table.foreign_keys}
        assert pointed_at == {"settlement", "council_area", "unmet_demand", "taxonomy_term"}

    def test_a_need_answered_in_time_is_not_unmet(self, db: Session, index: OfferIndex) -> None:
        offer = make_trusted_offer(db)
        need = post(db, index)
        needs_service.respond(
            db,
            need=need,
            member=member_of(offer),
            offer=offer,
            message="We can help.",
            now=need.respond_by - timedelta(minutes=1),
        )
        before = len(unmet_records(db))
        assert (
            needs_service.run_daily(db, index=index, now=need.respond_by + timedelta(days=30)).unmet
            == 0
        )
        assert need.status == NeedStatus.ANSWERED and len(unmet_records(db)) == before

    def test_a_closed_need_is_not_unmet(self, db: Session, index: OfferIndex) -> None:
        need = post(db, index)
        needs_service.close_need(db, need=need, actor=need.person)
        assert (
            needs_service.run_daily(db, index=index, now=need.respond_by + timedelta(days=1)).unmet
            == 0
        )
        assert need.status == NeedStatus.CLOSED


class TestTheDailyRun:
    def test_an_offer_published_since_gets_it_at_once_and_the_run_sends_nothing_more(
        self, db: Session, index: OfferIndex, settings: Settings
    ) -> None:
        need = post(db, index)
        assert need.deliveries == []
        later = make_trusted_offer(db, title="New morning care")
        make_trusted_offer(
            db, provider=make_verified_provider(db, base="Inverness")
        )  # out of reach
        assert delivered(need) == {later.provider_id: later.id}, (
            "sent as the offer was published, not a day later"
        )
        tomorrow = need.created_at + timedelta(days=1)
        again = needs_service.run_daily(db, index=index, now=tomorrow)
        assert (again.deliveries, again.needs_reached, again.unmet) == (0, 0, 0)
        assert len(need.deliveries) == 1
        db.commit()
        assert [m.subject for m in mails_to(settings, member_of(later))] == [
            "Someone near Portree needs support"
        ]

    def test_an_offer_changed_to_fit_gets_it_when_changed(
        self, db: Session, index: OfferIndex
    ) -> None:
        need = post(db, index, when=SUNDAY_NIGHT)
        offer = make_trusted_offer(db)  # weekday daytimes only: it does not fit
        assert need.deliveries == []
        offers_service.update_offer(
            db,
            offer=offer,
            actor=member_of(offer),
            details=offers_service.OfferDetails(
                title=offer.title,
                description=offer.description,
                term_ids=[t.id for t in offer.terms],
                area_type=offer.area_type,
                radius_km=offer.radius_km,
                availability=offer.availability | SUNDAY_NIGHT,
                capacity_amount=offer.capacity_amount,
            ),
        )
        assert delivered(need) == {offer.provider_id: offer.id}

    def test_a_need_past_its_time_is_not_sent_to_anyone_new(
        self, db: Session, index: OfferIndex
    ) -> None:
        need = post(db, index, now=utcnow() - timedelta(days=needs_service.RESPONSE_DAYS + 1))
        make_trusted_offer(db)
        assert need.deliveries == [], "not when the offer is published"
        done = needs_service.run_daily(db, index=index, now=utcnow())
        assert (done.unmet, done.deliveries) == (1, 0)
        assert need.deliveries == []
        assert needs_service.run_daily(db, index=index, now=utcnow()).unmet == 0

    def test_an_answered_need_still_reaches_new_providers(
        self, db: Session, index: OfferIndex
    ) -> None:
        first = make_trusted_offer(db)
        need = post(db, index)
        needs_service.respond(
            db, need=need, member=member_of(first), offer=first, message="We can help."
        )
        later = make_trusted_offer(db)
        assert later.provider_id in delivered(need)


class TestWhoMaySeeANeed:
    def test_the_people_it_concerns_and_administrators_only(
        self, db: Session, index: OfferIndex
    ) -> None:
        person, carer = represented(db)
        other_carer = make_user(db, role=Role.REPRESENTATIVE)
        accounts_service.add_representative(
            db,
            supported_person=person,
            representative_email=other_carer.email,
            relationship_kind=Relationship.GUARDIAN,
        )
        reached = make_trusted_offer(db)
        not_reached = make_trusted_offer(db, provider=make_verified_provider(db, base="Inverness"))
        need = post(db, index, poster=carer, person=person)
        allowed = [person, carer, other_carer, member_of(reached), make_user(db, role=Role.ADMIN)]
        refused = [
            make_user(db),
            make_user(db, role=Role.REPRESENTATIVE),
            member_of(not_reached),
            *(
                make_user(db, role=role)
                for role in (Role.COMMISSIONER, Role.BUDGET_HOLDER, Role.PANEL_MEMBER, Role.FINANCE)
            ),
        ]
        assert [may_see(db, user, need) for user in allowed] == [True] * len(allowed)
        assert [may_see(db, user, need) for user in refused] == [False] * len(refused)

    def test_a_view_is_in_the_audit_log(self, db: Session, index: OfferIndex) -> None:
        need = post(db, index)
        viewer = make_user(db, role=Role.ADMIN)
        need_views.record_view(db, viewer=viewer, need=need)
        db.flush()
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.actor_id == viewer.id,
                    AuditEvent.action == AuditAction.RECORD_VIEWED,
                    AuditEvent.subject_type == "posted_need",
                    AuditEvent.subject_id == str(need.id),
                )
            )
            == 1
        )

    def test_the_providers_summary_has_no_one_in_it(self, db: Session, index: OfferIndex) -> None:
        person = make_user(db, name="Morag Lindsay", email="morag@example.org")
        need = post(db, index, poster=person)
        shown = repr(need_views.summary_of(need))
        assert "Morag" not in shown and "Lindsay" not in shown and "morag@" not in shown


class TestTheCommand:
    def test_needs_run_reports_what_it_did_and_twice_does_nothing_more(
        self, cli_database: str
    ) -> None:
        runner = CliRunner()
        assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
        settings = get_settings()
        engine = make_engine(settings.database_url)
        with session_scope(make_sessionmaker(engine)) as session:
            attach_mailer(session, Mailer(settings))
            index = OfferIndex()
            post(
                session, index, now=utcnow() - timedelta(days=15)
            )  # nobody can answer: no offers yet
            post(session, index)
            # Published in bulk, as matching.bench loads offers, not through publish_offer,
            # which would have sent it the need at once: the daily run catches it.
            offer = make_offer(session, provider=make_verified_provider(session), publish=False)
            offer.status, offer.published_at = OfferStatus.PUBLISHED, utcnow()
        first = runner.invoke(cli_app, ["needs", "run"])
        assert first.exit_code == 0, first.output
        assert "Marked 1 need as unmet" in first.output
        assert "Sent 1 open need to 1 more provider." in first.output
        second = runner.invoke(cli_app, ["needs", "run"])
        assert second.exit_code == 0, second.output
        assert "Marked 0 needs as unmet" in second.output
        assert "Sent 0 open needs to 0 more providers." in second.output
        with Session(engine) as session:
            statuses = sorted(need.status for need in session.scalars(select(PostedNeed)))
            assert statuses == [NeedStatus.OPEN, NeedStatus.UNMET]
            assert session.scalar(select(func.count()).select_from(UnmetDemand)) == 1
            assert session.scalar(select(func.count()).select_from(NeedResponse)) == 0
            assert {t.taxonomy for t in session.scalars(select(UnmetDemand)).one().terms} == {
                Taxonomy.KIND_OF_SUPPORT,
                Taxonomy.PERSONAL_OUTCOME,
            }
        engine.dispose()
