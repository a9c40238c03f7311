"""Searching from a village the place list does not name, as someone in Lochinver would:
her whole postcode finds the support that reaches her and measures the distance from her
village, where the postcode's sector or district would put her tens of kilometres away."""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.geography import service as geography_service
from marketplace.geography.distance import haversine_km
from tests.factories import make_offer, make_provider
from tests.helpers import HtmlClient, page

LOCHINVER_POSTCODE = "IV27 4JY"


def _titles(client: HtmlClient, location: str) -> list[str]:
    answer = client.get("/find-support", params={"location": location})
    assert answer.status_code == 200
    return [a.get_text(strip=True) for a in page(answer).select(".ds_search-result__link")]


def test_a_village_postcode_finds_what_reaches_the_village(client: HtmlClient, db: Session) -> None:
    # A personal assistant living in Lochinver who travels 8 km, and one in Ullapool
    # (about 50 km away) who does not come so far.
    make_offer(
        db, provider=make_provider(db, base=LOCHINVER_POSTCODE), title="Lochinver help", radius_km=8
    )
    make_offer(db, provider=make_provider(db, base="Ullapool"), title="Ullapool help", radius_km=15)
    here = geography_service.resolve_location(db, text=LOCHINVER_POSTCODE)
    sector = geography_service.resolve_location(db, text="IV27 4")
    assert haversine_km(here.latitude, here.longitude, sector.latitude, sector.longitude) > 8

    assert _titles(client, LOCHINVER_POSTCODE) == ["Lochinver help"]
    assert _titles(client, "iv274jy") == ["Lochinver help"]
    # From the sector's centre, far up the coast, the Lochinver offer does not reach.
    assert "Lochinver help" not in _titles(client, "IV27 4")


def test_the_results_say_where_they_were_measured_from(client: HtmlClient, db: Session) -> None:
    make_offer(
        db, provider=make_provider(db, base=LOCHINVER_POSTCODE), title="Lochinver help", radius_km=8
    )
    answer = page(client.get("/find-support", params={"location": LOCHINVER_POSTCODE}))
    heading = answer.select_one(".ds_search-results__title")
    assert heading is not None and LOCHINVER_POSTCODE in heading.get_text(" ", strip=True)


def test_a_providers_postcode_is_kept_only_to_a_kilometre(db: Session) -> None:
    provider = make_provider(db, base=LOCHINVER_POSTCODE)
    assert provider.base_label is not None
    assert LOCHINVER_POSTCODE not in provider.base_label
    assert provider.base_label.endswith("(in IV27 4)")
    assert provider.base_settlement is not None
