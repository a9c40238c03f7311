"""The application factory: settings in, a FastAPI app out, with every package's routes,
the static assets, the protections and the error handlers."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from secure.middleware import SecureASGIMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from marketplace import web
from marketplace.accounts.cookies import SessionCookieMiddleware
from marketplace.accounts.passwords import make_hasher
from marketplace.admission import AdmissionGate
from marketplace.bodies import BodyLimitMiddleware
from marketplace.db import make_engine, make_sessionmaker
from marketplace.errors import DomainError
from marketplace.logs import install_access_log_filter
from marketplace.mail import Mailer
from marketplace.models import import_all_models
from marketplace.ratelimit import Throttle
from marketplace.security import check_upload_csrf, security_headers, with_csrf
from marketplace.settings import PROJECT_ROOT, Settings, get_settings

STATIC_DIR = PROJECT_ROOT / "marketplace" / "static"
DESIGN_SYSTEM_DIR = (
    PROJECT_ROOT / "node_modules" / "@scottish-government" / "design-system" / "dist"
)
HTMX_DIR = PROJECT_ROOT / "node_modules" / "htmx.org" / "dist"


def _check_front_end_assets() -> None:
    missing = [d for d in (DESIGN_SYSTEM_DIR, HTMX_DIR) if not d.is_dir()]
    if missing:
        raise RuntimeError(
            "The front-end assets are not installed (missing "
            + ", ".join(str(d) for d in missing)
            + "). Run `make install`, which runs `npm ci`."
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    _check_front_end_assets()
    import_all_models()
    install_access_log_filter()

    app = FastAPI(
        dependencies=[Depends(check_upload_csrf)],
        title=f"{settings.service_name} API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.mailer = Mailer(settings)
    app.state.hasher = make_hasher(settings.security.password_hash_profile)
    app.state.throttle = Throttle(settings.security)

    app.mount("/static/sgds", StaticFiles(directory=DESIGN_SYSTEM_DIR), name="sgds")
    app.mount("/static/htmx", StaticFiles(directory=HTMX_DIR), name="htmx")
    app.mount("/static/app", StaticFiles(directory=STATIC_DIR), name="app-static")

    _include_routers(app, settings)

    app.add_exception_handler(DomainError, web.handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, web.handle_http_error)
    app.add_exception_handler(RequestValidationError, web.handle_validation_error)
    app.add_exception_handler(Exception, web.handle_unexpected_error)

    # Outermost first on the way in: headers on every response (CSRF refusals included),
    # then the session cookie (so a refusal page still knows who is signed in), then the
    # body limit (before anything reads a form, the CSRF checks included), then CSRF.
    app.add_middleware(_CsrfMiddleware, settings=settings)
    app.add_middleware(BodyLimitMiddleware, routes=app.router.routes)
    app.add_middleware(SessionCookieMiddleware, settings=settings)
    app.add_middleware(SecureASGIMiddleware, secure=security_headers(settings))
    # Outermost of all: a request waiting its turn has started nothing.
    app.add_middleware(AdmissionGate, at_once=settings.server.requests_at_once)
    return app


def _include_routers(app: FastAPI, settings: Settings) -> None:
    from contracts.changes import admin_routes as change_admin_routes
    from contracts.changes import api as change_api
    from contracts.changes import routes as change_routes
    from contracts.changes import transparency_routes
    from contracts.funds import api as fund_api
    from contracts.funds import routes as fund_routes
    from contracts.funds import setup_api as fund_setup_api
    from contracts.funds import statement_routes
    from contracts.spending import api as spending_api
    from contracts.spending import payment_routes
    from contracts.spending import routes as spending_routes
    from marketplace import admin, api, pages
    from marketplace.accounts import routes as accounts_routes
    from marketplace.geography import routes as geography_routes
    from matching import (
        offer_page,  # also adds the fair-price section to the offer page
        readiness,
        your_support,
    )
    from matching.gaps import routes as gap_routes
    from matching.needs import routes as need_routes
    from matching.search import api as matching_api
    from matching.search import routes as matching_routes
    from matching.shortlist import routes as shortlist_routes
    from providers import check_routes, enquiry_routes, offer_routes, openreferral, public_routes
    from providers import routes as providers_routes

    app.include_router(pages.router)
    app.include_router(readiness.router)
    # The search is the page most asked for, and a request is matched against each router's
    # routes in turn: first, it is not tried against a hundred others (no other router has
    # its addresses, so the order changes nothing else).
    app.include_router(matching_routes.router)
    if not settings.is_production:
        app.include_router(pages.dev_router)
    # Before accounts: /sign-up/provider must win over accounts' /sign-up/{kind}.
    app.include_router(providers_routes.router)
    app.include_router(accounts_routes.router)
    app.include_router(offer_routes.router)
    app.include_router(check_routes.router)
    app.include_router(public_routes.router)
    app.include_router(geography_routes.router)
    app.include_router(admin.router)
    app.include_router(enquiry_routes.router)
    app.include_router(api.router)
    app.include_router(openreferral.router)
    app.include_router(shortlist_routes.router)
    app.include_router(need_routes.router)
    app.include_router(matching_api.router)
    app.include_router(offer_page.router)
    app.include_router(gap_routes.router)
    app.include_router(your_support.router)
    app.include_router(fund_routes.router)
    app.include_router(statement_routes.router)
    app.include_router(spending_routes.router)
    app.include_router(change_routes.router)
    app.include_router(change_admin_routes.router)
    app.include_router(payment_routes.router)
    app.include_router(fund_api.router)
    app.include_router(fund_setup_api.router)
    app.include_router(spending_api.router)
    app.include_router(change_api.router)
    app.include_router(transparency_routes.router)


class _CsrfMiddleware:
    """asgi-csrf around the app; a refused request gets our own 403 page."""

    def __init__(self, app: Any, *, settings: Settings) -> None:
        self.wrapped = with_csrf(app, settings=settings, on_failure=self._refuse)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.wrapped(scope, receive, send)

    @staticmethod
    async def _refuse(scope: dict[str, Any], send: Any, _reason: Any) -> None:
        response = web.csrf_refusal(Request(scope))
        await response(scope, _no_body, send)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}
