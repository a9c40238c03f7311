"""A commissioner never sees a person's identity or exact location anywhere.

Morag, a supported person near Lairg, searches from her exact coordinates and finds
nothing, then posts a need from them that nobody answers. Her search and her need are
counted as unmet demand. Signed in as a commissioner for Highland and as one for all of
Scotland, we then read every commissioner page: the dashboard with every choice each of
its filters offers (and hers all at once), every Highland place's page, the site
suggestions, every table each of them offers as CSV, and the `sds-market gaps report`
JSON; and none of them carries her name, her email, an address built on her need's or
her account's id, the words of her need, or where exactly she is. Her need's page itself
is refused to them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace.cli import app as cli_app
from marketplace.db import make_engine, make_sessionmaker, session_scope
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import get_settings
from matching.index import OfferIndex
from matching.models import UnmetDemand
from tests.factories import make_offer, make_provider
from tests.helpers import HtmlClient, page
from tests.matching.gaps.gap_builders import (
    PRECISELY,
    a_person_nobody_could_help,
    browser,
    commissioner,
    counted_places,
    csv_links,
    downloads_table,
    settlement,
    table_records,
    traces_in,
    traces_of,
)

FILTERS = ("council", "kind", "outcome", "class", "period")


class Reader:
    """A commissioner reading pages, keeping every address read and checking each. It
    reads with a plain client: the pages' structure is checked by test_gap_routes, and
    this reads well over a hundred of them."""

    def __init__(self, signed_in: HtmlClient, traces: dict[str, Any]) -> None:
        self.client = TestClient(
            signed_in.app,
            base_url="http://testserver",
            follow_redirects=False,
            cookies=signed_in.cookies,
        )
        self.traces = traces
        self.read: set[str] = set()

    def get(self, address: str) -> httpx.Response:
        response = self.client.get(address)
        assert response.status_code == 200, (address, response.status_code)
        self.read.add(address)
        found = traces_in(response.text, self.traces) + traces_in(
            str(response.headers), self.traces
        )
        assert not found, f"{address} shows {found}"
        return response

    def page_and_downloads(self, address: str) -> httpx.Response:
        response = self.get(address)
        downloads = csv_links(response)
        assert downloads, f"{address} offers no download"
        for href in downloads:
            if href not in self.read:
                exported = self.get(href)
                assert exported.headers["content-type"].startswith("text/csv"), href
        return response


def filter_choices(response: httpx.Response) -> dict[str, list[str]]:
    """Every value each filter on the page offers, as the form lists them."""
    form = page(response).select_one("form#gap-filters")
    return {
        select["name"]: [option["value"] for option in select.select("option") if option["value"]]
        for select in form.select("select")
        if select["name"] in FILTERS
    }


@pytest.fixture
def morag(db: Session, app: FastAPI) -> dict[str, Any]:
    """Morag's search and need, nothing reaching her; a provider in Inverness whose
    offer does not reach Lairg, so the pages have someone nearest outside reach."""
    make_offer(
        db, provider=make_provider(db, base="Inverness", name="Inverness Care"), radius_km=20
    )
    person, need = a_person_nobody_could_help(db, OfferIndex())
    with browser(app, db, person) as her:
        found = her.get(
            "/find-support", params={"location": PRECISELY, "kinds_of_support": "personal-care"}
        )
        assert found.status_code == 200 and "No offers found" in found.text
        shown = her.get(f"/needs/{need.id}")
        assert shown.status_code == 200
        # The checks can see her: her own page carries what the commissioner must never see.
        assert {"name", "the need's words", "the place she gave"} <= set(
            traces_in(shown.text, traces_of(person, need))
        )
    assert {(r.settlement.name, r.source.value) for r in db.scalars(select(UnmetDemand))} == {
        ("Lairg", "search"),
        ("Lairg", "posted_need"),
    }
    return {"person": person, "need": need, "traces": traces_of(person, need)}


def test_a_highland_commissioner_reads_every_page_and_download_and_never_sees_her(
    app: FastAPI, db: Session, morag: dict[str, Any]
) -> None:
    with browser(app, db, commissioner(db, "Highland")) as client:
        reader = Reader(client, morag["traces"])
        first = reader.page_and_downloads("/commissioning")
        lairg_row = table_records(page(first), "places")["Lairg"]
        assert (
            lairg_row["Searches that found nothing (the last 3 months)"],
            lairg_row["Posted needs nobody answered (the last 3 months)"],
        ) == (
            "fewer than 10",
            "fewer than 10",
        ), "her search and her need are counted"
        choices = filter_choices(first)
        assert set(choices) == {"kind", "outcome", "class", "period"}
        for name, values in choices.items():
            for value in values:
                reader.page_and_downloads(f"/commissioning?{name}={value}")
        reader.page_and_downloads(
            "/commissioning?kind=personal-care&outcome=feeling-safe&class=6&period=30"
        )

        # Every place's page; the downloads of the places she and the provider are at (a
        # place page's downloads are the very tables it shows, built once for both).
        places = counted_places(db, "Highland")
        for place in places:
            response = reader.get(f"/commissioning/places/{place.id}")
            if place.name in ("Lairg", "Inverness"):
                for href in csv_links(response):
                    reader.get(href)
        lairg = settlement(db, "Lairg").id
        reader.page_and_downloads(
            f"/commissioning/places/{lairg}?kind=personal-care&outcome=feeling-safe&period=30"
        )
        reader.page_and_downloads(
            "/commissioning/sites?kind=personal-care&count=3&radius=20&hours=30"
        )
        reader.get("/about/gaps")
        assert len(reader.read) > 100 + len(places)

        for address in (
            f"/needs/{morag['need'].id}",
            f"/provider/needs/{morag['need'].id}",
            f"/users/{morag['person'].id}",
        ):
            assert client.get(address).status_code in (403, 404), address


def test_a_commissioner_for_scotland_never_sees_her_either(
    app: FastAPI, db: Session, morag: dict[str, Any]
) -> None:
    with browser(app, db, commissioner(db)) as client:
        reader = Reader(client, morag["traces"])
        first = reader.page_and_downloads("/commissioning")
        assert any(downloads_table(href, "/commissioning", "councils") for href in csv_links(first))
        highland = [
            value
            for value in filter_choices(first)["council"]
            if value == settlement(db, "Lairg").council.gss_code
        ]
        reader.page_and_downloads(f"/commissioning?council={highland[0]}&kind=personal-care")
        reader.page_and_downloads(f"/commissioning/places/{settlement(db, 'Lairg').id}")
        reader.page_and_downloads("/commissioning/sites?kind=personal-care")
        assert client.get(f"/needs/{morag['need'].id}").status_code in (403, 404)


def test_the_report_command_never_names_her(cli_database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(cli_database)
    with session_scope(make_sessionmaker(engine)) as session:
        attach_mailer(session, Mailer(get_settings()))
        person, need = a_person_nobody_could_help(session, OfferIndex())
        traces = traces_of(person, need)
    engine.dispose()
    for args in (
        ["--council", "Highland", "--format", "json"],
        ["--format", "csv", "--support", "personal-care"],
    ):
        result = runner.invoke(cli_app, ["gaps", "report", *args])
        assert result.exit_code == 0, result.output
        assert "fewer than 10" in result.stdout, "her need is counted"
        assert not traces_in(result.stdout + result.stderr, traces), args
