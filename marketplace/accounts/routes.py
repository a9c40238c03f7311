"""Pages for signing up, signing in and out, resetting a password and managing an account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from marketplace import audit, web
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Relationship, Representation, Role, User
from marketplace.accounts.policy import MaybeUser, Public, SignedInUser, load_visible, roles
from marketplace.accounts.schemas import (
    AddRepresentativeForm,
    ChangePasswordForm,
    ChooseAccountForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    SignInForm,
    SignUpForm,
)
from marketplace.deps import (
    DbSession,
    Hasher,
    ThrottleDep,
    audited,
    client_address,
    spend_allowance,
)
from marketplace.errors import FieldError, NotFound
from marketplace.forms import FormPage
from marketplace.parsing import RecordId
from marketplace.ratelimit import Action
from marketplace.redirects import local_path
from marketplace.web import MailedToken, moved_token_link, redirect, render

router = APIRouter(include_in_schema=False)
web.add_navigation("Your account", "/account", order=100)
SupportedPerson = Annotated[User, Depends(roles(Role.SUPPORTED_PERSON))]

SIGN_UP_KINDS = {
    "supported-person": Role.SUPPORTED_PERSON,
    "representative": Role.REPRESENTATIVE,
    "personal-assistant": Role.PERSONAL_ASSISTANT,
}
ACCOUNT_CHOICES = [
    ("supported-person", "I get support, or I am looking for support for myself"),
    ("representative", "I act for someone who gets support (a carer, guardian or attorney)"),
    ("personal-assistant", "I work as a personal assistant"),
    ("provider", "I run or work for a provider organisation"),
]
DONE_MESSAGES = {
    "password-changed": "Your password has been changed. Your other sessions have been signed out.",
    "representative-added": "The person you named can now act for you.",
    "representative-removed": "That person no longer acts for you.",
}

sign_in_page = FormPage("marketplace/accounts/sign_in.html")
choose_account_page = FormPage(
    "marketplace/accounts/sign_up_choose.html", context={"choices": ACCOUNT_CHOICES}
)
sign_up_page = FormPage("marketplace/accounts/sign_up.html")
reset_request_page = FormPage("marketplace/accounts/password_reset_request.html")
new_password_page = FormPage("marketplace/accounts/password_reset_new.html")
change_password_page = FormPage("marketplace/accounts/change_password.html")
account_page = FormPage(
    "marketplace/accounts/account.html",
    block="representatives",
    context={"relationships": list(Relationship)},
)


LANDING_BY_ROLE = {
    Role.SUPPORTED_PERSON: "/your-support",
    Role.REPRESENTATIVE: "/your-support",
    Role.PROVIDER_STAFF: "/provider",
    Role.PERSONAL_ASSISTANT: "/provider",
    Role.COMMISSIONER: "/commissioning",
    Role.ADMIN: "/admin",
    Role.BUDGET_HOLDER: "/changes",
    Role.PANEL_MEMBER: "/changes",
    Role.FINANCE: "/funds",
}
"""Where signing in leads when no page was asked for: each role's own work. Budget holders
and panel members decide change-of-use requests; finance staff work with their council's
individual service funds."""


def landing_for(role: Role) -> str:
    return LANDING_BY_ROLE.get(role, "/account")


@router.get("/sign-in", dependencies=[Public])
def show_sign_in(request: Request, next: str = "", reset: bool = False) -> Response:
    # An unsafe `next` is dropped, not refused: the person still gets to sign in.
    return sign_in_page.render(request, values={"next": local_path(next, "")}, password_reset=reset)


@router.post("/sign-in", dependencies=[Public])
async def sign_in(
    request: Request, db: DbSession, hasher: Hasher, throttle: ThrottleDep
) -> Response:
    form = await sign_in_page.read(request, SignInForm)
    address = client_address(request)
    throttle.check_sign_in(email=form.email, address=address)
    user = accounts_service.authenticate(
        db, hasher=hasher, email=form.email, password=form.password
    )
    if user is None:
        throttle.sign_in_failed(email=form.email, address=address)
        return sign_in_page.render(
            request,
            values={"email": form.email, "next": local_path(form.next, "")},
            errors=[
                FieldError(
                    "email",
                    "Your email address or password is not right, or your account is not "
                    "confirmed yet",
                )
            ],
            status_code=401,
        )
    request.state.new_session_token = accounts_service.start_session(
        db, user=user, replacing=getattr(request.state, "session_token", None)
    )
    return redirect(request, local_path(form.next, landing_for(user.role)))


@router.post("/sign-out", dependencies=[Public])
def sign_out(request: Request, db: DbSession, user: MaybeUser) -> Response:
    token = getattr(request.state, "session_token", None)
    if user is not None and token is not None:
        accounts_service.end_session(db, token=token, user=user)
    request.state.session_ended = True
    return redirect(request, "/signed-out")


@router.get("/signed-out", dependencies=[Public])
def signed_out(request: Request) -> Response:
    return render(request, "marketplace/accounts/signed_out.html")


@router.get("/sign-up", dependencies=[Public])
def show_choose_account(request: Request) -> Response:
    return choose_account_page.render(request)


@router.post("/sign-up", dependencies=[Public])
async def choose_account(request: Request) -> Response:
    form = await choose_account_page.read(request, ChooseAccountForm)
    if form.account not in dict(ACCOUNT_CHOICES):
        return choose_account_page.render(
            request,
            errors=[FieldError("account", "Choose what you want to use the service for")],
            status_code=422,
        )
    return redirect(request, f"/sign-up/{form.account}")


def _sign_up_role(kind: str) -> Role:
    role = SIGN_UP_KINDS.get(kind)
    if role is None:
        raise NotFound("Page not found")
    return role


@router.get("/sign-up/check-email", dependencies=[Public])
def check_email(request: Request) -> Response:
    return render(request, "marketplace/accounts/check_email.html")


@router.get("/sign-up/{kind}", dependencies=[Public])
def show_sign_up(request: Request, kind: str) -> Response:
    role = _sign_up_role(kind)
    return sign_up_page.render(request, kind=kind, role=role)


@router.post("/sign-up/{kind}", dependencies=[Public])
async def sign_up(request: Request, kind: str, db: DbSession, hasher: Hasher) -> Response:
    role = _sign_up_role(kind)
    form = await sign_up_page.read(request, SignUpForm, kind=kind, role=role)
    spend_allowance(request, Action.SIGN_UP, target_email=form.email)
    accounts_service.sign_up(
        db, hasher=hasher, email=form.email, name=form.name, role=role, password=form.password
    )
    return redirect(request, "/sign-up/check-email")


@router.get("/confirm-email", dependencies=[Public])
def show_confirm_email(request: Request, token: MailedToken) -> Response:
    # Confirming takes a button press, so mail scanners that open links confirm nothing.
    return render(request, "marketplace/accounts/confirm_email.html", {"token": token})


@router.post("/confirm-email", dependencies=[Public])
def confirm_email(request: Request, token: MailedToken, db: DbSession) -> Response:
    accounts_service.confirm_email(db, token=token)
    return render(request, "marketplace/accounts/email_confirmed.html")


@router.get("/password-reset", dependencies=[Public])
def show_password_reset(request: Request) -> Response:
    return reset_request_page.render(request)


@router.post("/password-reset", dependencies=[Public])
async def password_reset(request: Request, db: DbSession, throttle: ThrottleDep) -> Response:
    form = await reset_request_page.read(request, PasswordResetRequestForm)
    throttle.password_reset_requested(email=form.email, address=client_address(request))
    accounts_service.request_password_reset(db, email=form.email)
    return redirect(request, "/password-reset/sent")


@router.get("/password-reset/sent", dependencies=[Public])
def password_reset_sent(request: Request) -> Response:
    return render(request, "marketplace/accounts/password_reset_sent.html")


@router.get("/password-reset/new", dependencies=[Public])
def show_new_password(request: Request, token: MailedToken, db: DbSession) -> Response:
    accounts_service.check_reset_token(db, token=token)
    return new_password_page.render(request, token=token)


@router.post("/password-reset/new", dependencies=[Public])
async def new_password(
    request: Request, token: MailedToken, db: DbSession, hasher: Hasher
) -> Response:
    form = await new_password_page.read(request, NewPasswordForm, token=token)
    accounts_service.reset_password(db, hasher=hasher, token=token, new_password=form.password)
    return redirect(request, "/sign-in?reset=true")


@router.get("/confirm-email/{token}", dependencies=[Public])
def old_confirm_email_link(token: str) -> Response:
    return moved_token_link("/confirm-email", token)


@router.get("/password-reset/{token}", dependencies=[Public])
def old_password_reset_link(token: str) -> Response:
    return moved_token_link("/password-reset/new", token)


def _account_context(db: DbSession, user: SignedInUser) -> dict[str, Any]:
    links = accounts_service.representations_of(db, user=user)
    return {
        "acting_for": [link for link in links if link.representative_id == user.id],
        "acted_for_by": [link for link in links if link.supported_person_id == user.id],
    }


@router.get("/account")
@audited
def account(request: Request, db: DbSession, user: SignedInUser, done: str = "") -> Response:
    audit.record_read(db, actor=user, subject_type="user_account", subject_id=user.id)
    return account_page.render(request, done=DONE_MESSAGES.get(done), **_account_context(db, user))


@router.post("/account/representatives")
async def add_representative(request: Request, db: DbSession, user: SupportedPerson) -> Response:
    form = await account_page.read(request, AddRepresentativeForm, **_account_context(db, user))
    accounts_service.add_representative(
        db,
        supported_person=user,
        representative_email=form.email,
        relationship_kind=form.relationship_kind,
    )
    return redirect(request, "/account?done=representative-added")


@router.post("/account/representatives/{link_id}/remove")
def remove_representative(
    request: Request, link_id: RecordId, db: DbSession, user: SignedInUser
) -> Response:
    link = load_visible(db, Representation, link_id, user)
    accounts_service.remove_representative(db, removed_by=user, link=link)
    return redirect(request, "/account?done=representative-removed")


@router.get("/account/password")
def show_change_password(request: Request, user: SignedInUser) -> Response:
    return change_password_page.render(request)


@router.post("/account/password")
async def change_password(
    request: Request, db: DbSession, hasher: Hasher, user: SignedInUser
) -> Response:
    form = await change_password_page.read(request, ChangePasswordForm)
    accounts_service.change_password(
        db,
        hasher=hasher,
        user=user,
        current_password=form.current_password,
        new_password=form.new_password,
        session_token=request.state.session_token,
    )
    return redirect(request, "/account?done=password-changed")
