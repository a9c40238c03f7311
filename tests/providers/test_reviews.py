"""Verified reviews: only for arranged support, once, by the person or the representative
who enquired; one reply from the provider; hidden by administrators with a note; and the
published list and summary the public pages show."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.accounts.policy import may_see
from marketplace.errors import Conflict, NotFound, RuleBroken
from marketplace.mail import read_outbox
from marketplace.settings import Settings
from providers import enquiries as enquiries_service
from providers import reviews as reviews_service
from providers.models import Enquiry, Review
from providers.reviews import Ratings, ReviewSummary
from tests.factories import make_offer, make_provider, make_user
from tests.providers.test_enquiries import arranged, enquire, member_of, represented


def review(
    db: Session, enquiry: Enquiry, ratings: tuple[int, int, int] = (5, 4, 5), **fields: Any
) -> Review:
    values: dict[str, Any] = {
        "author": enquiry.sent_by,
        "comment": "Kind, on time, and good company.",
    } | fields
    return reviews_service.leave_review(db, enquiry=enquiry, ratings=Ratings(*ratings), **values)


def review_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Review)) or 0


class TestLeaveReview:
    def test_the_person_reviews_arranged_support(self, db: Session, settings: Settings) -> None:
        enquiry = arranged(db)
        db.commit()
        written = review(db, enquiry)
        assert (written.provider_id, written.offer_id, written.author_id) == (
            enquiry.provider_id,
            enquiry.offer_id,
            enquiry.person_id,
        )
        assert (written.outcomes_rating, written.reliability_rating, written.respect_rating) == (
            5,
            4,
            5,
        )
        db.commit()
        [mail] = [
            m for m in read_outbox(settings.outbox_dir) if m.subject.startswith("A new review")
        ]
        assert mail.to == member_of(enquiry).email
        assert f"/provider/reviews/{written.id}/reply" in mail.body

    def test_the_representative_who_sent_it_may_review(self, db: Session) -> None:
        person, carer = represented(db)
        enquiry = arranged(db, sender=carer, person=person)
        assert review(db, enquiry, author=carer).author_id == carer.id

    def test_another_representative_of_the_person_may_not(self, db: Session) -> None:
        person, carer = represented(db)
        enquiry = arranged(db, sender=person)
        with pytest.raises(RuleBroken, match="Only the person the support is for"):
            review(db, enquiry, author=carer)
        assert reviews_service.why_not_review(db, enquiry=enquiry, author=carer) is not None

    @pytest.mark.parametrize("status", ["new", "replied", "declined"])
    def test_only_arranged_support_is_reviewed(self, db: Session, status: str) -> None:
        enquiry = enquire(db)
        if status != "new":
            enquiries_service.reply(db, enquiry=enquiry, author=member_of(enquiry), body="Hello")
        if status == "declined":
            enquiries_service.decline(db, enquiry=enquiry, actor=member_of(enquiry))
        before = review_count(db)
        with pytest.raises(RuleBroken, match="once they have marked the support as arranged"):
            review(db, enquiry)
        assert review_count(db) == before

    def test_once_per_enquiry(self, db: Session) -> None:
        enquiry = arranged(db)
        review(db, enquiry)
        with pytest.raises(Conflict, match="already been left"):
            review(db, enquiry, author=enquiry.person)
        assert review_count(db) == 1

    @pytest.mark.parametrize(
        ("ratings", "comment", "field"),
        [
            ((0, 4, 4), "Fine.", "outcomes"),
            ((4, 6, 4), "Fine.", "reliability"),
            ((4, 4, -1), "Fine.", "respect"),
            ((4, 4, 4), "", "comment"),
            ((4, 4, 4), "great\x07", "comment"),
        ],
    )
    def test_bad_ratings_and_comments_are_refused_by_field(
        self, db: Session, ratings: tuple[int, int, int], comment: str, field: str
    ) -> None:
        enquiry = arranged(db)
        with pytest.raises(RuleBroken) as refused:
            review(db, enquiry, ratings, comment=comment)
        assert refused.value.field == field
        assert review_count(db) == 0


class TestReply:
    def test_the_provider_replies_once(self, db: Session) -> None:
        enquiry = arranged(db)
        written = review(db, enquiry)
        member = member_of(enquiry)
        reviews_service.reply_to_review(
            db, review=written, member=member, text="Thank you, it was a pleasure."
        )
        assert (written.reply, written.replied_by_id) == (
            "Thank you, it was a pleasure.",
            member.id,
        )
        with pytest.raises(Conflict) as refused:
            reviews_service.reply_to_review(
                db, review=written, member=member, text="And another thing"
            )
        assert refused.value.field == "reply"
        assert written.reply == "Thank you, it was a pleasure."

    def test_only_the_providers_members_reply(self, db: Session) -> None:
        written = review(db, arranged(db))
        for outsider in (make_provider(db).members[0].user, written.author):
            with pytest.raises(NotFound):
                reviews_service.reply_to_review(db, review=written, member=outsider, text="Hello")
        assert written.reply is None


class TestModeration:
    def test_hidden_with_a_note_and_shown_again(self, db: Session) -> None:
        enquiry = arranged(db)
        written = review(db, enquiry)
        admin = make_user(db, role=Role.ADMIN)
        with pytest.raises(RuleBroken) as refused:
            reviews_service.hide_review(db, review=written, admin=admin, note=" ")
        assert refused.value.field == "note" and written.hidden_at is None
        reviews_service.hide_review(db, review=written, admin=admin, note="Names a member of staff")
        assert (written.hidden_by_id, written.moderation_note) == (
            admin.id,
            "Names a member of staff",
        )
        assert reviews_service.published_reviews(db, provider_id=enquiry.provider_id) == []
        with pytest.raises(Conflict):
            reviews_service.hide_review(db, review=written, admin=admin, note="Again")
        with pytest.raises(NotFound):
            reviews_service.reply_to_review(
                db, review=written, member=member_of(enquiry), text="Hello"
            )
        reviews_service.show_review(
            db, review=written, admin=admin, note="Name removed by the author"
        )
        assert reviews_service.published_reviews(db, provider_id=enquiry.provider_id) == [written]
        with pytest.raises(Conflict):
            reviews_service.show_review(db, review=written, admin=admin, note="Again")

    def test_a_hidden_review_shows_to_administrators_only(self, db: Session) -> None:
        enquiry = arranged(db)
        written = review(db, enquiry)
        admin = make_user(db, role=Role.ADMIN)
        viewers = [enquiry.person, member_of(enquiry), make_user(db)]
        assert all(may_see(db, viewer, written) for viewer in [*viewers, admin])
        reviews_service.hide_review(db, review=written, admin=admin, note="Abusive")
        assert [may_see(db, viewer, written) for viewer in [*viewers, admin]] == [
            False,
            False,
            False,
            True,
        ]

    def test_administrators_see_every_review_newest_first(self, db: Session) -> None:
        first, second = review(db, arranged(db)), review(db, arranged(db))
        reviews_service.hide_review(
            db, review=first, admin=make_user(db, role=Role.ADMIN), note="Spam"
        )
        assert reviews_service.all_reviews(db).items[:2] == [second, first]


class TestPublished:
    def enquiries_to(self, db: Session, count: int) -> list[Enquiry]:
        offer = make_offer(db)
        return [arranged(db, offer=offer) for _ in range(count)]

    def test_newest_first_without_hidden_ones(self, db: Session) -> None:
        first, second, third = (review(db, e) for e in self.enquiries_to(db, 3))
        reviews_service.hide_review(
            db, review=second, admin=make_user(db, role=Role.ADMIN), note="Off topic"
        )
        assert reviews_service.published_reviews(db, provider_id=first.provider_id) == [
            third,
            first,
        ]
        assert reviews_service.published_reviews(db, provider_id=make_provider(db).id) == []

    def test_the_summary_averages_in_tenths(self, db: Session) -> None:
        a, b, c, d = self.enquiries_to(db, 4)
        review(db, a, (5, 4, 3))
        review(db, b, (4, 5, 3))
        review(db, c, (4, 4, 4))
        hidden = review(db, d, (1, 1, 1))
        reviews_service.hide_review(
            db, review=hidden, admin=make_user(db, role=Role.ADMIN), note="Not about this provider"
        )
        # (5+4+4)/3 = 4.33 -> 43; (4+5+4)/3 -> 43; (3+3+4)/3 = 3.33 -> 33; the hidden one does not count.
        assert reviews_service.review_summary(db, provider_id=a.provider_id) == ReviewSummary(
            count=3, outcomes_tenths=43, reliability_tenths=43, respect_tenths=33
        )

    def test_halves_round_up(self, db: Session) -> None:
        a, b = self.enquiries_to(db, 2)
        review(db, a, (4, 5, 1))
        review(db, b, (5, 5, 2))
        summary = reviews_service.review_summary(db, provider_id=a.provider_id)
        assert summary is not None
        assert (
            summary.count,
            summary.outcomes_tenths,
            summary.reliability_tenths,
            summary.respect_tenths,
        ) == (2, 45, 50, 15)

    def test_no_published_reviews_is_no_summary(self, db: Session) -> None:
        [enquiry] = self.enquiries_to(db, 1)
        assert reviews_service.review_summary(db, provider_id=enquiry.provider_id) is None
        written = review(db, enquiry)
        reviews_service.hide_review(
            db, review=written, admin=make_user(db, role=Role.ADMIN), note="Spam"
        )
        assert reviews_service.review_summary(db, provider_id=enquiry.provider_id) is None
