"""The shortlist as people use it: someone not signed in keeps it in a signed cookie, a
signed-in person in their account, and signing in merges the first into the second; adding
returns to where the person was (only ever a page of this site), htmx swaps just the
button's region; at most 20 offers; offers no longer published are said to be so; from the
shortlist up to three are chosen to compare."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, User
from marketplace.settings import Settings
from matching import cookies
from matching.shortlist.models import ShortlistItem
from matching.shortlist.service import MAX_OFFERS
from providers import offers as offers_service
from providers.models import Offer
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_offer, make_provider, make_user
from tests.helpers import HtmlClient, error_messages, page
from tests.matching.search.test_routes import PLACE, skye_market

COOKIE = "sds_shortlist"


def add(
    client: HtmlClient,
    offer: Offer,
    back: str = "/find-support?location=Portree",
    htmx: bool = False,
) -> httpx.Response:
    return client.submit(f"/shortlist/{offer.id}", {"back": back}, htmx=htmx)


def remove(client: HtmlClient, offer: Offer, htmx: bool = False) -> httpx.Response:
    return client.submit(f"/shortlist/{offer.id}/remove", {"back": "/shortlist"}, htmx=htmx)


def listed(client: HtmlClient) -> list[str]:
    return [
        row.select_one("th[scope=row]").get_text(" ", strip=True)
        for row in page(client.get("/shortlist")).select("tbody tr")
    ]


def saved(db: Session, user: User) -> list[int]:
    return list(
        db.scalars(
            select(ShortlistItem.offer_id)
            .where(ShortlistItem.user_id == user.id)
            .order_by(ShortlistItem.offer_id)
        )
    )


class TestWithoutSigningIn:
    def test_adding_returns_to_the_results_and_keeps_the_offer_in_a_signed_cookie(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        back = "/find-support?location=Portree&hours=6#offer-1"
        response = add(client, market["kyle"], back=back)
        assert response.status_code == 303
        assert response.headers["location"] == back
        header = response.headers["set-cookie"]
        assert header.startswith(f"{COOKIE}=")
        assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
        assert "Secure" not in header, "plain http in tests; see the TLS test"
        add(client, market["portree"])
        assert listed(client) == [
            "Support from Kyle Lochalsh Support",
            "Care at home in Portree Portree Care",
        ]
        assert db.scalars(select(ShortlistItem)).all() == [], (
            "nothing is stored for someone not signed in"
        )

    def test_the_results_show_what_is_on_the_shortlist(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        add(client, market["broadford"])
        soup = page(client.get("/find-support", params={"location": PLACE}))
        region = soup.select_one(f"#shortlist-{market['broadford'].id}")
        assert "Added to your shortlist" in region.get_text(" ", strip=True)
        assert region.select_one("form")["action"] == f"/shortlist/{market['broadford'].id}/remove"
        other = soup.select_one(f"#shortlist-{market['kyle'].id}")
        assert other.select_one("form")["action"] == f"/shortlist/{market['kyle'].id}"
        assert (
            other.select_one("input[name=back]")["value"]
            == f"/find-support?location=Portree#offer-{market['kyle'].id}"
        )

    def test_removing_takes_it_off(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        add(client, market["kyle"])
        add(client, market["portree"])
        response = remove(client, market["kyle"])
        assert (response.status_code, response.headers["location"]) == (303, "/shortlist")
        assert listed(client) == ["Care at home in Portree Portree Care"]
        remove(client, market["portree"])
        assert "Your shortlist is empty" in page(client.get("/shortlist")).get_text(" ", strip=True)

    def test_a_forged_cookie_is_ignored(self, client: HtmlClient, db: Session) -> None:
        market = skye_market(db)
        client.cookies.set(COOKIE, f"{market['kyle'].id}.forged-signature")
        assert listed(client) == []

    def test_at_most_twenty_offers(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db, base="Portree")
        offers = [
            make_offer(db, provider=provider, title=f"Offer {n:02d}") for n in range(MAX_OFFERS + 1)
        ]
        for offer in offers[:MAX_OFFERS]:
            assert add(client, offer).status_code == 303
        refused = add(client, offers[-1])
        assert refused.status_code == 422
        assert error_messages(refused) == [
            "Your shortlist already has 20 offers, the most it can hold. Remove one before adding another"
        ]
        htmx = add(client, offers[-1], htmx=True)
        assert htmx.status_code == 422
        assert "the most it can hold" in page(htmx).get_text(" ", strip=True)
        assert len(listed(client)) == MAX_OFFERS
        assert add(client, offers[0]).status_code == 303, "adding one already there is not refused"

    def test_only_published_offers_can_be_added_and_those_paused_later_are_said_to_be(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        draft = make_offer(
            db, provider=make_provider(db, base="Portree"), title="Not yet", publish=False
        )
        assert add(client, draft).status_code == 404
        assert client.submit("/shortlist/999999", {}).status_code == 404
        add(client, market["kyle"])
        add(client, market["portree"])
        offers_service.pause_offer(
            db, offer=market["kyle"], actor=market["kyle"].provider.members[0].user
        )
        db.flush()
        soup = page(client.get("/shortlist"))
        rows = soup.select("tbody tr")
        assert "No longer available" in rows[0].get_text(" ", strip=True)
        assert rows[0].select_one("input[name=offer]") is None, "it cannot be compared"
        assert rows[1].select_one("input[name=offer]")["value"] == str(market["portree"].id)


class TestReturningOnlyToThisSite:
    def test_an_address_elsewhere_goes_to_the_shortlist_instead(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = skye_market(db)["kyle"]
        for elsewhere in (
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "find-support",
            "",
        ):
            response = add(client, offer, back=elsewhere)
            assert response.headers["location"] == "/shortlist", elsewhere


class TestWithHtmx:
    def test_adding_and_removing_swap_the_buttons_region(
        self, client: HtmlClient, db: Session
    ) -> None:
        offer = skye_market(db)["kyle"]
        added = add(client, offer, htmx=True)
        assert added.status_code == 200
        soup = page(added)
        assert soup.h1 is None, "only the region, not a page"
        assert "Added to your shortlist" in soup.get_text(" ", strip=True)
        button = soup.select_one(f"#shortlist-button-{offer.id}")
        assert button.get_text(" ", strip=True) == "Remove Support from Kyle from your shortlist"
        form = soup.select_one("form")
        assert form["hx-target"] == f"#shortlist-{offer.id}"
        assert form["hx-swap"] == "innerHTML ignoreTitle:true", "the page keeps its own title"
        removed = remove(client, offer, htmx=True)
        assert removed.status_code == 200
        button = page(removed).select_one(f"#shortlist-button-{offer.id}")
        assert button.get_text(" ", strip=True) == "Add Support from Kyle to shortlist", (
            "the same id keeps the keyboard focus"
        )
        assert listed(client) == []


class TestSignedIn:
    def test_a_signed_in_person_keeps_it_in_their_account(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        person = make_user(db)
        client.sign_in(person.email, PASSWORD)
        response = add(client, market["kyle"])
        assert response.status_code == 303
        assert COOKIE not in client.cookies
        assert saved(db, person) == [market["kyle"].id]
        assert listed(client) == ["Support from Kyle Lochalsh Support"]
        remove(client, market["kyle"])
        assert saved(db, person) == []

    def test_signing_in_merges_the_browsers_shortlist_into_theirs_and_clears_the_cookie(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        carer = make_user(db, role=Role.REPRESENTATIVE)
        db.add(ShortlistItem(user_id=carer.id, offer_id=market["portree"].id))
        db.flush()
        add(client, market["kyle"])
        add(client, market["portree"])
        add(client, market["broadford"])
        assert COOKIE in client.cookies
        client.sign_in(carer.email, PASSWORD)
        shown = listed(client)
        assert sorted(shown) == sorted(
            [
                "Care at home in Portree Portree Care",
                "Support from Kyle Lochalsh Support",
                "Getting out from Broadford Broadford Helpers",
            ]
        )
        assert saved(db, carer) == sorted(
            o.id for o in (market["portree"], market["kyle"], market["broadford"])
        )
        assert COOKIE not in client.cookies, "the browser's list now lives in the account"
        client.post("/sign-out", data={"csrftoken": client.csrf_token()})
        assert listed(client) == [], "signed out, the browser keeps nothing"


class TestCompareFromTheShortlist:
    def test_a_get_form_to_compare_that_carries_the_place_and_hours(
        self, client: HtmlClient, db: Session
    ) -> None:
        market = skye_market(db)
        for offer in market.values():
            if offer.radius_km and offer.title in ("Care at home in Portree", "Support from Kyle"):
                add(client, offer)
        soup = page(client.get("/shortlist?location=Portree&hours=6"))
        form = soup.select_one("form#compare-form")
        assert (form["method"], form["action"]) == ("get", "/compare")
        assert len(form.select("input[type=checkbox][name=offer]")) == 2
        assert (
            form.select_one("#location")["value"] == PLACE
            and form.select_one("#hours")["value"] == "6"
        )
        for button in soup.select("button[form]"):
            target = soup.select_one(f"form#{button['form']}")
            assert target["method"] == "post" and target["action"].endswith("/remove")
            assert (
                target.select_one("input[name=back]")["value"]
                == "/shortlist?location=Portree&hours=6"
            )
        compared = client.get(
            f"/compare?offer={market['kyle'].id}&offer={market['portree'].id}&location=Portree&hours=6"
        )
        assert compared.status_code == 200


class TestCookieOverTls:
    def test_is_secure_and_host_only_when_the_service_uses_https(
        self, tmp_path: Path, database_url: str
    ) -> None:
        settings: Settings = make_settings(database_url, tmp_path, base_url="https://sds.example")
        cookie = cookies.shortlist_cookie(settings)
        response = Response()
        cookies.write_offer_ids(cookie, response, [3, 5])
        header = response.headers["set-cookie"]
        assert header.startswith("__Host-sds_shortlist=3-5.")
        for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", f"Max-Age={30 * 86400}"):
            assert attribute in header
