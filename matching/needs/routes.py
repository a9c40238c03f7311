"""Pages for posted needs: a person posts what they need, follows the responses and closes
it; providers whose offers reach them find it in their inbox and respond with one of their
offers. The provider's pages show the need without the person's name."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import AfterValidator, Field
from sqlalchemy.orm import Session

from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import Public, parse_record_id, roles, visible
from marketplace.deps import DbSession, audited, spend_allowance
from marketplace.forms import Choices, Form, FormPage, Hours, NoFields, Text, parse_choice, required
from marketplace.geography import service as geography_service
from marketplace.parsing import PageNumber, one_line, record_id
from marketplace.ratelimit import Action
from marketplace.web import redirect, render
from matching.deps import OfferIndexDep
from matching.needs import service as needs_service
from matching.needs import views as need_views
from matching.needs.models import NeedStatus, PostedNeed
from providers import areas, verification
from providers import enquiries as enquiries_service
from providers import service as providers_service
from providers.access import ProviderUser, provider_access
from providers.models import DAYS, PERIODS, Offer, OfferStatus
from providers.routes import taxonomy_choices
from providers.schemas import Availability

router = APIRouter(include_in_schema=False)
web.add_navigation(
    "Your needs", "/needs", roles=(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE), order=45
)
web.add_navigation(
    "Needs near you",
    "/provider/needs",
    roles=(Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT),
    order=45,
)

people = roles(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE)
people_or_admins = roles(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE, Role.ADMIN)
PersonUser = Annotated[User, Depends(people)]
"""Supported people and their representatives."""
PersonOrAdmin = Annotated[User, Depends(people_or_admins)]
"""The person's side of a need, and administrators."""

# Each need page loads, authorises and audits its need through one dependency.
SeenNeed = Annotated[
    PostedNeed,
    Depends(
        visible(
            PostedNeed, param="need_id", access=people_or_admins, audit_subject=need_views.SUBJECT
        )
    ),
]
"""A need the person's side (or an administrator) reads: the read is in the audit log."""
PersonsNeed = Annotated[
    PostedNeed, Depends(visible(PostedNeed, param="need_id", access=people, audit_subject=None))
]
"""A need the person's side acts on; the service audits the change."""
ProviderSeenNeed = Annotated[
    PostedNeed,
    Depends(
        visible(
            PostedNeed, param="need_id", access=provider_access, audit_subject=need_views.SUBJECT
        )
    ),
]
ProviderNeed = Annotated[
    PostedNeed,
    Depends(visible(PostedNeed, param="need_id", access=provider_access, audit_subject=None)),
]

PAGE_SIZE = 50
DONE_MESSAGES = {
    "closed": "Your need is closed. Providers can no longer respond to it.",
    "responded": "Your response has been sent. We have emailed the person to say so.",
    "shared": "Done. That provider can now read what you wrote, "
    "what matters to you and who it should suit.",
}


# Forms ----------------------------------------------------------------------------------


def _ticked(message: str) -> Any:
    def check(values: list[str]) -> list[str]:
        if not values:
            raise ValueError(message)
        return values

    return AfterValidator(check)


class NeedForm(Form):
    """Fields in the order the page asks them, so the error summary follows the page."""

    messages: ClassVar[dict[str, str]] = {
        "when": "Tick at least one day and time you need support",
        "hours": "Enter how many hours a week you need, for example 6 or 2.5",
    }

    person: str = ""
    """For representatives: the id of the person the support is for."""
    location: Annotated[
        str, one_line("where the support is needed"), required("Enter where the support is needed")
    ] = ""
    kinds_of_support: Annotated[Choices, _ticked("Choose at least one kind of support")] = Field(
        default_factory=list
    )
    outcomes: Annotated[Choices, _ticked("Choose at least one thing that matters to you")] = Field(
        default_factory=list
    )
    client_groups: Choices = Field(default_factory=list)
    when: Annotated[Availability, Field(gt=0)]
    """The ticked days and times, as an availability mask."""
    hours: Hours
    """Hours a week as typed, read as minutes."""
    description: Annotated[Text, required("Describe the support you need, in your own words")] = ""


class ShareForm(Form):
    provider: Annotated[str, required("Choose a provider")] = ""
    """The id of a provider the need reached."""


class ResponseForm(Form):
    offer: Annotated[str, required("Choose one of your published offers")] = ""
    """The id of the offer the provider would use."""
    message: Annotated[Text, required("Enter a message for the person")] = ""


new_need_page = FormPage(
    "matching/needs/new.html",
    context={"days": DAYS, "periods": PERIODS, "response_days": needs_service.RESPONSE_DAYS},
)
person_need_page = FormPage(
    "matching/needs/need.html", block="need", context={"response_days": needs_service.RESPONSE_DAYS}
)
provider_need_page = FormPage("matching/needs/provider_need.html", block="need")


# The rule, stated ----------------------------------------------------------------------


@router.get("/about/needs", dependencies=[Public])
def about_needs(request: Request) -> Response:
    return render(
        request,
        "matching/needs/about.html",
        {
            "rules": verification.rule_lines(),
            "response_days": needs_service.RESPONSE_DAYS,
            "wide_radius_km": areas.WIDE_RADIUS_KM,
            "wide_councils": areas.WIDE_COUNCILS,
            "wide_settlements": areas.WIDE_SETTLEMENTS,
        },
    )


# The person's side ----------------------------------------------------------------------


def _new_context(db: Session, user: User) -> dict[str, Any]:
    return {
        "choices": taxonomy_choices(db),
        "people": enquiries_service.people_to_choose(db, user=user),
    }


@router.get("/needs")
@audited
def person_needs(
    request: Request, db: DbSession, user: PersonUser, page: PageNumber = 1
) -> Response:
    found = need_views.needs_of(db, user=user, page=max(1, page), page_size=PAGE_SIZE)
    for need in found.items:
        need_views.record_view(db, viewer=user, need=need)
    return render(
        request,
        "matching/needs/person_list.html",
        {
            "result": found,
            "summaries": {need.id: need_views.summary_of(need) for need in found.items},
            "responses": need_views.response_counts(db, needs=found.items),
        },
    )


CARRIED_FROM_SEARCH = ("location", "hours")
CARRIED_LISTS_FROM_SEARCH = ("kinds_of_support", "outcomes", "client_groups", "when")
MAX_CARRIED_ITEMS = 40
MAX_CARRIED_CHARACTERS = 120


def carried_answers(request: Request) -> dict[str, object]:
    """The search's answers (place, what, who, hours and times) brought along in the
    address, as the form shows them: bounded, and only ever shown back, never trusted,
    since posting the form checks them all again."""
    query = request.query_params
    values: dict[str, object] = {
        name: query.get(name, "")[:MAX_CARRIED_CHARACTERS]
        for name in CARRIED_FROM_SEARCH
        if query.get(name)
    }
    for name in CARRIED_LISTS_FROM_SEARCH:
        listed = [
            value[:MAX_CARRIED_CHARACTERS]
            for value in query.getlist(name)[:MAX_CARRIED_ITEMS]
            if value
        ]
        if listed:
            values[name] = listed
    return values


def posted_message(sent_to: int) -> str:
    """The truth about where a new need went: how many providers, or that it went to none
    and what happens next."""
    if sent_to:
        return (
            f"Your need has been posted and sent to {sent_to} "
            f"provider{'' if sent_to == 1 else 's'} whose offers reach you and fit it. "
            "We will email you when one responds."
        )
    return (
        "Your need has been posted, but no provider's offers reach you and fit it yet, "
        "so it has not been sent to anyone. We will send it to providers whose offers come "
        f"to fit it over the next {needs_service.RESPONSE_DAYS} days. If nobody responds by "
        "then, we count it, without your name, as support that is missing, so councils can "
        "see it. You could also search again with fewer kinds of support or times, or "
        "further from home."
    )


@router.get("/needs/new")
def show_new_need(request: Request, db: DbSession, user: PersonUser) -> Response:
    return new_need_page.render(request, values=carried_answers(request), **_new_context(db, user))


@router.post("/needs")
async def post_need(
    request: Request, db: DbSession, user: PersonUser, index: OfferIndexDep
) -> Response:
    form = await new_need_page.read(
        request,
        NeedForm,
        also=geography_service.check_places(db, "location"),
        **_new_context(db, user),
    )
    spend_allowance(request, Action.POSTED_NEED, account=user.id)
    person: User | None = user
    if user.role == Role.REPRESENTATIVE:
        person = db.get(User, person_id) if (person_id := record_id(form.person)) else None
    need = needs_service.post_need(
        db,
        index=index,
        poster=user,
        person=person,
        location=form.location,
        kinds_of_support=form.kinds_of_support,
        outcomes=form.outcomes,
        client_groups=form.client_groups,
        when=form.when,
        minutes_per_week=form.hours,
        description=form.description,
    )
    return redirect(request, f"/needs/{need.id}?done=posted")


def _person_context(db: Session, need: PostedNeed, viewer: User) -> dict[str, Any]:
    """Everything the person's page shows, read now, so an error page after a rollback can
    show it again without touching the database."""
    is_own = need_views.is_on_persons_side(db, user=viewer, need=need)
    shared = {
        delivery.provider_id for delivery in need.deliveries if delivery.shared_at is not None
    }
    return {
        "need": need_views.summary_of(need),
        "person_name": need.person.name,
        "posted_by_name": None if need.posted_by_id == need.person_id else need.posted_by.name,
        "responses": [
            {
                "provider_id": response.provider_id,
                "shared": response.provider_id in shared,
                "provider_name": response.provider.name,
                "offer_id": response.offer_id,
                "offer_title": None if response.offer is None else response.offer.title,
                "takes_enquiries": response.offer is not None
                and response.offer.status == OfferStatus.PUBLISHED,
                "message": response.message,
                "written_at": response.created_at,
            }
            for response in need.responses
        ],
        "is_own": is_own,
        "may_close": is_own and need.status in need_views.TAKING_RESPONSES,
    }


@router.get("/needs/{need_id}")
@audited
def person_need(
    request: Request, need: SeenNeed, db: DbSession, user: PersonOrAdmin, done: str = ""
) -> Response:
    message = posted_message(len(need.deliveries)) if done == "posted" else DONE_MESSAGES.get(done)
    return person_need_page.render(request, done=message, **_person_context(db, need, user))


@router.post("/needs/{need_id}/close")
async def close_need(
    request: Request, need: PersonsNeed, db: DbSession, user: PersonUser
) -> Response:
    await person_need_page.read(request, NoFields, **_person_context(db, need, user))
    needs_service.close_need(db, need=need, actor=user)
    return redirect(request, f"/needs/{need.id}?done=closed")


@router.post("/needs/{need_id}/share")
async def share_need(
    request: Request, need: PersonsNeed, db: DbSession, user: PersonUser
) -> Response:
    form = await person_need_page.read(request, ShareForm, **_person_context(db, need, user))
    needs_service.share_with(db, need=need, provider_id=parse_record_id(form.provider), actor=user)
    return redirect(request, f"/needs/{need.id}?done=shared")


# The provider's side --------------------------------------------------------------------


@router.get("/provider/needs")
@audited
def provider_needs(
    request: Request, db: DbSession, user: ProviderUser, status: str = "", page: PageNumber = 1
) -> Response:
    wanted = parse_choice(NeedStatus, status)
    found = need_views.provider_needs(
        db, member=user, status=wanted, page=max(1, page), page_size=PAGE_SIZE
    )
    for need in found.items:
        need_views.record_view(db, viewer=user, need=need)
    shared = need_views.needs_shared_with(db, needs=found.items, member=user)
    return render(
        request,
        "matching/needs/inbox.html",
        {
            "result": found,
            "summaries": [
                need_views.provider_summary_of(need, shared=need.id in shared)
                for need in found.items
            ],
            "answered": need_views.needs_answered_by(db, needs=found.items, member=user),
            "statuses": list(NeedStatus),
            "filters": {"status": status},
            "is_member": enquiries_service.acts_for_a_provider(db, user=user),
            "not_verified": [
                (provider.name, missing)
                for provider in providers_service.providers_of(db, user=user)
                if (missing := verification.missing(db, provider))
            ],
        },
        block="results",
    )


def _provider_context(db: Session, need: PostedNeed, member: User) -> dict[str, Any]:
    """The need as providers see it (no name, no account), with what this member may answer."""
    deliveries = needs_service.deliveries_for(db, need=need, member=member)
    reached = {delivery.provider_id for delivery in deliveries}
    offers: list[Offer] = needs_service.response_offers(db, need=need, member=member)
    answered = {
        response.provider_id for response in need.responses if response.provider_id in reached
    }
    shared = need_views.is_shared_with(db, need=need, member=member)
    return {
        "need": need_views.provider_summary_of(need, shared=shared),
        "delivered": [
            (delivery.provider.name, delivery.offer.title, delivery.short_by_km)
            for delivery in deliveries
        ],
        "own_responses": [
            {
                "provider_name": response.provider.name,
                "offer_title": None if response.offer is None else response.offer.title,
                "message": response.message,
                "written_at": response.created_at,
            }
            for response in need.responses
            if response.provider_id in reached
        ],
        "offer_options": [
            (
                str(offer.id),
                offer.title if len(reached) == 1 else f"{offer.title} ({offer.provider.name})",
            )
            for offer in offers
            if offer.provider_id not in answered
        ],
        "default_offer": next(
            (str(d.offer_id) for d in deliveries if d.provider_id not in answered), ""
        ),
        "taking_responses": need_views.is_taking_responses(need),
    }


@router.get("/provider/needs/{need_id}")
@audited
def provider_need(
    request: Request, need: ProviderSeenNeed, db: DbSession, user: ProviderUser, done: str = ""
) -> Response:
    context = _provider_context(db, need, user)
    return provider_need_page.render(
        request, done=DONE_MESSAGES.get(done), values={"offer": context["default_offer"]}, **context
    )


@router.post("/provider/needs/{need_id}/responses")
async def respond(
    request: Request, need: ProviderNeed, db: DbSession, user: ProviderUser
) -> Response:
    form = await provider_need_page.read(request, ResponseForm, **_provider_context(db, need, user))
    offer = db.get(Offer, offer_id) if (offer_id := record_id(form.offer)) else None
    needs_service.respond(db, need=need, member=user, offer=offer, message=form.message)
    return redirect(request, f"/provider/needs/{need.id}?done=responded")
