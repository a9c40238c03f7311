"""Offers as lists show them, kept in memory by each worker's index (matching.listed with
index.OfferMemo): a kept offer shows as it is now on the next search after any change the
change log names (the offer, its price and capacity, its provider, the provider's checks
and reviews);
a reading overtaken by a change keeps nothing; a transaction that has changed offers
neither reads the memo nor fills it; and the memo is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from matching import listed
from matching.index import OfferIndex, OfferMemo
from matching.listed import listed_offers
from providers import offers as offers_service
from providers import reviews as reviews_service
from providers.models import CheckKind, PriceUnit
from tests.factories import make_offer, make_provider, make_user
from tests.helpers import HtmlClient
from tests.matching.search.test_routes import (
    PLACE,
    change_offer,
    find,
    metadata,
    result_item,
    skye_market,
    titles,
    verify,
)
from tests.providers.test_enquiries import arranged


@pytest.fixture
def reader(db: Session) -> Iterator[Session]:
    """A request's own session beside the test's: it has changed nothing itself."""
    session = Session(bind=db.connection())
    yield session
    session.close()


def statements(engine: Engine, read: Any) -> list[str]:
    counted: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counted


class TestChangesShowOnTheNextSearch:
    def test_the_offers_title_price_and_space(self, client: HtmlClient, db: Session) -> None:
        offer = skye_market(db)["portree"]
        find(client, location=PLACE)  # now kept
        change_offer(db, offer, title="Care at home across Skye", capacity_amount=0)
        offers_service.set_price(
            db,
            offer=offer,
            actor=offer.provider.members[0].user,
            details=offers_service.PriceDetails(unit=PriceUnit.HOUR, rate_pence=2350),
        )
        db.flush()
        response = find(client, location=PLACE, hours="2")
        assert "Care at home across Skye" in titles(response)
        shown = metadata(result_item(response, offer))
        assert shown["Price"].startswith("£23.50 an hour; £47.00 a week"), shown["Price"]
        assert shown["Space"].startswith("No space"), shown["Space"]

    def test_the_providers_name_and_checks(self, client: HtmlClient, db: Session) -> None:
        offer = skye_market(db)["kyle"]
        before = metadata(result_item(find(client, location=PLACE), offer))
        assert before["Checks"] == "None verified yet"
        offer.provider.name = "Lochalsh and Skye Support"
        verify(db, offer.provider, CheckKind.PVG, "1234 5678 9012 3456")
        item = result_item(find(client, location=PLACE), offer)
        assert "Lochalsh and Skye Support" in item.select_one(
            ".ds_search-result__sub-title"
        ).get_text(strip=True)
        assert metadata(item)["Checks"] == "PVG membership verified"

    def test_the_providers_reviews(self, client: HtmlClient, db: Session) -> None:
        offer = skye_market(db)["kyle"]
        assert metadata(result_item(find(client, location=PLACE), offer))["Reviews"] == (
            "No reviews yet"
        )
        enquiry = arranged(db, offer=offer)
        review = reviews_service.leave_review(
            db,
            enquiry=enquiry,
            author=enquiry.sent_by,
            comment="Kind and on time.",
            ratings=reviews_service.Ratings(outcomes=4, reliability=5, respect=3),
        )
        db.flush()
        assert metadata(result_item(find(client, location=PLACE), offer))["Reviews"] == (
            "1 review; out of 5: outcomes 4.0, reliability 5.0, respect 3.0"
        )
        reviews_service.hide_review(
            db, review=review, admin=make_user(db, role=Role.ADMIN), note="Names a person"
        )
        db.flush()
        assert metadata(result_item(find(client, location=PLACE), offer))["Reviews"] == (
            "No reviews yet"
        )


class TestTheMemo:
    def test_kept_offers_are_not_read_again(
        self, db: Session, reader: Session, engine: Engine
    ) -> None:
        offers = [make_offer(db, provider=make_provider(db, base="Portree")) for _ in range(3)]
        ids = [offer.id for offer in offers]
        index = OfferIndex()
        first = listed_offers(reader, offer_ids=ids, index=index)
        assert len(index.offers_memo) == 3
        again = statements(engine, lambda: listed_offers(reader, offer_ids=ids, index=index))
        assert again == [], "read once a request, the index asked nothing more either"
        assert listed_offers(reader, offer_ids=ids, index=index) == first

    def test_a_transaction_that_changed_offers_reads_them_itself(
        self, db: Session, reader: Session
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"), title="Before")
        index = OfferIndex()
        listed_offers(reader, offer_ids=[offer.id], index=index)
        change_offer(db, offer, title="Not committed yet")
        # The test's own session recorded the change and has not committed it: it sees its
        # own offer, and nothing it saw is kept for others.
        mine = listed_offers(db, offer_ids=[offer.id], index=index)
        assert mine[offer.id].title == "Not committed yet"
        assert index.offers_memo.get(offer.id).title == "Before"

    def test_a_change_heard_while_reading_keeps_nothing(
        self, db: Session, reader: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Portree"))
        index = OfferIndex()
        index.refresh(reader)
        read = listed._read

        def overtaken(session: Session, ids: list[int]) -> dict[int, listed.ListedOffer]:
            found = read(session, ids)
            index.generation += 1  # another request heard of a change meanwhile
            return found

        monkeypatch.setattr(listed, "_read", overtaken)
        assert offer.id in listed_offers(reader, offer_ids=[offer.id], index=index)
        assert len(index.offers_memo) == 0


class TestOfferMemo:
    def test_the_least_recently_used_go_first(self) -> None:
        memo = OfferMemo(size=2)
        memo.put(1, 10, "one")
        memo.put(2, 20, "two")
        assert memo.get(1) == "one"  # now the most recently used
        memo.put(3, 30, "three")
        assert (memo.get(1), memo.get(2), memo.get(3)) == ("one", None, "three")
        assert len(memo) == 2

    def test_forgets_an_offer_and_every_offer_of_a_provider(self) -> None:
        memo = OfferMemo(size=10)
        for offer_id, provider_id in ((1, 10), (2, 10), (3, 20), (4, 30)):
            memo.put(offer_id, provider_id, f"offer {offer_id}")
        memo.forget({3}, {10})
        assert [memo.get(offer_id) for offer_id in (1, 2, 3, 4)] == [None, None, None, "offer 4"]
        memo.put(1, 10, "offer 1 again")
        memo.forget(set(), {10})
        assert memo.get(1) is None and len(memo) == 1
