"""Pages for provider organisations: signing up an organisation and its first member."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketplace.accounts.policy import Public
from marketplace.deps import DbSession, Hasher
from marketplace.forms import FormPage
from marketplace.web import redirect
from providers import service as providers_service
from providers.models import ORGANISATION_KINDS
from providers.schemas import ProviderSignUpForm

router = APIRouter(include_in_schema=False)

provider_sign_up_page = FormPage(
    "providers/sign_up.html", context={"kinds": list(ORGANISATION_KINDS)}
)


@router.get("/sign-up/provider", dependencies=[Public])
def show_provider_sign_up(request: Request) -> Response:
    return provider_sign_up_page.render(request)


@router.post("/sign-up/provider", dependencies=[Public])
async def provider_sign_up(request: Request, db: DbSession, hasher: Hasher) -> Response:
    form = await provider_sign_up_page.read(request, ProviderSignUpForm)
    providers_service.sign_up_provider(
        db,
        hasher=hasher,
        organisation_name=form.organisation_name,
        kind=form.kind,
        name=form.name,
        email=form.email,
        password=form.password,
    )
    return redirect(request, "/sign-up/check-email")
