"""Posted needs: a supported person (or a representative acting for them) says what support
they need, where, when and for how many hours a week, in their own words. The need goes to
every provider and personal assistant with a published offer that reaches the person and
fits it, through that provider's best such offer. Providers answer with a message and one
of their own published offers; the first answer makes the need answered:

    open --(first response)--> answered --(the person closes it)--> closed
     |
     +--(the person closes it)--> closed
     +--(RESPONSE_DAYS pass with no response: the daily run)--> unmet

An unmet need is counted as unmet demand for the gap analysis, with no personal data. A
need still taking responses goes to a provider as soon as one of its offers is published or
changed to reach and fit it (deliver_offer, through providers' on_offer_published), and
the daily run sends it to any whose offers have come to reach and fit it since.

A need goes only to verified providers (providers.verification: an administrator has
confirmed who they are and the checks their kind must have), and reaches a provider when it
becomes verified too. Providers never learn who the person is: they see the place as a
settlement or postcode district (never coordinates), what and when, and the hours
(NeedSummary); what the person wrote, the outcomes and who it should suit only once the
person shares them with that provider. Every view of a need is in the audit log, and a need
is visible only to the people it concerns: the person and whoever acts for them now."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.audit import AuditAction
from marketplace.db import SCOTTISH_TIME, utcnow
from marketplace.errors import Conflict, FieldError, NotAllowed, NotFound, RuleBroken
from marketplace.forms import FormInvalid
from matching import service as matching_service
from matching.deps import offer_index_of
from matching.index import OfferIndex, OffersNowIndex
from matching.models import UnmetDemandSource
from matching.needs.models import NeedDelivery, NeedResponse, NeedStatus, PostedNeed
from matching.needs.views import (
    SUBJECT,
    TAKING_RESPONSES,
    NeedSummary,
    is_on_persons_side,
    is_taking_responses,
    provider_place,
    provider_summary_of,
    providers_reached_for,
    wanted_of,
)
from matching.schemas import SupportWanted
from matching.short_of_reach import ShortOfReach, stopping_short
from providers import enquiries as enquiries_service
from providers import offers as offers_service
from providers import service as providers_service
from providers import verification
from providers.enquiries import ALL_TIMES, MAX_MINUTES_PER_WEEK
from providers.models import Offer, OfferStatus, Provider, Taxonomy, TaxonomyTerm

RESPONSE_DAYS = 14
"""How long providers have to respond before a need counts as unmet demand."""
JUST_OUT_OF_REACH = 5
"""Providers whose offers stop short of a need it is also sent to, the nearest first."""


# Posting a need -------------------------------------------------------------------------


def _person_for(
    session: Session, *, poster: User, person: User | None
) -> tuple[User | None, FieldError | None]:
    if poster.role == Role.SUPPORTED_PERSON:
        if person is not None and person.id != poster.id:
            return None, FieldError("person", "You can only post a need for yourself")
        return poster, None
    if poster.role == Role.REPRESENTATIVE:
        if person is None or not accounts_service.acts_for(
            session, representative=poster, supported_person_id=person.id
        ):
            return None, FieldError("person", "Choose a person you act for")
        return person, None
    raise NotAllowed("Only supported people and their representatives post needs")


def post_need(
    session: Session,
    *,
    index: OfferIndex,
    poster: User,
    person: User | None,
    location: str,
    kinds_of_support: Iterable[str],
    outcomes: Iterable[str],
    client_groups: Iterable[str] = (),
    when: int,
    minutes_per_week: int,
    description: str,
    now: datetime | None = None,
) -> PostedNeed:
    """A supported person posts a need for themself, or a representative for someone they
    act for (`person`). Taxonomy terms are given by code. It goes at once to every provider
    whose offers reach the person and fit it. Every problem is refused at once, by field."""
    now = now or utcnow()
    kinds_of_support, outcomes, client_groups = (
        list(kinds_of_support),
        list(outcomes),
        list(client_groups),
    )
    errors: list[FieldError] = []
    for_person, person_error = _person_for(session, poster=poster, person=person)
    if person_error is not None:
        errors.append(person_error)
    if not kinds_of_support:
        errors.append(FieldError("kinds_of_support", "Choose at least one kind of support"))
    if not outcomes:
        errors.append(FieldError("outcomes", "Choose at least one thing that matters to you"))
    hours_ok = 0 < minutes_per_week <= MAX_MINUTES_PER_WEEK
    if not hours_ok:
        errors.append(FieldError("hours", "Enter from more than 0 to 168 hours a week"))
    when_ok = when > 0 and not when & ~ALL_TIMES
    if not when_ok:
        errors.append(FieldError("when", "Tick at least one day and time you need support"))
    try:
        text = enquiries_service.check_text(
            description,
            field="description",
            missing="Describe the support you need, in your own words",
        )
    except RuleBroken as error:
        errors.append(FieldError(error.field, error.message))
    wanted: SupportWanted | None = None
    try:
        # Hours and times already refused above are left out, so each is reported once.
        wanted = matching_service.support_wanted(
            session,
            index,
            location=location,
            kinds_of_support=kinds_of_support,
            outcomes=outcomes,
            client_groups=client_groups,
            when=when if when_ok else 0,
            minutes_per_week=minutes_per_week if hours_ok else None,
        )
    except FormInvalid as invalid:
        errors += invalid.problems
    if errors:
        raise FormInvalid(errors)
    assert wanted is not None and for_person is not None
    place = wanted.location
    need = PostedNeed(
        person=for_person,
        posted_by=poster,
        location_label=place.kept_label,
        latitude=place.latitude,
        longitude=place.longitude,
        settlement_id=place.settlement.id,
        council_id=place.council.id,
        minutes_per_week=minutes_per_week,
        availability=when,
        description=text,
        status=NeedStatus.OPEN,
        respond_by=now + timedelta(days=RESPONSE_DAYS),
        terms=list(
            session.scalars(
                select(TaxonomyTerm).where(
                    TaxonomyTerm.id.in_(wanted.kinds | wanted.outcomes | wanted.client_groups)
                )
            )
        ),
        created_at=now,
    )
    session.add(need)
    session.flush()
    audit.record(
        session,
        actor=poster,
        action=AuditAction.RECORD_CHANGED,
        subject_type=SUBJECT,
        subject_id=need.id,
        detail={"change": "posted", "person_id": for_person.id},
    )
    _deliver(session, index=index, need=need, wanted=wanted, now=now)
    return need


def _deliver(
    session: Session,
    *,
    index: OfferIndex,
    need: PostedNeed,
    wanted: SupportWanted,
    now: datetime,
    provider_ids: Collection[int] | None = None,
) -> int:
    """Send the need to every verified provider (of `provider_ids`, when given) that can
    now meet it and has not had it yet, and to the nearest few whose offers stop just short
    of it (marked so); how many."""
    reached = matching_service.best_offer_of_each_provider(session, index, wanted, now=now)
    short: dict[int, ShortOfReach] = {}
    for offer in stopping_short(session, index, wanted, limit=JUST_OUT_OF_REACH * 4):
        if offer.provider_id not in reached and len(short) < JUST_OUT_OF_REACH:
            short.setdefault(offer.provider_id, offer)
    already = {delivery.provider_id for delivery in need.deliveries}
    candidates = [
        provider_id
        for provider_id in [*reached, *short]
        if provider_id not in already and (provider_ids is None or provider_id in provider_ids)
    ]
    trusted = verification.verified_ids(session, candidates, today=_date_in_scotland(now))
    new = [
        NeedDelivery(
            provider_id=provider_id,
            offer_id=reached[provider_id],
            delivered_at=now,
        )
        if provider_id in reached
        else NeedDelivery(
            provider_id=provider_id,
            offer_id=short[provider_id].offer_id,
            delivered_at=now,
            short_by_km=round(short[provider_id].short_by_km, 1),
        )
        for provider_id in sorted(trusted)
    ]
    if not new:
        return 0
    need.deliveries.extend(new)
    session.flush()
    audit.record(
        session,
        actor=None,
        action=AuditAction.RECORD_CHANGED,
        subject_type=SUBJECT,
        subject_id=need.id,
        detail={"change": "delivered", "providers": len(new)},
    )
    summary = provider_summary_of(need, shared=False)
    for delivery in new:
        _mail_provider(session, summary, delivery)
    return len(new)


# Responding -----------------------------------------------------------------------------


def response_offers(session: Session, *, need: PostedNeed, member: User) -> list[Offer]:
    """The published offers `member` may answer the need with: those of their providers the
    need was sent to, by provider and title."""
    provider_ids = [
        provider.id for provider in providers_reached_for(session, user=member, need=need)
    ]
    if not provider_ids:
        return []
    return list(
        session.scalars(
            select(Offer)
            .join(Provider, Provider.id == Offer.provider_id)
            .where(Offer.provider_id.in_(provider_ids), Offer.status == OfferStatus.PUBLISHED)
            .order_by(Provider.name, Offer.title, Offer.id)
        )
    )


def deliveries_for(session: Session, *, need: PostedNeed, member: User) -> list[NeedDelivery]:
    """How the need reached the providers `member` acts for."""
    provider_ids = {
        provider.id for provider in providers_reached_for(session, user=member, need=need)
    }
    return [delivery for delivery in need.deliveries if delivery.provider_id in provider_ids]


def respond(
    session: Session,
    *,
    need: PostedNeed,
    member: User,
    offer: Offer | None,
    message: str,
    now: datetime | None = None,
) -> NeedResponse:
    """A member of a provider the need was sent to answers it with a message and one of that
    provider's published offers, once per provider. The first response makes the need
    answered; the person, and whoever posted the need, are mailed."""
    now = now or utcnow()
    reached = {
        provider.id: provider for provider in providers_reached_for(session, user=member, need=need)
    }
    if not reached:
        raise NotFound("Page not found")
    if not is_taking_responses(need, now=now):
        raise Conflict("This need is no longer taking responses")
    errors: list[FieldError] = []
    if offer is None or offer.provider_id not in reached or offer.status != OfferStatus.PUBLISHED:
        errors.append(FieldError("offer", "Choose one of your published offers"))
    else:
        if any(response.provider_id == offer.provider_id for response in need.responses):
            raise Conflict(f"{reached[offer.provider_id].name} has already responded to this need")
    try:
        text = enquiries_service.check_text(
            message, field="message", missing="Enter a message for the person"
        )
    except RuleBroken as error:
        errors.append(FieldError(error.field, error.message))
    if errors:
        raise FormInvalid(errors)
    assert offer is not None
    response = NeedResponse(
        provider_id=offer.provider_id, offer=offer, author=member, message=text, created_at=now
    )
    need.responses.append(response)
    changed = ["responses"]
    if need.status == NeedStatus.OPEN:
        need.status = NeedStatus.ANSWERED
        changed.append("status")
    session.flush()
    audit.record_change(
        session, actor=member, subject_type=SUBJECT, subject_id=need.id, fields=changed
    )
    provider = reached[offer.provider_id]
    _mail_person(
        session,
        need,
        subject=f"{provider.name} has responded to your need",
        text=f"{provider.name} has responded to the support "
        f"you asked for near {need.location_label}.",
    )
    return response


def close_need(
    session: Session, *, need: PostedNeed, actor: User, now: datetime | None = None
) -> None:
    """The person (or whoever acts for them) no longer wants responses: final."""
    if not is_on_persons_side(session, user=actor, need=need):
        raise NotFound("Page not found")
    if need.status not in TAKING_RESPONSES:
        raise Conflict(
            f"This need is already {need.status.label.lower()}, and that cannot be changed"
        )
    need.status = NeedStatus.CLOSED
    need.closed_at = now or utcnow()
    session.flush()
    audit.record_change(
        session,
        actor=actor,
        subject_type=SUBJECT,
        subject_id=need.id,
        fields=["closed_at", "status"],
    )


# The daily run --------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyRun:
    deliveries: int
    """New providers told about needs."""
    needs_reached: int
    """Needs that reached at least one more provider."""
    unmet: int
    """Needs nobody answered in time, now counted as unmet demand."""


def _date_in_scotland(moment: datetime) -> date:
    return moment.astimezone(SCOTTISH_TIME).date()


def _taking_responses(now: datetime) -> ColumnElement[bool]:
    """Needs providers may still be sent and respond to."""
    return or_(
        PostedNeed.status == NeedStatus.ANSWERED,
        (PostedNeed.status == NeedStatus.OPEN) & (PostedNeed.respond_by > now),
    )


def deliver_offer(session: Session, *, offer_ids: list[int], now: datetime | None = None) -> int:
    """Send the needs still taking responses to the providers of these offers, when the
    offers (as this transaction has them) now reach and fit them and the provider has not
    had the need yet: as an offer is published or changed, not only in the daily run. The
    same rules as every delivery (_deliver), over an index of just these offers. How many
    deliveries were made."""
    now = now or utcnow()
    if not session.scalar(select(PostedNeed.id).where(_taking_responses(now)).limit(1)):
        return 0  # the usual case, and a cheap one
    index = OffersNowIndex(session, offer_ids)
    if not index.live_rows().size:
        return 0
    needs = session.scalars(
        select(PostedNeed).where(_taking_responses(now)).order_by(PostedNeed.id)
    ).all()
    return sum(
        _deliver(session, index=index, need=need, wanted=wanted_of(need), now=now) for need in needs
    )


def _deliver_on_publish(session: Session, offer: Offer) -> None:
    deliver_offer(session, offer_ids=[offer.id])


offers_service.on_offer_published(_deliver_on_publish)


def run_daily(session: Session, *, index: OfferIndex, now: datetime | None = None) -> DailyRun:
    """Count needs nobody answered by their respond-by time as unmet demand, then send the
    needs still taking responses to providers whose offers reach and fit them now. Running
    it again changes nothing more."""
    now = now or utcnow()
    expired = session.scalars(
        select(PostedNeed)
        # Still open means nobody has responded: the first response makes a need answered.
        .where(PostedNeed.status == NeedStatus.OPEN, PostedNeed.respond_by <= now)
        .order_by(PostedNeed.id)
    ).all()
    for need in expired:
        need.status = NeedStatus.UNMET
        need.closed_at = now
        matching_service.record_unmet_demand(
            session,
            source=UnmetDemandSource.POSTED_NEED,
            settlement=need.settlement,
            term_ids=[t.id for t in need.terms if t.taxonomy != Taxonomy.CLIENT_GROUP],
            on=_date_in_scotland(need.respond_by),
        )
        audit.record(
            session,
            actor=None,
            action=AuditAction.RECORD_CHANGED,
            subject_type=SUBJECT,
            subject_id=need.id,
            detail={"change": "unmet"},
        )
        _mail_person(
            session,
            need,
            subject="Nobody has responded to your need",
            text=(
                f"No provider responded within {RESPONSE_DAYS} days to the support you asked "
                f"for near {need.location_label}. We have counted it, without your name, so "
                "councils can see where support is missing. You can search for offers, or post "
                "your need again."
            ),
        )
    session.flush()
    deliveries, needs_reached = _deliver_open_needs(session, index=index, now=now)
    return DailyRun(deliveries=deliveries, needs_reached=needs_reached, unmet=len(expired))


def _deliver_open_needs(
    session: Session,
    *,
    index: OfferIndex,
    now: datetime,
    provider_ids: Collection[int] | None = None,
) -> tuple[int, int]:
    open_needs = session.scalars(
        select(PostedNeed).where(_taking_responses(now)).order_by(PostedNeed.id)
    ).all()
    deliveries = needs_reached = 0
    for need in open_needs:
        sent = _deliver(
            session,
            index=index,
            need=need,
            wanted=wanted_of(need),
            now=now,
            provider_ids=provider_ids,
        )
        deliveries += sent
        needs_reached += sent > 0
    return deliveries, needs_reached


def deliver_open_needs(
    session: Session,
    *,
    index: OfferIndex,
    provider_ids: Collection[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Send every need still taking responses to the verified providers (of `provider_ids`,
    when given) whose published offers now reach and fit it and that have not had it yet:
    for when a provider becomes verified, or publishes or changes an offer. How many
    deliveries were made."""
    deliveries, _ = _deliver_open_needs(
        session, index=index, now=now or utcnow(), provider_ids=provider_ids
    )
    return deliveries


@verification.when_verified
def _deliver_to_newly_verified(session: Session, provider: Provider, context: Any) -> None:
    # Pages pass the app's state, where the worker keeps its index; elsewhere (the command
    # line, tests) an index is read for the occasion.
    index = OfferIndex() if context is None else offer_index_of(context)
    deliver_open_needs(session, index=index, provider_ids=[provider.id])


# Sharing details with a provider ---------------------------------------------------------


def share_with(
    session: Session,
    *,
    need: PostedNeed,
    provider_id: int,
    actor: User,
    now: datetime | None = None,
) -> None:
    """The person (or whoever acts for them now) chooses to show a provider the need
    reached what they wrote, the outcomes and who it should suit. The provider is told."""
    if not is_on_persons_side(session, user=actor, need=need):
        raise NotFound("Page not found")
    delivery = next((d for d in need.deliveries if d.provider_id == provider_id), None)
    if delivery is None:
        raise NotFound("Page not found")
    if delivery.shared_at is not None:
        return
    delivery.shared_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.RECORD_CHANGED,
        subject_type=SUBJECT,
        subject_id=need.id,
        detail={"change": "shared", "provider_id": provider_id},
    )
    members = providers_service.members_of(session, provider_id)
    mail.tell(
        session,
        members,
        subject=f"The person near {provider_place(need)} has shared their details with you",
        text="The person has shared what they wrote about the support they need with you.",
        path=f"/provider/needs/{need.id}",
    )


# Mail -----------------------------------------------------------------------------------
# Providers are mailed enough to tell at a glance whether they could help (the place, the
# kinds of support, the hours and times) and nothing that says who the person is. What the
# person wrote, the outcomes and who it should suit can say things about their health, so
# those are read after signing in, never sent by mail. People are told only that
# something happened.


def _mail_provider(session: Session, summary: NeedSummary, delivery: NeedDelivery) -> None:
    members = providers_service.members_of(session, delivery.provider_id)
    offer = session.get(Offer, delivery.offer_id)
    assert offer is not None
    lines = [
        f"Someone near {summary.place} is looking for support that "
        f'your offer "{offer.title}" could give.',
        *(
            []
            if delivery.short_by_km is None
            else [
                f"They are just out of reach: about {round(delivery.short_by_km) or 1} km "
                "beyond the distance your offer travels. Would you come that far?"
            ]
        ),
        "",
        f"Where: {summary.place}",
        f"Kinds of support: {', '.join(summary.kinds)}",
        f"Hours a week: {summary.hours}",
        "Days and times: "
        + "; ".join(f"{day}: {', '.join(periods)}" for day, periods in summary.when),
    ]
    respond_by = f"{summary.respond_by.astimezone(SCOTTISH_TIME):%-d %B %Y}"
    mail.tell(
        session,
        members,
        subject=f"Someone near {summary.place} needs support",
        text="\n".join(lines),
        lead_in=f"Respond by {respond_by}. Sign in to read what they wrote and respond:",
        path=f"/provider/needs/{summary.id}",
    )


def _mail_person(session: Session, need: PostedNeed, *, subject: str, text: str) -> None:
    # Whoever posted it is told too, while they still act for the person.
    posters = (
        [need.posted_by] if is_on_persons_side(session, user=need.posted_by, need=need) else []
    )
    mail.tell(
        session, [*posters, need.person], subject=subject, text=text, path=f"/needs/{need.id}"
    )
