"""Pages for enquiries and verified reviews: a person (or their representative) enquires
about a published offer and follows the thread; the provider answers from its inbox and
marks the enquiry arranged or declined; the person reviews arranged support; the provider
replies once; administrators hide or show reviews."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import admin, audit, web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import AdminUser, load_visible, roles, visible
from marketplace.deps import DbSession, audited, spend_allowance
from marketplace.errors import NotFound
from marketplace.forms import (
    Form,
    FormPage,
    Hours,
    NoFields,
    Text,
    form_values,
    parse_choice,
    required,
)
from marketplace.paging import Page
from marketplace.parsing import PageNumber, RecordId, record_id
from marketplace.ratelimit import Action
from marketplace.web import redirect, render
from providers import enquiries as enquiries_service
from providers import reviews as reviews_service
from providers.access import ProviderUser, provider_access, published_offer
from providers.areas import Reach, distance_to_km, reach
from providers.asked import Asked, pairs_of, read_asked
from providers.models import DAYS, PERIODS, AreaType, Enquiry, EnquiryStatus, Offer, Review
from providers.pricing import describe_minutes
from providers.schemas import Availability

router = APIRouter(include_in_schema=False)
web.add_navigation(
    "Your enquiries", "/enquiries", roles=(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE), order=40
)
web.add_navigation(
    "Enquiries",
    "/provider/enquiries",
    roles=(Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT),
    order=40,
)

people = roles(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE)
PersonUser = Annotated[User, Depends(people)]
"""Supported people and their representatives."""


def _reviews_waiting(session: Session) -> str:
    recent, hidden = reviews_service.moderation_counts(session)
    return f"{recent} posted in the last 7 days to read; {hidden} hidden"


admin.add_work_queue("Reviews", "/admin/reviews", _reviews_waiting, order=30)

# Each enquiry page loads, authorises and audits its enquiry through one dependency.
SeenEnquiry = Annotated[
    Enquiry,
    Depends(
        visible(Enquiry, param="enquiry_id", access=people, audit_subject=enquiries_service.SUBJECT)
    ),
]
"""An enquiry the person's side reads: the read is in the audit log."""
PersonsEnquiry = Annotated[
    Enquiry, Depends(visible(Enquiry, param="enquiry_id", access=people, audit_subject=None))
]
"""An enquiry the person's side acts on; the service audits the change."""
ProviderSeenEnquiry = Annotated[
    Enquiry,
    Depends(
        visible(
            Enquiry,
            param="enquiry_id",
            access=provider_access,
            audit_subject=enquiries_service.SUBJECT,
        )
    ),
]
ProviderEnquiry = Annotated[
    Enquiry,
    Depends(visible(Enquiry, param="enquiry_id", access=provider_access, audit_subject=None)),
]

PAGE_SIZE = 50
DONE_MESSAGES = {
    "sent": "Your enquiry has been sent. The provider has been told by email.",
    "message": "Your message has been sent.",
    "replied": "Your reply has been sent.",
    "arranged": "The enquiry is marked as arranged. The person has been told.",
    "declined": "The enquiry is declined. The person has been told.",
    "reviewed": "Thank you. Your review has been published.",
    "review-replied": "Your reply has been published under the review.",
    "hidden": "The review is hidden. Only administrators can see it now.",
    "shown": "The review is published again.",
}


# Forms ----------------------------------------------------------------------------------


class EnquiryForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "hours": "Enter how many hours a week you need, for example 6 or 2.5",
        "when": "Tick at least one day and time you need support",
    }

    person: str = ""
    """For representatives: the id of the person the support is for."""
    hours: Hours
    """Hours a week as typed, read as minutes."""
    when: Annotated[Availability, Field(gt=0)]
    """The ticked days and times, as an availability mask."""
    message: Annotated[Text, required("Enter a message for the provider")] = ""
    location: str = ""
    """Carried from the person's search, hidden: where travel by the mile is quoted to."""


class MessageForm(Form):
    body: Annotated[Text, required("Enter your message")] = ""


Rating = Annotated[int, Field(ge=1, le=5)]


class ReviewForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "outcomes": "Choose how well the support helped with what matters to you",
        "reliability": "Choose how reliable the support was",
        "respect": "Choose how respectfully you were treated",
    }

    outcomes: Rating
    reliability: Rating
    respect: Rating
    comment: Annotated[Text, required("Write a few words about the support")] = ""


class ReviewReplyForm(Form):
    reply: Annotated[Text, required("Enter your reply")] = ""


class ModerationForm(Form):
    note: Annotated[Text, required("Enter a note saying why")] = ""


RATING_OPTIONS = [
    ("5", "5: very good"),
    ("4", "4: good"),
    ("3", "3: neither good nor poor"),
    ("2", "2: poor"),
    ("1", "1: very poor"),
]

enquire_page = FormPage("providers/enquiries/new.html", context={"days": DAYS, "periods": PERIODS})
person_enquiry_page = FormPage(
    "providers/enquiries/enquiry.html", block="enquiry", context={"side": "person"}
)
provider_enquiry_page = FormPage(
    "providers/enquiries/enquiry.html", block="enquiry", context={"side": "provider"}
)
review_page = FormPage("providers/reviews/new.html", context={"rating_options": RATING_OPTIONS})
review_reply_page = FormPage("providers/reviews/reply.html")
moderation_page = FormPage("providers/reviews/admin.html", block="reviews")


# Enquiring ------------------------------------------------------------------------------


def _enquire_context(db: Session, offer: Offer, user: User, asked: Asked) -> dict[str, Any]:
    """The price terms, and, when the person's hours came with them from their search, the
    quote for their week (the one the enquiry will keep, for the hours and times sent)."""
    price = offer.price
    return {
        "offer": offer,
        "provider": offer.provider,
        "quote": None
        if price is None
        else enquiries_service.quote(
            price,
            minutes_per_week=asked.minutes_per_week or 60,
            typical_week_hours=offer.typical_week_hours,
            when=asked.when,
            distance_km=distance_to_km(offer, asked.location),
        ),
        "quote_for_week": asked.minutes_per_week is not None,
        "hours_text": describe_minutes(asked.minutes_per_week or 60),
        "place": None if asked.location is None else asked.location.label,
        "people": enquiries_service.people_to_choose(db, user=user),
        "beyond": _beyond_reach(offer, asked),
    }


def _beyond_reach(offer: Offer, asked: Asked) -> Reach | None:
    """How far the person is beyond the offer's area, when they are and it can be said:
    their enquiry then asks whether the provider would travel that far."""
    if asked.location is None:
        return None
    found = reach(offer, asked.location)
    return None if found.reaches or found.short_km is None else found


def travel_further_message(offer: Offer, place: str, beyond: Reach) -> str:
    """The message an enquiry from beyond an offer's area starts with."""
    assert beyond.short_km is not None
    if offer.area_type == AreaType.RADIUS and offer.radius_km:
        return (
            f"I live in {place}, about {round(beyond.short_km) or 1} km beyond the "
            f"{offer.radius_km:g} km you travel. Would you come that far?"
        )
    return (
        f"I live in {place}, about {round(beyond.short_km) or 1} km from the places you "
        "cover. Would you come that far?"
    )


@router.get("/offers/{offer_id}/enquire")
def show_enquire(request: Request, offer_id: RecordId, db: DbSession, user: PersonUser) -> Response:
    offer = published_offer(db, offer_id=offer_id)
    # The place, hours and times come along from the search, so nobody types them twice.
    asked = read_asked(db, request.query_params.multi_items())
    context = _enquire_context(db, offer, user, asked)
    values = asked.form_values
    if context["beyond"] is not None and asked.location is not None:
        values["message"] = travel_further_message(offer, asked.location.label, context["beyond"])
    return enquire_page.render(request, values=values, **context)


@router.post("/offers/{offer_id}/enquire")
async def enquire(
    request: Request, offer_id: RecordId, db: DbSession, user: PersonUser
) -> Response:
    offer = published_offer(db, offer_id=offer_id)
    asked = read_asked(db, pairs_of(await form_values(request)))
    form = await enquire_page.read(request, EnquiryForm, **_enquire_context(db, offer, user, asked))
    spend_allowance(request, Action.ENQUIRY, account=user.id)
    person: User | None = user
    if user.role == Role.REPRESENTATIVE:
        person = db.get(User, person_id) if (person_id := record_id(form.person)) else None
    enquiry = enquiries_service.send_enquiry(
        db,
        offer=offer,
        sender=user,
        person=person,
        minutes_per_week=form.hours,
        availability=form.when,
        message=form.message,
        distance_km=distance_to_km(offer, asked.location),
    )
    return redirect(request, f"/enquiries/{enquiry.id}?done=sent")


# The person's side ----------------------------------------------------------------------


@router.get("/enquiries")
@audited
def person_enquiries(
    request: Request, db: DbSession, user: PersonUser, page: PageNumber = 1
) -> Response:
    found = enquiries_service.enquiries_of(db, user=user, page=max(1, page), page_size=PAGE_SIZE)
    for enquiry in found.items:
        enquiries_service.record_view(db, viewer=user, enquiry=enquiry)
    return render(request, "providers/enquiries/person_list.html", {"result": found})


def _enquiry_context(db: Session, enquiry: Enquiry, viewer: User) -> dict[str, Any]:
    """Everything an enquiry page shows, read now, so an error page after a rollback can
    show it again without touching the database."""
    review = reviews_service.review_of(db, enquiry=enquiry)
    return {
        "enquiry": enquiry,
        "offer": enquiry.offer,
        "provider": enquiry.provider,
        "quote": enquiries_service.quote_for(enquiry),
        "hours": describe_minutes(enquiry.minutes_per_week),
        "when": enquiries_service.describe_availability(enquiry.availability),
        "thread": enquiries_service.thread_of(db, enquiry=enquiry),
        "review": review if review is None or review.hidden_at is None else None,
        "may_review": enquiries_service.is_on_persons_side(db, user=viewer, enquiry=enquiry)
        and reviews_service.why_not_review(db, enquiry=enquiry, author=viewer) is None,
        "is_final": enquiry.status in enquiries_service.FINAL,
    }


@router.get("/enquiries/{enquiry_id}")
@audited
def person_enquiry(
    request: Request, enquiry: SeenEnquiry, db: DbSession, user: PersonUser, done: str = ""
) -> Response:
    return person_enquiry_page.render(
        request, done=DONE_MESSAGES.get(done), **_enquiry_context(db, enquiry, user)
    )


@router.post("/enquiries/{enquiry_id}/messages")
async def person_message(
    request: Request, enquiry: PersonsEnquiry, db: DbSession, user: PersonUser
) -> Response:
    form = await person_enquiry_page.read(
        request, MessageForm, **_enquiry_context(db, enquiry, user)
    )
    enquiries_service.reply(db, enquiry=enquiry, author=user, body=form.body)
    return redirect(request, f"/enquiries/{enquiry.id}?done=message")


def _review_context(db: Session, enquiry: Enquiry, user: User) -> dict[str, Any]:
    return {
        "enquiry": enquiry,
        "offer": enquiry.offer,
        "provider": enquiry.provider,
        "refusal": reviews_service.why_not_review(db, enquiry=enquiry, author=user),
    }


@router.get("/enquiries/{enquiry_id}/review")
@audited
def show_review_form(
    request: Request, enquiry: SeenEnquiry, db: DbSession, user: PersonUser
) -> Response:
    return review_page.render(request, **_review_context(db, enquiry, user))


@router.post("/enquiries/{enquiry_id}/review")
async def leave_review(
    request: Request, enquiry: PersonsEnquiry, db: DbSession, user: PersonUser
) -> Response:
    form = await review_page.read(request, ReviewForm, **_review_context(db, enquiry, user))
    spend_allowance(request, Action.REVIEW, account=user.id)
    reviews_service.leave_review(
        db,
        enquiry=enquiry,
        author=user,
        ratings=reviews_service.Ratings(
            outcomes=form.outcomes, reliability=form.reliability, respect=form.respect
        ),
        comment=form.comment,
    )
    return redirect(request, f"/enquiries/{enquiry.id}?done=reviewed")


# The provider's side --------------------------------------------------------------------


@router.get("/provider/enquiries")
@audited
def provider_inbox(
    request: Request, db: DbSession, user: ProviderUser, status: str = "", page: PageNumber = 1
) -> Response:
    wanted = parse_choice(EnquiryStatus, status)
    found = enquiries_service.provider_inbox(
        db, member=user, status=wanted, page=max(1, page), page_size=PAGE_SIZE
    )
    for enquiry in found.items:
        enquiries_service.record_view(db, viewer=user, enquiry=enquiry)
    return render(
        request,
        "providers/enquiries/inbox.html",
        {
            "result": found,
            "statuses": list(EnquiryStatus),
            "filters": {"status": status},
            "is_member": enquiries_service.acts_for_a_provider(db, user=user),
        },
        block="results",
    )


@router.get("/provider/enquiries/{enquiry_id}")
@audited
def provider_enquiry(
    request: Request,
    enquiry: ProviderSeenEnquiry,
    db: DbSession,
    user: ProviderUser,
    done: str = "",
) -> Response:
    return provider_enquiry_page.render(
        request, done=DONE_MESSAGES.get(done), **_enquiry_context(db, enquiry, user)
    )


@router.post("/provider/enquiries/{enquiry_id}/messages")
async def provider_message(
    request: Request, enquiry: ProviderEnquiry, db: DbSession, user: ProviderUser
) -> Response:
    form = await provider_enquiry_page.read(
        request, MessageForm, **_enquiry_context(db, enquiry, user)
    )
    enquiries_service.reply(db, enquiry=enquiry, author=user, body=form.body)
    return redirect(request, f"/provider/enquiries/{enquiry.id}?done=replied")


@router.post("/provider/enquiries/{enquiry_id}/arrange")
async def arrange(
    request: Request, enquiry: ProviderEnquiry, db: DbSession, user: ProviderUser
) -> Response:
    await provider_enquiry_page.read(request, NoFields, **_enquiry_context(db, enquiry, user))
    enquiries_service.mark_arranged(db, enquiry=enquiry, actor=user)
    return redirect(request, f"/provider/enquiries/{enquiry.id}?done=arranged")


@router.post("/provider/enquiries/{enquiry_id}/decline")
async def decline(
    request: Request, enquiry: ProviderEnquiry, db: DbSession, user: ProviderUser
) -> Response:
    await provider_enquiry_page.read(request, NoFields, **_enquiry_context(db, enquiry, user))
    enquiries_service.decline(db, enquiry=enquiry, actor=user)
    return redirect(request, f"/provider/enquiries/{enquiry.id}?done=declined")


def _own_review(db: Session, review_id: int, user: User) -> Review:
    """A published review of one of the member's providers, or the same 404 as none."""
    review = load_visible(db, Review, review_id, user)
    if not enquiries_service.is_provider_member(db, user=user, provider_id=review.provider_id):
        raise NotFound("Page not found")
    return review


def _review_reply_context(db: Session, review: Review) -> dict[str, Any]:
    enquiry = db.get(Enquiry, review.enquiry_id)
    assert enquiry is not None
    return {
        "review": review,
        "offer": enquiry.offer,
        "provider": enquiry.provider,
        "enquiry": enquiry,
    }


@router.get("/provider/reviews/{review_id}/reply")
def show_review_reply(
    request: Request, review_id: RecordId, db: DbSession, user: ProviderUser, done: str = ""
) -> Response:
    review = _own_review(db, review_id, user)
    return review_reply_page.render(
        request, done=DONE_MESSAGES.get(done), **_review_reply_context(db, review)
    )


@router.post("/provider/reviews/{review_id}/reply")
async def reply_to_review(
    request: Request, review_id: RecordId, db: DbSession, user: ProviderUser
) -> Response:
    review = _own_review(db, review_id, user)
    form = await review_reply_page.read(
        request, ReviewReplyForm, **_review_reply_context(db, review)
    )
    reviews_service.reply_to_review(db, review=review, member=user, text=form.reply)
    return redirect(request, f"/provider/reviews/{review.id}/reply?done=review-replied")


# Moderation -----------------------------------------------------------------------------


def _moderation_context(db: Session, page: int, failed_id: int | None = None) -> dict[str, Any]:
    found = reviews_service.all_reviews(db, page=max(1, page), page_size=PAGE_SIZE)
    enquiries = {
        e.id: e
        for e in db.scalars(
            select(Enquiry).where(Enquiry.id.in_([r.enquiry_id for r in found.items]))
        )
    }
    return {"result": found, "enquiries": enquiries, "failed_id": failed_id}


@router.get("/admin/reviews")
@audited
def moderation(
    request: Request, db: DbSession, admin: AdminUser, page: PageNumber = 1, done: str = ""
) -> Response:
    context = _moderation_context(db, page)
    found: Page[Review] = context["result"]
    audit.record_list_read(
        db,
        actor=admin,
        subject_type=reviews_service.SUBJECT,
        listed_ids=[review.id for review in found.items],
        listing="admin_reviews",
        page=found.page,
    )
    return moderation_page.render(request, done=DONE_MESSAGES.get(done), **context)


@router.post("/admin/reviews/{review_id}/hide")
async def hide_review(
    request: Request, review_id: RecordId, db: DbSession, admin: AdminUser
) -> Response:
    review = load_visible(db, Review, review_id, admin)
    form = await moderation_page.read(
        request, ModerationForm, **_moderation_context(db, 1, review.id)
    )
    reviews_service.hide_review(db, review=review, admin=admin, note=form.note)
    return redirect(request, "/admin/reviews?done=hidden")


@router.post("/admin/reviews/{review_id}/show")
async def show_review(
    request: Request, review_id: RecordId, db: DbSession, admin: AdminUser
) -> Response:
    review = load_visible(db, Review, review_id, admin)
    form = await moderation_page.read(
        request, ModerationForm, **_moderation_context(db, 1, review.id)
    )
    reviews_service.show_review(db, review=review, admin=admin, note=form.note)
    return redirect(request, "/admin/reviews?done=shown")
