"""Which offers reach a person: inside, on and just outside a travel radius (decided by the
geodesic, not the sphere), council-area and named-place areas, and only published offers."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic
from sqlalchemy.orm import Session

from marketplace.geography import service as geography_service
from marketplace.geography.distance import haversine_km
from marketplace.geography.service import Location, LocationKind
from matching import service as matching_service
from matching.index import OfferIndex
from matching.schemas import SupportWanted
from providers import offers as offers_service
from providers.models import AreaType, Offer
from tests.factories import make_offer, make_provider


def point_from(db: Session, *, place: str, km: float, bearing: float) -> Location:
    """A person `km` along the geodesic from `place`, described as that place's area."""
    centre = geography_service.resolve_location(db, text=place)
    moved = geodesic(kilometers=km).destination((centre.latitude, centre.longitude), bearing)
    return Location(
        kind=LocationKind.COORDINATES,
        label=f"{km} km from {place}",
        latitude=moved.latitude,
        longitude=moved.longitude,
        council=centre.council,
        settlement=centre.settlement,
    )


def reached(db: Session, location: Location, index: OfferIndex | None = None) -> set[int]:
    result = matching_service.match(
        db, index or OfferIndex(), SupportWanted(location=location), page_size=1000
    )
    return {r.offer_id for r in result.results}


def set_area(db: Session, offer: Offer, **changes: object) -> None:
    details = offers_service.OfferDetails(
        title=offer.title,
        description=offer.description,
        term_ids=[t.id for t in offer.terms],
        area_type=offer.area_type,
        radius_km=offer.radius_km,
        availability=offer.availability,
        capacity_amount=offer.capacity_amount,
    )
    for name, value in changes.items():
        setattr(details, name, value)
    offers_service.update_offer(
        db, offer=offer, actor=offer.provider.members[0].user, details=details
    )


class TestRadius:
    @pytest.mark.parametrize("bearing", [0, 90, 200])
    def test_inside_on_and_just_outside_the_radius(self, db: Session, bearing: float) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=20)
        assert offer.id in reached(db, point_from(db, place="Portree", km=19.5, bearing=bearing))
        assert offer.id in reached(
            db, point_from(db, place="Portree", km=20 - 1e-6, bearing=bearing)
        )
        assert offer.id not in reached(
            db, point_from(db, place="Portree", km=20.005, bearing=bearing)
        )

    @pytest.mark.parametrize("bearing", [90, 270])
    def test_the_widest_radius_reaches_its_edge_east_and_west_in_the_far_north(
        self, db: Session, bearing: float
    ) -> None:
        # Reach looks only in a band of longitude as wide as the widest radius allows, which
        # widens going north: at Lerwick a degree of longitude is about 55 km.
        wide = make_offer(db, provider=make_provider(db, base="Lerwick"), radius_km=60)
        short = make_offer(db, provider=make_provider(db, base="Lerwick"), radius_km=5)
        found = reached(db, point_from(db, place="Lerwick", km=60 - 1e-6, bearing=bearing))
        assert wide.id in found
        assert short.id not in found
        assert wide.id not in reached(
            db, point_from(db, place="Lerwick", km=60.005, bearing=bearing)
        )

    def test_the_edge_is_the_geodesic_not_the_sphere(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=30)
        person = point_from(db, place="Portree", km=30.03, bearing=45)
        # By the sphere this person is inside the 30 km; along the ellipsoid they are not.
        assert (
            haversine_km(
                offer.centre_latitude, offer.centre_longitude, person.latitude, person.longitude
            )
            < 30
        )
        assert offer.id not in reached(db, person)

    def test_the_distance_shown_is_the_geodesic(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=40)
        person = point_from(db, place="Portree", km=25, bearing=120)
        result = matching_service.match(db, OfferIndex(), SupportWanted(location=person))
        shown = next(r for r in result.results if r.offer_id == offer.id)
        assert shown.distance_km == pytest.approx(25, abs=1e-6)
        assert "25.0 km from" in shown.covers_by


class TestAreasOfPlaces:
    def test_a_council_area_reaches_everyone_in_it_and_nobody_outside(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Inverness"), radius_km=5)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        set_area(db, offer, area_type=AreaType.COUNCILS, council_ids=[highland.id], radius_km=None)
        assert offer.id in reached(db, geography_service.resolve_location(db, text="Thurso"))
        assert offer.id not in reached(db, geography_service.resolve_location(db, text="Aberdeen"))

    def test_named_places_reach_people_there_and_in_their_postcode_district(
        self, db: Session
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=5)
        portree = geography_service.resolve_location(db, text="Portree").settlement
        broadford = geography_service.resolve_location(db, text="Broadford").settlement
        set_area(
            db,
            offer,
            area_type=AreaType.SETTLEMENTS,
            settlement_ids=[portree.id, broadford.id],
            radius_km=None,
        )
        assert offer.id in reached(db, geography_service.resolve_location(db, text="Broadford"))
        assert offer.id in reached(db, geography_service.resolve_location(db, text="IV51"))
        assert offer.id not in reached(
            db, geography_service.resolve_location(db, text="Kyle of Lochalsh")
        )

    def test_a_named_place_area_says_how_it_covers_the_person(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=5)
        broadford = geography_service.resolve_location(db, text="Broadford")
        set_area(
            db,
            offer,
            area_type=AreaType.SETTLEMENTS,
            settlement_ids=[broadford.settlement.id],
            radius_km=None,
        )
        result = matching_service.match(db, OfferIndex(), SupportWanted(location=broadford))
        shown = next(r for r in result.results if r.offer_id == offer.id)
        assert shown.covers_by.startswith("Covers Broadford by name; based ")
        base = offer.provider
        expected = geodesic(
            (base.base_latitude, base.base_longitude), (broadford.latitude, broadford.longitude)
        ).km
        assert shown.distance_km == pytest.approx(expected, abs=1e-6)
        assert f"based {expected:.1f} km away" in shown.covers_by


class TestOnlyPublishedOffers:
    def test_drafts_paused_and_withdrawn_offers_reach_nobody(self, db: Session) -> None:
        provider = make_provider(db, base="Ullapool")
        actor = provider.members[0].user
        published = make_offer(db, provider=provider)
        draft = make_offer(db, provider=provider, publish=False)
        paused = make_offer(db, provider=provider)
        offers_service.pause_offer(db, offer=paused, actor=actor)
        withdrawn = make_offer(db, provider=provider)
        offers_service.withdraw_offer(db, offer=withdrawn, actor=actor)
        found = reached(db, geography_service.resolve_location(db, text="Ullapool"))
        assert published.id in found
        assert not found & {draft.id, paused.id, withdrawn.id}
