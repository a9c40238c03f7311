"""Builders for posted-need tests, through the same services the pages use."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.mail import OutboxMail, read_outbox
from marketplace.settings import Settings
from matching.index import OfferIndex
from matching.needs import service as needs_service
from matching.needs.models import PostedNeed
from providers import service as providers_service
from providers.models import Offer, Provider, ProviderKind, availability_bit
from tests.factories import make_offer, make_user, make_verified_provider

MONDAY_MORNING = availability_bit(0, 0)
"""Inside the weekday daytimes every factory offer is available at."""
SUNDAY_NIGHT = availability_bit(6, 3)
"""Outside them."""
DESCRIPTION = "Help getting washed and dressed before my day centre."


def post(
    db: Session,
    index: OfferIndex,
    *,
    poster: User | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> PostedNeed:
    """A need posted through the service: personal care near Portree for feeling safe, 6
    hours a week on Monday mornings, by default by a new supported person for themself."""
    poster = poster or make_user(db)
    values: dict[str, Any] = {
        "person": poster if poster.role == Role.SUPPORTED_PERSON else None,
        "location": "Portree",
        "kinds_of_support": ["personal-care"],
        "outcomes": ["feeling-safe"],
        "client_groups": [],
        "when": MONDAY_MORNING,
        "minutes_per_week": 6 * 60,
        "description": DESCRIPTION,
    } | fields
    return needs_service.post_need(db, index=index, poster=poster, now=now, **values)


def make_trusted_offer(db: Session, *, provider: Provider | None = None, **fields: Any) -> Offer:
    """make_offer(), from a verified provider unless one is given: needs reach only those."""
    return make_offer(db, provider=provider or make_verified_provider(db), **fields)


def organisation_with_two_staff(db: Session, settings: Settings) -> tuple[Provider, User, User]:
    """A provider organisation near Portree with its owner and a member of staff who joined
    through the invitation mailed to them."""
    provider = make_verified_provider(db, kind=ProviderKind.MICRO_PROVIDER)
    owner = provider.members[0].user
    staff = make_user(db, role=Role.PROVIDER_STAFF)
    providers_service.invite_staff(db, provider=provider, inviter=owner, email=staff.email)
    db.commit()  # the invitation is mailed only when the transaction commits
    [invitation] = [m for m in read_outbox(settings.outbox_dir) if m.to == staff.email]
    token = re.search(r"/provider/join\?token=(\S+)", invitation.body).group(1)  # type: ignore[union-attr]
    providers_service.accept_invitation(db, token=token, user=staff)
    return provider, owner, staff


def need_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(PostedNeed)) or 0


def mails_to(settings: Settings, user: User) -> list[OutboxMail]:
    """What has been mailed to `user`, oldest first (mail goes out when a transaction commits)."""
    return [m for m in reversed(read_outbox(settings.outbox_dir)) if m.to == user.email]
