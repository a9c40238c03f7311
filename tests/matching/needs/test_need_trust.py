"""Who a posted need reaches and what they see: only providers an administrator has
verified receive it (and receive it when they become verified); they see the place, never
coordinates, and what the person wrote only once the person shares it with them; a removed
representative loses the needs and enquiries they made at once; every need page loads,
authorises and audits through one dependency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.db import today
from marketplace.errors import NotFound
from marketplace.geography.models import Settlement
from marketplace.settings import Settings
from matching.index import OfferIndex
from matching.needs import service as needs_service
from matching.needs.models import NeedDelivery
from providers import checks as checks_service
from providers import enquiries as enquiries_service
from providers import reviews as reviews_service
from providers import verification
from providers.checks import CheckDetails
from providers.models import CheckKind, ProviderKind
from tests.factories import make_offer, make_provider, make_user, make_verified_provider
from tests.helpers import HtmlClient, page
from tests.matching.needs.need_builders import DESCRIPTION, mails_to, make_trusted_offer, post
from tests.matching.needs.test_need_routes import as_user, views_of
from tests.providers.test_enquiries import enquire, member_of, represented


@pytest.fixture
def index() -> OfferIndex:
    return OfferIndex()


class TestOnlyVerifiedProviders:
    def test_an_unverified_provider_gets_no_need_and_no_mail_a_verified_one_does(
        self, db: Session, settings: Settings, index: OfferIndex
    ) -> None:
        unverified = make_offer(
            db, provider=make_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT)
        )
        trusted = make_trusted_offer(
            db, provider=make_verified_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT)
        )
        need = post(db, index)
        db.commit()
        assert [d.provider_id for d in need.deliveries] == [trusted.provider_id]
        assert mails_to(settings, unverified.provider.members[0].user) == []
        assert [m.subject for m in mails_to(settings, trusted.provider.members[0].user)] == [
            "Someone near Portree needs support"
        ]

    def test_checks_without_a_confirmed_identity_are_not_enough_nor_is_an_expired_check(
        self, db: Session, index: OfferIndex
    ) -> None:
        provider = make_verified_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT)
        provider.identity_confirmed_at = None
        make_offer(db, provider=provider)
        assert post(db, index).deliveries == []
        provider.identity_confirmed_at = provider.created_at
        assert verification.is_verified(db, provider)
        [insurance] = [c for c in provider.checks if c.kind == CheckKind.INSURANCE]
        insurance.expires_on = today() - timedelta(days=1)
        db.flush()
        assert not verification.is_verified(db, provider)
        assert "Public liability insurance" in verification.missing(db, provider)

    def test_a_registered_provider_needs_its_care_inspectorate_registration(
        self, db: Session
    ) -> None:
        provider = make_provider(db, kind=ProviderKind.REGISTERED_PROVIDER)
        assert verification.missing(db, provider) == [
            "who you are, confirmed by an administrator",
            "Care Inspectorate registration",
        ]
        assert verification.is_verified(
            db, make_verified_provider(db, kind=ProviderKind.REGISTERED_PROVIDER)
        )

    def test_a_provider_that_becomes_verified_is_sent_the_open_needs_its_offers_fit(
        self, client: HtmlClient, db: Session, settings: Settings, index: OfferIndex
    ) -> None:
        provider = make_provider(db, kind=ProviderKind.PERSONAL_ASSISTANT)
        make_offer(db, provider=provider)
        need = post(db, index)
        assert need.deliveries == []
        admin = make_user(db, role=Role.ADMIN)
        owner = provider.members[0].user

        # Its checks verified, but not yet who it is: still nothing.
        for kind, reference in (
            (CheckKind.PVG, "1234567890123456"),
            (CheckKind.INSURANCE, "POL-1"),
        ):
            check = checks_service.declare_check(
                db,
                provider=provider,
                actor=owner,
                today=today(),
                details=CheckDetails(
                    kind=kind, reference=reference, expires_on=today() + timedelta(days=365)
                ),
            )
            checks_service.verify_check(db, check=check, admin=admin)
        db.commit()
        assert need.deliveries == [] and mails_to(settings, owner) == []
        as_user(client, owner)
        told = (
            page(client.get("/provider/needs"))
            .select_one(".ds_inset-text")
            .get_text(" ", strip=True)
        )
        assert f"Posted needs do not reach {provider.name} yet" in told and "who you are" in told

        # The administrator confirms its identity from the queue: the need goes to it now.
        as_user(client, admin)
        queue = page(client.get("/admin/checks"))
        assert (
            queue.select_one(f"form[action='/admin/providers/{provider.id}/confirm-identity']")
            is not None
        )
        confirmed = client.submit(f"/admin/providers/{provider.id}/confirm-identity")
        assert confirmed.headers["location"] == "/admin/checks?done=identity"
        db.expire_all()
        assert [
            d.provider_id
            for d in db.scalars(select(NeedDelivery).where(NeedDelivery.need_id == need.id))
        ] == [provider.id]
        assert [m.subject for m in mails_to(settings, owner)] == [
            "Someone near Portree needs support"
        ]
        assert client.submit(f"/admin/providers/{provider.id}/confirm-identity").status_code == 409

    def test_the_rule_is_stated_and_linked_from_the_form(
        self, client: HtmlClient, db: Session
    ) -> None:
        about = page(client.get("/about/needs")).get_text(" ", strip=True)
        assert "Personal assistant" in about and "PVG scheme membership" in about
        assert "Registered care provider" in about and "Care Inspectorate registration" in about
        as_user(client, make_user(db))
        assert page(client.get("/needs/new")).select_one("a[href='/about/needs']") is not None


class TestWhatProvidersSee:
    def test_no_description_outcomes_or_groups_until_the_person_shares_them(
        self, client: HtmlClient, db: Session, settings: Settings, index: OfferIndex
    ) -> None:
        offer = make_trusted_offer(db)
        member = offer.provider.members[0].user
        need = post(db, index)
        db.commit()
        as_user(client, member)
        response = client.get(f"/provider/needs/{need.id}")
        assert response.status_code == 200
        before = response.text
        listed = client.get("/provider/needs").text
        for text in (before, listed, *(m.body for m in mails_to(settings, member))):
            assert (
                DESCRIPTION not in text
                and "Feeling safe" not in text
                and "What matters" not in text
            )
        assert "Personal care" in before and "Portree" in before

        # The person shares with that provider (the service the page's button uses).
        needs_service.share_with(db, need=need, provider_id=offer.provider_id, actor=need.person)
        db.commit()
        after = client.get(f"/provider/needs/{need.id}").text
        assert DESCRIPTION in after and "Feeling safe" in after and "Who it should suit" in after

    def test_only_the_persons_side_can_share_and_only_with_a_provider_it_reached(
        self, db: Session, index: OfferIndex
    ) -> None:
        offer = make_trusted_offer(db)
        need = post(db, index)
        with pytest.raises(NotFound):
            needs_service.share_with(
                db, need=need, provider_id=offer.provider_id, actor=make_user(db)
            )
        with pytest.raises(NotFound):
            needs_service.share_with(
                db, need=need, provider_id=make_verified_provider(db).id, actor=need.person
            )

    def test_coordinates_are_never_shown_or_mailed_to_providers(
        self, client: HtmlClient, db: Session, settings: Settings, index: OfferIndex
    ) -> None:
        offer = make_trusted_offer(db)
        member = offer.provider.members[0].user
        portree = db.scalars(select(Settlement).where(Settlement.name == "Portree")).first()
        assert portree is not None
        latitude, longitude = f"{portree.latitude:.2f}", f"{portree.longitude:.2f}"
        need = post(db, index, location=f"{latitude}, {longitude}")
        assert need.deliveries, "the need reached the provider"
        needs_service.share_with(db, need=need, provider_id=offer.provider_id, actor=need.person)
        db.commit()
        as_user(client, member)
        shown = [
            client.get("/provider/needs").text,
            client.get(f"/provider/needs/{need.id}").text,
            *(m.subject + m.body for m in mails_to(settings, member)),
        ]
        for text in shown:
            assert (
                latitude not in text and longitude not in text and latitude.rstrip("0") not in text
            )
            assert portree.label in text or portree.name in text


class TestRemovedRepresentatives:
    def test_lose_the_needs_and_enquiries_they_made_at_once(
        self, client: HtmlClient, db: Session, index: OfferIndex
    ) -> None:
        make_trusted_offer(db)
        person, carer = represented(db)
        need = post(db, index, poster=carer, person=person)
        enquiry = enquire(db, sender=carer, person=person)
        staff = member_of(enquiry)
        enquiries_service.reply(db, enquiry=enquiry, author=staff, body="We can help.")
        enquiries_service.mark_arranged(db, enquiry=enquiry, actor=staff)
        assert reviews_service.why_not_review(db, enquiry=enquiry, author=carer) is None
        db.commit()
        as_user(client, carer)
        assert client.get(f"/needs/{need.id}").status_code == 200
        assert client.get(f"/enquiries/{enquiry.id}").status_code == 200
        [link] = accounts_service.representations_of(db, user=carer)
        accounts_service.remove_representative(db, removed_by=person, link=link)
        db.commit()
        assert client.get(f"/needs/{need.id}").status_code == 404
        assert client.get(f"/enquiries/{enquiry.id}").status_code == 404
        assert client.submit(f"/needs/{need.id}/close").status_code == 404
        assert (
            client.submit(f"/enquiries/{enquiry.id}/messages", {"body": "Hello"}).status_code == 404
        )
        assert page(client.get("/needs")).select("tbody tr") == []
        assert page(client.get("/enquiries")).select("tbody tr") == []
        assert client.get(f"/enquiries/{enquiry.id}/review").status_code == 404
        assert reviews_service.why_not_review(db, enquiry=enquiry, author=carer) is not None


class TestTheRecordDependency:
    def test_refuses_other_users_and_hostile_ids_and_audits_each_read(
        self, client: HtmlClient, db: Session, index: OfferIndex
    ) -> None:
        offer = make_trusted_offer(db)
        need = post(db, index)
        enquiry = enquire(db, sender=need.person)
        db.commit()
        stranger = make_user(db)
        other_provider = make_verified_provider(db).members[0].user
        db.commit()
        as_user(client, stranger)
        assert client.get(f"/needs/{need.id}").status_code == 404
        assert client.get(f"/enquiries/{enquiry.id}").status_code == 404
        for hostile in ("١٢", "9" * 40, "-1", "1.0", "0x1"):
            assert client.get(f"/needs/{hostile}").status_code == 404, hostile
        as_user(client, other_provider)
        assert client.get(f"/provider/needs/{need.id}").status_code == 404
        assert client.get(f"/provider/enquiries/{enquiry.id}").status_code == 404
        assert views_of(db, need, stranger) == 0 and views_of(db, need, other_provider) == 0
        member = offer.provider.members[0].user
        as_user(client, member)
        assert client.get(f"/provider/needs/{need.id}").status_code == 200
        assert views_of(db, need, member) == 1
