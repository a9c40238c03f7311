"""A provider cannot make one offer cover the whole country without an administrator
agreeing: such an offer waits for agreement, nobody finds it or is sent needs for it, and an
administrator agrees (it is published) or refuses (it is a draft again) on /admin/offers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.geography.models import CouncilArea
from marketplace.settings import Settings
from matching.index import OfferIndex
from matching.needs import service as needs_service  # noqa: F401  (registers the delivery on verification)
from providers import areas
from providers import offers as offers_service
from providers.models import AreaType, Offer, OfferStatus, PriceUnit, Taxonomy
from providers.offers import OfferDetails, PriceDetails
from tests.factories import (
    PASSWORD,
    WEEKDAY_DAYTIMES,
    make_offer,
    make_user,
    make_verified_provider,
    term_ids,
)
from tests.helpers import HtmlClient, page
from tests.matching.needs.need_builders import mails_to, post


def whole_country_offer(db: Session, **changes: Any) -> Offer:
    """A verified provider's offer of personal care in every council area, published."""
    provider = make_verified_provider(db)
    actor = provider.members[0].user
    fields: dict[str, Any] = {
        "title": "Care anywhere in Scotland",
        "description": "We say we go everywhere.",
        "term_ids": term_ids(db, Taxonomy.KIND_OF_SUPPORT, ("personal-care",))
        + term_ids(db, Taxonomy.PERSONAL_OUTCOME, ("feeling-safe",)),
        "area_type": AreaType.COUNCILS,
        "council_ids": list(db.scalars(select(CouncilArea.id))),
        "availability": WEEKDAY_DAYTIMES,
        "capacity_amount": 40,
    } | changes
    offer = offers_service.create_offer(
        db, provider=provider, actor=actor, details=OfferDetails(**fields)
    )
    offers_service.set_price(
        db, offer=offer, actor=actor, details=PriceDetails(unit=PriceUnit.HOUR, rate_pence=2000)
    )
    offers_service.publish_offer(db, offer=offer, actor=actor)
    return offer


def found(client: HtmlClient, offer: Offer) -> bool:
    body = client.get(
        "/api/v1/match", params={"location": "Portree", "kinds_of_support": "personal-care"}
    ).json()
    return offer.title in [result["title"] for result in body["results"]]


def sign_in(client: HtmlClient, email: str) -> None:
    client.cookies.clear()
    client.sign_in(email, PASSWORD)


class TestTheBound:
    @pytest.mark.parametrize(
        ("radius_km", "wide"),
        [(areas.WIDE_RADIUS_KM, False), (areas.WIDE_RADIUS_KM + 1, True), (200, True)],
    )
    def test_a_radius_beyond_the_bound_needs_agreement(
        self, db: Session, radius_km: float, wide: bool
    ) -> None:
        offer = make_offer(db, radius_km=radius_km, agree_wide_area=False)
        assert areas.needs_agreement(offer) is wide
        assert offer.status == (OfferStatus.AWAITING_AGREEMENT if wide else OfferStatus.PUBLISHED)

    def test_every_council_needs_agreement(self, db: Session) -> None:
        assert whole_country_offer(db).status == OfferStatus.AWAITING_AGREEMENT


class TestAgreement:
    def test_waits_unfound_until_an_administrator_agrees(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        offer = whole_country_offer(db)
        owner = offer.provider.members[0].user
        need = post(db, OfferIndex())
        db.commit()
        assert not found(client, offer)
        assert need.deliveries == []

        admin = make_user(db, role=Role.ADMIN)
        db.commit()
        sign_in(client, admin.email)
        assert page(client.get("/admin/checks")).select_one("a[href='/admin/offers']") is not None
        listed = page(client.get("/admin/offers"))
        assert offer.title in listed.get_text()
        assert listed.select_one(f"form[action='/admin/offers/{offer.id}/agree']") is not None
        agreed = client.submit(f"/admin/offers/{offer.id}/agree")
        assert agreed.headers["location"] == "/admin/offers?done=agreed"
        db.expire_all()
        assert offer.status == OfferStatus.PUBLISHED and offer.area_agreed_by_id == admin.id
        assert found(client, offer)
        assert f'Your offer "{offer.title}" is published' in [
            m.subject for m in mails_to(settings, owner)
        ]
        assert client.submit(f"/admin/offers/{offer.id}/agree").status_code == 409

    def test_refused_goes_back_to_a_draft_and_stays_unfound(
        self, client: HtmlClient, db: Session, settings: Settings
    ) -> None:
        offer = whole_country_offer(db)
        admin = make_user(db, role=Role.ADMIN)
        db.commit()
        sign_in(client, admin.email)
        refused = client.submit(f"/admin/offers/{offer.id}/refuse")
        assert refused.headers["location"] == "/admin/offers?done=refused"
        db.expire_all()
        assert offer.status == OfferStatus.DRAFT and not found(client, offer)
        assert offer.title not in page(client.get("/admin/offers")).get_text()

    def test_an_agreement_holds_for_the_area_it_was_given_for(self, db: Session) -> None:
        offer = whole_country_offer(db)
        actor = offer.provider.members[0].user
        offers_service.agree_area(db, offer=offer, admin=make_user(db, role=Role.ADMIN))
        offers_service.pause_offer(db, offer=offer, actor=actor)
        offers_service.publish_offer(db, offer=offer, actor=actor)
        assert offer.status == OfferStatus.PUBLISHED
        wider = OfferDetails(
            title=offer.title,
            description=offer.description,
            term_ids=[t.id for t in offer.terms],
            area_type=AreaType.RADIUS,
            radius_km=150,
            availability=offer.availability,
            capacity_amount=40,
        )
        offers_service.update_offer(db, offer=offer, actor=actor, details=wider)
        assert offer.status == OfferStatus.AWAITING_AGREEMENT and offer.area_agreed_at is None
        with pytest.raises(Conflict):
            offers_service.pause_offer(db, offer=offer, actor=actor)

    def test_the_provider_is_told_why_it_waits(self, client: HtmlClient, db: Session) -> None:
        offer = whole_country_offer(db, title="Care everywhere")
        db.commit()
        sign_in(client, offer.provider.members[0].user.email)
        published = client.submit(f"/provider/offers/{offer.id}/publish")
        assert published.headers["location"] == f"/provider/offers/{offer.id}?done=awaiting"
        shown = page(client.get(published.headers["location"])).get_text(" ", strip=True)
        assert "an administrator must agree" in shown
