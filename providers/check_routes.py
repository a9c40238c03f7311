"""Pages for the trust panel: a provider declares its checks; administrators verify or
reject them from a queue."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketplace import admin, web
from marketplace.accounts.models import Role
from marketplace.accounts.policy import AdminUser
from marketplace.db import today
from marketplace.deps import DbSession
from marketplace.errors import NotFound, RuleBroken
from marketplace.forms import FormPage
from marketplace.parsing import PageNumber, RecordId
from marketplace.web import redirect, render
from providers import checks as checks_service
from providers import offers as offers_service
from providers import verification
from providers.access import CurrentProvider, ProviderUser
from providers.checks import CheckDetails
from providers.models import CARE_INSPECTORATE_THEMES, Check, CheckKind, Offer, Provider
from providers.schemas import CHECK_KIND_SLUGS, CheckForm, RejectCheckForm

router = APIRouter(include_in_schema=False)
web.add_navigation("Checks to verify", "/admin/checks", roles=(Role.ADMIN,), order=60)
admin.add_work_queue(
    "Checks to verify",
    "/admin/checks",
    lambda session: (
        f"{checks_service.checks_waiting(session, page_size=1).total} waiting to be verified"
    ),
    order=20,
)

check_page = FormPage("providers/check_new.html")
reject_page = FormPage("providers/admin_checks.html", block="queue")


@router.get("/provider/checks")
def checks(request: Request, provider: CurrentProvider) -> Response:
    return render(
        request,
        "providers/checks.html",
        {
            "provider": provider,
            "today": today(),
            "kinds": CHECK_KIND_SLUGS,
            "done": request.query_params.get("done", ""),
        },
    )


def _kind(slug: str) -> CheckKind:
    kind = CHECK_KIND_SLUGS.get(slug)
    if kind is None:
        raise NotFound("Page not found")
    return kind


def _check_context(slug: str) -> dict[str, Any]:
    return {"slug": slug, "kind": _kind(slug), "themes": CARE_INSPECTORATE_THEMES}


@router.get("/provider/checks/new/{slug}")
def show_new_check(request: Request, slug: str, provider: CurrentProvider) -> Response:
    return check_page.render(request, **_check_context(slug))


@router.post("/provider/checks/new/{slug}")
async def new_check(
    request: Request, slug: str, db: DbSession, user: ProviderUser, provider: CurrentProvider
) -> Response:
    kind = _kind(slug)
    form = await check_page.read(request, CheckForm, **_check_context(slug))
    values = request.state.form.values
    grades = {}
    if kind == CheckKind.CARE_INSPECTORATE:
        for number, theme in enumerate(CARE_INSPECTORATE_THEMES):
            grade = str(values.get(f"grade_{number}", "")).strip()
            if grade:
                if grade not in {"1", "2", "3", "4", "5", "6"}:
                    raise RuleBroken(
                        "Grades go from 1 (unsatisfactory) to 6 (excellent)",
                        field=f"grade_{number}",
                    )
                grades[theme] = int(grade)
    expires_on = None
    if form.expires_on:
        try:
            expires_on = date.fromisoformat(form.expires_on)
        except ValueError:
            raise RuleBroken("Enter the date like 2027-03-31", field="expires_on") from None
    checks_service.declare_check(
        db,
        provider=provider,
        actor=user,
        details=CheckDetails(
            kind=kind,
            reference=form.reference,
            issuer=form.issuer or None,
            grades=grades or None,
            cover_pence=form.cover,
            expires_on=expires_on,
        ),
        today=today(),
    )
    return redirect(request, "/provider/checks?done=declared")


def _queue_context(db: DbSession, page: int) -> dict[str, Any]:
    return {
        "waiting": checks_service.checks_waiting(db, page=page),
        "identities": verification.awaiting_identity(db),
        "offers_waiting": len(offers_service.offers_awaiting_agreement(db)),
        "today": today(),
    }


@router.get("/admin/checks")
def queue(
    request: Request, db: DbSession, admin: AdminUser, page: PageNumber = 1, done: str = ""
) -> Response:
    return reject_page.render(request, done=done, **_queue_context(db, page))


def _waiting_check(db: DbSession, check_id: int) -> Check:
    check = db.get(Check, check_id)
    if check is None:
        raise NotFound("Page not found")
    return check


@router.post("/admin/checks/{check_id}/verify")
def verify(
    request: Request, check_id: RecordId, db: DbSession, admin: AdminUser, page: PageNumber = 1
) -> Response:
    check = _waiting_check(db, check_id)
    reject_page.remember(request, values={}, **_queue_context(db, page))
    checks_service.verify_check(db, check=check, admin=admin, context=request.app.state)
    return redirect(request, f"/admin/checks?done=verified&page={page}")


@router.post("/admin/checks/{check_id}/reject")
async def reject(
    request: Request, check_id: RecordId, db: DbSession, admin: AdminUser, page: PageNumber = 1
) -> Response:
    check = _waiting_check(db, check_id)
    form = await reject_page.read(
        request, RejectCheckForm, failed_id=check.id, **_queue_context(db, page)
    )
    checks_service.reject_check(db, check=check, admin=admin, note=form.note)
    return redirect(request, f"/admin/checks?done=rejected&page={page}")


@router.post("/admin/providers/{provider_id}/confirm-identity")
def confirm_identity(
    request: Request, provider_id: RecordId, db: DbSession, admin: AdminUser
) -> Response:
    provider = db.get(Provider, provider_id)
    if provider is None:
        raise NotFound("Page not found")
    reject_page.remember(request, values={}, **_queue_context(db, 1))
    verification.confirm_identity(db, provider=provider, admin=admin, context=request.app.state)
    return redirect(request, "/admin/checks?done=identity")


# Offers whose areas are too wide to publish without an administrator -------------------


@router.get("/admin/offers")
def offers_to_agree(request: Request, db: DbSession, admin: AdminUser, done: str = "") -> Response:
    return render(
        request,
        "providers/admin_offers.html",
        {
            "waiting": offers_service.offers_awaiting_agreement(db),
            "done": done if done in ("agreed", "refused") else "",
        },
    )


def _waiting_offer(db: DbSession, offer_id: int) -> Offer:
    offer = db.get(Offer, offer_id)
    if offer is None:
        raise NotFound("Page not found")
    return offer


@router.post("/admin/offers/{offer_id}/agree")
def agree_offer(request: Request, offer_id: RecordId, db: DbSession, admin: AdminUser) -> Response:
    offers_service.agree_area(db, offer=_waiting_offer(db, offer_id), admin=admin)
    return redirect(request, "/admin/offers?done=agreed")


@router.post("/admin/offers/{offer_id}/refuse")
def refuse_offer(request: Request, offer_id: RecordId, db: DbSession, admin: AdminUser) -> Response:
    offers_service.refuse_area(db, offer=_waiting_offer(db, offer_id), admin=admin)
    return redirect(request, "/admin/offers?done=refused")
