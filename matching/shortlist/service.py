"""Shortlists: the offers a person keeps to compare and enquire about later. A signed-in
person's shortlist is stored (ShortlistItem); anyone else's is a list of offer ids their
browser keeps (matching.cookies). The rules are the same for both: at most 20 offers, each
once, in the order added, and only published offers can be added."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.errors import RuleBroken
from matching.listed import ListedOffer, listed_offers
from matching.shortlist.models import ShortlistItem
from providers.models import Offer, OfferStatus

MAX_OFFERS = 20


class ShortlistFull(RuleBroken):
    def __init__(self) -> None:
        super().__init__(
            f"Your shortlist already has {MAX_OFFERS} offers, the "
            "most it can hold. Remove one before adding another"
        )


def with_offer(offer_ids: list[int], *, offer_id: int) -> list[int]:
    """The list with the offer added at the end (unchanged if it is there already)."""
    if offer_id in offer_ids:
        return offer_ids
    if len(offer_ids) >= MAX_OFFERS:
        raise ShortlistFull()
    return [*offer_ids, offer_id]


def without_offer(offer_ids: list[int], *, offer_id: int) -> list[int]:
    return [kept for kept in offer_ids if kept != offer_id]


def saved_offer_ids(session: Session, *, user: User) -> list[int]:
    """A signed-in person's shortlist, oldest first."""
    return list(
        session.scalars(
            select(ShortlistItem.offer_id)
            .where(ShortlistItem.user_id == user.id)
            .order_by(ShortlistItem.added_at, ShortlistItem.offer_id)
        )
    )


def save_offer(session: Session, *, user: User, offer: Offer) -> None:
    """Add a published offer to a signed-in person's shortlist."""
    saved = saved_offer_ids(session, user=user)
    if offer.id in saved:
        return
    with_offer(saved, offer_id=offer.id)  # refuses a full shortlist
    session.add(ShortlistItem(user_id=user.id, offer_id=offer.id))
    session.flush()


def unsave_offer(session: Session, *, user: User, offer_id: int) -> None:
    session.execute(
        delete(ShortlistItem).where(
            ShortlistItem.user_id == user.id, ShortlistItem.offer_id == offer_id
        )
    )


def merge_into(session: Session, *, user: User, offer_ids: Iterable[int]) -> None:
    """Add what a browser kept before its person signed in to their stored shortlist: the
    offers still published, after theirs, as many as fit."""
    kept = list(offer_ids)
    saved = saved_offer_ids(session, user=user)
    offers = listed_offers(session, offer_ids=kept)
    for offer_id in kept:
        offer = offers.get(offer_id)
        if offer is None or offer.status != OfferStatus.PUBLISHED or offer_id in saved:
            continue
        if len(saved) >= MAX_OFFERS:
            break
        session.add(ShortlistItem(user_id=user.id, offer_id=offer_id))
        saved.append(offer_id)
    session.flush()


@dataclass(frozen=True)
class Entry:
    offer_id: int
    offer: ListedOffer | None
    """None when the offer no longer exists."""

    @property
    def available(self) -> bool:
        return self.offer is not None and self.offer.status == OfferStatus.PUBLISHED


def entries(session: Session, *, offer_ids: list[int]) -> list[Entry]:
    """The shortlisted offers in order, those no longer published included (to say so)."""
    offers = listed_offers(session, offer_ids=offer_ids)
    return [Entry(offer_id, offers.get(offer_id)) for offer_id in offer_ids]
