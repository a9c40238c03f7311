"""The Open Referral (HSDS 3.0) API under /openreferral/: published offers as services,
their providers as organizations, our taxonomies and their terms, and where each service
starts from. Public, read-only JSON, as Open Referral UK asks: no keys, any origin.

Every answer here is JSON, errors included: bad query input is a 400 naming the
parameter, an unknown id a 404. The mapping itself is the providers.hsds package."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

from marketplace.accounts.policy import Public
from marketplace.deps import AppSettings, DbSession
from marketplace.errors import DomainError
from marketplace.parsing import ONE_LINE_PATTERN, InRangeDateTime
from providers.hsds import feed as hsds_feed
from providers.hsds.feed import DEFAULT_PER_PAGE, MAX_PER_PAGE, Paging, ServiceFilters
from providers.hsds.ids import HsdsIds
from providers.hsds.money import dumps
from providers.hsds.records import service_record

TAG = "Open Referral (HSDS 3.0)"


class HsdsResponse(JSONResponse):
    """JSON whose money amounts are written from Decimal, digit for digit
    (providers.hsds.money.dumps)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def _error(status_code: int, error: str, detail: object) -> Response:
    return HsdsResponse({"error": error, "detail": detail}, status_code=status_code)


class OpenReferralRoute(APIRoute):
    """Answers every error as JSON, whatever the app's pages do for theirs, and lets any
    site read the feed (Access-Control-Allow-Origin: *, an Open Referral UK rule)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError as error:
                response = _error(
                    400,
                    "BadQuery",
                    [
                        {"parameter": str(item["loc"][-1]), "message": item["msg"]}
                        for item in error.errors()
                    ],
                )
            except DomainError as error:
                response = _error(error.status_code, type(error).__name__, error.message)
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response

        return answer


class HsdsError(BaseModel):
    error: str
    detail: Any


class HsdsRecord(BaseModel):
    """One HSDS record (a service, organisation, taxonomy, term or service at location): its
    id always, and the fields HSDS 3.0 gives its kind."""

    model_config = ConfigDict(extra="allow")

    id: str


class HsdsPage(BaseModel):
    """One page of a list, with the header HSDS 3.0's API puts before `contents`."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[HsdsRecord]


class HsdsRoot(BaseModel):
    version: str
    profile: str
    openapi_url: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": HsdsError} for status in (400, 404, 422)
}
ONE_PAGE: dict[int | str, dict[str, Any]] = {200: {"model": HsdsPage}, **_ERRORS}
ONE_RECORD: dict[int | str, dict[str, Any]] = {200: {"model": HsdsRecord}, **_ERRORS}
"""The documented answers (the routes return HsdsResponse themselves, so these describe)."""

router = APIRouter(prefix="/openreferral", tags=[TAG], route_class=OpenReferralRoute)


def feed_ids(settings: AppSettings) -> HsdsIds:
    return HsdsIds(settings.base_url)


Ids = Annotated[HsdsIds, Depends(feed_ids)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPage = Annotated[
    int, Query(ge=1, le=MAX_PER_PAGE, description=f"Results a page, from 1 to {MAX_PER_PAGE}.")
]
Search = Annotated[
    str | None, Query(max_length=200, pattern=ONE_LINE_PATTERN, description="Words to look for.")
]
Format = Annotated[Literal["json"], Query(description="Only json is offered.")]
Flag = Annotated[bool, Query()]
Id = Annotated[str | None, Query(max_length=100, pattern=ONE_LINE_PATTERN)]
ModifiedAfter = Annotated[
    datetime | None,
    Query(description="RFC 3339 date and time; UTC when no offset is given."),
    InRangeDateTime,
]


def _filters(
    search: str | None,
    taxonomy_term_id: str | None,
    taxonomy_id: str | None,
    organization_id: str | None,
    modified_after: datetime | None,
) -> ServiceFilters:
    if modified_after is not None and modified_after.tzinfo is None:
        modified_after = modified_after.replace(tzinfo=UTC)
    return ServiceFilters(search, taxonomy_term_id, taxonomy_id, organization_id, modified_after)


@router.get(
    "/", dependencies=[Public], response_class=HsdsResponse, responses={200: {"model": HsdsRoot}}
)
def api_root(settings: AppSettings) -> HsdsResponse:
    """What this API is: the HSDS version it follows and where its OpenAPI document is."""
    return HsdsResponse(
        {
            "version": hsds_feed.HSDS_VERSION,
            "profile": hsds_feed.PROFILE_URL,
            "openapi_url": f"{settings.base_url}/api/v1/openapi.json",
        }
    )


@router.get("/services", dependencies=[Public], response_class=HsdsResponse, responses=ONE_PAGE)
def list_services(
    db: DbSession,
    ids: Ids,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
    format: Format = "json",
    taxonomy_term_id: Id = None,
    taxonomy_id: Id = None,
    organization_id: Id = None,
    modified_after: ModifiedAfter = None,
    minimal: Flag = False,
    full: Flag = False,
) -> HsdsResponse:
    """Published offers, a page at a time: their own fields, or fully nested with `full`."""
    result = hsds_feed.services_page(
        db,
        ids=ids,
        filters=_filters(search, taxonomy_term_id, taxonomy_id, organization_id, modified_after),
        paging=Paging(page, per_page),
        full=full,
        minimal=minimal,
    )
    return HsdsResponse(result.as_json())


@router.get(
    "/services/{id}", dependencies=[Public], response_class=HsdsResponse, responses=ONE_RECORD
)
def get_service(db: DbSession, ids: Ids, id: str) -> HsdsResponse:
    """One published offer, fully nested."""
    offer = hsds_feed.published_offer(db, ids=ids, service_id=id)
    return HsdsResponse(service_record(offer, ids=ids, full=True))


@router.get(
    "/organizations", dependencies=[Public], response_class=HsdsResponse, responses=ONE_PAGE
)
def list_organizations(
    db: DbSession,
    ids: Ids,
    search: Search = None,
    full_service: Flag = False,
    full: Flag = False,
    page: PageNumber = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
    format: Format = "json",
) -> HsdsResponse:
    """Providers (organisations and personal assistants) with at least one published offer."""
    result = hsds_feed.organizations_page(
        db,
        ids=ids,
        search=search,
        paging=Paging(page, per_page),
        full=full,
        full_service=full_service,
        today=date.today(),
    )
    return HsdsResponse(result.as_json())


@router.get(
    "/organizations/{id}", dependencies=[Public], response_class=HsdsResponse, responses=ONE_RECORD
)
def get_organization(db: DbSession, ids: Ids, id: str, full_service: Flag = False) -> HsdsResponse:
    """One provider, with its published services (their ids and names, or in full)."""
    return HsdsResponse(
        hsds_feed.organization(
            db, ids=ids, organization_id=id, full_service=full_service, today=date.today()
        )
    )


@router.get("/taxonomies", dependencies=[Public], response_class=HsdsResponse, responses=ONE_PAGE)
def list_taxonomies(
    ids: Ids,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
    format: Format = "json",
) -> HsdsResponse:
    """Personal outcomes, kinds of support and who support suits."""
    return HsdsResponse(
        hsds_feed.taxonomies_page(ids=ids, search=search, paging=Paging(page, per_page)).as_json()
    )


@router.get(
    "/taxonomies/{id}", dependencies=[Public], response_class=HsdsResponse, responses=ONE_RECORD
)
def get_taxonomy(ids: Ids, id: str) -> HsdsResponse:
    return HsdsResponse(hsds_feed.taxonomy(ids=ids, taxonomy_id=id))


@router.get(
    "/taxonomy_terms", dependencies=[Public], response_class=HsdsResponse, responses=ONE_PAGE
)
def list_taxonomy_terms(
    db: DbSession,
    ids: Ids,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
    format: Format = "json",
    taxonomy_id: Id = None,
    top_only: Flag = False,
    parent_id: Id = None,
) -> HsdsResponse:
    """The terms of our taxonomies; they are flat, so every term is a top-level one."""
    result = hsds_feed.taxonomy_terms_page(
        db,
        ids=ids,
        search=search,
        taxonomy_id=taxonomy_id,
        parent_id=parent_id,
        paging=Paging(page, per_page),
    )
    return HsdsResponse(result.as_json())


@router.get(
    "/taxonomy_terms/{id}", dependencies=[Public], response_class=HsdsResponse, responses=ONE_RECORD
)
def get_taxonomy_term(db: DbSession, ids: Ids, id: str) -> HsdsResponse:
    return HsdsResponse(hsds_feed.taxonomy_term(db, ids=ids, term_id=id))


@router.get(
    "/service_at_locations", dependencies=[Public], response_class=HsdsResponse, responses=ONE_PAGE
)
def list_service_at_locations(
    db: DbSession,
    ids: Ids,
    search: Search = None,
    taxonomy_term_id: Id = None,
    taxonomy_id: Id = None,
    organization_id: Id = None,
    modified_after: ModifiedAfter = None,
    full: Flag = False,
    page: PageNumber = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
    format: Format = "json",
    postcode: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=ONE_LINE_PATTERN,
            description="Only services whose area covers this postcode (or district).",
        ),
    ] = None,
    proximity: Annotated[
        int | None,
        Query(
            ge=1, le=1_000_000, description="And whose location is within this many metres of it."
        ),
    ] = None,
) -> HsdsResponse:
    """Each published offer at the place its support starts from (a radius's centre, or
    the provider's base)."""
    result = hsds_feed.service_at_locations_page(
        db,
        ids=ids,
        filters=_filters(search, taxonomy_term_id, taxonomy_id, organization_id, modified_after),
        paging=Paging(page, per_page),
        full=full,
        where=hsds_feed.near(db, postcode=postcode, proximity_m=proximity),
    )
    return HsdsResponse(result.as_json())


@router.get(
    "/service_at_locations/{id}",
    dependencies=[Public],
    response_class=HsdsResponse,
    responses=ONE_RECORD,
)
def get_service_at_location(db: DbSession, ids: Ids, id: str) -> HsdsResponse:
    return HsdsResponse(hsds_feed.service_at_location(db, ids=ids, service_at_location_id=id))
