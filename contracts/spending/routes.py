"""Pages for spending a fund: the support delivered on a fund, with the next step each side
may take (the person confirms or disputes, whoever recorded it puts a dispute right or
withdraws it, the holder approves or refuses); one delivery's own page with the forms that
need words; a purchase's receipt; and, for providers and personal assistants, the lines
they deliver and the forms that record support or a purchase on one of them.

The rules are the service's (contracts.spending.service): these routes parse, call it and
show the answer. Who may act is decided there; the pages only choose which forms to draw."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds import views as fund_views
from contracts.funds.access import record_on_fund
from contracts.funds.models import BudgetLine, IndividualServiceFund
from contracts.spending import service as spending
from contracts.spending import views
from contracts.spending.access import WorkedFund, deliveries_seen_by
from contracts.spending.models import Delivery, DeliveryKind
from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import SignedInUser, parse_record_id, roles
from marketplace.bodies import FORM_MAX_BYTES, accepts_body
from marketplace.db import today
from marketplace.deps import AUDITED_READ, DbSession, audited
from marketplace.errors import FieldError, NotAllowed, NotFound
from marketplace.forms import (
    Day,
    Form,
    FormPage,
    Hours,
    NoFields,
    OptionalHours,
    OptionalPounds,
    Pounds,
    Text,
    fields_named,
    form_values,
    required,
)
from marketplace.idempotency import IdempotencyKey, new_key, once
from marketplace.parsing import PageNumber
from marketplace.tables import csv_if_asked
from marketplace.web import redirect, render
from providers.photos import UPLOAD_MAX_BYTES
from providers.service import providers_of

router = APIRouter(include_in_schema=False)

RECORDERS = (Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT)
web.add_navigation("Record support", "/deliveries", roles=RECORDERS, order=47)
RecorderUser = Annotated[User, Depends(roles(*RECORDERS))]
web.templates.env.filters["hours"] = spending.hours_label

DONE_MESSAGES = {
    "recorded": "The support is recorded. The person is asked to confirm it.",
    "purchase": "The purchase is recorded with its receipt. The person is asked to confirm it.",
    "confirmed": "Thank you: it is confirmed. The fund holder approves the payment next.",
    "disputed": "Your dispute is sent. Whoever recorded it will put it right or withdraw it.",
    "resolved": "Your answer is sent. The person is asked to confirm it again.",
    "withdrawn": "It is withdrawn. Nothing will be paid for it.",
    "approved": "Approved: it is paid from the fund to what the provider is owed.",
    "refused": "Refused: nothing is paid from the fund. Your reason is on the record.",
}


# Loading a delivery ---------------------------------------------------------------------


def _delivery(request: Request, db: Session, user: User) -> Delivery:
    return record_on_fund(
        request, db, user, Delivery, param="delivery_id", may_see=spending.may_see_delivery
    )


def seen_delivery(request: Request, db: DbSession, user: SignedInUser) -> Delivery:
    delivery = _delivery(request, db, user)
    # A delivery (and its receipt) is part of the fund: reading it is a read of the fund.
    fund_views.record_view(db, viewer=user, fund=delivery.fund)
    return delivery


setattr(seen_delivery, AUDITED_READ, True)


def acted_delivery(request: Request, db: DbSession, user: SignedInUser) -> Delivery:
    return _delivery(request, db, user)


SeenDelivery = Annotated[Delivery, Depends(seen_delivery)]
ActedDelivery = Annotated[Delivery, Depends(acted_delivery)]


def _after(request: Request, delivery: Delivery, done: str) -> Response:
    """Back to the fund's list, where everyone who acts on a delivery reaches it (a provider
    delivering a line of a fund it does not hold sees its own deliveries there)."""
    return redirect(request, f"/funds/{delivery.fund_id}/deliveries?done={done}")


# The fund's deliveries ------------------------------------------------------------------


@router.get("/funds/{fund_id}/deliveries")
@audited
def fund_deliveries(
    request: Request, fund: WorkedFund, db: DbSession, user: SignedInUser, done: str = ""
) -> Response:
    fund_views.record_view(db, viewer=user, fund=fund)
    deliveries = deliveries_seen_by(db, user, fund)
    shows_person = views.shows_person(db, fund, user)
    table = views.deliveries_table(
        deliveries,
        name="deliveries",
        caption="Support and purchases recorded on this fund",
        in_words=shows_person,
    )
    downloaded = csv_if_asked(request, [table], filename=f"fund-{fund.id}")
    if downloaded is not None:
        return downloaded
    rows = views.rows_for(db, user, fund, deliveries)
    return render(
        request,
        "contracts/spending/deliveries.html",
        {
            "fund": fund,
            "party": funds_service.party_of(db, fund, user),
            "waiting": [row for row in rows if row.actions.waiting],
            "table": table,
            "shows_person": shows_person,
            "sees_fund": funds_service.may_see_fund(db, user, fund),
            "done": DONE_MESSAGES.get(done),
        },
    )


# One delivery, and the steps on it ------------------------------------------------------

delivery_page = FormPage("contracts/spending/delivery.html", block="delivery")


def _name(db: Session, user_id: int | None) -> str | None:
    user = db.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else None


def _delivery_context(db: Session, delivery: Delivery, user: User) -> dict[str, Any]:
    fund = delivery.fund
    party = funds_service.party_of(db, fund, user)
    return {
        "delivery": delivery,
        "fund": fund,
        "actions": views.actions_for(db, user, delivery, party),
        "colour": views.STATUS_COLOURS[delivery.status],
        "quantity": views.quantity(delivery),
        "receipt_path": views.receipt_path(delivery),
        "shows_person": views.shows_person(db, fund, user),
        "sees_fund": funds_service.may_see_fund(db, user, fund),
        "names": {
            "confirmed": _name(db, delivery.confirmed_by_id),
            "disputed": _name(db, delivery.disputed_by_id),
            "resolved": _name(db, delivery.resolved_by_id),
            "approved": _name(db, delivery.approved_by_id),
            "ended": _name(db, delivery.ended_by_id),
        },
    }


class DisputeForm(Form):
    dispute_reason: Annotated[Text, required("Say what is not right, in your words")] = ""


class ResolveForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "hours": "Enter the hours as a number, for example 2 or 1.5",
        "amount": "Enter the amount in pounds, for example 12.50",
    }

    resolution: Annotated[Text, required("Say how it has been put right")] = ""
    hours: OptionalHours = None
    amount: OptionalPounds = None


class WithdrawForm(Form):
    withdraw_reason: Annotated[Text, required("Say why you are withdrawing it")] = ""


class RefuseForm(Form):
    refuse_reason: Annotated[Text, required("Say why, in plain words: the person reads it")] = ""


@router.get("/funds/{fund_id}/deliveries/{delivery_id}")
@audited
def show_delivery(
    request: Request, delivery: SeenDelivery, db: DbSession, user: SignedInUser
) -> Response:
    return delivery_page.render(request, **_delivery_context(db, delivery, user))


@router.post("/funds/{fund_id}/deliveries/{delivery_id}/confirm")
async def confirm(
    request: Request, delivery: ActedDelivery, db: DbSession, user: SignedInUser
) -> Response:
    await delivery_page.read(request, NoFields, **_delivery_context(db, delivery, user))
    spending.confirm_delivery(db, delivery=delivery, by=user)
    return _after(request, delivery, "confirmed")


@router.post("/funds/{fund_id}/deliveries/{delivery_id}/dispute")
async def dispute(
    request: Request, delivery: ActedDelivery, db: DbSession, user: SignedInUser
) -> Response:
    form = await delivery_page.read(request, DisputeForm, **_delivery_context(db, delivery, user))
    with fields_named({"reason": "dispute_reason"}):
        spending.dispute_delivery(db, delivery=delivery, by=user, reason=form.dispute_reason)
    return _after(request, delivery, "disputed")


@router.post("/funds/{fund_id}/deliveries/{delivery_id}/resolve")
async def resolve(
    request: Request, delivery: ActedDelivery, db: DbSession, user: SignedInUser
) -> Response:
    form = await delivery_page.read(request, ResolveForm, **_delivery_context(db, delivery, user))
    spending.resolve_dispute(
        db,
        delivery=delivery,
        by=user,
        resolution=form.resolution,
        minutes=form.hours,
        amount_pence=form.amount,
    )
    return _after(request, delivery, "resolved")


@router.post("/funds/{fund_id}/deliveries/{delivery_id}/withdraw")
async def withdraw(
    request: Request, delivery: ActedDelivery, db: DbSession, user: SignedInUser
) -> Response:
    form = await delivery_page.read(request, WithdrawForm, **_delivery_context(db, delivery, user))
    with fields_named({"reason": "withdraw_reason"}):
        spending.withdraw_delivery(db, delivery=delivery, by=user, reason=form.withdraw_reason)
    return _after(request, delivery, "withdrawn")


@router.post("/funds/{fund_id}/deliveries/{delivery_id}/approve")
async def approve(
    request: Request, delivery: ActedDelivery, db: DbSession, user: SignedInUser
) -> Response:
    # Approving twice pays once: the service's ledger key is the delivery's own.
    await delivery_page.read(request, NoFields, **_delivery_context(db, delivery, user))
    spending.approve_delivery(db, delivery=delivery, by=user)
    return _after(request, delivery, "approved")


@router.post("/funds/{fund_id}/deliveries/{delivery_id}/refuse")
async def refuse(
    request: Request, delivery: ActedDelivery, db: DbSession, user: SignedInUser
) -> Response:
    form = await delivery_page.read(request, RefuseForm, **_delivery_context(db, delivery, user))
    with fields_named({"reason": "refuse_reason"}):
        spending.refuse_delivery(db, delivery=delivery, by=user, reason=form.refuse_reason)
    return _after(request, delivery, "refused")


@router.get("/funds/{fund_id}/deliveries/{delivery_id}/receipt")
@audited
def download_receipt(delivery: SeenDelivery) -> Response:
    receipt = delivery.receipt
    if receipt is None:
        raise NotFound("Page not found")
    extension = views.RECEIPT_EXTENSIONS.get(receipt.media_type, "bin")
    return Response(
        receipt.data,
        media_type=receipt.media_type,
        headers={
            # Downloaded, never shown in the page: a PDF's scripts and a crafted file's
            # guessed type stay out of the site's origin.
            "Content-Disposition": f'attachment; filename="receipt-{delivery.id}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# Recording support ----------------------------------------------------------------------

record_page = FormPage("contracts/spending/record.html", block="record")


@router.get("/deliveries")
def my_deliveries(
    request: Request, db: DbSession, user: RecorderUser, done: str = "", page: PageNumber = 1
) -> Response:
    providers = providers_of(db, user=user)
    caption = "What you have recorded"
    if request.query_params.get("format") == "csv":
        # The download is all of it, for the provider's own books; the page, a page of it.
        everything = spending.deliveries_recorded_by(db, providers=providers) if providers else []
        table = views.deliveries_table(everything, name="recorded", caption=caption)
        downloaded = csv_if_asked(request, [table], filename="recorded-support")
        if downloaded is not None:
            return downloaded
    found = spending.recorded_page(db, providers=providers, page=page)
    if page > found.pages:
        raise NotFound("There is no such page")
    if found.pages > 1:
        caption += f", newest first: page {found.page} of {found.pages}"
    return render(
        request,
        "contracts/spending/mine.html",
        {
            "lines": spending.lines_to_record(db, user=user),
            "disputed": spending.disputed_for(db, providers=providers) if providers else [],
            "table": views.deliveries_table(found.items, name="recorded", caption=caption),
            "result": found,
            "done": DONE_MESSAGES.get(done),
        },
    )


def _recording(
    request: Request, db: Session, user: User
) -> tuple[IndividualServiceFund, BudgetLine]:
    """The line the address names, when `user`'s provider delivers it on an active fund;
    403 for others who may see the fund, 404 for everyone else."""
    fund_id = parse_record_id(str(request.path_params.get("fund_id", "")))
    line_id = parse_record_id(str(request.path_params.get("line_id", "")))
    for fund, line in spending.lines_to_record(db, user=user):
        if fund.id == fund_id and line.id == line_id:
            return fund, line
    seen = db.get(IndividualServiceFund, fund_id)
    if seen is not None and funds_service.may_see_fund(db, user, seen):
        raise NotAllowed("Only the provider that delivers this support records it")
    raise NotFound("Page not found")


def _record_context(db: Session, fund: IndividualServiceFund, line: BudgetLine) -> dict[str, Any]:
    day = today().isoformat()
    return {
        "fund": fund,
        "line": line,
        "purchase_left_pence": spending.purchase_left_pence(db, line),
        "hourly": bool(line.minutes_per_week and line.weekly_pence),
        "hour_pence": spending.support_pence(line, 60)
        if line.minutes_per_week and line.weekly_pence
        else None,
        # Each form keeps its own one-time key and day; a form shown again with errors
        # keeps what was typed in it, and the other form starts afresh.
        "defaults": {
            "delivered_on": day,
            "bought_on": day,
            "support_key": new_key(),
            "purchase_key": new_key(),
        },
    }


class SupportForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "delivered_on": "Enter the day of the support, like 2026-12-01",
        "hours": "Enter the hours as a number, for example 2 or 1.5",
    }

    delivered_on: Day
    hours: Hours
    description: Annotated[Text, required("Say what support was given")] = ""
    support_key: IdempotencyKey


class PurchaseForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "bought_on": "Enter the day it was bought, like 2026-12-01",
        "amount": "Enter what it cost in pounds, for example 12.50",
    }

    bought_on: Day
    amount: Pounds
    what_bought: Annotated[Text, required("Say what was bought")] = ""
    purchase_key: IdempotencyKey


@router.get("/funds/{fund_id}/lines/{line_id}/deliveries")
def show_record(request: Request, db: DbSession, user: RecorderUser) -> Response:
    fund, line = _recording(request, db, user)
    return record_page.render(request, **_record_context(db, fund, line))


@router.post("/funds/{fund_id}/lines/{line_id}/deliveries")
@accepts_body(UPLOAD_MAX_BYTES + FORM_MAX_BYTES)
async def record_delivery(request: Request, db: DbSession, user: RecorderUser) -> Response:
    fund, line = _recording(request, db, user)
    context = _record_context(db, fund, line)
    if (await form_values(request)).get("kind") == DeliveryKind.PURCHASE.value:
        return await _record_purchase(request, db, user, fund, line, context)
    form = await record_page.read(request, SupportForm, **context)
    once(
        db,
        key=form.support_key,
        operation="spending.record_support",
        content={
            "line": line.id,
            "by": user.id,
            "on": form.delivered_on.isoformat(),
            "minutes": form.hours,
            "description": form.description,
        },
        act=lambda: {
            "delivery": spending.record_support(
                db,
                fund=fund,
                line_id=line.id,
                by=user,
                delivered_on=form.delivered_on,
                minutes=form.hours,
                description=form.description,
                today=today(),
            ).id
        },
    )
    return redirect(request, "/deliveries?done=recorded")


async def _record_purchase(
    request: Request,
    db: Session,
    user: User,
    fund: IndividualServiceFund,
    line: BudgetLine,
    context: dict[str, Any],
) -> Response:
    upload = (await request.form()).get("receipt")
    data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    form = await record_page.read(
        request,
        PurchaseForm,
        # Every problem at once: an empty file is named with the other fields' problems.
        also=lambda _: (
            [FieldError("receipt", "Choose the receipt's file: a PDF, or a photo")]
            if not data
            else []
        ),
        **context,
    )
    with fields_named({"delivered_on": "bought_on", "description": "what_bought"}):
        once(
            db,
            key=form.purchase_key,
            operation="spending.record_purchase",
            content={
                "line": line.id,
                "by": user.id,
                "on": form.bought_on.isoformat(),
                "amount_pence": form.amount,
                "description": form.what_bought,
                "receipt_sha256": hashlib.sha256(data).hexdigest(),
            },
            act=lambda: {
                "delivery": spending.record_purchase(
                    db,
                    fund=fund,
                    line_id=line.id,
                    by=user,
                    delivered_on=form.bought_on,
                    amount_pence=form.amount,
                    description=form.what_bought,
                    receipt=data,
                    today=today(),
                ).id
            },
        )
    return redirect(request, "/deliveries?done=purchase")
