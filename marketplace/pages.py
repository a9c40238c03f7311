"""The shell's own pages: home, accessibility statement, privacy notice, the health check
and (outside production) the outbox where the embedded default keeps sent mail."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from marketplace import mail, web
from marketplace.accounts.policy import Public
from marketplace.deps import AppSettings, DbSession
from marketplace.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/", dependencies=[Public])
def home(request: Request) -> Response:
    return web.render(request, "marketplace/home.html")


@router.get("/accessibility", dependencies=[Public])
def accessibility(request: Request) -> Response:
    return web.render(request, "marketplace/accessibility.html")


@router.get("/privacy", dependencies=[Public])
def privacy(request: Request) -> Response:
    return web.render(request, "marketplace/privacy.html")


@router.get("/healthz", dependencies=[Public])
def healthz(db: DbSession) -> Response:
    """Up only if the database answers."""
    try:
        db.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


# Registered only outside production (see app._include_routers): the mails hold sign-in
# links, so in production the page does not exist at all.
dev_router = APIRouter(include_in_schema=False)


def _outbox_dir(settings: AppSettings) -> Path:
    if settings.is_production:  # a second lock, should the router ever be included
        raise NotFound("Page not found")
    return settings.outbox_dir


@dev_router.get("/dev/outbox", dependencies=[Public])
def outbox(request: Request, settings: AppSettings) -> Response:
    mails = mail.read_outbox(_outbox_dir(settings))
    return web.render(request, "marketplace/outbox.html", {"mails": mails})


@dev_router.get("/dev/outbox/{name}", dependencies=[Public])
def outbox_mail(request: Request, name: str, settings: AppSettings) -> Response:
    message = mail.read_outbox_mail(_outbox_dir(settings), name)
    return web.render(request, "marketplace/outbox_mail.html", {"mail": message})
