"""Pages for the people who act for providers: signing up, a personal assistant's first
listing, the dashboard, the public profile and photo, and staff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from marketplace import web
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role
from marketplace.accounts.policy import MaybeUser, Public, SignedInUser
from marketplace.bodies import FORM_MAX_BYTES, accepts_body
from marketplace.deps import DbSession, Hasher, spend_allowance
from marketplace.errors import RuleBroken, SendElsewhere
from marketplace.forms import FormPage
from marketplace.geography import service as geography_service
from marketplace.ratelimit import Action
from marketplace.web import MailedToken, moved_token_link, redirect, render
from providers import offers as offers_service
from providers import photos
from providers import service as providers_service
from providers import taxonomy as taxonomy_service
from providers.access import CurrentProvider, ProviderUser
from providers.models import (
    DAYS,
    ORGANISATION_KINDS,
    PERIODS,
    AreaType,
    Employment,
    PriceUnit,
    Provider,
    Taxonomy,
)
from providers.schemas import InviteForm, JoinForm, ListingForm, ProfileForm, ProviderSignUpForm
from providers.service import STANDARD_LANGUAGES, ProfileDetails

router = APIRouter(include_in_schema=False)
web.add_navigation(
    "Your listing", "/provider", roles=(Role.PROVIDER_STAFF, Role.PERSONAL_ASSISTANT), order=10
)

provider_sign_up_page = FormPage(
    "providers/sign_up.html", context={"kinds": list(ORGANISATION_KINDS)}
)
listing_page = FormPage("providers/listing_start.html")
profile_page = FormPage("providers/profile.html")
staff_page = FormPage("providers/staff.html", block="invite")
join_page = FormPage("providers/join.html")


@router.get("/sign-up/provider", dependencies=[Public])
def show_provider_sign_up(request: Request) -> Response:
    return provider_sign_up_page.render(request)


@router.post("/sign-up/provider", dependencies=[Public])
async def provider_sign_up(request: Request, db: DbSession, hasher: Hasher) -> Response:
    form = await provider_sign_up_page.read(request, ProviderSignUpForm)
    spend_allowance(request, Action.SIGN_UP, target_email=form.email)
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


def taxonomy_choices(db: Session) -> dict[str, list[tuple[str, str]]]:
    """Checkbox options for each taxonomy, by the form field that carries it."""
    return {
        "kinds_of_support": [
            (t.code, t.name) for t in taxonomy_service.terms(db, Taxonomy.KIND_OF_SUPPORT)
        ],
        "outcomes": [
            (t.code, t.name) for t in taxonomy_service.terms(db, Taxonomy.PERSONAL_OUTCOME)
        ],
        "client_groups": [
            (t.code, t.name) for t in taxonomy_service.terms(db, Taxonomy.CLIENT_GROUP)
        ],
    }


def term_ids_for(db: Session, **codes_by_field: list[str]) -> list[int]:
    """The ids of the ticked terms; a code that is not a term is refused by its field."""
    taxonomy_of = {
        "kinds_of_support": Taxonomy.KIND_OF_SUPPORT,
        "outcomes": Taxonomy.PERSONAL_OUTCOME,
        "client_groups": Taxonomy.CLIENT_GROUP,
    }
    ids = []
    for field, codes in codes_by_field.items():
        terms = {t.code: t.id for t in taxonomy_service.terms(db, taxonomy_of[field])}
        for code in codes:
            if code not in terms:
                raise RuleBroken("Choose from the list given", field=field)
            ids.append(terms[code])
    return ids


def languages_from(form: ListingForm | ProfileForm) -> list[str]:
    chosen = [language for language in form.languages if language in STANDARD_LANGUAGES]
    others = [part.strip() for part in form.other_languages.split(",")]
    return chosen + [other for other in others if other]


@router.get("/provider")
def dashboard(request: Request, db: DbSession, user: ProviderUser) -> Response:
    providers = providers_service.providers_of(db, user=user)
    if not providers:
        if user.role == Role.PERSONAL_ASSISTANT:
            raise SendElsewhere("Set up your listing first", location="/provider/start")
        return render(request, "providers/no_provider.html")
    provider = providers[0]
    return render(
        request,
        "providers/dashboard.html",
        {
            "provider": provider,
            "stale": {o.id for o in provider.offers if offers_service.capacity_is_stale(o)},
            "hourly": {o.id: offers_service.hourly_price_pence(o) for o in provider.offers},
            "done": request.query_params.get("done", ""),
        },
    )


def _listing_context(db: Session) -> dict[str, Any]:
    return {
        "choices": taxonomy_choices(db),
        "languages": STANDARD_LANGUAGES,
        "days": DAYS,
        "periods": PERIODS,
    }


@router.get("/provider/start")
def show_listing_start(request: Request, db: DbSession, user: ProviderUser) -> Response:
    if user.role != Role.PERSONAL_ASSISTANT or providers_service.providers_of(db, user=user):
        return redirect(request, "/provider")
    return listing_page.render(request, values={"languages": ["English"]}, **_listing_context(db))


@router.post("/provider/start")
async def listing_start(request: Request, db: DbSession, user: ProviderUser) -> Response:
    """A personal assistant's profile and first offer from one form, published at once."""
    form = await listing_page.read(
        request,
        ListingForm,
        also=geography_service.check_places(db, "base"),
        **_listing_context(db),
    )
    if user.role != Role.PERSONAL_ASSISTANT or providers_service.providers_of(db, user=user):
        return redirect(request, "/provider")
    base = geography_service.resolve_location(db, text=form.base, field="base")
    provider = providers_service.start_personal_assistant(db, user=user)
    providers_service.update_profile(
        db,
        provider=provider,
        actor=user,
        details=ProfileDetails(
            name=user.name,
            about=form.about,
            holds_isf=False,
            contact_email=None,
            phone=None,
            website=None,
            drives=form.drives,
            employment=None,
            languages=languages_from(form),
            base=base,
        ),
    )
    offer = offers_service.create_offer(
        db,
        provider=provider,
        actor=user,
        details=offers_service.OfferDetails(
            title=form.title,
            description=form.about,
            term_ids=term_ids_for(
                db,
                kinds_of_support=form.kinds_of_support,
                outcomes=form.outcomes,
                client_groups=form.client_groups,
            ),
            area_type=AreaType.RADIUS,
            radius_km=form.radius_km,
            availability=form.availability,
            capacity_amount=form.capacity_hours or 0,
        ),
    )
    assert form.rate is not None
    offers_service.set_price(
        db,
        offer=offer,
        actor=user,
        details=offers_service.PriceDetails(unit=PriceUnit.HOUR, rate_pence=form.rate),
    )
    offers_service.publish_offer(db, offer=offer, actor=user)
    return redirect(request, "/provider?done=published")


def _profile_values(provider: Provider) -> dict[str, object]:
    def yes_no(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    return {
        "name": provider.name,
        "about": provider.about,
        "base": provider.base_label or "",
        "holds_isf": yes_no(provider.holds_isf),
        "contact_email": provider.contact_email or "",
        "phone": provider.phone or "",
        "website": provider.website or "",
        "drives": yes_no(provider.drives),
        "employment": provider.employment.value if provider.employment else "",
        "languages": [n for n in provider.language_names if n in STANDARD_LANGUAGES],
        "other_languages": ", ".join(
            n for n in provider.language_names if n not in STANDARD_LANGUAGES
        ),
    }


def _profile_context(provider: Provider) -> dict[str, Any]:
    return {"provider": provider, "languages": STANDARD_LANGUAGES, "employments": list(Employment)}


@router.get("/provider/profile")
def show_profile(request: Request, provider: CurrentProvider) -> Response:
    return profile_page.render(
        request, values=_profile_values(provider), **_profile_context(provider)
    )


@router.post("/provider/profile")
async def update_profile(
    request: Request, db: DbSession, user: ProviderUser, provider: CurrentProvider
) -> Response:
    form = await profile_page.read(
        request,
        ProfileForm,
        also=geography_service.check_places(db, "base"),
        **_profile_context(provider),
    )
    base = (
        geography_service.resolve_location(db, text=form.base, field="base") if form.base else None
    )
    providers_service.update_profile(
        db,
        provider=provider,
        actor=user,
        details=ProfileDetails(
            name=form.name,
            about=form.about,
            holds_isf=bool(form.holds_isf),
            contact_email=form.contact_email or None,
            phone=form.phone or None,
            website=form.website or None,
            drives=form.drives,
            employment=form.employment,
            languages=languages_from(form),
            base=base,
        ),
    )
    return redirect(request, "/provider?done=profile")


@router.post("/provider/photo")
@accepts_body(photos.UPLOAD_MAX_BYTES + FORM_MAX_BYTES)
async def upload_photo(
    request: Request, db: DbSession, user: ProviderUser, provider: CurrentProvider
) -> Response:
    form = await request.form()
    upload = form.get("photo")
    data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    profile_page.remember(request, values=_profile_values(provider), **_profile_context(provider))
    providers_service.set_photo(db, provider=provider, actor=user, data=data)
    return redirect(request, "/provider?done=photo")


def _staff_context(provider: Provider) -> dict[str, Any]:
    return {"provider": provider}


@router.get("/provider/staff")
def staff(request: Request, provider: CurrentProvider) -> Response:
    return staff_page.render(
        request, **_staff_context(provider), done=request.query_params.get("done", "")
    )


@router.post("/provider/staff")
async def invite(
    request: Request, db: DbSession, user: ProviderUser, provider: CurrentProvider
) -> Response:
    form = await staff_page.read(request, InviteForm, **_staff_context(provider))
    spend_allowance(request, Action.STAFF_INVITATION, account=user.id, target_email=form.email)
    providers_service.invite_staff(db, provider=provider, inviter=user, email=form.email)
    return redirect(request, "/provider/staff?done=invited")


@router.get("/provider/join", dependencies=[Public])
def show_join(request: Request, token: MailedToken, db: DbSession, user: MaybeUser) -> Response:
    """Signed in: accept. Not yet: sign in, or make an account for the invited address."""
    invitation = providers_service.invitation_for(db, token=token)
    return join_page.render(request, invitation=invitation, token=token)


@router.post("/provider/join")
def join(request: Request, token: MailedToken, db: DbSession, user: SignedInUser) -> Response:
    providers_service.accept_invitation(db, token=token, user=user)
    return redirect(request, "/provider?done=joined")


@router.post("/provider/join/account", dependencies=[Public])
async def join_with_new_account(
    request: Request, token: MailedToken, db: DbSession, hasher: Hasher
) -> Response:
    invitation = providers_service.invitation_for(db, token=token)
    form = await join_page.read(request, JoinForm, invitation=invitation, token=token)
    user = providers_service.join_with_new_account(
        db, hasher=hasher, token=token, name=form.name, password=form.password
    )
    request.state.new_session_token = accounts_service.start_session(
        db, user=user, replacing=getattr(request.state, "session_token", None)
    )
    return redirect(request, "/provider?done=joined")


@router.get("/provider/join/{token}", dependencies=[Public])
def old_join_link(token: str) -> Response:
    return moved_token_link("/provider/join", token)
