"""What a posted need says and to whom: the summary providers see and are mailed (nothing
about who the person is), where the need is as the matcher takes it, who may see a need
(and the audit of every view), and the lists of needs for people and for providers."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, object_session

from marketplace import audit
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import on_persons_side, on_persons_side_filter, visibility_rule
from marketplace.db import utcnow
from marketplace.geography.gazetteer import gazetteer
from marketplace.geography.service import Location, LocationKind
from marketplace.paging import Page, paginate
from matching.needs.models import NeedDelivery, NeedResponse, NeedStatus, PostedNeed
from matching.schemas import SupportWanted
from providers import enquiries as enquiries_service
from providers.enquiries import PEOPLE_ROLES
from providers.models import Provider, ProviderMember, Taxonomy, TaxonomyTerm
from providers.pricing import describe_minutes

SUBJECT = "posted_need"
"""How posted needs are named in the audit log."""
TAKING_RESPONSES = (NeedStatus.OPEN, NeedStatus.ANSWERED)
COORDINATES_LABEL = re.compile(r"^-?\d")
"""Labels of coordinates start with the latitude; places and postcode districts with a letter."""


# What a need says -----------------------------------------------------------------------


def terms_of(need: PostedNeed, taxonomy: Taxonomy) -> list[TaxonomyTerm]:
    """The need's terms of one taxonomy, in the taxonomy's order."""
    return [term for term in need.terms if term.taxonomy == taxonomy]


@dataclass(frozen=True)
class NeedSummary:
    """What a need asks for, and nothing about who asked: what providers see and are mailed."""

    id: int
    status: NeedStatus
    place: str
    kinds: list[str]
    outcomes: list[str]
    client_groups: list[str]
    hours: str
    when: list[tuple[str, list[str]]]
    description: str
    posted_at: datetime
    respond_by: datetime
    providers_reached: int
    details_shared: bool = True
    """False for a provider the person has not yet chosen to show the description,
    outcomes and who it should suit: those are then empty."""

    @property
    def heading(self) -> str:
        return f"Support near {self.place}"


def summary_of(need: PostedNeed) -> NeedSummary:
    """The need without the person: safe to show or mail to providers."""
    return NeedSummary(
        id=need.id,
        status=need.status,
        place=need.location_label,
        kinds=[t.name for t in terms_of(need, Taxonomy.KIND_OF_SUPPORT)],
        outcomes=[t.name for t in terms_of(need, Taxonomy.PERSONAL_OUTCOME)],
        client_groups=[t.name for t in terms_of(need, Taxonomy.CLIENT_GROUP)],
        hours=describe_minutes(need.minutes_per_week),
        when=enquiries_service.describe_availability(need.availability),
        description=need.description,
        posted_at=need.created_at,
        respond_by=need.respond_by,
        providers_reached=len(need.deliveries),
    )


def provider_place(need: PostedNeed) -> str:
    """Where the need is, as providers are told it: the place, postcode sector or district
    the person gave, or for a whole postcode or coordinates (kept as rounded coordinates)
    the settlement they fall in, never the coordinates."""
    if COORDINATES_LABEL.match(need.location_label):
        return need.settlement.label
    return need.location_label


def provider_summary_of(need: PostedNeed, *, shared: bool) -> NeedSummary:
    """The need as a provider sees and is mailed it: what, when, how long and the place;
    what the person wrote, the outcomes and who it should suit only once they `shared`
    them with that provider (they can say things about the person's health)."""
    summary = summary_of(need)
    return replace(
        summary,
        place=provider_place(need),
        outcomes=summary.outcomes if shared else [],
        client_groups=summary.client_groups if shared else [],
        description=summary.description if shared else "",
        details_shared=shared,
    )


def is_shared_with(session: Session, *, need: PostedNeed, member: User) -> bool:
    """Whether the person has shared the need's details with a provider `member` acts for."""
    return (
        session.scalar(
            select(NeedDelivery.provider_id)
            .join(ProviderMember, ProviderMember.provider_id == NeedDelivery.provider_id)
            .where(
                NeedDelivery.need_id == need.id,
                ProviderMember.user_id == member.id,
                NeedDelivery.shared_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def location_of(need: PostedNeed) -> Location:
    """Where the need is, as the matcher takes it: the stored point, council and settlement."""
    session = object_session(need)
    assert session is not None
    places = gazetteer(session)
    settlement = places.places[need.settlement_id]
    if need.location_label == settlement.label:
        kind = LocationKind.PLACE
    elif COORDINATES_LABEL.match(need.location_label):
        kind = LocationKind.COORDINATES
    else:
        kind = LocationKind.POSTCODE_DISTRICT
    return Location(
        kind=kind,
        label=need.location_label,
        latitude=need.latitude,
        longitude=need.longitude,
        council=places.councils[need.council_id],
        settlement=settlement,
    )


def wanted_of(need: PostedNeed) -> SupportWanted:
    """The need as a request to the matcher."""
    return SupportWanted(
        location=location_of(need),
        kinds=frozenset(t.id for t in terms_of(need, Taxonomy.KIND_OF_SUPPORT)),
        outcomes=frozenset(t.id for t in terms_of(need, Taxonomy.PERSONAL_OUTCOME)),
        client_groups=frozenset(t.id for t in terms_of(need, Taxonomy.CLIENT_GROUP)),
        when=need.availability,
        minutes_per_week=need.minutes_per_week,
    )


def is_taking_responses(need: PostedNeed, *, now: datetime | None = None) -> bool:
    """An answered need takes more responses until the person closes it; an open one until
    its respond-by time, after which nobody answered in time."""
    if need.status == NeedStatus.ANSWERED:
        return True
    return need.status == NeedStatus.OPEN and (now or utcnow()) < need.respond_by


# Who may see a need ---------------------------------------------------------------------


def is_on_persons_side(session: Session, *, user: User, need: PostedNeed) -> bool:
    """The person, or a representative acting for them now: whoever posted the need, once
    the person removes them they see it no more (policy.on_persons_side)."""
    return on_persons_side(session, user, need.person_id)


def providers_reached_for(session: Session, *, user: User, need: PostedNeed) -> list[Provider]:
    """The providers `user` acts for that the need was sent to, by name."""
    return list(
        session.scalars(
            select(Provider)
            .join(NeedDelivery, NeedDelivery.provider_id == Provider.id)
            .join(ProviderMember, ProviderMember.provider_id == Provider.id)
            .where(NeedDelivery.need_id == need.id, ProviderMember.user_id == user.id)
            .order_by(Provider.name, Provider.id)
        )
    )


@visibility_rule(PostedNeed)
def _may_see_need(session: Session, viewer: User, need: PostedNeed) -> bool:
    if viewer.role == Role.ADMIN:
        return True
    if viewer.role in PEOPLE_ROLES:
        return is_on_persons_side(session, user=viewer, need=need)
    if viewer.role in (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT):
        return bool(providers_reached_for(session, user=viewer, need=need))
    return False


def record_view(session: Session, *, viewer: User, need: PostedNeed) -> None:
    """Needs are about people's health and care: every view is in the audit log."""
    audit.record_read(session, actor=viewer, subject_type=SUBJECT, subject_id=need.id)


# Lists ----------------------------------------------------------------------------------


def _page(
    session: Session, query: Select[PostedNeed], *, page: int, page_size: int
) -> Page[PostedNeed]:
    newest_first = query.order_by(PostedNeed.created_at.desc(), PostedNeed.id.desc())
    return paginate(session, newest_first, page=page, page_size=page_size)


def needs_of(
    session: Session, *, user: User, page: int = 1, page_size: int = 50
) -> Page[PostedNeed]:
    """A person's own needs and those of the people they act for now; newest first."""
    query = select(PostedNeed).where(on_persons_side_filter(user, PostedNeed.person_id))
    return _page(session, query, page=page, page_size=page_size)


def provider_needs(
    session: Session,
    *,
    member: User,
    status: NeedStatus | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[PostedNeed]:
    """Needs sent to any provider `member` acts for, newest first."""
    provider_ids = select(ProviderMember.provider_id).where(ProviderMember.user_id == member.id)
    reached = select(NeedDelivery.need_id).where(NeedDelivery.provider_id.in_(provider_ids))
    query = select(PostedNeed).where(PostedNeed.id.in_(reached))
    if status is not None:
        query = query.where(PostedNeed.status == status)
    return _page(session, query, page=page, page_size=page_size)


def response_counts(session: Session, *, needs: list[PostedNeed]) -> dict[int, int]:
    """How many responses each need has had."""
    if not needs:
        return {}
    counted = session.execute(
        select(NeedResponse.need_id, func.count())
        .where(NeedResponse.need_id.in_([need.id for need in needs]))
        .group_by(NeedResponse.need_id)
    )
    found = dict(counted.all())
    return {need.id: found.get(need.id, 0) for need in needs}


def needs_shared_with(session: Session, *, needs: list[PostedNeed], member: User) -> set[int]:
    """The ids of the needs whose details the person
    has shared with a provider `member` acts for."""
    if not needs:
        return set()
    return set(
        session.scalars(
            select(NeedDelivery.need_id)
            .join(ProviderMember, ProviderMember.provider_id == NeedDelivery.provider_id)
            .where(
                NeedDelivery.need_id.in_([need.id for need in needs]),
                ProviderMember.user_id == member.id,
                NeedDelivery.shared_at.is_not(None),
            )
        )
    )


def needs_answered_by(session: Session, *, needs: list[PostedNeed], member: User) -> set[int]:
    """The ids of the needs that a provider `member` acts for has responded to."""
    if not needs:
        return set()
    provider_ids = select(ProviderMember.provider_id).where(ProviderMember.user_id == member.id)
    return set(
        session.scalars(
            select(NeedResponse.need_id).where(
                NeedResponse.need_id.in_([need.id for need in needs]),
                NeedResponse.provider_id.in_(provider_ids),
            )
        )
    )
