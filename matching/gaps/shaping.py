"""Market shaping: from a gap (a place and a kind of support), a commissioner invites the
providers whose offers of that kind stop short of the place, within a distance they choose,
to extend their area to it. Each provider is mailed the gap as the commissioner's pages show
it (small counts hidden alike), once per place, kind and offer; the place's page lists the
invitations and whether each offer reaches the place now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts.models import User
from marketplace.audit import AuditAction
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.geography import service as geography_service
from marketplace.geography.models import NAMED, Settlement
from matching import service as matching_service
from matching.index import OfferIndex
from matching.models import AreaInvitation
from matching.short_of_reach import stopping_short
from providers import service as providers_service
from providers.areas import reach
from providers.models import Offer, TaxonomyTerm

WITHIN_KM_CHOICES = (10, 20, 30, 50)
"""How far short of the place an offer may stop for its provider to be invited."""
AT_MOST = 20
"""Providers invited at once, the nearest first."""
SUBJECT = "area_invitation"


@dataclass(frozen=True)
class Gap:
    """What the invitation tells the provider about the place, as the pages show it."""

    place: Settlement
    kind: TaxonomyTerm
    people: int
    providers_in_reach: int
    unmet_searches: str
    """Searches that found nothing, as the pages show the count (small ones hidden)."""
    period: str


@dataclass(frozen=True)
class Invited:
    invitation: AreaInvitation
    reaches_now: bool


def asked_as(place: Settlement) -> str:
    """The place as the matcher is asked about it: by its name, or a rural area (which no one
    names, and the gazetteer does not know) by its point."""
    if place.kind in NAMED:
        return place.label
    return f"{place.latitude:.5f}, {place.longitude:.5f}"


def invite_to_extend(
    session: Session,
    *,
    index: OfferIndex,
    commissioner: User,
    gap: Gap,
    within_km: int,
    now: datetime | None = None,
) -> list[AreaInvitation]:
    """Invite the providers whose published offers of the kind stop short of the place by at
    most `within_km` (one invitation per offer, never twice); the new invitations."""
    if within_km not in WITHIN_KM_CHOICES:
        raise ValueError(f"within_km must be one of {WITHIN_KM_CHOICES}")
    place = gap.place
    if commissioner.council_id is not None and place.council_id != commissioner.council_id:
        raise NotFound("Page not found")
    wanted = matching_service.support_wanted(
        session, index, location=asked_as(place), kinds_of_support=[gap.kind.code]
    )
    short = stopping_short(session, index, wanted, within_km_more=within_km, limit=AT_MOST)
    already = set(
        session.scalars(
            select(AreaInvitation.offer_id).where(
                AreaInvitation.settlement_id == place.id, AreaInvitation.kind_id == gap.kind.id
            )
        )
    )
    now = now or utcnow()
    new = [
        AreaInvitation(
            settlement_id=place.id,
            kind_id=gap.kind.id,
            offer_id=found.offer_id,
            provider_id=found.provider_id,
            invited_by_id=commissioner.id,
            invited_at=now,
            short_by_km=round(found.short_by_km, 1),
        )
        for found in short
        if found.offer_id not in already
    ]
    session.add_all(new)
    session.flush()
    for invitation in new:
        _mail(session, invitation, gap, commissioner)
    audit.record(
        session,
        actor=commissioner,
        action=AuditAction.RECORD_CHANGED,
        subject_type=SUBJECT,
        subject_id=place.id,
        detail={"change": "invited", "kind": gap.kind.code, "offers": len(new)},
    )
    return new


def _mail(session: Session, invitation: AreaInvitation, gap: Gap, commissioner: User) -> None:
    offer = session.get_one(Offer, invitation.offer_id)
    members = providers_service.members_of(session, invitation.provider_id)
    place, kind = gap.place, gap.kind.name.lower()
    council = place.council.name
    reached = (
        "no offer of it reaches them"
        if gap.providers_in_reach == 0
        else f"{gap.providers_in_reach} provider's offers of it reach them"
        if gap.providers_in_reach == 1
        else f"{gap.providers_in_reach} providers' offers of it reach them"
    )
    lines = [
        f"{council} council would like more {kind} to reach {place.label}.",
        "",
        f"{gap.people:,} people live in {place.label}, and {reached}.",
        f"Searches there for {kind} that found nothing ({gap.period}): {gap.unmet_searches}.",
        "",
        f'Your offer "{offer.title}" travels up to {offer.radius_km or 0:g} km and stops '
        f"about {round(invitation.short_by_km) or 1} km short of {place.label}. If you could "
        "travel that far, you can change the offer's area; people there will then find it.",
    ]
    mail.tell(
        session,
        members,
        subject=f"An invitation to reach {place.label}",
        text="\n".join(lines),
        lead_in=f"Sent by {commissioner.name}, a commissioner. Your offer:",
        path=f"/provider/offers/{offer.id}",
    )


def invitations_for(session: Session, *, place: Settlement, kind_id: int | None) -> list[Invited]:
    """The place's invitations (of one kind, when given), newest first, each with whether
    the offer's area reaches the place now."""
    query = select(AreaInvitation).where(AreaInvitation.settlement_id == place.id)
    if kind_id is not None:
        query = query.where(AreaInvitation.kind_id == kind_id)
    invitations = session.scalars(
        query.order_by(AreaInvitation.invited_at.desc(), AreaInvitation.id.desc())
    ).all()
    location = geography_service.resolve_location(session, text=asked_as(place))
    return [
        Invited(invitation, reach(invitation.offer, location).reaches) for invitation in invitations
    ]
