"""The one rule for where the app sends a browser back to: paths on this site only, however
the value is dressed up; and every place that takes a return address from a browser uses it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from starlette.requests import Request

from marketplace import web
from marketplace.accounts.models import Role
from marketplace.redirects import local_path
from tests.factories import PASSWORD, make_offer, make_user
from tests.helpers import HtmlClient, page

HOSTILE = [
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example/path",
    "",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/path\\with\\backslashes",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "/%2Fevil.example",
    "/%252F%252Fevil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/%0A/evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "/account\r\nLocation: https://evil.example",
    "/ /evil.example",
    "/%20/evil.example",
    "/\u00a0/evil.example",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "/\x00",
    "/%00",
    "/account?next=%0a",
    "/%25252525252F",
    " /account",
    "/account ",
    "/" + "a" * 5000,
]

SAFE = [
    "/",
    "/account",
    "/account/password",
    "/find-support?location=Fort%20William&hours=10",
    "/find-support?location=Fort+William&hours=10#offer-3",
    "/places/Ullapool",
    "/shortlist?location=IV26+2",
    "/sign-in?next=%2Ffind-support%3Flocation%3DFort%2520William",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_falls_back_to_the_default(value: str) -> None:
    assert local_path(value, "/fallback") == "/fallback"


@pytest.mark.parametrize("value", SAFE)
def test_a_path_on_this_site_is_kept(value: str) -> None:
    assert local_path(value, "/fallback") == value


@pytest.mark.parametrize("value", [None, 3, ["/account"], b"/account"])
def test_anything_but_text_falls_back(value: object) -> None:
    assert local_path(value, "/fallback") == "/fallback"


def _as_a_browser_reads_it(value: str) -> str:
    """What a lenient browser makes of an address: tabs and newlines dropped, backslashes
    read as slashes, and (once more) percent-encoding undone."""
    for form in (value, unquote(value)):
        cleaned = (
            form.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/").strip()
        )
        if cleaned.startswith("//") or urlsplit(cleaned).netloc or urlsplit(cleaned).scheme:
            return "off-site"
    return "on-site"


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
    | st.from_regex(r"\A[/\\%0-9a-fA-F\t\n .:@?#]{0,20}\Z")
)
@example("/%2F%2Fevil.example")
@example("/\t/evil.example")
@example("https:evil.example")
def test_whatever_comes_in_what_goes_out_stays_on_this_site(value: str) -> None:
    kept = local_path(value, "/fallback")
    assert kept in (value, "/fallback")
    assert kept.startswith("/") and not kept.startswith("//")
    assert "\\" not in kept and not any(c.isspace() or ord(c) < 32 for c in kept)
    assert _as_a_browser_reads_it(kept) == "on-site"


@given(st.lists(st.from_regex(r"\A[a-z0-9-]{1,12}\Z"), min_size=1, max_size=5))
def test_ordinary_paths_are_always_kept(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    assert local_path(path, "/fallback") == path


class TestSignIn:
    @pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
    def test_sign_in_never_sends_anyone_off_site(
        self, client: HtmlClient, db: Session, htmx: bool
    ) -> None:
        user = make_user(db, role=Role.SUPPORTED_PERSON)
        for value in HOSTILE:
            client.cookies.clear()
            response = client.submit(
                "/sign-in", {"email": user.email, "password": PASSWORD, "next": value}, htmx=htmx
            )
            target = response.headers["HX-Redirect"] if htmx else response.headers["location"]
            assert response.status_code == (204 if htmx else 303), value
            assert target == "/your-support", value
            assert "location" not in response.headers or not htmx

    @pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
    def test_a_safe_next_is_followed(self, client: HtmlClient, db: Session, htmx: bool) -> None:
        user = make_user(db, role=Role.SUPPORTED_PERSON)
        wanted = "/find-support?location=Fort%20William&hours=10"
        response = client.submit(
            "/sign-in", {"email": user.email, "password": PASSWORD, "next": wanted}, htmx=htmx
        )
        assert (response.headers["HX-Redirect"] if htmx else response.headers["location"]) == wanted

    def test_an_unsafe_next_in_the_address_is_dropped_from_the_form(
        self, client: HtmlClient
    ) -> None:
        shown = client.get("/sign-in", params={"next": "//evil.example/x"})
        assert shown.status_code == 200
        assert page(shown).select_one("input[name=next]")["value"] == ""
        kept = client.get("/sign-in", params={"next": "/account/password"})
        assert page(kept).select_one("input[name=next]")["value"] == "/account/password"

    def test_a_failed_sign_in_shows_the_form_again_without_the_unsafe_next(
        self, client: HtmlClient
    ) -> None:
        response = client.submit(
            "/sign-in",
            {
                "email": "nobody@example.org",
                "password": "wrong password!",
                "next": "//evil.example",
            },
        )
        assert response.status_code == 401
        assert page(response).select_one("input[name=next]")["value"] == ""

    def test_a_page_asked_for_at_an_odd_address_does_not_become_the_next(
        self, client: HtmlClient
    ) -> None:
        response = client.get("/account/password?x=%0a%5c")
        assert response.headers["location"] == "/sign-in"


class TestShortlistBack:
    @pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
    def test_removing_returns_only_to_a_path_on_this_site(
        self, client: HtmlClient, htmx: bool
    ) -> None:
        for value in (
            "//evil.example",
            "/%5Cevil.example",
            "/\t/evil.example",
            "https://evil.example",
        ):
            response = client.submit("/shortlist/999999/remove", {"back": value}, htmx=htmx)
            target = response.headers["HX-Redirect"] if htmx else response.headers["location"]
            assert target == "/shortlist", value
        kept = client.submit(
            "/shortlist/999999/remove", {"back": "/find-support?location=Ullapool"}
        )
        assert kept.headers["location"] == "/find-support?location=Ullapool"

    def test_adding_returns_only_to_a_path_on_this_site(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = make_offer(db)
        response = client.submit(f"/shortlist/{offer.id}", {"back": "//evil.example"})
        assert response.headers["location"] == "/shortlist"
        response = client.submit(f"/shortlist/{offer.id}/remove", {"back": "/find-support"})
        assert response.headers["location"] == "/find-support"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_redirect_helper_itself_never_leaves_the_site(htmx: bool) -> None:
    """Every route's redirect goes through web.redirect, which applies the rule again, so a
    target built from something a browser sent cannot slip through a route that forgot."""
    headers = [(b"hx-request", b"true")] if htmx else []
    request = Request(
        {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    )
    for target, expected in (
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/provider?done=published", "/provider?done=published"),
    ):
        response = web.redirect(request, target)
        assert response.headers["HX-Redirect" if htmx else "location"] == expected
