"""Builders and readers for the market-gaps tests: commissioners, unmet demand recorded
through the service the search and the daily run use, and the pages' tables and their
CSV downloads read back as rows of text."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
from bs4 import BeautifulSoup
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.db import today, utcnow
from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km, haversine_km
from marketplace.geography.models import COUNTED, CouncilArea, Settlement
from matching import service as matching_service
from matching.gaps.report import DEFAULT_PERIOD_DAYS
from matching.index import OfferIndex
from matching.models import UnmetDemandSource
from matching.needs import service as needs_service
from matching.needs.models import NeedStatus, PostedNeed
from providers.models import Taxonomy
from tests.factories import PASSWORD, make_user, term_ids
from tests.helpers import HtmlClient
from tests.matching.needs.need_builders import post


def commissioner(db: Session, council: str | None = None) -> User:
    """A commissioner for one council area, or (council None) for all of Scotland."""
    return make_user(db, role=Role.COMMISSIONER, council=council)


@contextlib.contextmanager
def browser(app: FastAPI, db: Session, user: User | None = None) -> Iterator[HtmlClient]:
    """Another browser on the same app, signed in as `user` when given."""
    with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as client:
        if user is not None:
            client.sign_in(user.email, PASSWORD)
        yield client


def council_id(db: Session, council: str) -> int:
    return db.scalars(select(CouncilArea.id).where(CouncilArea.name == council)).one()


def gss(db: Session, council: str) -> str:
    return db.scalars(select(CouncilArea.gss_code).where(CouncilArea.name == council)).one()


def settlement(db: Session, name: str) -> Settlement:
    found = geography_service.resolve_location(db, text=name).settlement
    assert found is not None
    return db.get_one(Settlement, found.id)


def one_offer_hours_per_1000(
    db: Session, *, hours: float, base: Settlement, radius_km: float
) -> float:
    """What one offer of `hours` a week based at `base` gives the people of its own base,
    by the E2SFCA worked out by hand: its hours shared by the people of every counted
    place within its radius (listed places and rural areas alike), each weighted by the
    distance band it is in (1, 0.68, 0.22 within 10, 20, 30 km), and its base at weight 1."""
    shared = 0.0
    for place in db.scalars(select(Settlement).where(Settlement.kind.in_(COUNTED))):
        args = (base.latitude, base.longitude, place.latitude, place.longitude)
        if geodesic_km(*args) > radius_km:
            continue
        km = haversine_km(*args)
        shared += place.residents * (1.0 if km <= 10 else 0.68 if km <= 20 else 0.22)
    return hours * 1000 / shared


def counted_places(db: Session, council: str) -> list[Settlement]:
    """The council area's places people are counted in: its listed settlements and rural
    areas (not a place's second entry, nor an island's own entry)."""
    return list(
        db.scalars(
            select(Settlement)
            .join(CouncilArea, Settlement.council_id == CouncilArea.id)
            .where(CouncilArea.name == council, Settlement.kind.in_(COUNTED))
            .order_by(Settlement.id)
        )
    )


def unmet(
    db: Session,
    place: str,
    count: int,
    *,
    kinds: tuple[str, ...] = ("personal-care",),
    outcomes: tuple[str, ...] = (),
    source: UnmetDemandSource = UnmetDemandSource.SEARCH,
    on: date | None = None,
) -> None:
    """`count` searches (or posted needs) at `place` that found nothing, as the search and
    the daily run record them."""
    where = settlement(db, place)
    wanted = term_ids(db, Taxonomy.KIND_OF_SUPPORT, kinds) + term_ids(
        db, Taxonomy.PERSONAL_OUTCOME, outcomes
    )
    for _ in range(count):
        matching_service.record_unmet_demand(
            db, source=source, settlement=where, term_ids=wanted, on=on or today()
        )


# Reading pages and downloads.


def table_header(soup: BeautifulSoup, name: str) -> list[str]:
    table = soup.select_one(f"#table-{name}")
    assert table is not None, f"there is no table {name!r} on the page"
    return [th.get_text(" ", strip=True) for th in table.select("thead th")]


def table_rows(soup: BeautifulSoup, name: str) -> list[list[str]]:
    table = soup.select_one(f"#table-{name}")
    assert table is not None, f"there is no table {name!r} on the page"
    return [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in table.select("tbody tr")
    ]


def table_records(soup: BeautifulSoup, name: str) -> dict[str, dict[str, str]]:
    """Each row by its first cell, as {column label: text}."""
    header = table_header(soup, name)
    return {row[0]: dict(zip(header, row, strict=True)) for row in table_rows(soup, name)}


def csv_rows(response: httpx.Response) -> list[list[str]]:
    """A CSV download's rows, header first."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.text)))


def csv_records(response: httpx.Response) -> dict[str, dict[str, str]]:
    header, *rows = csv_rows(response)
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def csv_links(response: httpx.Response) -> list[str]:
    """Every table download the page offers (read without parsing the page: some pages
    are read a hundred times over)."""
    return [
        html.unescape(href)
        for href in re.findall(r'<a href="([^"]*format=csv)" download>', response.text)
    ]


def downloads_table(href: str, path: str, table: str, **filters: str) -> bool:
    """Whether a download link is for `table` on the page at `path` with these filters
    (the default period may be spelt out or left out)."""
    parts = urlsplit(href)
    params = dict(parse_qsl(parts.query))
    if params.get("period") == str(DEFAULT_PERIOD_DAYS) and "period" not in filters:
        del params["period"]
    return parts.path == path and params == {**filters, "table": table, "format": "csv"}


def same_figure(shown: str, exported: str) -> bool:
    """A page's cell and its CSV cell say the same: the same words, or the same number
    (the page writes 1,234 and 12.3; the CSV 1234 and 12.346)."""
    if shown == exported:
        return True
    try:
        number = float(exported)
    except ValueError:
        return False
    try:
        on_page = float(shown.replace(",", ""))
    except ValueError:
        return False
    decimals = len(shown.partition(".")[2])
    return abs(on_page - number) <= 0.5 * 10**-decimals + 1e-9


# A person whose search and posted need found nothing, for the privacy checks.

PERSON_NAME = "Morag Quarrendale-Vexley"
PERSON_EMAIL = "morag.quarrendale@example.net"
PRECISELY = "58.0312, -4.4101"
"""Where she is: a kilometre or so from the middle of Lairg."""
NEED_TEXT = "Zebedee marmalade on alternate Thursdays, after the Lochinver bus"


def a_person_nobody_could_help(db: Session, index: OfferIndex) -> tuple[User, PostedNeed]:
    """A supported person near Lairg who posted a need from her exact coordinates 15 days
    ago that no provider reached, now counted as unmet demand by the daily run."""
    person = make_user(db, name=PERSON_NAME, email=PERSON_EMAIL)
    need = post(
        db,
        index,
        poster=person,
        location=PRECISELY,
        description=NEED_TEXT,
        now=utcnow() - timedelta(days=15),
    )
    assert need.settlement.name == "Lairg" and not need.deliveries
    assert needs_service.run_daily(db, index=index, now=utcnow()).unmet == 1
    assert need.status == NeedStatus.UNMET
    return person, need


def traces_of(person: User, need: PostedNeed) -> dict[str, re.Pattern[str]]:
    """What would tell a reader who the person is or exactly where: each by what it is."""
    literal = {
        "name": person.name,
        "surname": person.name.split()[-1],
        "email": person.email,
        "email user": person.email.split("@")[0],
        "the need's words": need.description,
        "a phrase of them": need.description.split(",")[0],
        "latitude": PRECISELY.split(",")[0],
        "longitude": PRECISELY.split(", ")[1].lstrip("-"),
        "the place she gave": need.location_label.split(" (")[0],
    }
    patterns = {what: re.compile(re.escape(text), re.IGNORECASE) for what, text in literal.items()}
    patterns["her need's page"] = re.compile(rf"/needs/{need.id}(?!\d)")
    patterns["her account's page"] = re.compile(rf"/users/{person.id}(?!\d)")
    return patterns


def traces_in(text: str, traces: dict[str, re.Pattern[str]]) -> list[str]:
    return [what for what, pattern in traces.items() if pattern.search(text)]
