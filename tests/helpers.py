"""An HTML-aware test client: every HTML page it receives is checked against the rules every
page must keep (one h1, a title that starts with it, unique ids, forms that work without
JavaScript, design-system classes that exist, nothing inline)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import httpx
from bs4 import BeautifulSoup
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
    h1s = soup.find_all("h1")
    assert len(h1s) == 1, f"a page has exactly one h1, found {len(h1s)}"
    title = soup.title.get_text(strip=True) if soup.title else ""
    heading = h1s[0].get_text(" ", strip=True)
    assert title.removeprefix("Error: ").startswith(heading), (
        f"title {title!r} starts with h1 {heading!r}"
    )
    if soup.select(".ds_error-summary"):
        assert title.startswith("Error: "), "a page with errors has a title starting 'Error: '"
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {duplicates}"
    check_fragment(soup)
    return soup


def check_fragment(soup: BeautifulSoup) -> None:
    for form in soup.find_all("form"):
        assert form.get("action"), f"form without action: {str(form)[:120]}"
        assert form.get("method") in ("get", "post"), f"form without method: {str(form)[:120]}"
        if form["method"] == "post":
            assert form.find("input", attrs={"name": "csrftoken"}), (
                "a POST form carries the CSRF token"
            )
    unknown = {
        cls
        for tag in soup.find_all(class_=True)
        for cls in tag["class"]
        if cls.startswith("ds_") and cls not in design_system_classes()
    }
    assert not unknown, f"classes not in the design system: {unknown}"
    assert not soup.find_all(style=True), "no inline style attributes"
    for script in soup.find_all("script"):
        assert script.get("src"), "no inline scripts"
    for tag in soup.find_all(True):
        assert not any(a.startswith(("on", "hx-on")) for a in tag.attrs), (
            f"no inline handlers: {tag.name}"
        )


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
