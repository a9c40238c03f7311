"""The demo market: providers and personal assistants placed by population, thin where
Scotland is remote, with offers that obey the same rules as real ones, loaded once however
often the demo is run, and the same every time for the same seed.

The demo is loaded once per database for this module (it takes a few seconds) inside a
transaction that is rolled back at the end; the tests only read it, except the one that
loads it again to show that nothing changes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.accounts.passwords import make_hasher
from marketplace.audit import AuditEvent
from marketplace.db import utcnow
from marketplace.demo import DEMO_ORGANISATION, load_demo
from marketplace.geography.classify import UrbanRural6, UrbanRural8
from marketplace.geography.distance import haversine_km
from marketplace.geography.models import Settlement, SettlementKind
from marketplace.mail import Mailer, attach_mailer
from providers import offers as offers_service
from providers.demo.data import (
    DEMO_SEED,
    GENERATED_PROVIDERS,
    HOME_WEIGHT,
    ORGANISATION_HOURLY_PENCE,
    PA_HOURLY_PENCE,
    RADIUS_KM,
)
from providers.demo.load import DemoMarketplace, reference_districts, reference_places
from providers.demo.plan import plan_providers
from providers.models import (
    AreaType,
    Check,
    CheckKind,
    CheckStatus,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    ProviderMember,
    Taxonomy,
)
from tests.conftest import DEMO_GROUP, DemoDatabase, make_settings

LARGE_URBAN, REMOTE_RURAL = UrbanRural6.LARGE_URBAN, UrbanRural6.REMOTE_RURAL

pytestmark = DEMO_GROUP


@pytest.fixture(scope="module")
def loaded(
    demo_database: DemoDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Session, DemoMarketplace]]:
    """The shared demo database, in a transaction rolled back after the module."""
    connection = demo_database.engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    attach_mailer(
        session, Mailer(make_settings(demo_database.url, tmp_path_factory.mktemp("demo-var")))
    )
    yield session, demo_database.market
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def demo(loaded: tuple[Session, DemoMarketplace]) -> Session:
    return loaded[0]


def generated(session: Session) -> list[Provider]:
    """The generated listings: nobody is a member of them."""
    nobody = ~select(ProviderMember.id).where(ProviderMember.provider_id == Provider.id).exists()
    return list(session.scalars(select(Provider).where(nobody).order_by(Provider.id)))


def published(session: Session) -> list[Offer]:
    return offers_service.published_offers(session)


def kinds_of_support(offer: Offer) -> set[str]:
    return {term.code for term in offer.terms_of(Taxonomy.KIND_OF_SUPPORT)}


def reaches(offer: Offer, settlement: Settlement) -> bool:
    if offer.area_type == AreaType.RADIUS:
        assert (
            offer.centre_latitude is not None
            and offer.centre_longitude is not None
            and offer.radius_km
        )
        distance = haversine_km(
            offer.centre_latitude, offer.centre_longitude, settlement.latitude, settlement.longitude
        )
        return distance <= offer.radius_km
    if offer.area_type == AreaType.COUNCILS:
        return settlement.council_id in {council.id for council in offer.area_councils}
    return settlement.id in {place.id for place in offer.area_settlements}


def counted_settlements(session: Session) -> list[Settlement]:
    return list(
        session.scalars(select(Settlement).where(Settlement.kind != SettlementKind.DUPLICATE))
    )


class TestLoading:
    def test_loading_again_creates_nothing(self, loaded: tuple[Session, DemoMarketplace]) -> None:
        session, first = loaded
        tables = (Provider, ProviderMember, Offer, OfferPrice, Check, AuditEvent)

        def counts() -> list[int]:
            return [
                session.scalar(select(func.count()).select_from(table)) or 0 for table in tables
            ]

        before = counts()
        _, again = load_demo(session, hasher=make_hasher("cheapest"))
        assert counts() == before
        assert again.providers_created == 0
        assert again == first

    def test_it_is_the_size_the_brief_asks_for(
        self, loaded: tuple[Session, DemoMarketplace]
    ) -> None:
        session, market = loaded
        assert market.providers_created == GENERATED_PROVIDERS
        assert len(generated(session)) == GENERATED_PROVIDERS
        # Every kind of provider, and a few hundred offers in all.
        assert all(market.providers_by_kind[kind] > 0 for kind in ProviderKind)
        assert 300 <= sum(market.offers_by_status.values()) <= 700

    def test_the_demo_provider_has_a_complete_profile_and_published_offers(
        self, demo: Session
    ) -> None:
        staff = accounts_service.find_user_by_email(demo, "provider@example.org")
        organisation = demo.scalar(select(Provider).where(Provider.name == DEMO_ORGANISATION[0]))
        assert staff is not None and organisation is not None
        assert [m.user_id for m in organisation.members] == [staff.id]
        assert (
            organisation.about
            and organisation.contact_email
            and organisation.phone
            and organisation.website
        )
        assert (
            organisation.base_council is not None and organisation.base_council.name == "Highland"
        )
        assert organisation.holds_isf and organisation.checks
        live = [o for o in organisation.offers if o.status == OfferStatus.PUBLISHED]
        assert len(live) >= 2

    def test_the_demo_personal_assistant_lists_themself(self, demo: Session) -> None:
        assistant = accounts_service.find_user_by_email(demo, "pa@example.org")
        assert assistant is not None
        own = demo.scalar(
            select(Provider).join(ProviderMember).where(ProviderMember.user_id == assistant.id)
        )
        assert own is not None and own.kind == ProviderKind.PERSONAL_ASSISTANT
        assert own.base_latitude is not None and own.employment is not None
        assert any(o.status == OfferStatus.PUBLISHED and o.price for o in own.offers)

    def test_generated_providers_have_no_sign_in_and_fictional_contacts(
        self, demo: Session
    ) -> None:
        providers = generated(demo)
        assert len({p.name for p in providers}) == len(providers)
        for provider in providers:
            assert provider.contact_email and provider.contact_email.endswith("example.org")
            # Ofcom's numbers for drama: never anybody's real phone.
            assert provider.phone and re.match(
                r"^(07700 900|01632 960|0131 496 0|0141 496 0)\d{3}$", provider.phone
            )
            assert provider.base_settlement is not None
        nobody_else = demo.scalar(
            select(func.count())
            .select_from(ProviderMember)
            .join(Provider)
            .where(Provider.name.in_([p.name for p in providers]))
        )
        assert nobody_else == 0


class TestWhereTheSupportIs:
    """The design draws a provider's home with probability proportional to population
    times HOME_WEIGHT, which is 1 in large urban areas and at most 0.25 in remote rural
    ones; a provider's kind and its number of offers do not depend on where it is. So
    per head, large urban areas get about four times or more the offers remote rural areas
    get (only about two of the 300 providers are expected in remote rural places)."""

    def test_the_weights_favour_towns_over_remote_places(self) -> None:
        assert HOME_WEIGHT[UrbanRural8.LARGE_URBAN] >= 4 * HOME_WEIGHT[UrbanRural8.REMOTE_RURAL]
        assert HOME_WEIGHT[UrbanRural8.REMOTE_RURAL] > HOME_WEIGHT[UrbanRural8.VERY_REMOTE_RURAL]

    def test_the_planner_at_ten_times_the_size_places_four_times_the_supply_per_head(
        self, demo: Session
    ) -> None:
        # At 3,000 providers about 19 are expected in remote rural places, enough that a
        # ratio of 3 (against about 5 by design) is a safe floor.
        places = reference_places(demo)
        by_label = {place.label: place for place in places}
        plans = plan_providers(places=places, districts=[], count=10 * GENERATED_PROVIDERS)
        homes = Counter(by_label[plan.base].six_fold for plan in plans)
        people = Counter[UrbanRural6]()
        for place in places:
            people[place.six_fold] += place.population
        per_head = {c: homes[c] / people[c] for c in (LARGE_URBAN, REMOTE_RURAL)}
        assert per_head[LARGE_URBAN] >= 3 * per_head[REMOTE_RURAL]

    def test_generated_offers_per_head_are_higher_in_large_urban_than_remote_rural_areas(
        self, demo: Session
    ) -> None:
        # The demo itself is small: about 3 remote rural offers are expected, so the floor
        # here is only "higher", which fails only if remote places got several times their
        # expected share.
        people = Counter[UrbanRural6]()
        for settlement in counted_settlements(demo):
            people[settlement.urban_rural_6] += settlement.population
        offers = Counter[UrbanRural6]()
        for provider in generated(demo):
            assert provider.base_settlement is not None
            offers[provider.base_settlement.urban_rural_6] += sum(
                o.status == OfferStatus.PUBLISHED for o in provider.offers
            )
        assert (
            offers[LARGE_URBAN] / people[LARGE_URBAN] > offers[REMOTE_RURAL] / people[REMOTE_RURAL]
        )

    def test_some_remote_rural_place_has_no_personal_care_in_reach(self, demo: Session) -> None:
        # Remote rural places are 19 km or more from any town of 10,000, most on islands
        # and in the far north-west, and only a handful of providers live near them; radii
        # are at most 40 km. So some such place has no personal care in reach: the gap the
        # commissioner's view must show.
        personal_care = [o for o in published(demo) if "personal-care" in kinds_of_support(o)]
        remote = [s for s in counted_settlements(demo) if s.urban_rural_6 == REMOTE_RURAL]
        unreached = [s for s in remote if not any(reaches(o, s) for o in personal_care)]
        assert personal_care and unreached

    def test_radius_grows_with_remoteness(self, demo: Session) -> None:
        for provider in generated(demo):
            assert provider.base_settlement is not None
            low, high = RADIUS_KM[provider.base_settlement.urban_rural_6]
            for offer in provider.offers:
                if offer.area_type == AreaType.RADIUS:
                    assert offer.radius_km is not None and low <= offer.radius_km <= high


class TestOffers:
    def test_every_published_offer_passes_the_publish_rules_and_has_a_price(
        self, demo: Session
    ) -> None:
        admin = accounts_service.find_user_by_email(demo, "admin@example.org")
        assert admin is not None
        offers = published(demo)
        assert offers
        for offer in offers:
            # Publishing a published offer checks it again and changes nothing.
            offers_service.publish_offer(demo, offer=offer, actor=admin)
            assert offer.status == OfferStatus.PUBLISHED
            assert offer.price is not None and offer.price.rate_pence > 0
            assert offer.capacity_unit.value == "hours_per_week"

    def test_prices_are_in_the_bands_with_lengths_and_uplifts(self, demo: Session) -> None:
        units: Counter[PriceUnit] = Counter()
        for provider in generated(demo):
            low, high = (
                PA_HOURLY_PENCE
                if provider.kind == ProviderKind.PERSONAL_ASSISTANT
                else ORGANISATION_HOURLY_PENCE
            )
            for offer in provider.offers:
                price = offer.price
                if price is None:
                    assert offer.status == OfferStatus.DRAFT
                    continue
                units[price.unit] += 1
                assert isinstance(price.rate_pence, int)
                if price.unit in (PriceUnit.HOUR, PriceUnit.SESSION, PriceUnit.DAY):
                    hourly = offers_service.hourly_price_pence(offer)
                    assert hourly is not None and low <= hourly <= high
                if price.unit.needs_length:
                    assert price.unit_minutes
        assert {PriceUnit.HOUR, PriceUnit.SESSION, PriceUnit.DAY, PriceUnit.NIGHT} <= set(units)
        prices = [o.price for p in generated(demo) for o in p.offers if o.price]
        assert any(p.evening_uplift_bp for p in prices) and any(p.weekend_uplift_bp for p in prices)
        assert any(p.travel_charge_pence for p in prices) and any(
            not p.travel_charge_pence for p in prices
        )

    def test_only_isf_holders_charge_a_management_fee(self, demo: Session) -> None:
        prices = demo.scalars(select(OfferPrice)).all()
        with_fee = [p for p in prices if p.management_fee_bp or p.management_fee_fixed_pence]
        assert with_fee
        assert all(p.offer.provider.holds_isf for p in with_fee)
        assert not any(
            p.holds_isf for p in generated(demo) if p.kind == ProviderKind.PERSONAL_ASSISTANT
        )
        assert any(p.holds_isf for p in generated(demo))

    def test_a_mix_of_support_states_and_capacity_dates(self, demo: Session) -> None:
        offers = demo.scalars(select(Offer)).all()
        assert {OfferStatus.PUBLISHED, OfferStatus.PAUSED, OfferStatus.DRAFT} <= {
            o.status for o in offers
        }
        live = published(demo)
        for taxonomy in Taxonomy:
            assert len({t.code for o in live for t in o.terms_of(taxonomy)}) >= 5
        stale = [o for o in live if offers_service.capacity_is_stale(o)]
        assert stale and len(stale) < len(live)
        assert all(o.availability for o in live)
        assert all(o.published_at and o.published_at <= utcnow() for o in live)

    def test_checks_look_like_the_real_ones(self, demo: Session) -> None:
        checks = demo.scalars(
            select(Check).join(Provider).where(Provider.id.in_([p.id for p in generated(demo)]))
        ).all()
        by_kind = Counter(c.kind for c in checks)
        assert set(by_kind) == set(CheckKind)
        for check in checks:
            if check.kind == CheckKind.PVG:
                assert re.fullmatch(r"\d{16}", check.reference)
            if check.kind == CheckKind.CARE_INSPECTORATE:
                assert re.fullmatch(r"CS\d{10}", check.reference)
                assert all(1 <= grade <= 6 for grade in (check.grades or {}).values())
            if check.kind == CheckKind.INSURANCE:
                assert check.expires_on is not None and check.expires_on >= date.today()
        registered = [p for p in generated(demo) if p.kind == ProviderKind.REGISTERED_PROVIDER]
        assert all(any(c.kind == CheckKind.CARE_INSPECTORATE for c in p.checks) for p in registered)
        admin = accounts_service.find_user_by_email(demo, "admin@example.org")
        assert admin is not None and admin.role == Role.ADMIN
        statuses = Counter(c.status for c in checks)
        assert statuses[CheckStatus.VERIFIED] and statuses[CheckStatus.DECLARED]
        assert all(c.verified_by_id == admin.id for c in checks if c.status == CheckStatus.VERIFIED)


class TestDeterminism:
    def test_the_same_seed_plans_the_same_market(self, demo: Session) -> None:
        places, districts = reference_places(demo), reference_districts(demo)
        first = plan_providers(places=places, districts=districts)
        assert first == plan_providers(places=places, districts=districts)
        assert first != plan_providers(places=places, districts=districts, seed=DEMO_SEED + 1)

    def test_what_was_loaded_is_what_the_seed_plans(self, demo: Session) -> None:
        plans = plan_providers(places=reference_places(demo), districts=reference_districts(demo))
        planned = {
            (plan.name, offer.title, offer.price.rate_pence if offer.price else None, offer.status)
            for plan in plans
            for offer in plan.offers
        }
        loaded = {
            (
                provider.name,
                offer.title,
                offer.price.rate_pence if offer.price else None,
                offer.status,
            )
            for provider in generated(demo)
            for offer in provider.offers
        }
        assert loaded == planned
