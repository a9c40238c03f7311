"""Who works on change-of-use requests as the council: the pages' and the API's one rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import roles

DECIDERS = (Role.BUDGET_HOLDER, Role.PANEL_MEMBER)
"""Council staff who decide requests: budget holders, and the panel's members."""
DeciderUser = Annotated[User, Depends(roles(*DECIDERS))]
PanelUser = Annotated[User, Depends(roles(Role.PANEL_MEMBER))]
