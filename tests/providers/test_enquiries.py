"""Enquiries through their life: a person or their representative asks about a published
offer and is quoted its price at that moment; the provider replies, then arranges or
declines; everyone involved is mailed once the transaction commits; only the people an
enquiry concerns can see it; bad input is refused by its field and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Role, User
from marketplace.accounts.policy import may_see
from marketplace.audit import AuditAction, AuditEvent
from marketplace.errors import Conflict, NotFound, RuleBroken
from marketplace.forms import parse_hours
from marketplace.mail import read_outbox
from marketplace.settings import Settings
from providers import enquiries as enquiries_service
from providers import offers as offers_service
from providers.models import (
    Enquiry,
    EnquiryMessage,
    EnquiryStatus,
    Offer,
    PriceUnit,
    availability_bit,
)
from providers.offers import PriceDetails
from providers.pricing import describe_minutes
from providers.schemas import availability_mask, availability_values
from tests.factories import make_offer, make_provider, make_user

MONDAY_MORNING = availability_bit(0, 0)
WEDNESDAY_AFTERNOON = availability_bit(2, 1)


def enquire(
    db: Session, *, offer: Offer | None = None, sender: User | None = None, **fields: Any
) -> Enquiry:
    """An enquiry sent through the service: 6 hours a week on Monday mornings, by default
    from a new supported person about a new offer at £20.00 an hour."""
    offer = offer or make_offer(db)
    sender = sender or make_user(db)
    values: dict[str, Any] = {
        "person": sender if sender.role == Role.SUPPORTED_PERSON else None,
        "minutes_per_week": 6 * 60,
        "availability": MONDAY_MORNING,
        "message": "I would like help getting to the shops.",
    } | fields
    return enquiries_service.send_enquiry(db, offer=offer, sender=sender, **values)


def member_of(enquiry: Enquiry) -> User:
    return enquiry.provider.members[0].user


def arranged(db: Session, **fields: Any) -> Enquiry:
    """An enquiry the provider has replied to and marked as arranged."""
    enquiry = enquire(db, **fields)
    enquiries_service.reply(db, enquiry=enquiry, author=member_of(enquiry), body="We can help.")
    enquiries_service.mark_arranged(db, enquiry=enquiry, actor=member_of(enquiry))
    return enquiry


def represented(db: Session) -> tuple[User, User]:
    """A supported person and a representative who acts for them."""
    person = make_user(db)
    carer = make_user(db, role=Role.REPRESENTATIVE)
    accounts_service.add_representative(
        db,
        supported_person=person,
        representative_email=carer.email,
        relationship_kind=Relationship.CARER,
    )
    return person, carer


def enquiry_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Enquiry)) or 0


def sent_mail(db: Session, settings: Settings) -> list[tuple[str, str]]:
    db.commit()  # mail goes out only when the transaction commits
    return sorted((m.to, m.subject) for m in read_outbox(settings.outbox_dir))


class TestHoursAndTimes:
    @pytest.mark.parametrize(
        ("typed", "minutes"),
        [("6", 360), ("2.5", 150), (" 1.25 ", 75), ("168", 10080), ("3 hours", 180)],
    )
    def test_hours_are_read_as_minutes(self, typed: str, minutes: int) -> None:
        assert parse_hours(typed) == minutes

    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("", "Enter a number of hours, for example 6 or 2.5"),
            ("six", "Enter the hours as a number, for example 6 or 2.5"),
            ("0", "Enter more than 0 hours"),
            ("-2", "Enter more than 0 hours"),
            ("200", "A week has 168 hours: enter 168 or fewer"),
            ("168.5", "A week has 168 hours: enter 168 or fewer"),
            ("1.001", "Enter the hours to the nearest minute, for example 2.5 or 2.25"),
            ("NaN", "Enter the hours as a number, for example 6 or 2.5"),
        ],
    )
    def test_nonsense_hours_are_explained(self, typed: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            parse_hours(typed)

    def test_ticked_boxes_make_an_availability_mask_and_back(self) -> None:
        mask = availability_mask(["0-0", "2-1", "6-3"])
        assert mask == MONDAY_MORNING | WEDNESDAY_AFTERNOON | availability_bit(6, 3)
        assert availability_values(mask) == ["0-0", "2-1", "6-3"]
        assert enquiries_service.describe_availability(mask) == [
            ("Monday", ["morning"]),
            ("Wednesday", ["afternoon"]),
            ("Sunday", ["night"]),
        ]

    @pytest.mark.parametrize("choice", ["7-0", "0-4", "x-1", "01", "-1-0", 3, None, ["0-0"]])
    def test_boxes_outside_the_table_are_refused(self, choice: object) -> None:
        with pytest.raises(ValueError, match="Choose from the days and times given"):
            availability_mask([choice])  # type: ignore[list-item]

    @pytest.mark.parametrize(
        ("minutes", "text"),
        [(60, "1 hour"), (150, "2 hours 30 minutes"), (20, "20 minutes"), (61, "1 hour 1 minute")],
    )
    def test_minutes_in_words(self, minutes: int, text: str) -> None:
        assert describe_minutes(minutes) == text


class TestSendEnquiry:
    def test_a_person_enquires_and_the_current_price_is_their_quote(self, db: Session) -> None:
        offer = make_offer(db, rate_pence=2000)
        person = make_user(db)
        enquiry = enquire(
            db,
            offer=offer,
            sender=person,
            minutes_per_week=150,
            availability=MONDAY_MORNING | WEDNESDAY_AFTERNOON,
        )
        assert (enquiry.person, enquiry.sent_by, enquiry.provider) == (
            person,
            person,
            offer.provider,
        )
        assert enquiry.status == EnquiryStatus.NEW
        assert enquiry.offer_price == offer.price
        quote = enquiries_service.quote_for(enquiry)
        assert (quote.per_hour_pence, quote.support_pence, quote.fee_pence, quote.total_pence) == (
            2000,
            5000,
            0,
            5000,
        )

    def test_a_later_price_change_never_alters_the_quote(self, db: Session) -> None:
        offer = make_offer(db, rate_pence=2000)
        enquiry = enquire(db, offer=offer)
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2600),
        )
        db.expire_all()
        assert offer.price is not None and offer.price.rate_pence == 2600
        quote = enquiries_service.quote_for(db.get(Enquiry, enquiry.id))  # type: ignore[arg-type]
        assert (quote.price.version, quote.per_hour_pence, quote.support_pence) == (
            1,
            2000,
            6 * 2000,
        )
        assert enquire(db, offer=offer).offer_price.rate_pence == 2600, (
            "new enquiries get the new price"
        )

    def test_a_representative_enquires_for_someone_they_act_for(self, db: Session) -> None:
        person, carer = represented(db)
        enquiry = enquire(db, sender=carer, person=person)
        assert (enquiry.person, enquiry.sent_by) == (person, carer)

    def test_a_representative_cannot_enquire_for_anyone_else(self, db: Session) -> None:
        _, carer = represented(db)
        stranger = make_user(db)
        before = enquiry_count(db)
        for person in (stranger, None, carer):
            with pytest.raises(RuleBroken) as refused:
                enquire(db, sender=carer, person=person)
            assert (refused.value.field, refused.value.message) == (
                "person",
                "Choose a person you act for",
            )
        assert enquiry_count(db) == before

    def test_a_person_enquires_only_for_themself(self, db: Session) -> None:
        with pytest.raises(RuleBroken) as refused:
            enquire(db, sender=make_user(db), person=make_user(db))
        assert refused.value.field == "person"

    def test_other_roles_do_not_enquire(self, db: Session) -> None:
        with pytest.raises(Exception, match="Only supported people"):
            enquire(db, sender=make_user(db, role=Role.PROVIDER_STAFF), person=None)

    @pytest.mark.parametrize(
        "change", [offers_service.pause_offer, offers_service.withdraw_offer, None]
    )
    def test_only_a_published_offer_takes_enquiries(self, db: Session, change: Any) -> None:
        offer = make_offer(db, publish=change is not None)
        if change is not None:
            change(db, offer=offer, actor=offer.provider.members[0].user)
        with pytest.raises(NotFound):
            enquire(db, offer=offer)

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"minutes_per_week": 0}, "hours", "Enter from more than 0 to 168 hours a week"),
            ({"minutes_per_week": -60}, "hours", "Enter from more than 0 to 168 hours a week"),
            ({"minutes_per_week": 200 * 60}, "hours", "Enter from more than 0 to 168 hours a week"),
            ({"availability": 0}, "when", "Tick at least one day and time you need support"),
            ({"availability": 1 << 28}, "when", "Choose days and times from the table"),
            ({"message": "   "}, "message", "Enter a message for the provider"),
            (
                {"message": "Help\x00 please"},
                "message",
                "Remove the special characters from your message",
            ),
            ({"message": "x" * 5001}, "message", "Write 5,000 characters or fewer"),
        ],
    )
    def test_bad_requests_are_refused_by_field_and_nothing_is_written(
        self, db: Session, settings: Settings, fields: dict[str, Any], field: str, message: str
    ) -> None:
        offer = make_offer(db)
        before = enquiry_count(db)
        with pytest.raises(RuleBroken) as refused:
            enquire(db, offer=offer, **fields)
        assert (refused.value.field, refused.value.message) == (field, message)
        assert enquiry_count(db) == before

    def test_the_providers_members_are_mailed_once_it_commits(
        self, db: Session, settings: Settings
    ) -> None:
        offer = make_offer(db, title="Getting out and about")
        enquiry = enquire(db, offer=offer)
        assert read_outbox(settings.outbox_dir) == [], "nothing is mailed before the commit"
        owner = member_of(enquiry)
        db.commit()
        [mail] = read_outbox(settings.outbox_dir)
        assert (mail.to, mail.subject) == (owner.email, "New enquiry about Getting out and about")
        assert f"http://testserver/provider/enquiries/{enquiry.id}" in mail.body
        assert "shops" not in mail.body, "what people wrote stays behind sign-in"

    def test_sending_is_audited(self, db: Session) -> None:
        enquiry = enquire(db)
        event = db.scalar(
            select(AuditEvent).where(
                AuditEvent.subject_type == "enquiry", AuditEvent.subject_id == str(enquiry.id)
            )
        )
        assert event is not None
        assert (event.action, event.actor_id, event.detail["change"]) == (
            AuditAction.RECORD_CHANGED,
            enquiry.sent_by_id,
            "sent",
        )


class TestQuote:
    def test_a_management_fee_as_an_amount_and_a_percentage(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, holds_isf=True))
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2400, management_fee_bp=1000),
        )
        quote = enquiries_service.quote_for(enquire(db, offer=offer, minutes_per_week=6 * 60))
        assert (quote.support_pence, quote.fee_pence, quote.total_pence) == (14400, 1440, 15840)
        assert (quote.fee_percent, quote.fee_terms) == ("10%", "10% of the support")

    def test_part_hours_are_charged_pro_rata(self, db: Session) -> None:
        offer = make_offer(db, rate_pence=1850)
        whole = enquiries_service.quote(offer.price, minutes_per_week=120, typical_week_hours=10)  # type: ignore[arg-type]
        part = enquiries_service.quote(offer.price, minutes_per_week=90, typical_week_hours=10)  # type: ignore[arg-type]
        assert (whole.support_pence, part.support_pence) == (3700, 2775)

    def test_a_weekly_price_and_a_one_off(self, db: Session) -> None:
        weekly = make_offer(db, unit=PriceUnit.WEEK, rate_pence=20000)
        one_off = make_offer(db, unit=PriceUnit.ONE_OFF, rate_pence=9000)
        week = enquiries_service.quote(weekly.price, minutes_per_week=150, typical_week_hours=10)  # type: ignore[arg-type]
        assert (week.per_hour_pence, week.support_pence, week.price_text) == (
            2000,
            20000,
            "£200.00 a week",
        )
        once = enquiries_service.quote(one_off.price, minutes_per_week=150, typical_week_hours=10)  # type: ignore[arg-type]
        assert (once.per_hour_pence, once.support_pence, once.total_pence, once.price_text) == (
            None,
            None,
            None,
            "£90.00 one-off",
        )

    def test_sessions_and_extras_in_plain_words(self, db: Session) -> None:
        offer = make_offer(db, unit=PriceUnit.SESSION, rate_pence=5000)
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(
                unit=PriceUnit.SESSION, rate_pence=5000, unit_minutes=150, evening_uplift_bp=2500
            ),
        )
        quote = enquiries_service.quote(offer.price, minutes_per_week=150, typical_week_hours=10)  # type: ignore[arg-type]
        assert quote.price_text == "£50.00 a session of 2 hours 30 minutes"
        assert quote.extras == ["Evenings cost 25% more"]


class TestThreadAndStatus:
    def test_the_providers_first_reply_marks_it_replied_and_tells_the_person(
        self, db: Session, settings: Settings
    ) -> None:
        person, carer = represented(db)
        enquiry = enquire(db, sender=carer, person=person)
        sent_mail(db, settings)
        member = member_of(enquiry)
        enquiries_service.reply(
            db, enquiry=enquiry, author=member, body="Yes, we have Monday mornings free."
        )
        assert enquiry.status == EnquiryStatus.REPLIED
        thread = enquiries_service.thread_of(db, enquiry=enquiry)
        assert [(e.author_name, e.from_provider) for e in thread] == [
            (carer.name, False),
            (member.name, True),
        ]
        subject = f"{enquiry.provider.name} has replied to your enquiry"
        assert {(to, s) for to, s in sent_mail(db, settings) if s == subject} == {
            (person.email, subject),
            (carer.email, subject),
        }

    def test_the_persons_reply_tells_the_provider_and_changes_no_status(
        self, db: Session, settings: Settings
    ) -> None:
        enquiry = enquire(db)
        enquiries_service.reply(db, enquiry=enquiry, author=enquiry.person, body="Also Wednesdays?")
        assert enquiry.status == EnquiryStatus.NEW
        assert (
            member_of(enquiry).email,
            f"A new message about {enquiry.offer.title}",
        ) in sent_mail(db, settings)

    def test_someone_else_cannot_write_in_the_thread(self, db: Session) -> None:
        enquiry = enquire(db)
        for stranger in (
            make_user(db),
            make_provider(db).members[0].user,
            make_user(db, role=Role.REPRESENTATIVE),
        ):
            with pytest.raises(NotFound):
                enquiries_service.reply(db, enquiry=enquiry, author=stranger, body="Hello")
        assert (
            db.scalar(
                select(func.count())
                .select_from(EnquiryMessage)
                .where(EnquiryMessage.enquiry_id == enquiry.id)
            )
            == 0
        )

    def test_control_characters_in_a_reply_are_refused_but_angle_brackets_kept(
        self, db: Session
    ) -> None:
        enquiry = enquire(db)
        with pytest.raises(RuleBroken) as refused:
            enquiries_service.reply(db, enquiry=enquiry, author=member_of(enquiry), body="Yes\x00")
        assert refused.value.field == "body"
        assert enquiry.status == EnquiryStatus.NEW
        enquiries_service.reply(
            db, enquiry=enquiry, author=member_of(enquiry), body="Mornings <9am> suit"
        )
        assert enquiry.messages[-1].body == "Mornings <9am> suit"

    def test_arranged_after_a_reply_and_then_final(self, db: Session, settings: Settings) -> None:
        enquiry = arranged(db)
        assert enquiry.status == EnquiryStatus.ARRANGED
        assert (
            enquiry.person.email,
            f"{enquiry.provider.name} has arranged your support",
        ) in sent_mail(db, settings)
        for change in (enquiries_service.decline, enquiries_service.mark_arranged):
            with pytest.raises(Conflict, match="already been marked as arranged"):
                change(db, enquiry=enquiry, actor=member_of(enquiry))
        assert enquiry.status == EnquiryStatus.ARRANGED

    def test_a_new_enquiry_is_not_arranged_before_a_reply(self, db: Session) -> None:
        enquiry = enquire(db)
        with pytest.raises(Conflict, match="Reply to the person before"):
            enquiries_service.mark_arranged(db, enquiry=enquiry, actor=member_of(enquiry))
        assert enquiry.status == EnquiryStatus.NEW

    def test_declined_is_final(self, db: Session, settings: Settings) -> None:
        enquiry = enquire(db)
        enquiries_service.decline(db, enquiry=enquiry, actor=member_of(enquiry))
        assert enquiry.status == EnquiryStatus.DECLINED
        assert (
            enquiry.person.email,
            f"{enquiry.provider.name} cannot take on your enquiry",
        ) in sent_mail(db, settings)
        enquiries_service.reply(
            db, enquiry=enquiry, author=member_of(enquiry), body="Sorry, we are full."
        )
        assert enquiry.status == EnquiryStatus.DECLINED, "a message does not reopen it"
        with pytest.raises(Conflict, match="already been marked as declined"):
            enquiries_service.mark_arranged(db, enquiry=enquiry, actor=member_of(enquiry))

    def test_only_the_providers_members_change_the_status(self, db: Session) -> None:
        enquiry = enquire(db)
        for outsider in (enquiry.person, make_provider(db).members[0].user):
            with pytest.raises(NotFound):
                enquiries_service.decline(db, enquiry=enquiry, actor=outsider)
        assert enquiry.status == EnquiryStatus.NEW

    def test_changes_are_audited_by_field(self, db: Session) -> None:
        enquiry = arranged(db)
        changes = db.scalars(
            select(AuditEvent.detail)
            .where(
                AuditEvent.subject_type == "enquiry",
                AuditEvent.subject_id == str(enquiry.id),
                AuditEvent.action == AuditAction.RECORD_CHANGED,
            )
            .order_by(AuditEvent.id)
        ).all()
        assert changes[1:] == [{"fields": "messages,status"}, {"fields": "status"}]


class TestWhoSeesAnEnquiry:
    def test_the_people_it_concerns_and_nobody_else(self, db: Session) -> None:
        person, carer = represented(db)
        enquiry = enquire(db, sender=carer, person=person)
        other_carer = make_user(db, role=Role.REPRESENTATIVE)
        accounts_service.add_representative(
            db,
            supported_person=person,
            representative_email=other_carer.email,
            relationship_kind=Relationship.FAMILY,
        )
        allowed = [person, carer, other_carer, member_of(enquiry), make_user(db, role=Role.ADMIN)]
        refused = [
            make_user(db),
            make_user(db, role=Role.REPRESENTATIVE),
            make_provider(db).members[0].user,
            make_user(db, role=Role.COMMISSIONER),
            make_user(db, role=Role.PERSONAL_ASSISTANT),
        ]
        assert [may_see(db, user, enquiry) for user in allowed] == [True] * len(allowed)
        assert [may_see(db, user, enquiry) for user in refused] == [False] * len(refused)

    def test_a_representative_who_stops_acting_no_longer_sees_it_even_if_they_sent_it(
        self, db: Session
    ) -> None:
        person, carer = represented(db)
        sent = enquire(db, sender=carer, person=person)
        own = enquire(db, sender=person)
        assert may_see(db, carer, sent) is True and may_see(db, carer, own) is True
        [link] = accounts_service.representations_of(db, user=carer)
        accounts_service.remove_representative(db, removed_by=person, link=link)
        db.flush()
        # The live representation decides, not who wrote the record.
        assert may_see(db, carer, sent) is False
        assert may_see(db, carer, own) is False
        assert enquiries_service.enquiries_of(db, user=carer).total == 0
        with pytest.raises(NotFound):
            enquiries_service.reply(db, enquiry=sent, author=carer, body="Still here?")


class TestLists:
    def test_the_inbox_newest_first_and_by_status(self, db: Session) -> None:
        provider = make_provider(db)
        offer = make_offer(db, provider=provider)
        first, second, third = (enquire(db, offer=offer) for _ in range(3))
        enquire(db)  # to another provider
        enquiries_service.decline(db, enquiry=second, actor=member_of(second))
        member = provider.members[0].user
        assert enquiries_service.provider_inbox(db, member=member).items == [third, second, first]
        declined = enquiries_service.provider_inbox(
            db, member=member, status=EnquiryStatus.DECLINED
        )
        assert (declined.items, declined.total) == ([second], 1)
        assert (
            enquiries_service.provider_inbox(
                db, member=make_user(db, role=Role.PROVIDER_STAFF)
            ).total
            == 0
        )

    def test_a_persons_list_has_their_own_and_what_was_sent_for_them(self, db: Session) -> None:
        person, carer = represented(db)
        own = enquire(db, sender=person)
        for_them = enquire(db, sender=carer, person=person)
        enquire(db)  # someone else's
        assert enquiries_service.enquiries_of(db, user=person).items == [for_them, own]
        assert enquiries_service.enquiries_of(db, user=carer).items == [for_them, own]
