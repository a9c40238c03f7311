"""What a search result says that depends only on the offer and the day (its provider, its
checks, its space and its reviews), drawn once per offer by each worker and kept in the
index until the change log names the offer or its provider: a page of twenty results would
otherwise format and escape the same facts on every search near the same place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from marketplace.db import utcnow
from marketplace.web import templates
from matching.index import OfferIndex
from matching.listed import ListedOffer, Trust, trust_of
from providers.offers import STALE_CAPACITY_DAYS, capacity_is_stale
from providers.reviews import ReviewSummary


@dataclass(frozen=True, slots=True)
class OfferCard:
    offer: ListedOffer
    """What it was drawn from: the index keeps a listed offer until it changes."""
    provider_line: Markup
    checks: Markup
    space: Markup
    reviews: Markup
    drawn_on: date
    """Checks expire by the day."""
    stale_from: datetime | None
    """When its space will read as possibly out of date, if it does not yet."""

    def current(self, offer: ListedOffer, today: date, now: datetime) -> bool:
        return (
            self.offer is offer
            and self.drawn_on == today
            and (self.stale_from is None or now < self.stale_from)
        )


def _macros() -> Any:
    return templates.env.get_template("matching/partials/offer_card.html").module


# Most offers' checks and reviews read alike ("None verified yet", "No reviews yet"): one
# copy of each serves every card that says it.
@lru_cache(maxsize=1024)
def _checks(trust: Trust) -> Markup:
    return Markup(_macros().checks(trust))


@lru_cache(maxsize=1024)
def _reviews(summary: ReviewSummary | None) -> Markup:
    return Markup(_macros().reviews(summary))


def draw_card(offer: ListedOffer, *, today: date, now: datetime) -> OfferCard:
    stale = capacity_is_stale(offer, now=now)
    macros = _macros()
    return OfferCard(
        offer=offer,
        provider_line=Markup(macros.provider_line(offer)),
        checks=_checks(trust_of(offer.provider.checks, today=today)),
        space=Markup(macros.space(offer, stale)),
        reviews=_reviews(offer.provider.reviews),
        drawn_on=today,
        stale_from=None
        if stale
        else offer.capacity_updated_at + timedelta(days=STALE_CAPACITY_DAYS, microseconds=1),
    )


def offer_cards(
    index: OfferIndex, offers: Iterable[ListedOffer], *, today: date, now: datetime | None = None
) -> dict[int, OfferCard]:
    """Each offer's card, drawn where the index keeps none current. A card is kept only
    while the index keeps the listed offer it was drawn from, and used only for that same
    offer: one read again after a change, or before a change the index has since heard
    of, is drawn afresh."""
    now = now or utcnow()
    cards: dict[int, OfferCard] = {}
    to_draw = []
    with index.lock:
        for offer in offers:
            card = index.cards_memo.get(offer.id)
            if card is not None and card.current(offer, today, now):
                cards[offer.id] = card
            else:
                to_draw.append(offer)
    drawn = {offer.id: draw_card(offer, today=today, now=now) for offer in to_draw}
    with index.lock:
        for offer in to_draw:
            if index.offers_memo.get(offer.id) is offer:
                index.cards_memo.put(offer.id, offer.provider_id, drawn[offer.id])
    return cards | drawn
