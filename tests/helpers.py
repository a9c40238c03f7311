"""An HTML-aware test client: every HTML page it receives is checked against the rules every
page must keep (one h1, a title that starts with it, unique ids, forms that work without
JavaScript, design-system classes that exist, nothing inline)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from marketplace.app import DESIGN_SYSTEM_DIR

CSRF_COOKIE = "csrftoken"


@lru_cache
def design_system_classes() -> frozenset[str]:
    css = (DESIGN_SYSTEM_DIR / "css" / "design-system.min.css").read_text()
    return frozenset(re.findall(r"\.(ds_[a-zA-Z0-9_-]+)", css))


def check_page(html: str) -> BeautifulSoup:
    """Assert the rules every full page keeps, and return the parsed page."""
    soup = BeautifulSoup(html, "html.parser")
    seen = _walk(soup)
    h1s = seen.h1s
    assert len(h1s) == 1, f"a page has exactly one h1, found {len(h1s)}"
    title = soup.title.get_text(strip=True) if soup.title else ""
    heading = h1s[0].get_text(" ", strip=True)
    assert title.removeprefix("Error: ").startswith(heading), (
        f"title {title!r} starts with h1 {heading!r}"
    )
    if seen.error_summary:
        assert title.startswith("Error: "), "a page with errors has a title starting 'Error: '"
    duplicates = {i for i, n in Counter(seen.ids).items() if n > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"
    _check_fragment_rules(seen)
    return soup


def check_fragment(soup: BeautifulSoup) -> None:
    _check_fragment_rules(_walk(soup))


@dataclass
class _Seen:
    """What one pass over every tag of a page or fragment found, for the rules to judge."""

    h1s: list[Tag] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    error_summary: bool = False
    forms: list[Tag] = field(default_factory=list)
    unknown_classes: set[str] = field(default_factory=set)
    styled: bool = False
    inline_scripts: bool = False
    inline_handler: str | None = None
    """The name of the first tag carrying an on... or hx-on... attribute."""


def _walk(soup: BeautifulSoup) -> _Seen:
    """One pass over every tag (checking a page is much of the suite's own time, and each
    rule searching the tree again multiplied it)."""
    known = design_system_classes()
    seen = _Seen()
    for tag in soup.find_all(True):
        attrs = tag.attrs
        name = tag.name
        if name == "h1":
            seen.h1s.append(tag)
        elif name == "form":
            seen.forms.append(tag)
        elif name == "script" and not attrs.get("src"):
            seen.inline_scripts = True
        if attrs.get("id") is not None:
            seen.ids.append(attrs["id"])
        classes = attrs.get("class")
        if classes is not None:
            for cls in classes:
                if cls.startswith("ds_") and cls not in known:
                    seen.unknown_classes.add(cls)
                if cls == "ds_error-summary":
                    seen.error_summary = True
        if attrs.get("style") is not None:
            seen.styled = True
        if seen.inline_handler is None and any(a.startswith(("on", "hx-on")) for a in attrs):
            seen.inline_handler = name
    return seen


def _check_fragment_rules(seen: _Seen) -> None:
    for form in seen.forms:
        assert form.get("action"), f"form without action: {str(form)[:120]}"
        assert form.get("method") in ("get", "post"), f"form without method: {str(form)[:120]}"
        if form["method"] == "post":
            assert form.find("input", attrs={"name": "csrftoken"}), (
                "a POST form carries the CSRF token"
            )
    assert not seen.unknown_classes, f"classes not in the design system: {seen.unknown_classes}"
    assert not seen.styled, "no inline style attributes"
    assert not seen.inline_scripts, "no inline scripts"
    assert seen.inline_handler is None, f"no inline handlers: {seen.inline_handler}"


class HtmlClient(TestClient):
    def __init__(
        self,
        app: Any,
        *,
        before_request: Callable[[], None] | None = None,
        after_request: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, base_url="http://testserver", follow_redirects=False, **kwargs)
        self.before_request = before_request or (lambda: None)
        self.after_request = after_request or (lambda: None)

    def request(self, method: str, url: httpx._types.URLTypes, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        self.before_request()
        response = super().request(method, url, **kwargs)
        self.after_request()
        if response.headers.get("content-type", "").startswith("text/html"):
            if response.request.headers.get("HX-Request") == "true":
                soup = BeautifulSoup(response.text, "html.parser")
                check_fragment(soup)
            else:
                soup = check_page(response.text)
            response.extensions[SOUP] = soup
        return response

    def csrf_token(self) -> str:
        if CSRF_COOKIE not in self.cookies:
            self.get("/sign-in")
        return self.cookies[CSRF_COOKIE]

    def submit(
        self, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False
    ) -> httpx.Response:
        """POST a form as a browser would, with the CSRF token the page carried."""
        fields = {"csrftoken": self.csrf_token(), **(data or {})}
        headers = {"HX-Request": "true"} if htmx else {}
        return self.post(path, data=fields, headers=headers)

    def sign_in(self, email: str, password: str) -> httpx.Response:
        response = self.submit("/sign-in", {"email": email, "password": password})
        assert response.status_code == 303, response.text[:500]
        return response


SOUP = "tests.parsed_html"
"""Where a response keeps the markup the client parsed to check it, so a test reading the
page does not parse it again (parsing is much of the suite's own time)."""


def page(response: httpx.Response) -> BeautifulSoup:
    parsed = response.extensions.get(SOUP)
    return parsed if parsed is not None else BeautifulSoup(response.text, "html.parser")


def error_messages(response: httpx.Response) -> list[str]:
    """The messages in the error summary, in order."""
    return [a.get_text(strip=True) for a in page(response).select(".ds_error-summary__list a")]
