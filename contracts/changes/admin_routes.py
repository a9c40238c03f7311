"""Administrators' pages for change of use: a council's rules (each save a new version, the
old ones listed), and each budget holder's delegated authority with its history."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.changes import rules as change_rules
from marketplace import web
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import AdminUser, load_visible
from marketplace.deps import DbSession
from marketplace.errors import NotFound, RuleBroken
from marketplace.forms import Day, Form, FormPage, Pounds, Text, required
from marketplace.geography import service as geography_service
from marketplace.geography.models import CouncilArea
from marketplace.money import pence_to_pounds_text
from marketplace.parsing import QueryText, RecordId
from marketplace.web import redirect

router = APIRouter(prefix="/admin", include_in_schema=False)
web.add_navigation("Change-of-use rules", "/admin/change-rules", roles=(Role.ADMIN,), order=51)


def _council(db: Session, reference: str) -> CouncilArea | None:
    if not reference:
        return None
    try:
        return geography_service.find_council_area(db, name_or_code=reference)
    except RuleBroken:
        raise NotFound("Page not found") from None


# A council's rules --------------------------------------------------------------------------


class RulesForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "light_touch_limit": "Enter an amount in pounds, for example 500, or 0 for none",
        "delegated_days": "Enter a whole number of working days",
        "panel_days": "Enter a whole number of working days",
        "reminder_days": "Enter a whole number of working days",
        "panel_first_sits_on": "Enter the date of a sitting, like 2027-01-07",
        "panel_every_days": "Enter a whole number of days",
    }

    council: Annotated[str, required("Choose a council area")] = ""
    light_touch_limit: Pounds
    delegated_days: int
    panel_days: int
    reminder_days: int
    panel_first_sits_on: Day
    panel_every_days: int
    note: Annotated[Text, required("Say why the rules change")] = ""


rules_page = FormPage("contracts/changes/admin_rules.html", block="rules")


def _rules_context(db: Session, council: CouncilArea | None) -> dict[str, Any]:
    return {
        "council": council,
        "councils": [(c.gss_code, c.name) for c in geography_service.list_council_areas(db)],
        "history": change_rules.rules_history(db, council.id) if council else [],
    }


def _rules_values(db: Session, council: CouncilArea | None) -> dict[str, str]:
    if council is None:
        return {"council": ""}
    rules = change_rules.rules_to_show(db, council.id)
    return {
        "council": council.gss_code,
        "light_touch_limit": pence_to_pounds_text(rules.light_touch_limit_pence),
        "delegated_days": str(rules.delegated_days),
        "panel_days": str(rules.panel_days),
        "reminder_days": str(rules.reminder_days),
        "panel_first_sits_on": rules.panel_first_sits_on.isoformat(),
        "panel_every_days": str(rules.panel_every_days),
    }


@router.get("/change-rules")
def show_rules(
    request: Request, db: DbSession, admin: AdminUser, council: QueryText = "", done: str = ""
) -> Response:
    area = _council(db, council)
    return rules_page.render(
        request,
        values=_rules_values(db, area),
        done="The new version is in force." if done == "rules" else None,
        **_rules_context(db, area),
    )


@router.post("/change-rules")
async def save_rules(request: Request, db: DbSession, admin: AdminUser) -> Response:
    form = await rules_page.read(request, RulesForm, **_rules_context(db, None))
    area = _council(db, form.council)
    assert area is not None
    change_rules.set_rules(
        db,
        council=area,
        by=admin,
        values=change_rules.RuleValues(
            light_touch_limit_pence=form.light_touch_limit,
            delegated_days=form.delegated_days,
            panel_days=form.panel_days,
            reminder_days=form.reminder_days,
            panel_first_sits_on=form.panel_first_sits_on,
            panel_every_days=form.panel_every_days,
        ),
        note=form.note,
    )
    return redirect(request, f"/admin/change-rules?council={area.gss_code}&done=rules")


# Delegated authority ------------------------------------------------------------------------


class AuthorityForm(Form):
    messages: ClassVar[dict[str, str]] = {
        "per_request": "Enter an amount in pounds, for example 1500",
        "per_fund_year": "Enter an amount in pounds, for example 6000",
    }

    per_request: Pounds
    per_fund_year: Pounds
    note: Annotated[Text, required("Say why the limits are set")] = ""


authority_page = FormPage("contracts/changes/admin_authority.html", block="authority")


@router.get("/delegated-authority")
def budget_holders(
    request: Request, db: DbSession, admin: AdminUser, council: QueryText = ""
) -> Response:
    area = _council(db, council)
    query = select(User).where(User.role == Role.BUDGET_HOLDER).order_by(User.name)
    if area is not None:
        query = query.where(User.council_id == area.id)
    holders = [
        (holder, change_rules.authority_of(db, holder.id))
        for holder in db.scalars(query.limit(200))
    ]
    return web.render(
        request,
        "contracts/changes/admin_holders.html",
        {
            "holders": holders,
            "councils": [(c.gss_code, c.name) for c in geography_service.list_council_areas(db)],
            "values": {"council": area.gss_code if area else ""},
            "error_for": {},
        },
    )


def _holder(db: Session, user_id: int, admin: User) -> User:
    holder = load_visible(db, User, user_id, admin)
    if holder.role != Role.BUDGET_HOLDER:
        raise NotFound("Page not found")
    return holder


def _authority_context(db: Session, holder: User) -> dict[str, Any]:
    return {"holder": holder, "history": change_rules.authority_history(db, holder.id)}


@router.get("/delegated-authority/{user_id}")
def show_authority(
    request: Request, user_id: RecordId, db: DbSession, admin: AdminUser, done: str = ""
) -> Response:
    holder = _holder(db, user_id, admin)
    current = change_rules.authority_of(db, holder.id)
    values = (
        {
            "per_request": pence_to_pounds_text(current.per_request_pence),
            "per_fund_year": pence_to_pounds_text(current.per_fund_year_pence),
        }
        if current
        else {}
    )
    return authority_page.render(
        request,
        values=values,
        done="The new limits are in force." if done == "set" else None,
        **_authority_context(db, holder),
    )


@router.post("/delegated-authority/{user_id}")
async def set_authority(
    request: Request, user_id: RecordId, db: DbSession, admin: AdminUser
) -> Response:
    holder = _holder(db, user_id, admin)
    form = await authority_page.read(request, AuthorityForm, **_authority_context(db, holder))
    change_rules.set_authority(
        db,
        holder=holder,
        by=admin,
        per_request_pence=form.per_request,
        per_fund_year_pence=form.per_fund_year,
        note=form.note,
    )
    return redirect(request, f"/admin/delegated-authority/{holder.id}?done=set")
