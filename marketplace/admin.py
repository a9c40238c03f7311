"""Administrators' pages: their home with the work waiting, accounts and their roles, the
audit log, and mail that keeps failing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace import audit, mail, outbox, web
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import AdminUser, load_visible
from marketplace.accounts.schemas import ChangeRoleForm
from marketplace.audit import AuditAction, AuditFilter
from marketplace.db import utcnow
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound
from marketplace.forms import FormPage, parse_choice
from marketplace.geography import service as geography_service
from marketplace.parsing import OptionalDate, OptionalRecordId, PageNumber, QueryText, RecordId
from marketplace.web import redirect, render

router = APIRouter(prefix="/admin", include_in_schema=False)
web.add_navigation("Work waiting", "/admin", roles=(Role.ADMIN,), order=6)
web.add_navigation("Accounts", "/admin/users", roles=(Role.ADMIN,))
web.add_navigation("Audit log", "/admin/audit", roles=(Role.ADMIN,))
web.add_navigation("Mail", "/admin/mail", roles=(Role.ADMIN,))

user_page = FormPage("marketplace/admin/user.html", block="role_form")
PAGE_SIZE = 50


@router.get("/users")
@audited
def users(
    request: Request,
    db: DbSession,
    admin: AdminUser,
    role: QueryText = "",
    q: QueryText = "",
    page: PageNumber = 1,
) -> Response:
    wanted_role = parse_choice(Role, role)
    page = max(1, page)
    result = accounts_service.list_users(
        db, role=wanted_role, search=q or None, page=page, page_size=PAGE_SIZE
    )
    audit.record_list_read(
        db,
        actor=admin,
        subject_type="user_account",
        listed_ids=[user.id for user in result.items],
        listing="admin_users",
        page=page,
    )
    return render(
        request,
        "marketplace/admin/users.html",
        {"result": result, "roles": list(Role), "filters": {"role": role, "q": q}},
        block="results",
    )


def _user_context(db: DbSession, user: User) -> dict[str, Any]:
    return {
        "user": user,
        "roles": list(Role),
        "councils": geography_service.list_council_areas(db),
    }


@router.get("/users/{user_id}")
@audited
def user_detail(
    request: Request, user_id: RecordId, db: DbSession, admin: AdminUser, done: str = ""
) -> Response:
    user = load_visible(db, User, user_id, admin)
    audit.record_read(db, actor=admin, subject_type="user_account", subject_id=user.id)
    values = {
        "role": user.role.value,
        "council": user.council.name if user.council else "",
    }
    return user_page.render(request, values=values, done=done, **_user_context(db, user))


@router.post("/users/{user_id}/role")
async def change_role(
    request: Request, user_id: RecordId, db: DbSession, admin: AdminUser
) -> Response:
    user = load_visible(db, User, user_id, admin)
    form = await user_page.read(request, ChangeRoleForm, **_user_context(db, user))
    council = (
        geography_service.find_council_area(db, name_or_code=form.council) if form.council else None
    )
    accounts_service.change_role(
        db,
        changed_by=admin,
        user=user,
        role=form.role,
        council=council,
    )
    return redirect(request, f"/admin/users/{user.id}?done=role")


@router.post("/users/{user_id}/disable")
def disable_user(request: Request, user_id: RecordId, db: DbSession, admin: AdminUser) -> Response:
    user = load_visible(db, User, user_id, admin)
    accounts_service.set_disabled(db, changed_by=admin, user=user, disabled=True)
    return redirect(request, f"/admin/users/{user.id}?done=disabled")


@router.post("/users/{user_id}/enable")
def enable_user(request: Request, user_id: RecordId, db: DbSession, admin: AdminUser) -> Response:
    user = load_visible(db, User, user_id, admin)
    accounts_service.set_disabled(db, changed_by=admin, user=user, disabled=False)
    return redirect(request, f"/admin/users/{user.id}?done=enabled")


def _day_start(value: date | None, *, plus_days: int = 0) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(value + timedelta(days=plus_days), time.min, tzinfo=UTC)


@router.get("/audit")
def audit_log(
    request: Request,
    db: DbSession,
    admin: AdminUser,
    action: QueryText = "",
    actor: OptionalRecordId = None,
    subject_type: QueryText = "",
    subject_id: QueryText = "",
    since: OptionalDate = None,
    until: OptionalDate = None,
    page: PageNumber = 1,
) -> Response:
    filters = AuditFilter(
        action=parse_choice(AuditAction, action),
        actor_id=actor,
        subject_type=subject_type.strip() or None,
        subject_id=subject_id.strip() or None,
        since=_day_start(since),
        until=_day_start(until, plus_days=1),
    )
    result = audit.browse(db, filters=filters, page=max(1, page), page_size=PAGE_SIZE)
    return render(
        request,
        "marketplace/admin/audit.html",
        {
            "result": result,
            "actions": list(AuditAction),
            "filters": {
                "action": action,
                "actor": actor if actor is not None else "",
                "subject_type": subject_type,
                "subject_id": subject_id,
                "since": since.isoformat() if since else "",
                "until": until.isoformat() if until else "",
            },
        },
        block="results",
    )


# The administrators' home -----------------------------------------------------------------


@dataclass(frozen=True)
class WorkQueue:
    """A kind of work waiting for administrators: where to do it, and how much there is."""

    label: str
    path: str
    describe: Callable[[Session], str]
    """What is waiting, in a few words, read now."""
    order: int


_work_queues: list[WorkQueue] = []


def add_work_queue(
    label: str, path: str, describe: Callable[[Session], str], *, order: int = 50
) -> None:
    """Show a queue on the administrators' home, lowest order first; packages call this for
    the work they give administrators, as they add their pages."""
    _work_queues.append(WorkQueue(label, path, describe, order))
    _work_queues.sort(key=lambda queue: queue.order)


def _describe_accounts(session: Session) -> str:
    total, disabled, unconfirmed = accounts_service.account_counts(session)
    return f"{total} in all: {disabled} disabled, {unconfirmed} not confirmed yet"


add_work_queue("Accounts", "/admin/users", _describe_accounts, order=10)
add_work_queue("Audit log", "/admin/audit", lambda session: "Who did what, and when", order=90)


@router.get("")
def home(request: Request, db: DbSession, admin: AdminUser) -> Response:
    queues = [(queue, queue.describe(db)) for queue in _work_queues]
    return render(request, "marketplace/admin/home.html", {"queues": queues})


@router.get("/mail")
@audited
def mail_outbox(request: Request, db: DbSession, admin: AdminUser, done: str = "") -> Response:
    """Mails that keep failing, then the most recent. Bodies are never shown: they hold
    sign-in links meant for their recipients alone. The list names people (their addresses),
    so each view is in the audit log like the other lists of people."""
    troubled, recent = outbox.troubled(db), outbox.recent(db)
    audit.record_list_read(
        db,
        actor=admin,
        subject_type="mail_outbox",
        listed_ids=sorted({mail.id for mail in [*troubled, *recent]}),
        listing="admin_mail",
    )
    return render(
        request,
        "marketplace/admin/mail.html",
        {
            "troubled": troubled,
            "recent": recent,
            "done": done == "retried",
            "max_attempts": outbox.MAX_ATTEMPTS,
        },
    )


@router.post("/mail/{mail_id}/retry")
def retry_mail(request: Request, mail_id: RecordId, db: DbSession, admin: AdminUser) -> Response:
    if outbox.retry(db, mail_id, now=utcnow()) is None:
        raise NotFound("There is no such mail in the outbox")
    mail.drain_after_commit(db)
    return redirect(request, "/admin/mail?done=retried")
