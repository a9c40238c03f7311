"""The web shell's rendering: one Jinja environment, page and fragment rendering, the
navigation each role sees, filters for money and dates, and the single handler that turns
domain errors into pages, htmx fragments or JSON."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, cast
from urllib.parse import quote, urlencode

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2.runtime import Macro
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from marketplace.accounts.models import Role, User
from marketplace.db import SCOTTISH_TIME
from marketplace.errors import (
    CsrfRefused,
    DomainError,
    NotFound,
    NotSignedIn,
    SendElsewhere,
    TooManyAttempts,
)
from marketplace.money import format_pence
from marketplace.redirects import local_path
from marketplace.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

templates = Jinja2Blocks(directory=str(PROJECT_ROOT / "templates"))
# Templates ship with the code: a deploy restarts the workers, and `serve --reload` restarts
# on a template's change as on a module's. So no page asks the disk whether each of its
# templates changed (a stat for each, on every page).
templates.env.auto_reload = False


def _format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return (
        value.astimezone(SCOTTISH_TIME)
        .strftime("%-d %B %Y at %-I:%M%p")
        .replace("AM", "am")
        .replace("PM", "pm")
    )


def _format_date(value: datetime | None) -> str:
    return "" if value is None else _day_text(value.astimezone(SCOTTISH_TIME).date())


@lru_cache(maxsize=1024)
def _day_text(day: date) -> str:
    # strftime's month name costs several times the rest; a results page shows twenty dates,
    # and searches show the same few hundred days over and over.
    return day.strftime("%-d %B %Y")


def _as_options(items: Any) -> list[tuple[str, str]]:
    """Enum members (value, label) or named records (name, name), for selects and radios."""
    options = []
    for item in items:
        if hasattr(item, "label") and hasattr(item, "value"):
            options.append((item.value, item.label))
        else:
            options.append((item.name, item.name))
    return options


FIELDS_REMEMBERED = 256
"""Form fields' markup kept by remembered_field, a few kilobytes each."""
_remembered: OrderedDict[Hashable, Markup] = OrderedDict()
_remembered_lock = threading.Lock()
_ABSENT = object()


def _hashable(value: Any) -> Any:
    """Lists (of choices, of ticked values) as tuples, so that they can be part of a key."""
    return tuple(_hashable(item) for item in value) if isinstance(value, list) else value


def remembered_field(
    macro: Macro,
    name: str,
    *args: Any,
    values: Mapping[str, Any],
    error_for: Mapping[str | None, str],
    **options: Any,
) -> Markup:
    """A form field drawn by a design-system macro, rendered once for the same arguments and
    kept (the least recently used go first): the search form's lists of choices, drawn
    afresh, were a fifth of the time spent drawing a search page. The macro must read
    nothing but its arguments; of the answers and errors it is given only its own field's,
    so the markup depends on nothing but the key (and holds nothing of who asked)."""
    own_values = {name: values[name]} if name in values else {}
    own_errors = {name: error_for[name]} if name in error_for else {}
    key = (
        macro,
        name,
        _hashable(list(args)),
        _hashable(own_values.get(name, _ABSENT)),
        own_errors.get(name),
        tuple(sorted((option, _hashable(value)) for option, value in options.items())),
    )
    try:
        with _remembered_lock:
            markup = _remembered.get(key)
            if markup is not None:
                _remembered.move_to_end(key)
                return markup
    except TypeError:  # an argument that cannot be a key: draw it every time
        return cast(Markup, macro(name, *args, values=own_values, error_for=own_errors, **options))
    markup = cast(Markup, macro(name, *args, values=own_values, error_for=own_errors, **options))
    with _remembered_lock:
        _remembered[key] = markup
        if len(_remembered) > FIELDS_REMEMBERED:
            _remembered.popitem(last=False)
    return markup


# The design-system macros are global, so a block rendered alone for htmx can use them.
templates.env.globals["ds"] = templates.env.get_template("macros/ds.html").module
templates.env.globals["places"] = templates.env.get_template("macros/places.html").module
templates.env.globals["tables"] = templates.env.get_template("macros/tables.html").module
templates.env.globals["remembered"] = remembered_field
templates.env.filters["pence"] = format_pence
templates.env.filters["zip_self"] = lambda items: [(item, item) for item in items]
templates.env.filters["zip_names"] = lambda values, records: [
    (v, r.name) for v, r in zip(values, records, strict=True)
]
templates.env.filters["as_options"] = _as_options
templates.env.filters["datetime"] = _format_datetime
templates.env.filters["date"] = _format_date


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str


_navigation: list[tuple[int, frozenset[Role] | None, bool, NavItem]] = []
SIGNING_IN = [NavItem("Sign in", "/sign-in"), NavItem("Create an account", "/sign-up")]


def add_navigation(
    label: str,
    path: str,
    *,
    roles: tuple[Role, ...] | None = None,
    order: int = 50,
    public: bool = False,
) -> None:
    """Add a header link for these roles (None: every signed-in user), lowest order first;
    `public` links show to people not signed in too, before the sign-in links. Packages
    call this as they add their starting pages."""
    _navigation.append(
        (order, None if roles is None else frozenset(roles), public, NavItem(label, path))
    )
    _navigation.sort(key=lambda entry: entry[0])


def navigation_for(user: User | None) -> list[NavItem]:
    if user is None:
        return [item for _, _, public, item in _navigation if public] + SIGNING_IN
    return [item for _, allowed, _, item in _navigation if allowed is None or user.role in allowed]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def csrf_token(request: Request) -> str:
    return request.scope["csrftoken"]() if "csrftoken" in request.scope else ""


def page_context(request: Request) -> dict[str, Any]:
    user = getattr(request.state, "user", None)
    settings = request.app.state.settings
    return {
        "request": request,  # as TemplateResponse gives whole pages; fragments need it too
        "current_user": user,
        "navigation": navigation_for(user),
        "current_path": request.url.path,
        "csrf_token": csrf_token(request),
        "service_name": settings.service_name,
        "show_outbox": not settings.is_production,
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A whole page, or only `block` when htmx asked for the fragment."""
    ctx = page_context(request) | (context or {})
    if block is not None:
        # The same address answers a page or a fragment; caches must tell them apart.
        headers = {**(headers or {}), "Vary": "HX-Request"}
    if block is None and is_htmx(request) and status_code >= 400:
        # A page with no fragment to swap: its errors go to the page's error region.
        messages = [e.message for e in ctx.get("errors") or [] if getattr(e, "message", None)]
        return htmx_error(
            status_code, title="There is a problem", messages=messages, headers=headers
        )
    if block is not None and is_htmx(request):
        # A <title> in the fragment makes htmx update the page's title too, so a form that
        # comes back with errors says "Error: " there as it does without JavaScript.
        title = render_block(templates.env, template, "title", ctx).strip()  # already escaped
        prefix = "Error: " if ctx.get("errors") else ""
        fragment = render_block(templates.env, template, block, ctx)
        return HTMLResponse(
            f"<title>{prefix}{title} - {escape(ctx['service_name'])}</title>\n{fragment}",
            status_code=status_code,
            headers=headers,
        )
    return templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )


MailedToken = Annotated[str, Query(min_length=1, max_length=200)]
"""A one-time token from a mailed link. It travels in the query string, which the access
log never keeps (marketplace.logs), not in the path."""


def moved_token_link(path: str, token: str) -> Response:
    """Links mailed before tokens moved into the query string still lead somewhere."""
    return RedirectResponse(f"{path}?{urlencode({'token': token[:200]})}", status_code=303)


def htmx_error(
    status_code: int,
    *,
    title: str,
    messages: list[str],
    advice: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """htmx swaps error responses too: an error summary alone, retargeted to the page's
    #page-error region, rather than a whole page pasted into the form that asked."""
    fragment = templates.get_template("errors/error_fragment.html").render(
        {"title": title, "messages": messages, "advice": advice}
    )
    return HTMLResponse(
        fragment,
        status_code=status_code,
        headers={**(headers or {}), "HX-Retarget": "#page-error", "HX-Reswap": "innerHTML"},
    )


def redirect(request: Request, path: str) -> Response:
    """After a successful POST: see-other for a plain form; for htmx, HX-Redirect, because
    htmx would otherwise follow the redirect itself and swap a whole page into the form.
    Either way the target must be a path on this site; anything else goes to the home page."""
    path = local_path(path, "/")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=303)


ERROR_PAGES = {
    400: ("There is a problem with this page address", "Check the address and try again."),
    403: ("You cannot use this page", "Your account does not give you access to this page."),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If "
        "you pasted it, check you copied the entire address.",
    ),
    405: ("Page not found", "If you typed the web address, check it is correct."),
    413: (
        "The form was too large to send",
        "Go back and send less: a smaller photo, or shorter answers.",
    ),
    429: ("Too many attempts", "Wait a while, then try again."),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Anything you were doing has not been saved.",
    ),
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _resolve_user_for_error_page(request: Request) -> None:
    """Errors raised before any route ran (an unknown address, a CSRF refusal) still show
    the signed-in person's own header, so look them up in a short read of their own."""
    if hasattr(request.state, "user") or not getattr(request.state, "session_token", None):
        return
    from marketplace.accounts import service as accounts_service
    from marketplace.db import session_scope

    try:
        with session_scope(request.app.state.sessionmaker, write=False) as session:
            request.state.user = accounts_service.user_for_session(
                session,
                token=request.state.session_token,
                security=request.app.state.settings.security,
            )
    except Exception:
        # The error may be the database itself; the page must still render.
        log.warning("could not look up the signed-in user for an error page", exc_info=True)
        request.state.user = None


def error_page(
    request: Request,
    status_code: int,
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    _resolve_user_for_error_page(request)
    title, advice = ERROR_PAGES.get(status_code, ERROR_PAGES[400])
    if is_htmx(request):
        return htmx_error(
            status_code,
            title=title,
            messages=[message] if message else [],
            advice=advice,
            headers=headers,
        )
    return render(
        request,
        "errors/error.html",
        {"title": title, "message": message, "advice": advice, "status_code": status_code},
        status_code=status_code,
        headers=headers,
    )


def csrf_refusal(request: Request) -> Response:
    """A state-changing request without a valid CSRF token: refused, nothing changed."""
    message = CsrfRefused().message
    if wants_json(request):
        return JSONResponse({"error": "CsrfRefused", "detail": message}, status_code=403)
    return error_page(request, 403, message)


def body_too_large(request: Request, max_bytes: int) -> Response:
    """A body past its route's limit, refused before it was read: nothing was saved."""
    from marketplace.bodies import size_in_words

    message = (
        "What you sent is larger than this page accepts "
        f"({size_in_words(max_bytes)}). Nothing was saved."
    )
    if wants_json(request):
        return JSONResponse({"error": "BodyTooLarge", "detail": message}, status_code=413)
    return error_page(request, 413, message)


async def handle_domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    try:
        return _domain_error_response(request, error)
    finally:
        # The request's session, rolled back but left open so this page could read (deps).
        session = getattr(request.state, "session_after_error", None)
        if session is not None:
            session.close()


def _domain_error_response(request: Request, error: DomainError) -> Response:
    headers = (
        {"Retry-After": str(error.retry_after_seconds)}
        if isinstance(error, TooManyAttempts)
        else None
    )
    if wants_json(request):
        detail: str | list[dict[str, str | None]] = error.message
        if len(error.problems) > 1:
            detail = [{"field": p.field, "message": p.message} for p in error.problems]
        return JSONResponse(
            {"error": type(error).__name__, "detail": detail},
            status_code=error.status_code,
            headers=headers,
        )
    if isinstance(error, CsrfRefused):
        return csrf_refusal(request)
    if isinstance(error, SendElsewhere):
        return redirect(request, error.location)
    if isinstance(error, NotSignedIn):
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = local_path(asked, "")
        if not target:
            return redirect(request, "/sign-in")
        # Encoded, so that the page's own query (every filter, not just the first) survives.
        return redirect(request, f"/sign-in?next={quote(target, safe='/')}")
    form = getattr(request.state, "form", None)
    if form is not None and error.status_code in (400, 409, 422):
        return form.render_errors(request, error)
    message = error.message if not isinstance(error, NotFound) else None
    return error_page(request, error.status_code, message, headers=headers)


async def handle_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if wants_json(request):
        return JSONResponse(
            {"error": "HTTPError", "detail": error.detail}, status_code=error.status_code
        )
    return error_page(request, error.status_code)


async def handle_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if wants_json(request):
        if _in_path(error):
            return JSONResponse({"error": "NotFound", "detail": "No such record"}, status_code=404)
        return JSONResponse(
            {"error": "ValidationError", "detail": _plain_errors(error)}, status_code=422
        )
    if _in_path(error):
        # A path naming no possible record (letters, other scripts' digits, 40 digits) is
        # an address that does not exist, as much as an id that is not in the database.
        return error_page(request, 404)
    return error_page(request, 400, "Some of the details in the page address are not valid.")


def _in_path(error: RequestValidationError) -> bool:
    return any(item["loc"] and item["loc"][0] == "path" for item in error.errors())


def _plain_errors(error: RequestValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
        for item in error.errors()
    ]


async def handle_unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    if wants_json(request):
        return JSONResponse(
            {"error": "ServerError", "detail": "Something went wrong"}, status_code=500
        )
    return error_page(request, 500)
