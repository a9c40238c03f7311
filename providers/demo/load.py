"""Writing the planned demo market through the same services real sign-ups use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.geography import service as geography_service
from marketplace.geography.classify import UrbanRural6, UrbanRural8
from marketplace.geography.models import NAMED, PostcodeDistrict, Settlement, SettlementKind
from providers import checks as checks_service
from providers import offers as offers_service
from providers import service as providers_service
from providers.checks import CheckDetails
from providers.demo.data import DEMO_SEED, GENERATED_PROVIDERS, MIN_DISTRICT_POSTCODES
from providers.demo.plan import (
    District,
    Place,
    PlannedOffer,
    PlannedProvider,
    _demo_pa_plan,
    _glen_care_plan,
    plan_providers,
)
from providers.models import (
    Check,
    CheckStatus,
    Offer,
    OfferStatus,
    Provider,
    ProviderKind,
    ProviderMember,
    Taxonomy,
    TaxonomyTerm,
)
from providers.offers import Centre, OfferDetails


@dataclass(frozen=True)
class ClassFigures:
    urban_rural: UrbanRural6
    population: int
    published_offers: int

    @property
    def per_100k(self) -> float:
        """Published offers per 100,000 people (a ratio, not money)."""
        return self.published_offers * 100_000 / self.population if self.population else 0.0


@dataclass(frozen=True)
class DemoMarketplace:
    """What the marketplace holds after loading, the same however often it is loaded."""

    providers_by_kind: dict[ProviderKind, int]
    isf_holders: int
    offers_by_status: dict[OfferStatus, int]
    stale_published: int
    checks_by_status: dict[CheckStatus, int]
    by_class: list[ClassFigures]
    providers_created: int = field(default=0, compare=False)
    """Created by this load (0 on a rerun)."""


def load_demo_marketplace(
    session: Session,
    *,
    staff: User,
    personal_assistant: User,
    admin: User,
    today: date | None = None,
    seed: int = DEMO_SEED,
    count: int = GENERATED_PROVIDERS,
) -> DemoMarketplace:
    """Fill in the demo accounts' listings and add the generated providers that are missing."""
    terms = {(t.taxonomy, t.code): t.id for t in session.scalars(select(TaxonomyTerm))}
    context = _Context(terms=terms, admin=admin, today=today or date.today(), now=utcnow())
    organisation = providers_service.providers_of(session, user=staff)[0]
    if not organisation.offers:
        _fill(session, provider=organisation, plan=_glen_care_plan(), actor=staff, context=context)
    own = providers_service.start_personal_assistant(session, user=personal_assistant)
    if not own.offers:
        plan = _demo_pa_plan(personal_assistant.name)
        _fill(session, provider=own, plan=plan, actor=personal_assistant, context=context)

    plans = plan_providers(
        places=reference_places(session),
        districts=reference_districts(session),
        seed=seed,
        count=count,
    )
    # Generated listings have no members; a name among them means it was loaded before.
    unclaimed = ~select(ProviderMember.id).where(ProviderMember.provider_id == Provider.id).exists()
    existing = set(session.scalars(select(Provider.name).where(unclaimed)))
    created = 0
    for plan in plans:
        if plan.name in existing:
            continue
        # A generated listing is nobody's, so nobody can sign in for it.
        provider = providers_service.create_listing(session, name=plan.name, kind=plan.kind)
        _fill(session, provider=provider, plan=plan, actor=admin, context=context)
        created += 1
    session.flush()
    return _describe(session, created=created)


@dataclass(frozen=True)
class _Context:
    terms: dict[tuple[Taxonomy, str], int]
    """Taxonomy term ids by taxonomy and code."""
    admin: User
    """Who verifies the checks planned as verified."""
    today: date
    now: datetime


def _fill(
    session: Session, *, provider: Provider, plan: PlannedProvider, actor: User, context: _Context
) -> None:
    """Write a plan's profile, checks and offers, as `actor` would through the pages."""
    base = geography_service.resolve_location(session, text=plan.base)
    details = providers_service.ProfileDetails(
        name=plan.name,
        about=plan.about,
        holds_isf=plan.holds_isf,
        contact_email=plan.contact_email,
        phone=plan.phone,
        website=plan.website,
        drives=plan.drives,
        employment=plan.employment,
        languages=list(plan.languages),
        base=base,
    )
    providers_service.update_profile(session, provider=provider, actor=actor, details=details)
    for planned in plan.checks:
        expires = (
            context.today + timedelta(days=planned.expires_in_days)
            if planned.expires_in_days
            else None
        )
        check = checks_service.declare_check(
            session,
            provider=provider,
            actor=actor,
            today=context.today,
            details=CheckDetails(
                kind=planned.kind,
                reference=planned.reference,
                issuer=planned.issuer,
                grades=planned.grades,
                cover_pence=planned.cover_pence,
                expires_on=expires,
            ),
        )
        if planned.verified:
            checks_service.verify_check(session, check=check, admin=context.admin)
    # The demo's administrator has seen who every provider is. Set after the checks, and
    # directly: there are no posted needs yet to send when a provider becomes verified.
    provider.identity_confirmed_at, provider.identity_confirmed_by_id = (
        context.now,
        context.admin.id,
    )
    centre = None
    if plan.centre:
        # What a look-up of the district gives an offer's centre: its code and middle
        # (read directly: the look-up would also scan for the nearest settlement, unused here).
        district = session.get(PostcodeDistrict, plan.centre)
        assert district is not None
        centre = Centre(district.code, district.latitude, district.longitude)
    for offer in plan.offers:
        _write_offer(
            session, provider=provider, planned=offer, actor=actor, centre=centre, context=context
        )


def _write_offer(
    session: Session,
    *,
    provider: Provider,
    planned: PlannedOffer,
    actor: User,
    centre: Centre | None,
    context: _Context,
) -> Offer:
    term_ids = [context.terms[(Taxonomy.KIND_OF_SUPPORT, code)] for code in planned.kinds]
    term_ids += [context.terms[(Taxonomy.PERSONAL_OUTCOME, code)] for code in planned.outcomes]
    term_ids += [context.terms[(Taxonomy.CLIENT_GROUP, code)] for code in planned.client_groups]
    councils = (
        [provider.base_council_id] if planned.own_council and provider.base_council_id else []
    )
    details = OfferDetails(
        title=planned.title,
        description=planned.description,
        term_ids=term_ids,
        area_type=planned.area_type,
        centre=centre,
        radius_km=planned.radius_km,
        council_ids=councils,
        settlement_ids=list(planned.settlement_ids),
        availability=planned.availability,
        capacity_amount=planned.capacity_hours,
        minimum_booking_minutes=planned.minimum_booking_minutes,
        typical_week_hours=planned.typical_week_hours,
    )
    offer = offers_service.create_offer(session, provider=provider, actor=actor, details=details)
    if planned.price is not None:
        offers_service.set_price(session, offer=offer, actor=actor, details=planned.price)
    if planned.status in (OfferStatus.PUBLISHED, OfferStatus.PAUSED):
        offers_service.publish_offer(session, offer=offer, actor=actor)
        # The services stamp "now"; a demo market has a history, so listings date back
        # and some capacity was last confirmed long enough ago to show as stale.
        offer.published_at = context.now - timedelta(days=planned.listed_days_ago)
    if planned.status == OfferStatus.PAUSED:
        offers_service.pause_offer(session, offer=offer, actor=actor)
    offer.capacity_updated_at = context.now - timedelta(days=planned.capacity_age_days)
    return offer


def reference_places(session: Session) -> list[Place]:
    """The counted settlements, in a stable order, as the planner takes them."""
    settlements = session.scalars(
        select(Settlement)
        .where(Settlement.kind.in_(NAMED - {SettlementKind.DUPLICATE}))
        .order_by(Settlement.id)
    )
    return [
        Place(
            s.id,
            s.name,
            s.label,
            s.latitude,
            s.longitude,
            s.population,
            s.urban_rural_8,
            s.council.name,
        )
        for s in settlements
    ]


def reference_districts(session: Session) -> list[District]:
    """Scotland's postcode districts where people live, in a stable order."""
    rows = session.scalars(
        select(PostcodeDistrict)
        .where(
            PostcodeDistrict.scottish_share >= 0.5,
            PostcodeDistrict.postcodes >= MIN_DISTRICT_POSTCODES,
        )
        .order_by(PostcodeDistrict.code)
    )
    return [District(d.code, d.latitude, d.longitude) for d in rows]


def _describe(session: Session, *, created: int) -> DemoMarketplace:
    by_kind = dict(
        session.execute(select(Provider.kind, func.count()).group_by(Provider.kind)).all()
    )
    by_status = dict(
        session.execute(select(Offer.status, func.count()).group_by(Offer.status)).all()
    )
    checks = dict(session.execute(select(Check.status, func.count()).group_by(Check.status)).all())
    population: dict[UrbanRural6, int] = dict.fromkeys(UrbanRural6, 0)
    for eight, people in session.execute(
        select(Settlement.urban_rural_8, func.sum(Settlement.population))
        .where(Settlement.kind.in_(NAMED - {SettlementKind.DUPLICATE}))
        .group_by(Settlement.urban_rural_8)
    ):
        population[UrbanRural8(eight).six_fold] += int(people)
    offers: dict[UrbanRural6, int] = dict.fromkeys(UrbanRural6, 0)
    published = Offer.status == OfferStatus.PUBLISHED
    for eight, number in session.execute(
        select(Settlement.urban_rural_8, func.count(Offer.id))
        .join(Provider, Offer.provider_id == Provider.id)
        .join(Settlement, Provider.base_settlement_id == Settlement.id)
        .where(published)
        .group_by(Settlement.urban_rural_8)
    ):
        offers[UrbanRural8(eight).six_fold] += number
    stale_before = utcnow() - timedelta(days=offers_service.STALE_CAPACITY_DAYS)
    stale = session.scalar(
        select(func.count(Offer.id)).where(published, Offer.capacity_updated_at < stale_before)
    )
    return DemoMarketplace(
        providers_by_kind={kind: by_kind.get(kind, 0) for kind in ProviderKind},
        isf_holders=session.scalar(select(func.count(Provider.id)).where(Provider.holds_isf)) or 0,
        offers_by_status={status: by_status.get(status, 0) for status in OfferStatus},
        stale_published=stale or 0,
        # Expired is never stored: a check past its date shows as expired when read.
        checks_by_status={s: checks.get(s, 0) for s in CheckStatus if s != CheckStatus.EXPIRED},
        by_class=[ClassFigures(c, population[c], offers[c]) for c in UrbanRural6],
        providers_created=created,
    )
