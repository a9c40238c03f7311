"""Who reaches a fund's pages and API: any signed-in user may ask for a fund by its number,
and whoever may not see that fund (a commissioner, another council, another provider) gets
the 404 of a fund that does not exist, so nobody learns which funds exist by trying numbers.
The fund's visibility rule is contracts.funds.service.may_see_fund."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds.models import IndividualServiceFund
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import parse_record_id, roles, signed_in, visible
from marketplace.errors import NotFound

PEOPLE = (Role.SUPPORTED_PERSON, Role.REPRESENTATIVE)
FUND_LIST_ROLES = (
    *PEOPLE,
    Role.PROVIDER_STAFF,
    Role.PERSONAL_ASSISTANT,
    Role.BUDGET_HOLDER,
    Role.PANEL_MEMBER,
    Role.FINANCE,
)
"""Everyone who may have funds to see: the person's side, holders' staff, and the council
staff who work with funds."""
FundListUser = Annotated[User, Depends(roles(*FUND_LIST_ROLES))]

SeenFund = Annotated[
    IndividualServiceFund,
    Depends(
        visible(
            IndividualServiceFund,
            param="fund_id",
            access=signed_in,
            audit_subject=funds_service.SUBJECT,
        )
    ),
]
"""A fund whose page is read: the read is in the audit log."""
ActedFund = Annotated[
    IndividualServiceFund,
    Depends(visible(IndividualServiceFund, param="fund_id", access=signed_in, audit_subject=None)),
]
"""A fund a form changes; the service audits the change."""


class OnAFund(Protocol):
    @property
    def fund_id(self) -> int: ...


R = TypeVar("R", bound=OnAFund)


def record_on_fund(
    request: Request,
    db: Session,
    user: User,
    model: type[R],
    *,
    param: str,
    may_see: Callable[[Session, User, R], bool],
) -> R:
    """The record of a fund (a delivery, a change-of-use request) that the address names
    by `param`, on the fund it names: 404 for anyone who may not see it, as for an id that
    does not exist."""
    fund_id = parse_record_id(str(request.path_params.get("fund_id", "")))
    record_id = parse_record_id(str(request.path_params.get(param, "")))
    record = db.get(model, record_id)
    if record is None or record.fund_id != fund_id or not may_see(db, user, record):
        raise NotFound("Page not found")
    return record
