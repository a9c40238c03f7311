"""Who may see and change providers' records, declared once for every providers page:
the provider a signed-in member acts for, and the visibility of offers and checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import roles, visibility_rule
from marketplace.deps import DbSession
from marketplace.errors import NotFound
from providers import service as providers_service
from providers.models import Offer, OfferStatus, Provider, ProviderMember

provider_access = roles(Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT)
ProviderUser = Annotated[User, Depends(provider_access)]
"""Provider staff and personal assistants: the people who act for providers."""


class NoProviderYet(NotFound):
    """A personal assistant who has not set up their listing; pages send them to do so."""


def current_provider(db: DbSession, user: ProviderUser) -> Provider:
    """The provider the signed-in member acts for (a member of several: the first by name)."""
    providers = providers_service.providers_of(db, user=user)
    if not providers:
        raise NoProviderYet("You have not set up your listing yet")
    return providers[0]


CurrentProvider = Annotated[Provider, Depends(current_provider)]


def is_member(session: Session, user: User, provider_id: int) -> bool:
    """Whether `user` acts for the provider: one indexed lookup, since every fund and
    delivery check asks it, often several times a request."""
    return (
        session.scalar(
            select(ProviderMember.id)
            .where(ProviderMember.user_id == user.id, ProviderMember.provider_id == provider_id)
            .limit(1)
        )
        is not None
    )


def own_offer(session: Session, *, provider: Provider, offer_id: int) -> Offer:
    """One of the provider's own offers, or the same 404 as for an offer that does not exist."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.provider_id != provider.id:
        raise NotFound("Page not found")
    return offer


@visibility_rule(Offer)
def _may_see_offer(session: Session, viewer: User | None, offer: Offer) -> bool:
    if offer.status == OfferStatus.PUBLISHED:
        return True
    return viewer is not None and (
        viewer.role == Role.ADMIN or is_member(session, viewer, offer.provider_id)
    )


# An offer covers a radius, council areas or places: its page reads only the list its kind
# of area has, so neither list is read with the offer (two of an offer page's statements
# for most offers, which cover a radius). Its terms, prices and provider's languages come in
# the offer's own statement: a handful of rows, where reading each list by itself cost
# three more round trips and, in the ORM, a millisecond of a worker's time.
_OFFER_PAGE = (
    lazyload(Offer.area_councils),
    lazyload(Offer.area_settlements),
    joinedload(Offer.terms),
    joinedload(Offer.prices),
    joinedload(Offer.provider).joinedload(Provider.languages),
)


def public_offer(session: Session, *, offer_id: int, viewer: User | None) -> Offer:
    """A published offer for anyone; a draft, paused or withdrawn one for its provider only,
    with what its page shows of it."""
    offer = (
        session.scalars(select(Offer).where(Offer.id == offer_id).options(*_OFFER_PAGE))
        .unique()
        .one_or_none()
    )
    if offer is None or not _may_see_offer(session, viewer, offer):
        raise NotFound("Page not found")
    return offer


def published_offer(session: Session, *, offer_id: int) -> Offer:
    """A published offer, for pages that act on one (enquiring, shortlisting); anything else
    gets the same 404 as an offer that does not exist."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.status != OfferStatus.PUBLISHED:
        raise NotFound("Page not found")
    return offer
