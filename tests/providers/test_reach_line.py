"""Whether an offer reaches a person's place, in the one line compare and the offer page
show: by the matcher's own rules (the geodesic at a radius's edge, the council, the named
place), and by how much it falls short when it does not."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km
from matching.index import OfferIndex
from providers.areas import reach
from providers.models import AreaType
from tests.factories import make_offer, make_provider
from tests.helpers import HtmlClient, page
from tests.matching.test_reach import point_from, reached, set_area


class TestReachLine:
    @pytest.mark.parametrize("km", [5.0, 19.99])
    def test_inside_a_radius_it_reaches(self, db: Session, km: float) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=20)
        person = point_from(db, place="Portree", km=km, bearing=90)
        line = reach(offer, person)
        assert (line.reaches, line.text) == (True, f"Reaches {person.label}")
        assert offer.id in reached(db, person, OfferIndex()), "the matcher agrees"

    def test_outside_a_radius_it_says_how_far_short(self, db: Session) -> None:
        """The offer's centre is Broadford, 10 km out; Portree is about 25 km away by the
        geodesic, so it stops about 15 km short (rounded to the km)."""
        offer = make_offer(db, provider=make_provider(db, base="Broadford"), radius_km=10)
        portree = geography_service.resolve_location(db, text="Portree")
        assert offer.centre_latitude is not None and offer.centre_longitude is not None
        short = (
            geodesic_km(
                portree.latitude, portree.longitude, offer.centre_latitude, offer.centre_longitude
            )
            - 10
        )
        line = reach(offer, portree)
        assert not line.reaches and line.short_km == pytest.approx(short)
        assert line.text == f"Stops {round(short)} km short of Portree"
        assert offer.id not in reached(db, portree, OfferIndex()), "the matcher agrees"

    def test_just_outside_the_edge_is_less_than_a_km_short(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=20)
        person = point_from(db, place="Portree", km=20.2, bearing=0)
        assert reach(offer, person).text == f"Stops less than 1 km short of {person.label}"

    def test_a_council_area_reaches_everyone_in_it(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"))
        portree = geography_service.resolve_location(db, text="Portree")
        set_area(
            db, offer, area_type=AreaType.COUNCILS, council_ids=[portree.council.id], radius_km=None
        )
        db.flush()
        db.refresh(offer)
        assert (
            reach(offer, portree).text
            == f"Reaches Portree: it covers all of {portree.council.name}"
        )

    def test_named_places_say_how_far_the_nearest_is(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Broadford"))
        broadford = geography_service.resolve_location(db, text="Broadford")
        portree = geography_service.resolve_location(db, text="Portree")
        set_area(
            db,
            offer,
            area_type=AreaType.SETTLEMENTS,
            settlement_ids=[broadford.settlement.id],
            radius_km=None,
        )
        db.flush()
        db.refresh(offer)
        assert reach(offer, broadford).reaches
        line = reach(offer, portree)
        away = geodesic_km(
            portree.latitude,
            portree.longitude,
            broadford.settlement.latitude,
            broadford.settlement.longitude,
        )
        assert not line.reaches
        assert (
            line.text
            == f"Does not reach Portree: the nearest place it covers, Broadford, is {round(away)} km away"
        )


class TestOnThePages:
    def test_offer_page_and_compare_say_the_same_line(
        self, client: HtmlClient, db: Session
    ) -> None:
        near = make_offer(db, provider=make_provider(db, base="Portree"), title="Near")
        short = make_offer(
            db, provider=make_provider(db, base="Broadford"), radius_km=10, title="Short"
        )
        portree = geography_service.resolve_location(db, text="Portree")
        lines = {offer.id: reach(offer, portree).text for offer in (near, short)}
        assert lines[near.id] == "Reaches Portree" and lines[short.id].startswith("Stops ")
        for offer in (near, short):
            shown = page(
                client.get(f"/offers/{offer.id}", params={"location": "Portree"})
            ).select_one("#reach")
            assert shown is not None and shown.get_text(strip=True) == lines[offer.id]
        assert page(client.get(f"/offers/{near.id}")).select_one("#reach") is None, (
            "no place, no line"
        )
        compared = page(
            client.get("/compare", params={"offer": [near.id, short.id], "location": "Portree"})
        )
        assert [td.get_text(strip=True) for td in compared.select("td.app-reach")] == [
            lines[near.id],
            lines[short.id],
        ]
