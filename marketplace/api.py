"""The JSON API under /api/v1. FastAPI publishes its OpenAPI document at
/api/v1/openapi.json; later packages add their own routers under the same prefix."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from marketplace.accounts.policy import Public, SignedInUser
from marketplace.accounts.schemas import CouncilAreaOut, UserOut
from marketplace.deps import DbSession
from marketplace.geography import service as geography_service

router = APIRouter(prefix="/api/v1", tags=["shell"])


class FieldProblem(BaseModel):
    field: str | None
    message: str


class ApiError(BaseModel):
    """Every error the API answers: the error's name, and its message or each field's."""

    error: str
    detail: str | list[FieldProblem]


API_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ApiError} for status in (401, 403, 404, 422, 429)
}
"""The documented error answers of an /api/v1 route (marketplace.web writes them)."""


@router.get("/me", response_model=UserOut, responses=API_ERRORS)
def me(user: SignedInUser) -> UserOut:
    """The signed-in user's own account."""
    return UserOut(
        id=user.id,
        name=user.name,
        email=user.email,
        role=user.role,
        council=user.council.name if user.council else None,
        created_at=user.created_at,
    )


@router.get(
    "/council-areas",
    response_model=list[CouncilAreaOut],
    dependencies=[Public],
    responses=API_ERRORS,
)
def council_areas(db: DbSession) -> list[CouncilAreaOut]:
    """Scotland's 32 council areas with their GSS codes."""
    return [CouncilAreaOut.model_validate(c) for c in geography_service.list_council_areas(db)]
