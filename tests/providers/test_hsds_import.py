"""Importing Open Referral (HSDS 3.0) data, as an administrator loading a council's or a
directory's feed: organizations become unclaimed provider listings, services become
offers with prices in pence, taxonomy terms, areas and availability; complete ones are
published; bad records are rejected with the reason; the same file twice changes nothing."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from marketplace.accounts.models import Role, User
from marketplace.cli import app as cli_app
from marketplace.db import make_engine
from marketplace.settings import get_settings
from providers import hsds
from providers.hsds.importer import ImportReport, import_hsds
from providers.hsds.sources import read_source
from providers.models import (
    AreaType,
    Offer,
    OfferPrice,
    OfferStatus,
    PriceUnit,
    Provider,
    ProviderKind,
    Taxonomy,
    availability_bit,
)
from tests.conftest import fresh_postgresql_database
from tests.factories import make_offer, make_provider, make_user
from tests.helpers import HtmlClient

EXAMPLES = Path(__file__).parents[3] / "shared" / "hsds" / "examples"
KINGUSSIE = (Decimal("57.08"), Decimal("-4.05"))
MONDAY, WEDNESDAY = 0, 2
MORNING, AFTERNOON = 0, 1


@pytest.fixture
def admin(db: Session) -> User:
    return make_user(db, role=Role.ADMIN)


def run_import(db: Session, path: Path, admin: User) -> ImportReport:
    bundles, unplaced = read_source(path)
    report = import_hsds(db, bundles=bundles, actor=admin)
    report.rejected[:0] = unplaced
    db.flush()
    return report


def write_json(folder: Path, data: Any, name: str = "feed.json") -> Path:
    path = folder / name
    path.write_text(hsds.dumps(data))  # amounts written from Decimal, as a feed would send them
    return path


def lunch_club(**changes: Any) -> dict[str, Any]:
    """A service as a Highland directory might publish it."""
    service = {
        "id": "6f1c1a57-6c9a-4b8e-9f59-1d2b8c1a0001",
        "name": "Lunch club",
        "description": "A hot lunch and good company, twice a week.",
        "status": "active",
        "organization": {
            "id": "0e7e2f5c-77b4-4c55-8a3a-2f4ad0b10001",
            "name": "Badenoch Lunch Club",
            "description": "Volunteers cooking for older people in Badenoch.",
            "website": "https://badenoch-lunch.example.org",
            "email": "hello@badenoch-lunch.example.org",
            "locations": [
                {
                    "id": "9d7a0f38-2f5e-4c2e-9d1f-000000000001",
                    "location_type": "physical",
                    "latitude": KINGUSSIE[0],
                    "longitude": KINGUSSIE[1],
                }
            ],
        },
        "attributes": [
            {
                "id": "a1",
                "taxonomy_term": {
                    "id": "t1",
                    "name": "Seeing people",
                    "taxonomy": "Personal outcomes",
                },
            },
            {
                "id": "a2",
                "taxonomy_term": {
                    "id": "t2",
                    "code": "social-and-community",
                    "name": "Social activities",
                },
            },
            {"id": "a3", "taxonomy_term": {"id": "t3", "name": "Bingo", "taxonomy": "Activities"}},
        ],
        "cost_options": [
            {
                "id": "c1",
                "currency": "GBP",
                "amount": Decimal("12.50"),
                "amount_description": "per 2 hour session, lunch included",
            }
        ],
        "schedules": [
            {
                "id": "s1",
                "freq": "WEEKLY",
                "byday": "MO,WE",
                "opens_at": "11:00",
                "closes_at": "14:00",
            }
        ],
        "service_areas": [{"id": "sa1", "name": "The Highland Council"}],
        "languages": [{"id": "l1", "name": "English"}, {"id": "l2", "name": "Gaelic"}],
    }
    service.update(changes)
    return service


def offer_called(db: Session, title: str) -> Offer:
    return db.scalars(select(Offer).where(Offer.title == title)).one()


def counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Provider)) or 0,
        db.scalar(select(func.count()).select_from(Offer)) or 0,
        db.scalar(select(func.count()).select_from(OfferPrice)) or 0,
    )


class TestImportingAFeed:
    def test_a_page_of_services_becomes_unclaimed_listings_with_offers(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        free_tea = lunch_club(
            id="6f1c1a57-6c9a-4b8e-9f59-1d2b8c1a0002", name="Tea and chat", cost_options=[]
        )
        path = write_json(
            tmp_path, {"total_items": 2, "page_number": 1, "contents": [lunch_club(), free_tea]}
        )

        report = run_import(db, path, admin)

        assert (
            report.providers_created,
            report.offers_created,
            report.published,
            report.not_published,
        ) == (1, 2, 1, 1)
        provider = db.scalars(select(Provider).where(Provider.name == "Badenoch Lunch Club")).one()
        assert provider.kind == ProviderKind.COMMUNITY_GROUP
        assert provider.members == [], "an unclaimed listing: nobody signs in for it yet"
        assert (provider.website, provider.contact_email) == (
            "https://badenoch-lunch.example.org",
            "hello@badenoch-lunch.example.org",
        )
        assert provider.base_council is not None and provider.base_council.name == "Highland"
        assert provider.language_names == ["English", "Gaelic"]

        offer = offer_called(db, "Lunch club")
        assert offer.status == OfferStatus.PUBLISHED
        price = offer.price
        assert price is not None
        assert (price.unit, price.rate_pence, price.unit_minutes) == (PriceUnit.SESSION, 1250, 120)
        assert {t.code for t in offer.terms} == {"seeing-people", "social-and-community"}
        assert (offer.area_type, [c.name for c in offer.area_councils]) == (
            AreaType.COUNCILS,
            ["Highland"],
        )
        expected = {
            availability_bit(day, period)
            for day in (MONDAY, WEDNESDAY)
            for period in (MORNING, AFTERNOON)
        }
        assert offer.availability == sum(expected)

        notes = {(n.record, n.reason) for n in report.notes}
        assert any("Bingo" in reason for record, reason in notes if "Lunch club" in record)
        assert (
            "service 'Tea and chat' (6f1c1a57-6c9a-4b8e-9f59-1d2b8c1a0002)",
            "left as a draft: Set a price before publishing",
        ) in notes
        assert offer_called(db, "Tea and chat").status == OfferStatus.DRAFT

    def test_importing_the_same_file_again_changes_nothing(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        path = write_json(tmp_path, [lunch_club()])
        run_import(db, path, admin)
        before = counts(db)

        again = run_import(db, path, admin)

        assert counts(db) == before
        assert (
            again.providers_created,
            again.providers_updated,
            again.offers_created,
            again.offers_updated,
        ) == (0, 1, 0, 1)
        assert again.rejected == []

    def test_a_changed_price_is_a_new_price_version_of_the_same_offer(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        run_import(db, write_json(tmp_path, [lunch_club()]), admin)
        dearer = lunch_club(
            cost_options=[
                {
                    "id": "c1",
                    "currency": "gbp",
                    "amount": Decimal(13),
                    "amount_description": "per 2 hour session",
                }
            ]
        )
        run_import(db, write_json(tmp_path, [dearer], "dearer.json"), admin)

        offer = offer_called(db, "Lunch club")
        assert [(p.version, p.rate_pence) for p in offer.prices] == [(1, 1250), (2, 1300)]

    def test_services_listed_under_their_organization_import_too(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        service = lunch_club()
        organization = {**service.pop("organization"), "services": [service]}
        report = run_import(db, write_json(tmp_path, {"contents": [organization]}), admin)
        assert (report.providers_created, report.offers_created) == (1, 1)


class TestRejectedRecords:
    def test_each_bad_record_is_named_with_its_reason_and_the_rest_import(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        def priced(name: str, **option: Any) -> dict[str, Any]:
            return lunch_club(
                id=f"id-{name}", name=name, cost_options=[{"id": f"c-{name}", **option}]
            )

        path = write_json(
            tmp_path,
            [
                priced("Negative", amount=Decimal(-5), amount_description="per hour"),
                priced("Absurd", amount=Decimal(5000), amount_description="per hour"),
                priced(
                    "Fractions of a penny", amount=Decimal("12.505"), amount_description="per hour"
                ),
                priced(
                    "Dollars", amount=Decimal(20), currency="USD", amount_description="per hour"
                ),
                priced("No unit", amount=Decimal(20), amount_description="ask us"),
                lunch_club(id="id-orphan", name="Orphan", organization=None),
                lunch_club(
                    id="id-abroad",
                    name="Abroad",
                    service_areas=[],
                    organization={
                        "id": "org-ny",
                        "name": "New York Care",
                        "description": "Far away",
                    },
                    service_at_locations=[
                        {"id": "x", "location": {"latitude": 40.7, "longitude": -74.0}}
                    ],
                ),
                lunch_club(id="id-twice", name="Negative"),
            ],
        )

        report = run_import(db, path, admin)

        reasons = {r.record: r.reason for r in report.rejected}
        assert (
            reasons["cost option c-Negative of service 'Negative' (id-Negative)"]
            == "amount £-5 is negative"
        )
        assert "£250 an hour" in reasons["cost option c-Absurd of service 'Absurd' (id-Absurd)"]
        assert (
            "whole number of pence"
            in reasons[
                "cost option c-Fractions of a penny of service 'Fractions of a penny' (id-Fractions of a penny)"
            ]
        )
        assert (
            reasons["cost option c-Dollars of service 'Dollars' (id-Dollars)"]
            == "is in USD, not pounds"
        )
        assert (
            "per hour, session"
            in reasons["cost option c-No unit of service 'No unit' (id-No unit)"]
        )
        assert "names no organization" in reasons["service 'Orphan' (id-orphan)"]
        assert "Scotland" in reasons["service 'Abroad' (id-abroad)"]
        assert "same name" in reasons["service 'Negative' (id-twice)"]
        # A refused price leaves the offer as an unpriced draft; a refused service leaves nothing.
        assert {o.title: (o.status, o.price) for o in db.scalars(select(Offer))} == dict.fromkeys(
            ("Negative", "Absurd", "Fractions of a penny", "Dollars", "No unit"),
            (OfferStatus.DRAFT, None),
        )
        new_york = db.scalars(select(Provider).where(Provider.name == "New York Care")).one()
        assert new_york.offers == []

    def test_a_provider_that_manages_its_own_listing_is_left_alone(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        claimed = make_provider(db, name="Badenoch Lunch Club")
        make_offer(db, provider=claimed, title="Lunch club", rate_pence=900)

        report = run_import(db, write_json(tmp_path, [lunch_club()]), admin)

        assert "manages its own listing" in report.rejected[0].reason
        assert "its organization was not imported" in report.rejected[1].reason
        assert [(o.title, o.price.rate_pence) for o in claimed.offers if o.price] == [
            ("Lunch club", 900)
        ]

    def test_a_defunct_service_withdraws_the_offer_it_had_made(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        run_import(db, write_json(tmp_path, [lunch_club()]), admin)
        run_import(db, write_json(tmp_path, [lunch_club(status="defunct")], "defunct.json"), admin)
        assert offer_called(db, "Lunch club").status == OfferStatus.WITHDRAWN


def write_datapackage(folder: Path) -> Path:
    """A small tabular package: one organization in Skye with a radius service and one
    serving named towns, the way a spreadsheet-minded directory would send it."""
    folder.mkdir()
    tables: dict[str, list[dict[str, str]]] = {
        "organizations": [
            {"id": "org-1", "name": "Skye Community Transport", "description": "Volunteer drivers."}
        ],
        "services": [
            {
                "id": "svc-1",
                "organization_id": "org-1",
                "name": "Lifts to appointments",
                "status": "active",
                "description": "Door to door.",
            },
            {
                "id": "svc-2",
                "organization_id": "org-1",
                "name": "Shopping trips",
                "status": "inactive",
                "description": "Weekly to Portree.",
            },
        ],
        "locations": [
            {
                "id": "loc-1",
                "organization_id": "org-1",
                "location_type": "physical",
                "latitude": "57.41",
                "longitude": "-6.19",
            }
        ],
        "service_at_location": [{"id": "sal-1", "service_id": "svc-1", "location_id": "loc-1"}],
        "service_areas": [{"id": "sa-2", "service_id": "svc-2", "name": "Portree, Broadford"}],
        "taxonomies": [{"id": "tax-1", "name": "Kinds of support", "description": "Ours"}],
        "taxonomy_terms": [
            {
                "id": "term-1",
                "taxonomy_id": "tax-1",
                "code": "getting-out-and-about",
                "name": "Transport",
                "description": "",
            },
            {
                "id": "term-2",
                "taxonomy_id": "",
                "code": "",
                "name": "Feeling safe",
                "description": "",
            },
        ],
        "attributes": [
            {
                "id": f"att-{s}-{t}",
                "link_id": f"svc-{s}",
                "link_entity": "service",
                "taxonomy_term_id": f"term-{t}",
            }
            for s in (1, 2)
            for t in (1, 2)
        ],
        "cost_options": [
            {
                "id": "co-1",
                "service_id": "svc-1",
                "currency": "GBP",
                "amount": "8.40",
                "amount_description": "per hour",
            },
            {
                "id": "co-2",
                "service_id": "svc-1",
                "currency": "GBP",
                "amount": "10.50",
                "option": "Evenings",
                "amount_description": "per hour",
            },
        ],
        "schedules": [
            {
                "id": "sch-1",
                "service_id": "svc-1",
                "freq": "WEEKLY",
                "byday": "TU,TH",
                "opens_at": "09:00",
                "closes_at": "12:00",
            }
        ],
    }
    resources = []
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=sorted({k for row in rows for k in row}))
            writer.writeheader()
            writer.writerows(rows)
        resources.append({"name": name, "path": f"{name}.csv"})
    (folder / "datapackage.json").write_text(json.dumps({"name": "skye", "resources": resources}))
    return folder


class TestDataPackages:
    def test_a_folder_of_csvs_imports_and_its_zip_matches_the_same_records(
        self, db: Session, admin: User, tmp_path: Path
    ) -> None:
        folder = write_datapackage(tmp_path / "skye")

        report = run_import(db, folder, admin)

        assert report.rejected == []
        lifts = offer_called(db, "Lifts to appointments")
        assert lifts.status == OfferStatus.PUBLISHED
        assert lifts.price is not None
        assert (lifts.price.rate_pence, lifts.price.evening_uplift_bp) == (840, 2500)
        assert {t.code for t in lifts.terms} == {"getting-out-and-about", "feeling-safe"}
        assert (lifts.area_type, lifts.radius_km, lifts.centre_label) == (
            AreaType.RADIUS,
            10.0,
            "57.41, -6.19 (near Portree)",
        )
        shopping = offer_called(db, "Shopping trips")
        assert shopping.status == OfferStatus.DRAFT, "an inactive service is not published"
        assert sorted(s.name for s in shopping.area_settlements) == ["Broadford", "Portree"]
        before = counts(db)

        archive = tmp_path / "skye.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            for file in folder.iterdir():
                zipped.write(file, f"export/{file.name}")
        again = run_import(db, archive, admin)

        assert counts(db) == before
        assert (again.offers_created, again.offers_updated) == (0, 2)


class TestTheStandardsExamples:
    @pytest.mark.parametrize(
        ("name", "has_service"),
        [
            ("service_full.json", True),
            ("service_list.json", True),
            ("organization_full.json", True),
            ("organization_list.json", False),
            ("tabular.json", True),
            ("csv", True),
        ],
    )
    def test_the_example_organization_imports_and_its_american_service_is_rejected(
        self, db: Session, admin: User, name: str, has_service: bool
    ) -> None:
        path = EXAMPLES / name
        if not path.exists():
            pytest.skip(
                f"the HSDS 3.0 examples are not at {EXAMPLES} (CI always has ../shared/hsds)"
            )

        report = run_import(db, path, admin)

        example = db.scalars(
            select(Provider).where(Provider.name == "Example Organization Inc.")
        ).one()
        assert (example.kind, example.members, example.offers) == (
            ProviderKind.COMMUNITY_GROUP,
            [],
            [],
        )
        rejected = [r.reason for r in report.rejected if "Community Counselling" in r.record]
        if has_service:
            (reason,) = rejected
            assert "Scotland" in reason, (
                "MyCity is not in Scotland: the service has nowhere to reach"
            )
        else:
            assert rejected == []
        assert run_import(db, path, admin).providers_created == 0


class TestRoundTrip:
    def test_our_own_feed_imports_back_onto_the_same_offer(
        self, db: Session, admin: User, client: HtmlClient, tmp_path: Path
    ) -> None:
        run_import(db, write_datapackage(tmp_path / "skye"), admin)
        offer = offer_called(db, "Lifts to appointments")
        listed = client.get("/openreferral/services?search=Lifts to appointments").json()[
            "contents"
        ]
        exported = json.loads(
            client.get(f"/openreferral/services/{listed[0]['id']}").text, parse_float=Decimal
        )
        before = counts(db)

        report = run_import(db, write_json(tmp_path, exported, "ours.json"), admin)

        assert report.rejected == []
        assert counts(db) == before
        db.refresh(offer)
        assert (
            offer.radius_km,
            offer.centre_label,
            offer.price.rate_pence,
            offer.price.evening_uplift_bp,
        ) == (  # type: ignore[union-attr]
            10.0,
            "57.41, -6.19 (near Portree)",
            840,
            2500,
        )
        assert {t.taxonomy for t in offer.terms} == {
            Taxonomy.KIND_OF_SUPPORT,
            Taxonomy.PERSONAL_OUTCOME,
        }


runner = CliRunner()


@pytest.fixture
def cli_database(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database of its own for the command, which commits for real."""

    def point_at(url: str) -> str:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("SDS_VAR_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("SDS_SECURITY__PASSWORD_HASH_PROFILE", "cheapest")
        get_settings.cache_clear()
        return url

    try:
        if backend == "sqlite":
            yield point_at(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
        else:
            with fresh_postgresql_database() as url:
                yield point_at(url)
    finally:
        get_settings.cache_clear()


def test_the_command_imports_with_a_progress_bar_and_a_report(
    cli_database: str, tmp_path: Path
) -> None:
    def run(*args: str) -> str:
        result = runner.invoke(cli_app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    path = write_json(
        tmp_path, [lunch_club(), lunch_club(id="id-orphan", name="Orphan", organization=None)]
    )
    run("db", "upgrade")
    refused = runner.invoke(cli_app, ["hsds", "import", str(path)])
    assert refused.exit_code == 1 and "there is none" in refused.output
    run(
        "users",
        "create",
        "--email",
        "admin@example.org",
        "--name",
        "Admin",
        "--role",
        "admin",
        "--password",
        "a long enough password",
    )

    first = run("hsds", "import", str(path))
    second = run("hsds", "import", str(path))

    assert "1 providers created" in first and "1 offers created" in first and "1 published" in first
    assert "Orphan" in first and "names no organization" in first
    assert "0 providers created, 1 updated; 0 offers created, 1 updated" in second
    with Session(make_engine(cli_database)) as session:
        assert session.scalar(select(func.count()).select_from(Offer)) == 1
