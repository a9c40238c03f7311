"""A person's own page, where signing in leads them: their shortlist, enquiries and posted
needs at a glance (a representative's include those of the people they act for), each
enquiry and need shown recorded as a read, and nothing of anybody else's."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Role
from marketplace.audit import AuditAction, AuditEvent
from matching.index import OfferIndex
from matching.shortlist import service as shortlist_service
from tests.factories import PASSWORD, make_offer, make_user
from tests.helpers import HtmlClient, page
from tests.matching.needs.need_builders import post
from tests.providers.test_enquiries import enquire


def text_of(client: HtmlClient) -> str:
    response = client.get("/your-support")
    assert response.status_code == 200
    return page(response).get_text(" ", strip=True)


def reads(db: Session, subject_type: str, subject_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == AuditAction.RECORD_VIEWED,
                AuditEvent.subject_type == subject_type,
                AuditEvent.subject_id == str(subject_id),
            )
        )
        or 0
    )


def test_a_person_sees_their_shortlist_enquiries_and_needs(client: HtmlClient, db: Session) -> None:
    person = make_user(db, role=Role.SUPPORTED_PERSON)
    saved = make_offer(db, title="Help at home in Portree")
    shortlist_service.save_offer(db, user=person, offer=saved)
    enquiry = enquire(db, sender=person, offer=make_offer(db, title="Mornings in Broadford"))
    need = post(db, OfferIndex(), poster=person)
    other = make_user(db, role=Role.SUPPORTED_PERSON)
    theirs = enquire(db, sender=other, offer=make_offer(db, title="Someone else's enquiry"))

    client.sign_in(person.email, PASSWORD)
    shown = page(client.get("/your-support"))
    text = shown.get_text(" ", strip=True)
    assert "1 offer on your shortlist" in text and "Help at home in Portree" in text
    assert shown.select_one(f"a[href='/enquiries/{enquiry.id}']") is not None
    assert shown.select_one(f"a[href='/needs/{need.id}']") is not None
    assert "Someone else's enquiry" not in text
    assert shown.select_one(f"a[href='/enquiries/{theirs.id}']") is None
    assert reads(db, "enquiry", enquiry.id) >= 1
    assert reads(db, "posted_need", need.id) >= 1
    assert "ask to use the money differently" in text
    assert shown.select_one("main a[href='/funds']") is not None


def test_an_empty_page_says_what_to_do_next(client: HtmlClient, db: Session) -> None:
    client.sign_in(make_user(db, role=Role.SUPPORTED_PERSON).email, PASSWORD)
    text = text_of(client)
    assert "Your shortlist is empty" in text
    assert "No enquiries yet" in text
    assert "post a need" in text


def test_a_representative_sees_what_was_sent_for_the_people_they_act_for(
    client: HtmlClient, db: Session
) -> None:
    person = make_user(db, role=Role.SUPPORTED_PERSON, name="Morag Bain")
    representative = make_user(db, role=Role.REPRESENTATIVE)
    accounts_service.add_representative(
        db,
        supported_person=person,
        representative_email=representative.email,
        relationship_kind=Relationship.CARER,
    )
    enquiry = enquire(db, sender=person, offer=make_offer(db, title="Afternoons in Kyle"))
    client.sign_in(representative.email, PASSWORD)
    shown = page(client.get("/your-support"))
    assert "You act for Morag Bain" in shown.get_text(" ", strip=True)
    assert shown.select_one(f"a[href='/enquiries/{enquiry.id}']") is not None


def test_a_representative_nobody_named_is_told_how(client: HtmlClient, db: Session) -> None:
    representative = make_user(db, role=Role.REPRESENTATIVE)
    client.sign_in(representative.email, PASSWORD)
    assert "Nobody has named you as their representative yet" in text_of(client)


def test_a_shortlist_kept_before_signing_in_is_there(client: HtmlClient, db: Session) -> None:
    offer = make_offer(db, title="Evenings in Portree")
    client.submit(f"/shortlist/{offer.id}", {"back": "/shortlist"})
    client.sign_in(make_user(db, role=Role.SUPPORTED_PERSON).email, PASSWORD)
    assert "Evenings in Portree" in text_of(client)


def test_other_roles_cannot_open_it(client: HtmlClient, db: Session) -> None:
    assert client.get("/your-support").headers["location"] == "/sign-in?next=/your-support"
    client.sign_in(make_user(db, role=Role.COMMISSIONER).email, PASSWORD)
    assert client.get("/your-support").status_code == 403
