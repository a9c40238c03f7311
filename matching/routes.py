"""Pages for supported people and representatives: finding support, the shortlist and the
side-by-side comparison."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
