"""Offers through their life: drafted, priced, published, paused, withdrawn; bad input
refused with the field it concerns and nothing written."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, RuleBroken
from marketplace.geography import service as geography_service
from providers import offers as offers_service
from providers.models import (
    AreaType,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    ProviderKind,
    Taxonomy,
)
from providers.offers import Centre, OfferDetails, PriceDetails
from tests.factories import WEEKDAY_DAYTIMES, make_offer, make_provider, term_ids


def details(db: Session, **changes: object) -> OfferDetails:
    base = OfferDetails(
        title="Company and outings",
        description="Going out together.",
        term_ids=term_ids(db, Taxonomy.KIND_OF_SUPPORT, ("social-and-community",))
        + term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("seeing-people",)),
        area_type=AreaType.RADIUS,
        radius_km=15,
        availability=WEEKDAY_DAYTIMES,
        capacity_amount=12,
    )
    return replace(base, **changes)


class TestCreate:
    def test_a_draft_measured_from_the_providers_base(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        offer = offers_service.create_offer(
            db, provider=provider, actor=provider.members[0].user, details=details(db)
        )
        assert offer.status == OfferStatus.DRAFT
        assert offer.centre_label == "Ullapool"
        assert (offer.centre_latitude, offer.centre_longitude) == (
            provider.base_latitude,
            provider.base_longitude,
        )
        assert [t.code for t in offer.terms_of(Taxonomy.KIND_OF_SUPPORT)] == [
            "social-and-community"
        ]

    def test_another_centre(self, db: Session) -> None:
        provider = make_provider(db)
        where = Centre.of(geography_service.resolve_location(db, text="IV2"))
        offer = offers_service.create_offer(
            db, provider=provider, actor=provider.members[0].user, details=details(db, centre=where)
        )
        assert offer.centre_label == "IV2"

    @pytest.mark.parametrize("radius", [0, -5, 200.5, 1000])
    def test_a_radius_of_0_or_over_200_km_is_refused(self, db: Session, radius: float) -> None:
        provider = make_provider(db)
        before = db.scalar(select(func.count()).select_from(Offer))
        nested = db.begin_nested()
        with pytest.raises(RuleBroken) as refused:
            offers_service.create_offer(
                db,
                provider=provider,
                actor=provider.members[0].user,
                details=details(db, radius_km=radius),
            )
        nested.rollback()
        assert refused.value.field == "radius_km"
        assert db.scalar(select(func.count()).select_from(Offer)) == before

    def test_every_fault_in_an_offer_and_its_first_price_is_named_at_once(
        self, db: Session
    ) -> None:
        provider = make_provider(db)
        nested = db.begin_nested()
        with pytest.raises(RuleBroken) as refused:
            offers_service.create_offer(
                db,
                provider=provider,
                actor=provider.members[0].user,
                details=details(db, title=" ", radius_km=0, capacity_amount=10_000),
                price=PriceDetails(unit=PriceUnit.HOUR, rate_pence=185_000),
            )
        nested.rollback()
        assert [p.field for p in refused.value.problems] == [
            "title",
            "radius_km",
            "capacity_amount",
            "rate",
        ]
        assert db.scalar(select(Offer).where(Offer.provider_id == provider.id)) is None

    def test_council_areas_and_settlement_lists(self, db: Session) -> None:
        provider = make_provider(db)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        portree = geography_service.resolve_location(db, text="Portree").settlement
        by_council = offers_service.create_offer(
            db,
            provider=provider,
            actor=provider.members[0].user,
            details=details(
                db, area_type=AreaType.COUNCILS, council_ids=[highland.id], radius_km=None
            ),
        )
        by_place = offers_service.create_offer(
            db,
            provider=provider,
            actor=provider.members[0].user,
            details=details(
                db, area_type=AreaType.SETTLEMENTS, settlement_ids=[portree.id], radius_km=None
            ),
        )
        assert by_council.area_councils == [highland] and by_council.radius_km is None
        assert [s.id for s in by_place.area_settlements] == [portree.id]
        with pytest.raises(RuleBroken):
            offers_service.create_offer(
                db,
                provider=provider,
                actor=provider.members[0].user,
                details=details(db, area_type=AreaType.COUNCILS, council_ids=[], radius_km=None),
            )


class TestPrices:
    def test_a_new_price_is_a_new_version_and_the_old_one_stays(self, db: Session) -> None:
        offer = make_offer(db, rate_pence=1850)
        first = offer.price
        assert first is not None and first.version == 1
        actor = offer.provider.members[0].user
        second = offers_service.set_price(
            db, offer=offer, actor=actor, details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=1950)
        )
        db.refresh(offer)
        assert (second.version, offer.price) == (2, second)
        db.expire(first)
        assert first.rate_pence == 1850

    def test_the_same_price_again_is_no_new_version(self, db: Session) -> None:
        offer = make_offer(db, rate_pence=1850)
        actor = offer.provider.members[0].user
        again = offers_service.set_price(
            db, offer=offer, actor=actor, details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=1850)
        )
        assert again.version == 1
        assert (
            db.scalar(
                select(func.count()).select_from(OfferPrice).where(OfferPrice.offer_id == offer.id)
            )
            == 1
        )

    @pytest.mark.parametrize(
        ("price", "field"),
        [
            (PriceDetails(unit=PriceUnit.HOUR, rate_pence=-100), "rate"),
            (PriceDetails(unit=PriceUnit.HOUR, rate_pence=0), "rate"),
            (PriceDetails(unit=PriceUnit.HOUR, rate_pence=185_000), "rate"),
            (PriceDetails(unit=PriceUnit.SESSION, rate_pence=5000), "unit_hours"),
            (PriceDetails(unit=PriceUnit.WEEK, rate_pence=5_000_000), "rate"),
            (
                PriceDetails(unit=PriceUnit.HOUR, rate_pence=1800, weekend_uplift_bp=50_000),
                "weekend_uplift",
            ),
            (
                PriceDetails(unit=PriceUnit.HOUR, rate_pence=1800, management_fee_bp=1000),
                "management_fee_percent",
            ),
        ],
    )
    def test_negative_absurd_or_incomplete_prices_are_refused(
        self, db: Session, price: PriceDetails, field: str
    ) -> None:
        offer = make_offer(db, publish=False)
        with pytest.raises(RuleBroken) as refused:
            offers_service.set_price(
                db, offer=offer, actor=offer.provider.members[0].user, details=price
            )
        assert refused.value.field == field

    def test_every_fault_in_a_price_is_named_at_once(self, db: Session) -> None:
        offer = make_offer(db, publish=False)
        with pytest.raises(RuleBroken) as refused:
            offers_service.set_price(
                db,
                offer=offer,
                actor=offer.provider.members[0].user,
                details=PriceDetails(
                    unit=PriceUnit.SESSION,
                    rate_pence=0,
                    night_uplift_bp=30_000,
                    management_fee_bp=1000,
                ),
            )
        assert [p.field for p in refused.value.problems] == [
            "rate",
            "unit_hours",
            "night_uplift",
            "management_fee_percent",
        ]

    def test_fund_holders_may_charge_a_fee(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, holds_isf=True), publish=False)
        price = offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2400, management_fee_bp=1000),
        )
        assert price.management_fee_bp == 1000


class TestLifecycle:
    def test_publish_pause_publish_withdraw(self, db: Session) -> None:
        offer = make_offer(db, publish=False)
        actor = offer.provider.members[0].user
        offers_service.publish_offer(db, offer=offer, actor=actor)
        assert offer.status == OfferStatus.PUBLISHED and offer.published_at is not None
        assert offer in offers_service.published_offers(db)
        offers_service.pause_offer(db, offer=offer, actor=actor)
        assert offer not in offers_service.published_offers(db)
        offers_service.publish_offer(db, offer=offer, actor=actor)
        offers_service.withdraw_offer(db, offer=offer, actor=actor)
        with pytest.raises(Conflict):
            offers_service.publish_offer(db, offer=offer, actor=actor)

    def test_an_offer_without_a_price_cannot_be_published(self, db: Session) -> None:
        provider = make_provider(db)
        offer = offers_service.create_offer(
            db, provider=provider, actor=provider.members[0].user, details=details(db)
        )
        with pytest.raises(RuleBroken) as refused:
            offers_service.publish_offer(db, offer=offer, actor=provider.members[0].user)
        assert refused.value.field == "rate"

    def test_an_offer_without_an_outcome_cannot_be_published(self, db: Session) -> None:
        provider = make_provider(db)
        kinds_only = details(db, term_ids=term_ids(db, Taxonomy.KIND_OF_SUPPORT, ("help-at-home",)))
        offer = offers_service.create_offer(
            db, provider=provider, actor=provider.members[0].user, details=kinds_only
        )
        offers_service.set_price(
            db,
            offer=offer,
            actor=provider.members[0].user,
            details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=1900),
        )
        with pytest.raises(RuleBroken) as refused:
            offers_service.publish_offer(db, offer=offer, actor=provider.members[0].user)
        assert refused.value.field == "outcomes"


class TestCapacity:
    def test_capacity_goes_stale_after_30_days(self, db: Session) -> None:
        offer = make_offer(db)
        now = offer.capacity_updated_at
        assert not offers_service.capacity_is_stale(offer, now=now + timedelta(days=30))
        assert offers_service.capacity_is_stale(offer, now=now + timedelta(days=30, seconds=1))

    def test_updating_capacity_restarts_the_clock(self, db: Session) -> None:
        offer = make_offer(db)
        offer.capacity_updated_at -= timedelta(days=40)
        assert offers_service.capacity_is_stale(offer)
        offers_service.update_capacity(
            db, offer=offer, actor=offer.provider.members[0].user, amount=5
        )
        assert not offers_service.capacity_is_stale(offer)
        assert offer.capacity_amount == 5


def test_personal_assistants_are_providers_too(db: Session) -> None:
    offer = make_offer(db, provider=make_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT))
    assert offer.provider.kind == ProviderKind.PERSONAL_ASSISTANT
    assert offers_service.hourly_price_pence(offer) == 2000
