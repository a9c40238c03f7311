"""Who reaches spending's pages and API. Everyone who may see a fund may see its
deliveries; a provider that delivers one of its lines, without holding it, reaches the
fund only for what it delivers: the lines it records support on and its own deliveries.
Anyone else gets the 404 of a fund that does not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.models import IndividualServiceFund
from contracts.spending import service as spending
from contracts.spending.models import Delivery
from marketplace.accounts.models import User
from marketplace.accounts.policy import signed_in, visible


def may_work_on_fund(session: Session, user: User, fund: IndividualServiceFund) -> bool:
    """Whoever may see the fund, and the staff of a provider delivering one of its lines."""
    return funds_service.may_see_fund(session, user, fund) or spending.delivers_to(
        session, user, fund
    )


def deliveries_seen_by(session: Session, user: User, fund: IndividualServiceFund) -> list[Delivery]:
    """The fund's deliveries `user` may see: all of them, or a delivering provider's own."""
    everything = spending.deliveries_of(session, fund=fund)
    if funds_service.may_see_fund(session, user, fund):
        return everything
    return [d for d in everything if spending.staff_of(session, user, d.provider_id)]


WorkedFund = Annotated[
    IndividualServiceFund,
    Depends(
        visible(
            IndividualServiceFund,
            param="fund_id",
            access=signed_in,
            audit_subject=None,
            rule=may_work_on_fund,
        )
    ),
]
"""A fund whose spending someone reads or acts on; the service audits every change."""

SeenDelivery = Annotated[
    Delivery,
    Depends(
        visible(
            Delivery,
            param="delivery_id",
            access=signed_in,
            audit_subject=None,
            rule=spending.may_see_delivery,
        )
    ),
]
"""A delivery someone acts on: the same 404 as one that does not exist for anyone else."""
