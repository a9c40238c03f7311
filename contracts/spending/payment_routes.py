"""The council's finance staff paying providers: what each provider is owed from the
council's funds, a form for each to record the bank transfer sent (the amount owed
unless changed, the reference the provider sees, the day it was sent and the form's
one-time key, so a form sent twice pays once), and the council's recent payments, each
table downloadable as CSV from the same address."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from contracts.spending import payments, period_end
from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import parse_record_id, roles
from marketplace.db import today
from marketplace.deps import DbSession
from marketplace.errors import NotFound
from marketplace.forms import Day, Form, FormPage, Pounds, fields_named, required
from marketplace.idempotency import IdempotencyKey, new_key
from marketplace.money import format_pence
from marketplace.parsing import one_line
from marketplace.tables import Cell, Column, Table, csv_if_asked
from marketplace.web import redirect

router = APIRouter(include_in_schema=False)

web.add_navigation("Pay providers", "/payments", roles=(Role.FINANCE,), order=49)
FinanceUser = Annotated[User, Depends(roles(Role.FINANCE))]

payments_page = FormPage("contracts/spending/payments.html", block="payments")
DONE = {
    "paid": "The payment is recorded.",
    "rule": "The underspend rule is saved. Periods closed from now on use it.",
}


class PaymentForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "amount": "Enter the amount sent in pounds, for example 120.50",
        "paid_on": "Enter the day it was sent, like 2026-12-01",
    }

    amount: Pounds
    reference: Annotated[
        str, one_line("the reference", max_len=100), required("Enter the payment's reference")
    ] = ""
    paid_on: Day
    key: IdempotencyKey


def owed_table(owed: list[payments.Owed]) -> Table:
    return Table(
        name="owed",
        caption="What providers are owed from the council's funds",
        columns=(Column("Provider"), Column("Owed", numeric=True, key="owed_pence")),
        rows=[
            [Cell(o.provider.name), Cell(format_pence(o.owed_pence), o.owed_pence)] for o in owed
        ],
    )


def paid_table(paid: list[Any]) -> Table:
    return Table(
        name="paid",
        caption="Payments recorded",
        columns=(
            Column("Day sent", key="paid_on"),
            Column("Provider"),
            Column("Amount", numeric=True, key="amount_pence"),
            Column("How"),
            Column("Reference"),
            Column("Recorded by"),
        ),
        rows=[
            [
                Cell(f"{p.paid_on:%-d %B %Y}", p.paid_on.isoformat()),
                Cell(p.provider.name),
                Cell(format_pence(p.amount_pence), p.amount_pence),
                Cell(p.rail.label),
                Cell(p.reference),
                Cell(p.recorded_by.name),
            ]
            for p in paid
        ],
        header_column=False,
    )


def _context(db: Session, user: User, posted_for: int | None = None) -> dict[str, Any]:
    if user.council_id is None:
        # Finance staff belong to a council; an account not yet given one has nothing here.
        return {
            "council": None,
            "rule": None,
            "owed": [],
            "payment_tables": [],
            "posted_for": None,
            "defaults": {},
        }
    owed = payments.owed_by_council(db, by=user)
    paid = payments.payments_by_council(db, by=user)
    day = today().isoformat()
    assert user.council is not None
    return {
        "council": user.council,
        "rule": period_end.underspend_rule(db, user.council),
        "owed": owed,
        "payment_tables": [owed_table(owed), paid_table(paid)],
        "posted_for": posted_for,
        # Each provider's form starts at what it is owed, today, and a fresh one-time key.
        "defaults": {
            o.provider.id: {
                "amount": f"{o.owed_pence // 100}.{o.owed_pence % 100:02d}",
                "paid_on": day,
                "reference": "",
                "key": new_key(),
            }
            for o in owed
        },
    }


@router.get("/payments")
def show_payments(request: Request, db: DbSession, user: FinanceUser, done: str = "") -> Response:
    context = _context(db, user)
    downloaded = csv_if_asked(request, context["payment_tables"], filename="payments")
    if downloaded is not None:
        return downloaded
    return payments_page.render(
        request, values=_rule_values(db, user), done=DONE.get(done), **context
    )


class UnderspendRuleForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "carry_over": "Enter the amount in pounds, for example 500, or 0 to carry nothing over"
    }

    carry_over: Pounds


def _rule_values(db: Session, user: User) -> dict[str, str]:
    rule = period_end.underspend_rule(db, user.council) if user.council is not None else None
    if rule is None:
        return {}
    pence = rule.carry_over_max_pence
    return {"carry_over": f"{pence // 100}.{pence % 100:02d}"}


# Before /payments/{provider_id}, which would take this address for a provider's.
@router.post("/payments/underspend-rule")
async def set_underspend_rule(request: Request, db: DbSession, user: FinanceUser) -> Response:
    """The council's rule for underspend at the end of a fund's period."""
    form = await payments_page.read(request, UnderspendRuleForm, **_context(db, user))
    if user.council is None:
        raise NotFound("Your account has no council yet: ask an administrator to give it one")
    period_end.set_underspend_rule(
        db, council=user.council, by=user, carry_over_max_pence=form.carry_over
    )
    return redirect(request, "/payments?done=rule")


@router.post("/payments/{provider_id}")
async def record_payment(request: Request, db: DbSession, user: FinanceUser) -> Response:
    provider_id = parse_record_id(str(request.path_params.get("provider_id", "")))
    if user.council_id is None:
        raise NotFound("Your council's funds owe this provider nothing")
    # The page has a form for each provider: a problem is shown by the box it is about.
    names: dict[str | None, str | None] = {
        field: f"{field}-{provider_id}" for field in ("amount", "reference", "paid_on", "key")
    }
    with fields_named(names):
        form = await payments_page.read(request, PaymentForm, **_context(db, user, provider_id))
        payments.record_payment(
            db,
            by=user,
            provider_id=provider_id,
            amount_pence=form.amount,
            reference=form.reference,
            paid_on=form.paid_on,
            idempotency_key=form.key,
            today=today(),
        )
    return redirect(request, "/payments?done=paid")
