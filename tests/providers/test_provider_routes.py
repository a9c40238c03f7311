"""Providers' pages as people use them: a personal assistant from sign-up to a published
listing; an organisation writing, pricing and publishing an offer; checks declared and
verified; staff invited; and the public offer and provider pages."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.geography import service as geography_service
from marketplace.geography.basemap import WIDTH, scotland_view
from marketplace.geography.outlines import outlines, to_grid
from marketplace.mail import read_outbox
from marketplace.settings import Settings
from providers.models import (
    AreaType,
    CheckStatus,
    Offer,
    OfferPrice,
    OfferStatus,
    Provider,
    ProviderKind,
    ProviderMember,
    Taxonomy,
)
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.helpers import HtmlClient, error_messages, page
from tests.matching.test_reach import set_area


def listing_answers(**changes: object) -> dict[str, object]:
    answers: dict[str, object] = {
        "about": "I have cared for older people in Skye for ten years.",
        "base": "Portree",
        "radius_km": "25",
        "drives": "yes",
        "languages": ["English", "Gaelic"],
        "other_languages": "",
        "kinds_of_support": ["personal-care", "getting-out-and-about"],
        "outcomes": ["feeling-safe", "seeing-people"],
        "client_groups": ["older-people"],
        "title": "Care and company around Portree",
        "rate": "18.50",
        "availability": ["0-0", "0-1", "2-0"],
        "capacity_hours": "12",
    }
    answers.update(changes)
    return answers


def sign_in_as(client: HtmlClient, user: User) -> None:
    client.sign_in(user.email, PASSWORD)


def form_fields(response) -> set[str]:  # type: ignore[no-untyped-def]
    """The names a person fills in on a page's main form (not the hidden ones)."""
    soup = page(response)
    form = soup.select("main form[method=post]")[-1]
    return {
        field["name"]
        for field in form.select("input[name], textarea[name], select[name]")
        if field.get("type") != "hidden"
    }


class TestPersonalAssistantJourney:
    def test_from_sign_up_to_a_published_offer_in_at_most_17_fields(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        sign_up_fields = form_fields(client.get("/sign-up/personal-assistant"))
        client.submit(
            "/sign-up/personal-assistant",
            {"name": "Ewan Mor", "email": "ewan@example.org", "password": PASSWORD},
        )
        link = next(
            line
            for line in read_outbox(settings.outbox_dir)[0].body.splitlines()
            if "/confirm-email?token=" in line
        )
        client.submit(link.removeprefix(settings.base_url))
        client.sign_in("ewan@example.org", PASSWORD)

        assert client.get("/provider").headers["location"] == "/provider/start"
        listing_fields = form_fields(client.get("/provider/start"))
        assert len(sign_up_fields) + len(listing_fields) <= 17, (sign_up_fields, listing_fields)
        assert {"client_groups", "title"} <= listing_fields, (
            "who the offer suits and what to call it"
        )

        done = client.submit("/provider/start", listing_answers())
        assert done.headers["location"] == "/provider?done=published"
        provider = db.scalar(
            select(Provider)
            .join(Provider.members)
            .join(ProviderMember.user)
            .where(User.email == "ewan@example.org")
        )
        assert provider is not None and provider.kind == ProviderKind.PERSONAL_ASSISTANT
        assert provider.language_names == ["English", "Gaelic"]
        [offer] = provider.offers
        assert offer.status == OfferStatus.PUBLISHED
        assert offer.title == "Care and company around Portree"
        assert [t.code for t in offer.terms_of(Taxonomy.CLIENT_GROUP)] == ["older-people"]
        assert offer.price is not None and offer.price.rate_pence == 1850
        public = page(client.get(f"/offers/{offer.id}")).get_text(" ", strip=True)
        assert "£18.50 an hour" in public
        assert "£185.00" in public, "a typical week of 10 hours at £18.50"

    def test_missing_answers_are_explained_and_nothing_is_written(
        self, client: HtmlClient, db: Session
    ) -> None:
        pa = make_user(db, role=Role.PERSONAL_ASSISTANT)
        sign_in_as(client, pa)
        response = client.submit("/provider/start", {"base": "Atlantis", "radius_km": "0"})
        assert response.status_code == 422
        messages = error_messages(response)
        assert "Tell people a little about yourself" in messages
        assert "Enter a distance of 1 km or more" in messages
        assert (
            db.scalar(
                select(Provider).join(Provider.members).where(ProviderMember.user_id == pa.id)
            )
            is None
        )

    def test_an_unknown_base_is_refused_by_its_field(self, client: HtmlClient, db: Session) -> None:
        sign_in_as(client, make_user(db, role=Role.PERSONAL_ASSISTANT))
        response = client.submit("/provider/start", listing_answers(base="Atlantis"))
        assert response.status_code == 422
        assert error_messages(response)[0].startswith("We cannot find a place called Atlantis")
        assert page(response).select_one("#base")["aria-invalid"] == "true"

    def test_control_characters_in_text_are_refused(self, client: HtmlClient, db: Session) -> None:
        sign_in_as(client, make_user(db, role=Role.PERSONAL_ASSISTANT))
        response = client.submit(
            "/provider/start", listing_answers(about="Hello\x07", base="Portree\nSkye")
        )
        assert response.status_code == 422
        assert error_messages(response) == [
            "Remove the special characters from this answer",
            "Write where you are based on one line",
        ]


def offer_answers(**changes: object) -> dict[str, object]:
    answers: dict[str, object] = {
        "title": "Help at home in Inverness",
        "description": "Cleaning, shopping and cooking, with a chat.",
        "kinds_of_support": ["help-at-home"],
        "outcomes": ["living-where-you-want"],
        "client_groups": ["older-people"],
        "area_type": "radius",
        "centre": "Inverness",
        "radius_km": "15",
        "availability": ["0-0", "1-0", "2-0", "3-0", "4-0"],
        "capacity_unit": "hours_per_week",
        "capacity_amount": "40",
        "typical_week_hours": "6",
        "unit": "hour",
        "rate": "24.00",
        "weekend_uplift": "25",
        "travel_charge": "per_mile",
        "travel_charge_amount": "0.45",
        "included": "Mileage within Inverness",
        "management_fee_percent": "10",
    }
    answers.update(changes)
    return answers


class TestOrganisationOffers:
    @pytest.fixture
    def staff(self, client: HtmlClient, db: Session) -> Provider:
        provider = make_provider(db, base="Inverness", holds_isf=True)
        sign_in_as(client, provider.members[0].user)
        return provider

    def test_write_price_and_publish_an_offer(
        self, client: HtmlClient, db: Session, staff: Provider
    ) -> None:
        created = client.submit("/provider/offers/new", offer_answers())
        assert created.status_code == 303
        offer = db.scalar(select(Offer).where(Offer.provider_id == staff.id))
        assert offer is not None and offer.status == OfferStatus.DRAFT
        assert offer.price is not None
        assert (
            offer.price.rate_pence,
            offer.price.weekend_uplift_bp,
            offer.price.management_fee_bp,
        ) == (2400, 2500, 1000)
        assert client.get(f"/offers/{offer.id}").status_code == 200, "its provider sees the draft"

        assert client.submit(f"/provider/offers/{offer.id}/publish").status_code == 303
        db.refresh(offer)
        assert offer.status == OfferStatus.PUBLISHED
        text = page(client.get(f"/offers/{offer.id}")).get_text(" ", strip=True)
        # 6 hours at £24.00 is £144.00; a 10% fee on it is £14.40; £158.40 in all.
        assert (
            "Total a week: £158.40" in text
            and "Management fee: £14.40" in text
            and "10% of the support" in text
        )
        assert "25% more on weekends" in text

    def test_a_new_price_is_a_new_version(
        self, client: HtmlClient, db: Session, staff: Provider
    ) -> None:
        offer = make_offer(db, provider=staff, rate_pence=2000)
        client.submit(
            f"/provider/offers/{offer.id}/price",
            {"unit": "hour", "rate": "21.00", "travel_charge": "none"},
        )
        prices = db.scalars(
            select(OfferPrice).where(OfferPrice.offer_id == offer.id).order_by(OfferPrice.version)
        ).all()
        assert [(p.version, p.rate_pence) for p in prices] == [(1, 2000), (2, 2100)]

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"radius_km": "0"}, "Enter how far you will travel, from 1 to 200 km"),
            ({"radius_km": "250"}, "Enter how far you will travel, from 1 to 200 km"),
            ({"rate": "-5"}, "Enter an amount of £0 or more"),
            ({"rate": "1850"}, "That is more than £250 an hour: check the price is in pounds"),
            (
                {"centre": "EH999"},
                "EH999 is not a postcode we know the form of. Enter a postcode like IV27 4JB, "
                "or its first part, like IV27",
            ),
            ({"title": "Best\ncare"}, "Write the title on one line"),
        ],
    )
    def test_bad_input_is_refused_by_its_field_and_nothing_is_written(
        self,
        client: HtmlClient,
        db: Session,
        staff: Provider,
        changes: dict[str, str],
        message: str,
    ) -> None:
        response = client.submit("/provider/offers/new", offer_answers(**changes))
        assert response.status_code == 422
        assert message in error_messages(response)
        assert db.scalar(select(Offer).where(Offer.provider_id == staff.id)) is None

    def test_every_mistake_in_a_new_offer_is_shown_at_once(
        self, client: HtmlClient, db: Session, staff: Provider
    ) -> None:
        # Each is a rule of the service, not of the form's reading: the form reads them
        # all, so a person must see them together, not one after fixing another.
        response = client.submit(
            "/provider/offers/new",
            offer_answers(radius_km="250", capacity_amount="10000", rate="1850"),
        )
        assert response.status_code == 422
        assert error_messages(response) == [
            "Enter how far you will travel, from 1 to 200 km",
            "Enter from 0 to 5,000 hours a week",
            "That is more than £250 an hour: check the price is in pounds",
        ]
        assert db.scalar(select(Offer).where(Offer.provider_id == staff.id)) is None

    def test_pause_withdraw_and_capacity(
        self, client: HtmlClient, db: Session, staff: Provider
    ) -> None:
        offer = make_offer(db, provider=staff)
        client.submit(f"/provider/offers/{offer.id}/capacity", {"capacity_amount": "3"})
        client.submit(f"/provider/offers/{offer.id}/pause")
        db.refresh(offer)
        assert (offer.status, offer.capacity_amount) == (OfferStatus.PAUSED, 3)
        assert HtmlClient(client.app).get(f"/offers/{offer.id}").status_code == 404, (
            "the public cannot see it"
        )
        client.submit(f"/provider/offers/{offer.id}/withdraw")
        refused = client.submit(f"/provider/offers/{offer.id}/publish")
        assert refused.status_code == 409

    def test_another_providers_offer_is_not_found(
        self, client: HtmlClient, db: Session, staff: Provider
    ) -> None:
        theirs = make_offer(db)
        assert client.get(f"/provider/offers/{theirs.id}").status_code == 404
        assert client.submit(f"/provider/offers/{theirs.id}/withdraw").status_code == 404
        db.refresh(theirs)
        assert theirs.status == OfferStatus.PUBLISHED


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


class TestProfile:
    def test_profile_and_photo(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        sign_in_as(client, provider.members[0].user)
        saved = client.submit(
            "/provider/profile",
            {
                "name": "Glen Support",
                "about": "Local people.",
                "base": "IV2",
                "holds_isf": "yes",
                "drives": "yes",
                "languages": ["English"],
                "other_languages": "Polish, Urdu",
                "contact_email": "hello@example.org",
                "website": "https://glen.example.org",
            },
        )
        assert saved.status_code == 303
        db.refresh(provider)
        assert (provider.name, provider.base_label, provider.holds_isf) == (
            "Glen Support",
            "IV2",
            True,
        )
        assert provider.language_names == ["English", "Polish", "Urdu"]

        token = client.csrf_token()
        uploaded = client.post(
            "/provider/photo",
            data={"csrftoken": token},
            files={"photo": ("me.png", tiny_png(), "image/png")},
        )
        assert uploaded.status_code == 303
        photo = client.get(f"/providers/{provider.id}/photo")
        assert (photo.status_code, photo.headers["content-type"]) == (200, "image/png")

        refused = client.post(
            "/provider/photo",
            data={"csrftoken": token},
            files={"photo": ("x.png", b"<svg onload=alert(1)>", "image/png")},
        )
        assert refused.status_code == 422
        assert "The file is not a PNG or JPG picture" in error_messages(refused)[0]

    def test_a_bad_website_is_refused(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        sign_in_as(client, provider.members[0].user)
        response = client.submit(
            "/provider/profile", {"name": "X", "website": "javascript:alert(1)"}
        )
        assert response.status_code == 422


class TestStaff:
    def test_invite_and_join_with_a_new_account(
        self, client: HtmlClient, db: Session, settings: Settings, app
    ) -> None:  # type: ignore[no-untyped-def]
        provider = make_provider(db)
        sign_in_as(client, provider.members[0].user)
        assert (
            client.submit("/provider/staff", {"email": "new.staff@example.org"}).status_code == 303
        )
        link = next(
            line
            for line in read_outbox(settings.outbox_dir)[0].body.splitlines()
            if "/provider/join?token=" in line
        )
        path = link.removeprefix(settings.base_url)
        with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as newcomer:
            invited = page(newcomer.get(path))
            assert "Or create your account" in invited.get_text()
            sign_in = invited.find("a", string="sign in to accept")["href"]
            assert parse_qs(urlsplit(sign_in).query)["next"] == [path], (
                "signing in comes back to accept"
            )
            joined = newcomer.submit(
                path.replace("/provider/join?", "/provider/join/account?"),
                {"name": "New Staff", "password": PASSWORD},
            )
            assert joined.headers["location"] == "/provider?done=joined"
            assert provider.name in page(newcomer.get("/provider")).get_text()
        assert {m.user.email for m in db.get(Provider, provider.id).members} >= {
            "new.staff@example.org"
        }  # type: ignore[union-attr]


class TestChecks:
    def test_declare_verify_and_show_with_the_date(
        self, client: HtmlClient, db: Session, app
    ) -> None:  # type: ignore[no-untyped-def]
        provider = make_provider(db)
        sign_in_as(client, provider.members[0].user)
        bad = client.submit("/provider/checks/new/pvg", {"reference": "123"})
        assert error_messages(bad) == ["Enter the PVG scheme membership number: 16 digits"]
        assert (
            client.submit(
                "/provider/checks/new/pvg", {"reference": "1234 5678 9012 3456"}
            ).status_code
            == 303
        )
        assert "Told to us, not yet checked" in client.get(f"/providers/{provider.id}").text

        admin = make_user(db, role=Role.ADMIN)
        with HtmlClient(app, before_request=db.flush, after_request=db.expire_all) as admin_client:
            admin_client.sign_in(admin.email, PASSWORD)
            queue = page(admin_client.get("/admin/checks"))
            verify = queue.select_one("form[action*='/verify']")["action"]
            assert admin_client.submit(verify).status_code == 303
        check = db.get(Provider, provider.id).checks[0]  # type: ignore[union-attr]
        assert check.status == CheckStatus.VERIFIED
        assert "Checked by us on" in client.get(f"/providers/{provider.id}").text

    def test_expired_insurance_is_refused(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        sign_in_as(client, provider.members[0].user)
        response = client.submit(
            "/provider/checks/new/insurance",
            {
                "issuer": "Insurer",
                "reference": "PL1",
                "cover": "5,000,000",
                "expires_on": "2020-01-01",
            },
        )
        assert error_messages(response) == [
            "This insurance has run out: enter a policy that is in force"
        ]


class TestPublicPages:
    def test_the_offer_page_shows_area_availability_and_capacity(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=30)
        soup = page(client.get(f"/offers/{offer.id}"))
        svg = soup.select_one("svg.app-map")
        assert svg is not None and svg.select_one("desc").get_text().startswith(
            "Up to 30 km from Portree"
        )
        assert "Portree" in soup.get_text()
        assert soup.select_one("a[href$='/enquire']") is not None

    def test_the_area_map_draws_scotland_and_the_radius_where_it_is(
        self, client: HtmlClient, db: Session
    ) -> None:
        """The map is drawn on the British National Grid over the council outlines: the
        circle sits on the offer's centre and is as wide as its radius at the map's scale,
        and each covered place is a dot named by its title."""
        offer = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=30)
        answer = client.get(f"/offers/{offer.id}")
        svg = page(answer).select_one("svg.app-map")
        assert svg is not None

        view = scotland_view()
        assert svg.get("viewbox") == f"0 0 {WIDTH} {view.height}"
        assert len(svg.select("path.app-map__land")) == len(outlines().councils) == 32
        area = svg.select_one("circle.app-map__area")
        assert area is not None
        x, y = view.xy(to_grid([offer.centre_latitude], [offer.centre_longitude])[0])
        assert (float(area["cx"]), float(area["cy"])) == pytest.approx((x, y), abs=0.06)
        assert float(area["r"]) == pytest.approx(30_000 * view.units_per_metre, abs=0.06)
        assert "Portree" in {dot.get_text() for dot in svg.select("circle.app-map__place title")}
        # Scotland drawn from outlines, not from squares of land: the whole page is light.
        assert len(answer.content) < 60_000

    def test_an_offer_page_reads_only_the_list_of_places_its_area_has(
        self, client: HtmlClient, db: Session, engine: Engine
    ) -> None:
        radius = make_offer(db, provider=make_provider(db, base="Portree"), radius_km=30)
        councils = make_offer(db, provider=make_provider(db, base="Inverness"), radius_km=5)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        set_area(
            db, councils, area_type=AreaType.COUNCILS, council_ids=[highland.id], radius_km=None
        )
        db.flush()
        db.expunge_all()  # the pages load the offers as a request would, not from this session

        def tables_read(offer_id: int) -> str:
            client.get(f"/offers/{offer_id}")  # the worker's index is now current
            db.expunge_all()
            read: list[str] = []
            event.listen(engine, "before_cursor_execute", note := lambda *a: read.append(a[2]))
            try:
                answer = client.get(f"/offers/{offer_id}")
            finally:
                event.remove(engine, "before_cursor_execute", note)
            assert answer.status_code == 200
            return " ".join(read)

        assert "offer_council" not in tables_read(radius.id)
        assert "offer_settlement" not in tables_read(radius.id)
        assert "offer_council" in tables_read(councils.id)
        assert "All of Highland" in page(client.get(f"/offers/{councils.id}")).get_text(" ")

    def test_an_unknown_or_unpublished_offer_is_not_found(
        self, client: HtmlClient, db: Session
    ) -> None:
        draft = make_offer(db, publish=False)
        assert client.get(f"/offers/{draft.id}").status_code == 404
        assert client.get("/offers/999999").status_code == 404

    def test_the_provider_page_lists_published_offers(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db)
        make_offer(db, provider=provider, title="Shown")
        make_offer(db, provider=provider, title="Hidden", publish=False)
        text = page(client.get(f"/providers/{provider.id}")).get_text(" ", strip=True)
        assert "Shown" in text and "Hidden" not in text


class TestVerificationQueue:
    def test_a_rejection_without_a_reason_is_explained_beside_its_check(
        self, client: HtmlClient, db: Session
    ) -> None:
        from providers import checks as checks_service
        from providers.checks import CheckDetails
        from providers.models import CheckKind

        provider = make_provider(db)
        check = checks_service.declare_check(
            db,
            provider=provider,
            actor=provider.members[0].user,
            details=CheckDetails(kind=CheckKind.PVG, reference="1234567890123456"),
            today=date.today(),
        )
        client.sign_in(make_user(db, role=Role.ADMIN).email, PASSWORD)
        response = client.submit(f"/admin/checks/{check.id}/reject", {"note": ""})
        assert response.status_code == 422
        assert error_messages(response) == ["Say why, so the provider can put it right"]
        assert page(response).select_one("#note")["aria-invalid"] == "true"
        db.refresh(check)
        assert check.status == CheckStatus.DECLARED

    def test_the_queue_shows_the_oldest_a_page_at_a_time_and_returns_to_its_page(
        self, client: HtmlClient, db: Session
    ) -> None:
        from providers import checks as checks_service
        from providers.checks import QUEUE_PAGE_SIZE, CheckDetails
        from providers.models import CheckKind

        already = checks_service.checks_waiting(db).total
        declared = []
        for number in range(QUEUE_PAGE_SIZE + 3):
            provider = make_provider(db)
            declared.append(
                checks_service.declare_check(
                    db,
                    provider=provider,
                    actor=provider.members[0].user,
                    details=CheckDetails(kind=CheckKind.PVG, reference=f"{number:016d}"),
                    today=date.today(),
                )
            )
        client.sign_in(make_user(db, role=Role.ADMIN).email, PASSWORD)
        last = (already + len(declared) - 1) // QUEUE_PAGE_SIZE + 1
        first_page = page(client.get("/admin/checks"))
        assert len(first_page.select("form[action*='/verify']")) == QUEUE_PAGE_SIZE
        assert first_page.select_one(f"nav.ds_pagination a[href='?page={last}']") is not None

        last_page = page(client.get(f"/admin/checks?page={last}"))
        newest = declared[-1]
        verify = last_page.select_one(f"form[action^='/admin/checks/{newest.id}/verify']")
        assert verify is not None, "the newest check is on the last page"
        done = client.submit(verify["action"])
        assert done.headers["location"] == f"/admin/checks?done=verified&page={last}"
        assert newest.status == CheckStatus.VERIFIED


def test_signing_in_takes_providers_to_their_listing(client: HtmlClient, db: Session) -> None:
    pa = make_user(db, role=Role.PERSONAL_ASSISTANT)
    assert (
        client.submit("/sign-in", {"email": pa.email, "password": PASSWORD}).headers["location"]
        == "/provider"
    )


def test_a_listing_with_several_mistakes_shows_them_all_at_once(
    client: HtmlClient, db: Session
) -> None:
    sign_in_as(client, make_user(db, role=Role.PERSONAL_ASSISTANT))
    response = client.submit("/provider/start", listing_answers(base="Atlantis Bay", radius_km="0"))
    messages = error_messages(response)
    assert messages[0].startswith("We cannot find a place called Atlantis Bay")
    assert messages[1] == "Enter a distance of 1 km or more"
