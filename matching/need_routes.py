"""Pages for posted needs: a person posts what they need, providers whose offers reach
them answer from their inbox."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
