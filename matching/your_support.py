"""A supported person's or representative's own page, where signing in leads: their
shortlist, enquiries and posted needs at a glance, each with the way to do more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace import web
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import roles
from marketplace.deps import DbSession, audited
from marketplace.web import render
from matching.needs import views as need_views
from matching.shortlist import service as shortlist_service
from matching.shortlist.routes import KeptShortlist
from providers import enquiries as enquiries_service

router = APIRouter(include_in_schema=False)
web.add_navigation(
    "Your support", "/your-support", roles=(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE), order=6
)

PersonUser = Annotated[User, Depends(roles(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE))]
"""Supported people and their representatives."""

SHOWN = 5
"""The newest few of each; the full lists are a link away."""


@router.get("/your-support")
@audited
def your_support(
    request: Request, db: DbSession, user: PersonUser, kept: KeptShortlist
) -> Response:
    enquiries = enquiries_service.enquiries_of(db, user=user, page=1, page_size=SHOWN)
    for enquiry in enquiries.items:
        enquiries_service.record_view(db, viewer=user, enquiry=enquiry)
    needs = need_views.needs_of(db, user=user, page=1, page_size=SHOWN)
    for need in needs.items:
        need_views.record_view(db, viewer=user, need=need)
    links = accounts_service.representations_of(db, user=user)
    return kept.finish(
        render(
            request,
            "matching/your_support.html",
            {
                "shortlist": shortlist_service.entries(db, offer_ids=kept.offer_ids),
                "enquiries": enquiries,
                "needs": needs,
                "summaries": {need.id: need_views.summary_of(need) for need in needs.items},
                "responses": need_views.response_counts(db, needs=needs.items),
                "acting_for": [
                    link.supported_person for link in links if link.representative_id == user.id
                ],
            },
        )
    )
