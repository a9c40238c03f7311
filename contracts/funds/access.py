"""Who reaches a fund's pages and API: any signed-in user may ask for a fund by its number,
and whoever may not see that fund (a commissioner, another council, another provider) gets
the 404 of a fund that does not exist, so nobody learns which funds exist by trying numbers.
The fund's visibility rule is contracts.funds.service.may_see_fund."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from contracts.funds import service as funds_service
from contracts.funds.models import IndividualServiceFund
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import roles, signed_in, visible

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
