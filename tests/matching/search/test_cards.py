"""What a search result says of an offer alone (matching.search.cards), drawn once and kept
by the worker's index: used again only for the same listed offer on the same day, so an
expired check, space gone out of date or a changed offer shows on the next search."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from matching.index import OfferIndex
from matching.listed import ListedCheck, ListedOffer, listed_offers
from matching.search.cards import OfferCard, offer_cards
from providers.models import CheckKind, CheckStatus
from providers.offers import STALE_CAPACITY_DAYS
from tests.factories import make_offer, make_provider
from tests.matching.search.test_routes import change_offer

DAY = date(2026, 12, 4)
NOON = datetime.fromisoformat("2026-12-04T12:00:00+00:00")


@pytest.fixture
def reader(db: Session) -> Iterator[Session]:
    """A request's own session beside the test's: it has changed nothing itself."""
    session = Session(bind=db.connection())
    yield session
    session.close()


def facts(card: OfferCard) -> dict[str, str]:
    return {
        name: BeautifulSoup(str(value), "html.parser").get_text(" ", strip=True)
        for name, value in (
            ("Checks", card.checks),
            ("Space", card.space),
            ("Reviews", card.reviews),
        )
    }


def kept(index: OfferIndex, offer: ListedOffer) -> ListedOffer:
    """An offer as the index keeps it after a search has read it."""
    with index.lock:
        index.offers_memo.put(offer.id, offer.provider_id, offer)
    return offer


def listed(reader: Session, index: OfferIndex, offer_id: int) -> ListedOffer:
    return listed_offers(reader, offer_ids=[offer_id], index=index)[offer_id]


def test_a_card_is_drawn_once_for_the_offer_and_the_day(db: Session, reader: Session) -> None:
    offer = make_offer(db, provider=make_provider(db, base="Portree", name="Skye Carers"))
    index = OfferIndex()
    shown = listed(reader, index, offer.id)
    first = offer_cards(index, [shown], today=DAY, now=NOON)[offer.id]
    assert "Skye Carers" in first.provider_line
    again = offer_cards(index, [listed(reader, index, offer.id)], today=DAY, now=NOON)
    assert again[offer.id] is first


def test_a_check_that_expired_yesterday_is_not_shown_today(db: Session, reader: Session) -> None:
    offer = make_offer(db, provider=make_provider(db, base="Portree"))
    index = OfferIndex()
    shown = listed(reader, index, offer.id)
    pvg = ListedCheck(CheckKind.PVG, CheckStatus.VERIFIED, expires_on=DAY, grades=None)
    shown = kept(index, replace(shown, provider=replace(shown.provider, checks=(pvg,))))
    on_the_day = offer_cards(index, [shown], today=DAY, now=NOON)[offer.id]
    assert facts(on_the_day)["Checks"] == "PVG membership verified"
    next_day = offer_cards(index, [shown], today=DAY + timedelta(days=1), now=NOON)[offer.id]
    assert facts(next_day)["Checks"] == "None verified yet"


def test_space_reads_out_of_date_from_the_moment_it_is(db: Session, reader: Session) -> None:
    offer = make_offer(db, provider=make_provider(db, base="Portree"))
    index = OfferIndex()
    told = datetime.fromisoformat("2026-11-04T09:30:00+00:00")
    shown = kept(index, replace(listed(reader, index, offer.id), capacity_updated_at=told))
    # Out of date once more than STALE_CAPACITY_DAYS have passed: at that moment, still not.
    turns = told + timedelta(days=STALE_CAPACITY_DAYS)
    assert turns.date() == DAY
    before = offer_cards(index, [shown], today=DAY, now=turns)[offer.id]
    assert "May be out of date" not in facts(before)["Space"]
    after = offer_cards(index, [shown], today=DAY, now=turns + timedelta(seconds=1))[offer.id]
    assert facts(after)["Space"].endswith("May be out of date")


def test_a_changed_offer_gets_a_new_card(db: Session, reader: Session) -> None:
    offer = make_offer(db, provider=make_provider(db, base="Portree"), capacity_hours=20)
    index = OfferIndex()
    before = offer_cards(index, [listed(reader, index, offer.id)], today=DAY, now=NOON)
    assert facts(before[offer.id])["Space"].startswith("20 hours")
    change_offer(db, offer, capacity_amount=0)
    db.flush()
    after = offer_cards(index, [listed(reader, index, offer.id)], today=DAY, now=NOON)
    assert facts(after[offer.id])["Space"].startswith("No space")


def test_a_card_of_an_offer_the_index_does_not_keep_is_not_kept(
    db: Session, reader: Session
) -> None:
    offer = make_offer(db, provider=make_provider(db, base="Portree"))
    index = OfferIndex()
    # A transaction that changed offers reads them itself, and the index keeps none of it.
    change_offer(db, offer, title="Not committed yet")
    mine = listed_offers(db, offer_ids=[offer.id], index=index)[offer.id]
    offer_cards(index, [mine], today=DAY, now=NOON)
    assert len(index.cards_memo) == 0
