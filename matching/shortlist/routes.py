"""Shortlist pages: adding and removing an offer (a plain form that returns to where it was
sent from, or with htmx just the button's region), and the shortlist itself, from which
up to three offers are chosen to compare, and the side-by-side comparison of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import MaybeUser, Public
from marketplace.db import today
from marketplace.deps import AppSettings, DbSession, audited
from marketplace.forms import FormPage, form_values
from marketplace.parsing import RecordId
from marketplace.redirects import local_path
from marketplace.settings import Settings
from marketplace.web import is_htmx, render
from matching import cookies
from matching.shortlist import service as shortlist_service
from matching.shortlist.compare import MAX_OFFERS as MAX_COMPARED
from matching.shortlist.compare import compare_offers
from providers import offers as offers_service
from providers.access import published_offer
from providers.asked import carried_query, read_asked
from providers.models import DAYS, PERIODS, Offer, OfferStatus
from providers.pricing import describe_minutes

router = APIRouter(include_in_schema=False)
web.add_navigation(
    "Your shortlist", "/shortlist", roles=(Role.SUPPORTED_PERSON, Role.REPRESENTATIVE), order=20
)

button_page = FormPage("matching/shortlist_button.html", block="button")


class Kept:
    """The shortlist of whoever is asking: stored for someone signed in, otherwise kept by
    their browser. A browser's list is merged into its person's as soon as they sign in."""

    def __init__(
        self, request: Request, db: Session, user: User | None, settings: Settings
    ) -> None:
        self.db, self.user = db, user
        self.cookie = cookies.shortlist_cookie(settings)
        in_browser = cookies.read_offer_ids(self.cookie, request)
        self.cookie_changed = False
        if user is None:
            self.offer_ids = in_browser
            return
        if in_browser:
            shortlist_service.merge_into(db, user=user, offer_ids=in_browser)
            self.cookie_changed = True  # to clear it: the list now lives in the database
        self.offer_ids = shortlist_service.saved_offer_ids(db, user=user)

    def add(self, offer: Offer) -> None:
        if self.user is not None:
            shortlist_service.save_offer(self.db, user=self.user, offer=offer)
        self.offer_ids = shortlist_service.with_offer(self.offer_ids, offer_id=offer.id)
        self.cookie_changed = self.cookie_changed or self.user is None

    def remove(self, offer_id: int) -> None:
        if self.user is not None:
            shortlist_service.unsave_offer(self.db, user=self.user, offer_id=offer_id)
        self.offer_ids = shortlist_service.without_offer(self.offer_ids, offer_id=offer_id)
        self.cookie_changed = self.cookie_changed or self.user is None

    def finish(self, response: Response) -> Response:
        """The response, with the browser's list updated (or cleared once merged)."""
        if self.cookie_changed:
            cookies.write_offer_ids(
                self.cookie, response, [] if self.user is not None else self.offer_ids
            )
        return response


async def kept_shortlist(
    request: Request, db: DbSession, user: MaybeUser, settings: AppSettings
) -> Kept:
    # A visitor's list is in their cookie, read on the event loop; a signed-in person's is
    # in the database, read on a worker thread.
    if user is None:
        return Kept(request, db, user, settings)
    return await run_in_threadpool(Kept, request, db, user, settings)


KeptShortlist = Annotated[Kept, Depends(kept_shortlist)]


def safe_back(value: object) -> str | None:
    """A path on this site to return to, or None (the one rule in marketplace.redirects)."""
    return local_path(value, "") or None


def carried(request: Request) -> str:
    """The search's place, hours and times, carried from page to page, as a query string."""
    return carried_query(request.query_params.multi_items())


@router.post("/shortlist/{offer_id}", dependencies=[Public])
async def add(request: Request, offer_id: RecordId, db: DbSession, kept: KeptShortlist) -> Response:
    offer = published_offer(db, offer_id=offer_id)
    back = safe_back((await form_values(request)).get("back"))
    button_page.remember(request, values={}, offer=offer, saved=kept.offer_ids, back=back)
    kept.add(offer)
    if is_htmx(request):
        return kept.finish(
            button_page.render(request, offer=offer, saved=kept.offer_ids, back=back)
        )
    return kept.finish(web.redirect(request, back or "/shortlist"))


@router.post("/shortlist/{offer_id}/remove", dependencies=[Public])
async def remove(
    request: Request, offer_id: RecordId, db: DbSession, kept: KeptShortlist
) -> Response:
    back = safe_back((await form_values(request)).get("back"))
    kept.remove(offer_id)
    offer = db.get(Offer, offer_id)
    if is_htmx(request) and offer is not None and offer.status == OfferStatus.PUBLISHED:
        return kept.finish(
            button_page.render(request, offer=offer, saved=kept.offer_ids, back=back)
        )
    return kept.finish(web.redirect(request, back or "/shortlist"))


@router.get("/shortlist", dependencies=[Public])
@audited
def show(request: Request, db: DbSession, kept: KeptShortlist) -> Response:
    entries = shortlist_service.entries(db, offer_ids=kept.offer_ids)
    hourly = {
        e.offer_id: offers_service.hourly_price_pence(e.offer)
        for e in entries
        if e.offer is not None
    }
    values: dict[str, object] = {
        name: request.query_params.get(name, "") for name in ("location", "hours")
    }
    values["when"] = request.query_params.getlist("when")
    return kept.finish(
        render(
            request,
            "matching/shortlist.html",
            {
                "entries": entries,
                "hourly": hourly,
                "values": values,
                "error_for": {},
                "carried": carried(request),
                "max_offers": shortlist_service.MAX_OFFERS,
                "max_compared": MAX_COMPARED,
            },
        )
    )


@router.get("/compare", dependencies=[Public])
@audited
def compare(request: Request, db: DbSession, kept: KeptShortlist) -> Response:
    query = request.query_params
    values: dict[str, object] = {
        "location": query.get("location", ""),
        "hours": query.get("hours", ""),
        "when": query.getlist("when"),
    }
    chosen = query.getlist("offer")
    if not chosen and not any(values.values()):
        nothing_chosen: dict[str, Any] = {
            "comparison": None,
            "values": values,
            "error_for": {},
            "errors": [],
            "max_compared": MAX_COMPARED,
        }
        return kept.finish(render(request, "matching/compare.html", nothing_chosen))
    comparison = compare_offers(
        db, offer_values=chosen, asked=read_asked(db, query.multi_items()), today=today()
    )
    errors = comparison.problems
    return kept.finish(
        render(
            request,
            "matching/compare.html",
            {
                "comparison": comparison,
                "hours_text": describe_minutes(comparison.minutes_per_week),
                "values": values,
                "errors": errors,
                "error_for": {e.field: e.message for e in errors if e.field},
                "chosen": [c.offer.id for c in comparison.offers],
                "saved": kept.offer_ids,
                "carried": carried(request),
                "max_compared": MAX_COMPARED,
                "days": DAYS,
                "periods": PERIODS,
            },
            status_code=422 if errors else 200,
        )
    )
