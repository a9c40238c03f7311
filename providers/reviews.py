"""Verified reviews. Only the person an arranged enquiry was for (or the representative who
sent it) may review the provider, once per enquiry, rating three things from 1 to 5: the
outcomes the support helped with, its reliability and the respect shown. The provider may
reply once. Administrators may hide a review, with a note; a hidden review shows to nobody
but them.

The public provider and offer pages show `review_summary` and the `newest_reviews`; the
provider's reviews pages page through the rest (`published_reviews_page`). All render the
list with templates/providers/reviews/_list.html."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import on_persons_side, visibility_rule
from marketplace.audit import AuditAction
from marketplace.db import utcnow
from marketplace.errors import Conflict, DomainError, NotFound, RuleBroken
from marketplace.paging import Page, paginate
from providers import service as providers_service
from providers.enquiries import check_text, is_provider_member
from providers.models import Enquiry, EnquiryStatus, Review
from providers.pricing import divide_rounding

SUBJECT = "review"
RATINGS = ("outcomes", "reliability", "respect")
"""The three things a review rates, as form fields."""


@dataclass(frozen=True)
class Ratings:
    outcomes: int
    """How well the support helped with what mattered to them, 1 to 5."""
    reliability: int
    respect: int


@dataclass(frozen=True)
class ReviewSummary:
    """A provider's published reviews in figures. Averages are in tenths (4.3 is 43),
    rounded half up, so no floats are needed to show them."""

    count: int
    outcomes_tenths: int
    reliability_tenths: int
    respect_tenths: int


@visibility_rule(Review)
def _may_see_review(session: Session, viewer: User, review: Review) -> bool:
    """Published reviews are public; a hidden one is for administrators only."""
    return viewer.role == Role.ADMIN or review.hidden_at is None


def review_of(session: Session, *, enquiry: Enquiry) -> Review | None:
    return session.scalar(select(Review).where(Review.enquiry_id == enquiry.id))


def _refusal(session: Session, *, enquiry: Enquiry, author: User) -> DomainError | None:
    # The sender only while they still act for the person: removed, they lose it at once.
    if not (
        author.id == enquiry.person_id
        or (author.id == enquiry.sent_by_id and on_persons_side(session, author, enquiry.person_id))
    ):
        return RuleBroken(
            "Only the person the support is for, or whoever sent the enquiry, can review it"
        )
    if enquiry.status != EnquiryStatus.ARRANGED:
        return RuleBroken(
            "You can review the provider once they have marked the support as arranged"
        )
    if review_of(session, enquiry=enquiry) is not None:
        return Conflict(
            "A review has already been left for this enquiry, and there can be only one"
        )
    return None


def why_not_review(session: Session, *, enquiry: Enquiry, author: User) -> str | None:
    """None if `author` may review the provider for this enquiry now; otherwise why not."""
    refusal = _refusal(session, enquiry=enquiry, author=author)
    return None if refusal is None else refusal.message


def leave_review(
    session: Session, *, enquiry: Enquiry, author: User, ratings: Ratings, comment: str
) -> Review:
    """A verified review of the provider, from someone whose enquiry was arranged; once."""
    refusal = _refusal(session, enquiry=enquiry, author=author)
    if refusal is not None:
        raise refusal
    for name in RATINGS:
        if not 1 <= getattr(ratings, name) <= 5:
            raise RuleBroken("Choose a rating from 1 to 5", field=name)
    text = check_text(comment, field="comment", missing="Write a few words about the support")
    review = Review(
        enquiry_id=enquiry.id,
        provider_id=enquiry.provider_id,
        offer_id=enquiry.offer_id,
        author=author,
        outcomes_rating=ratings.outcomes,
        reliability_rating=ratings.reliability,
        respect_rating=ratings.respect,
        comment=text,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=author,
        action=AuditAction.RECORD_CHANGED,
        subject_type=SUBJECT,
        subject_id=review.id,
        detail={"change": "written", "enquiry_id": enquiry.id},
    )
    members = providers_service.members_of(session, enquiry.provider_id)
    link = mail.mailer_for(session).link(f"/provider/reviews/{review.id}/reply")
    for member in members:
        if member.is_active:
            mail.queue(
                session,
                mail.Mail(
                    to=member.email,
                    subject=f"A new review of {enquiry.provider.name}",
                    body=(
                        f"Hello {member.name},\n\nSomeone whose support you arranged has reviewed "
                        f"{enquiry.provider.name}. You can read it and reply once:\n{link}\n"
                    ),
                ),
            )
    return review


def reply_to_review(session: Session, *, review: Review, member: User, text: str) -> None:
    """The provider's one public reply."""
    if review.hidden_at is not None or not is_provider_member(
        session, user=member, provider_id=review.provider_id
    ):
        raise NotFound("Page not found")
    if review.reply is not None:
        raise Conflict(
            "You have already replied to this review, and a reply cannot be changed", field="reply"
        )
    review.reply = check_text(text, field="reply", missing="Enter your reply")
    review.replied_at = utcnow()
    review.replied_by_id = member.id
    session.flush()
    audit.record_change(
        session, actor=member, subject_type=SUBJECT, subject_id=review.id, fields=["reply"]
    )


def hide_review(session: Session, *, review: Review, admin: User, note: str) -> None:
    """Hide a review from everyone but administrators, saying why."""
    if review.hidden_at is not None:
        raise Conflict("This review is already hidden")
    review.moderation_note = check_text(
        note, field="note", missing="Enter a note saying why you are hiding it"
    )
    review.hidden_at = utcnow()
    review.hidden_by_id = admin.id
    session.flush()
    audit.record_change(
        session,
        actor=admin,
        subject_type=SUBJECT,
        subject_id=review.id,
        fields=["hidden_at", "moderation_note"],
    )


def show_review(session: Session, *, review: Review, admin: User, note: str) -> None:
    """Publish a hidden review again, saying why."""
    if review.hidden_at is None:
        raise Conflict("This review is not hidden")
    review.moderation_note = check_text(
        note, field="note", missing="Enter a note saying why you are showing it again"
    )
    review.hidden_at = None
    review.hidden_by_id = admin.id
    session.flush()
    audit.record_change(
        session,
        actor=admin,
        subject_type=SUBJECT,
        subject_id=review.id,
        fields=["hidden_at", "moderation_note"],
    )


REVIEWS_SHOWN = 5
"""The newest reviews a provider's or an offer's page shows; the rest are on the provider's
reviews pages, so a provider with hundreds of reviews does not make its pages slow."""
REVIEWS_PAGE_SIZE = 20


def _published(provider_id: int) -> Select[Review]:
    return (
        select(Review)
        .where(Review.provider_id == provider_id, Review.hidden_at.is_(None))
        .order_by(Review.created_at.desc(), Review.id.desc())
    )


def published_reviews(session: Session, *, provider_id: int) -> list[Review]:
    """A provider's reviews that are not hidden, newest first."""
    return list(session.scalars(_published(provider_id)))


def newest_reviews(
    session: Session, *, provider_id: int, limit: int = REVIEWS_SHOWN
) -> list[Review]:
    """The newest of a provider's published reviews, for its pages."""
    return list(session.scalars(_published(provider_id).limit(limit)))


def published_reviews_page(session: Session, *, provider_id: int, page: int) -> Page[Review]:
    """One page of a provider's published reviews, newest first."""
    return paginate(session, _published(provider_id), page=page, page_size=REVIEWS_PAGE_SIZE)


def review_summary(session: Session, *, provider_id: int) -> ReviewSummary | None:
    """How many published reviews a provider has and their average ratings in tenths;
    None when there are none."""
    return review_summaries(session, provider_ids=[provider_id]).get(provider_id)


SUMMARIES = (
    select(
        Review.provider_id,
        func.count(Review.id),
        func.sum(Review.outcomes_rating),
        func.sum(Review.reliability_rating),
        func.sum(Review.respect_rating),
    )
    .where(
        Review.provider_id.in_(bindparam("provider_ids", expanding=True)),
        Review.hidden_at.is_(None),
    )
    .group_by(Review.provider_id)
)
"""Built once and sent through the connection (the ORM adds nothing to a Core statement
but cost), as every search page asks it."""


def review_summaries(session: Session, *, provider_ids: Iterable[int]) -> dict[int, ReviewSummary]:
    """review_summary for many providers in one query; providers with no published
    reviews are left out."""
    ids = sorted(set(provider_ids))
    if not ids:
        return {}
    rows = session.connection().execute(SUMMARIES, {"provider_ids": ids})
    return {
        provider_id: ReviewSummary(
            count=count,
            outcomes_tenths=divide_rounding(int(outcomes) * 10, count),
            reliability_tenths=divide_rounding(int(reliability) * 10, count),
            respect_tenths=divide_rounding(int(respect) * 10, count),
        )
        for provider_id, count, outcomes, reliability, respect in rows
    }


def all_reviews(session: Session, *, page: int = 1, page_size: int = 50) -> Page[Review]:
    """Every review, hidden or not, newest first, for administrators to moderate."""
    newest_first = select(Review).order_by(Review.created_at.desc(), Review.id.desc())
    return paginate(session, newest_first, page=page, page_size=page_size)


def moderation_counts(session: Session, *, days: int = 7) -> tuple[int, int]:
    """For the administrators' home: reviews posted in the last `days` days, and how many
    reviews are hidden."""
    since = utcnow() - timedelta(days=days)
    recent, hidden = session.execute(
        select(
            func.count().filter(Review.created_at >= since), func.count(Review.hidden_at)
        ).select_from(Review)
    ).one()
    return recent, hidden


def reviews_for_enquiries(session: Session, *, enquiry_ids: list[int]) -> dict[int, Review]:
    """The review of each of these enquiries that has one."""
    if not enquiry_ids:
        return {}
    return {
        r.enquiry_id: r
        for r in session.scalars(select(Review).where(Review.enquiry_id.in_(enquiry_ids)))
    }
