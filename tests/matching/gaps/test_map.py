"""The gap map as commissioners get it: Scotland's is 32 council areas, each a link to that
council's own figures with the same filters, shaded by its band; a council's has a circle
a place, its coast and boundaries, its larger towns named and a scale bar whose kilometres
agree with the distances between its places. Every page stays under 300 KB, even Highland's
310 places with the longest filters there are."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography.basemap import SCALE_SHARE, WIDTH
from marketplace.geography.distance import geodesic_km
from marketplace.geography.models import CouncilArea
from tests.factories import PASSWORD, make_offer, make_provider
from tests.helpers import HtmlClient, page
from tests.matching.gaps.gap_builders import commissioner, counted_places, gss, settlement

LONGEST = {
    "kind": "employment-learning-volunteering",
    "outcome": "living-where-you-want",
    "period": "365",
}
"""The longest kind and outcome codes there are: every link on the page carries them."""
PAGE_LIMIT = 300_000


def offers_reaching_the_north(db: Session) -> None:
    """Providers whose offers reach every place of Highland, so every circle has figures to
    say (a longer label than "no offer in reach")."""
    for base in ("Inverness", "Ullapool", "Thurso", "Portree", "Fort William", "Oban", "Perth"):
        make_offer(
            db,
            provider=make_provider(db, base=base, name=f"Care from {base}"),
            kinds=(LONGEST["kind"],),
            outcomes=(LONGEST["outcome"],),
            radius_km=200,
            capacity_hours=1000,
        )


def the_map(response: Any) -> Tag:
    svg = page(response).select_one("figure svg.app-gap-map")
    assert svg is not None
    return svg


def numbers(path: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]


class TestPageWeight:
    def test_scotland_s_and_highland_s_pages_are_under_300_kb_with_the_longest_filters(
        self, client: HtmlClient, db: Session
    ) -> None:
        offers_reaching_the_north(db)
        client.sign_in(commissioner(db).email, PASSWORD)
        scotland = client.get("/commissioning", params=LONGEST)
        highland = client.get("/commissioning", params=LONGEST | {"council": gss(db, "Highland")})
        clackmannanshire = client.get(
            "/commissioning", params=LONGEST | {"council": gss(db, "Clackmannanshire")}
        )
        for response in (scotland, highland, clackmannanshire):
            assert response.status_code == 200
            assert len(response.content) < PAGE_LIMIT, (response.url, len(response.content))
            # Shown with -s: the measure of each page.
            print(f"{len(response.content):,} bytes: {response.url}")
        circles = the_map(highland).select("a circle")
        assert len(circles) == len(counted_places(db, "Highland")) > 300
        assert "no offer in reach" not in " ".join(c.title.get_text() for c in circles if c.title)


class TestScotland:
    def test_each_council_is_a_link_to_its_own_figures_with_the_same_filters(
        self, client: HtmlClient, db: Session
    ) -> None:
        offers_reaching_the_north(db)
        client.sign_in(commissioner(db).email, PASSWORD)
        response = client.get("/commissioning", params=LONGEST)
        svg = the_map(response)

        links = svg.select("a")
        councils = dict(db.execute(select(CouncilArea.gss_code, CouncilArea.name)).all())
        assert len(links) == len(councils) == 32
        rows = {
            tr.select_one("th").get_text(strip=True): [td.get_text(strip=True) for td in tr("td")]
            for tr in page(response).select("#table-councils tbody tr")
        }
        for link in links:
            query = dict(parse_qsl(urlsplit(link["href"]).query))
            assert urlsplit(link["href"]).path == "/commissioning"
            assert query == LONGEST | {"council": query["council"]}
            name = councils[query["council"]]
            label = link["aria-label"]
            assert link.select_one("path > title").get_text() == label
            # The label says the council's figures as its row of the table does.
            hours, people_without = rows[name][2], rows[name][4]
            assert label.startswith(f"{name}: {hours} hours a week per 1,000 residents")
            assert f"; {people_without} of " in label
        assert sum(1 for link in links if "app-gap-map__band--gap" in link.path["class"]) < 32, (
            "the north is reached"
        )

        fife = next(a for a in links if a["aria-label"].startswith("Fife:"))
        followed = page(client.get(fife["href"]))
        assert followed.select_one("#gap-summary").get_text(" ", strip=True).startswith("Fife: ")

    def test_the_map_draws_the_coast_boundaries_the_cities_and_says_what_it_shows(
        self, client: HtmlClient, db: Session
    ) -> None:
        client.sign_in(commissioner(db).email, PASSWORD)
        response = client.get("/commissioning")
        svg = the_map(response)
        assert svg.select_one("title#gap-map-title").get_text() == (
            "Map of Scotland: any kind of support reaching each council area"
        )
        coast = svg.select_one("path.app-gap-map__coast")["d"]
        # Shetland, Orkney, the Western Isles and the rest: well over a hundred islands.
        assert coast.count("M") > 100
        assert svg.select_one("path.app-gap-map__boundary")["d"].count("M") >= 32
        labels = {text.get_text() for text in svg.select("g.app-gap-map__labels text")}
        assert {"Glasgow", "Edinburgh", "Aberdeen", "Dundee", "Inverness"} <= labels
        assert len(labels) <= 8

        description = svg.select_one("desc#gap-map-desc").get_text()
        assert description.startswith("32 council areas of Scotland, each shaded by the hours")
        assert "In 32 no offer reaches any place" in description, "no offers at all"
        legend = [li.get_text(" ", strip=True) for li in page(response).select("ul.app-legend li")]
        assert legend[0] == "No offer reaches it: 32 council areas"
        assert page(response).select_one("figcaption p").get_text() == description


class TestACouncil:
    def test_highland_is_framed_with_its_neighbours_lighter_and_its_towns_named(
        self, client: HtmlClient, db: Session
    ) -> None:
        lairg_care = make_provider(db, base="Lairg", name="Lairg Home Care")
        make_offer(db, provider=lairg_care, radius_km=15)
        client.sign_in(commissioner(db, "Highland").email, PASSWORD)
        response = client.get("/commissioning", params={"kind": "personal-care"})
        svg = the_map(response)
        places = len(counted_places(db, "Highland"))
        reached = [a for a in svg.select("a") if "no offer in reach" not in a["aria-label"]]
        assert 0 < len(reached) < 10, "Lairg and the countryside around it"
        assert (
            svg.select_one("desc")
            .get_text()
            .startswith(
                f"{places} places in Highland, each a circle sized by its population. "
                f"{places - len(reached)} have no offer of personal care in reach"
            )
        )
        legend = [li.get_text(" ", strip=True) for li in page(response).select("ul.app-legend li")]
        assert legend[0] == f"No offer reaches it: {places - len(reached)} places"
        assert sum(int(re.search(r": (\d+) place", item)[1]) for item in legend) == places
        highland = svg.select("path.app-gap-map__land--chosen")
        assert len(highland) == 1, "Highland's own land, darker"
        assert len(svg.select("path.app-gap-map__land")) >= 4, "Moray, Argyll, the isles..."
        assert svg.select_one("path.app-gap-map__boundary--chosen")["d"]
        assert svg.select_one("path.app-gap-map__coast") is None, "the land's edge is the coast"
        labels = [text.get_text() for text in svg.select("g.app-gap-map__labels text")]
        assert labels[:2] == ["Inverness", "Fort William"], "Highland's largest first"
        assert "Glasgow" not in labels and "Edinburgh" not in labels, "far out of view"

        height = float(svg["viewbox"].split()[3])
        for circle in svg.select("a circle"):
            assert 0 <= float(circle["cx"]) <= WIDTH and 0 <= float(circle["cy"]) <= height

    @pytest.mark.parametrize("council", ["Highland", "Clackmannanshire", "Shetland Islands"])
    def test_the_scale_bar_agrees_with_the_distances_between_places(
        self, client: HtmlClient, db: Session, council: str
    ) -> None:
        client.sign_in(commissioner(db, council).email, PASSWORD)
        svg = the_map(client.get("/commissioning"))
        bar = svg.select_one("g.app-gap-map__scale")
        km = int(bar.text.removesuffix(" km"))
        # The bar is drawn "M x y v4 h LENGTH v-4": its length in the map's units.
        length = numbers(bar.path["d"])[3]
        units_per_km = length / km
        assert km in {1, 2, 5, 10, 20, 50, 100, 200}
        width_km = WIDTH / units_per_km
        assert km <= width_km * SCALE_SHARE < km * 2.5, "the longest round length that fits"

        # The two places farthest apart: their distance on the map, by the bar, is their
        # distance on the ground.
        circles = {
            a["aria-label"].split(":")[0]: (float(a.circle["cx"]), float(a.circle["cy"]))
            for a in svg.select("a")
        }
        places = {p.label: p for p in counted_places(db, council)}
        names = sorted(circles)
        a, b = max(
            ((x, y) for x in names for y in names if x < y),
            key=lambda pair: math.dist(circles[pair[0]], circles[pair[1]]),
        )
        on_map = math.dist(circles[a], circles[b]) / units_per_km
        on_ground = geodesic_km(
            places[a].latitude, places[a].longitude, places[b].latitude, places[b].longitude
        )
        assert on_map == pytest.approx(on_ground, rel=0.01, abs=0.15)


def test_a_place_s_circle_links_to_its_page(client: HtmlClient, db: Session) -> None:
    client.sign_in(commissioner(db, "Highland").email, PASSWORD)
    svg = the_map(client.get("/commissioning", params={"kind": "personal-care"}))
    lairg = settlement(db, "Lairg")
    link = next(a for a in svg.select("a") if a["aria-label"].startswith("Lairg:"))
    assert link["href"] == f"/commissioning/places/{lairg.id}?kind=personal-care"
    assert link.circle.title.get_text() == link["aria-label"]
    assert isinstance(page(client.get(link["href"])), BeautifulSoup)


@pytest.mark.parametrize("path", ["/about/gaps", "/about/places"])
def test_the_outlines_are_credited_where_the_geography_is(client: HtmlClient, path: str) -> None:
    text = page(client.get(path)).get_text(" ", strip=True)
    assert "council areas (2013), generalised and clipped to the coastline" in text
    assert "Contains OS data © Crown copyright and database right" in text
    assert "Open Government Licence v.3.0" in text
