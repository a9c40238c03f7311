"""Market shaping, as a commissioner uses it: from a place with a gap in a kind of support,
invite the providers whose offers of it stop short, within a chosen distance, to extend
their area; each is mailed the gap as the pages show it (small counts hidden) once, and the
place's page says who has extended since."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.geography.distance import geodesic_km
from marketplace.settings import Settings
from matching.models import AreaInvitation
from providers.models import Offer
from tests.factories import PASSWORD, make_offer, make_provider
from tests.helpers import HtmlClient, page
from tests.matching.gaps.gap_builders import commissioner, settlement, unmet
from tests.matching.needs.need_builders import mails_to

PLACE = "Ullapool"


def stopping_short_of_place_by(db: Session, km: float, base: str, title: str) -> Offer:
    place, centre = settlement(db, PLACE), settlement(db, base)
    distance = geodesic_km(place.latitude, place.longitude, centre.latitude, centre.longitude)
    return make_offer(
        db, provider=make_provider(db, base=base), title=title, radius_km=round(distance - km, 1)
    )


def place_address(db: Session) -> str:
    return f"/commissioning/places/{settlement(db, PLACE).id}"


def invite(client: HtmlClient, db: Session, within: str = "20", kind: str = "personal-care"):  # type: ignore[no-untyped-def]
    return client.submit(f"{place_address(db)}/invitations?kind={kind}", {"within": within})


def test_invite_the_offers_that_stop_short_and_see_who_extended(
    client: HtmlClient, db: Session, settings: Settings
) -> None:
    near = stopping_short_of_place_by(db, 6, "Lairg", "Lairg care")
    far = stopping_short_of_place_by(db, 45, "Inverness", "Inverness care")
    unmet(db, PLACE, 2)  # too few searches to show: the mail must not tell them
    client.sign_in(commissioner(db, "Highland").email, PASSWORD)

    sent = invite(client, db)
    assert sent.status_code == 303 and "invited=1" in sent.headers["location"]
    [invitation] = db.scalars(select(AreaInvitation)).all()
    assert (invitation.offer_id, round(invitation.short_by_km)) == (near.id, 6)
    assert far.id != invitation.offer_id

    db.commit()
    [mail] = [
        m
        for m in mails_to(settings, near.provider.members[0].user)
        if m.subject == f"An invitation to reach {PLACE}"
    ]
    assert "no offer of it reaches them" in mail.body
    assert "stops about 6 km short of Ullapool" in mail.body
    searches = next(line for line in mail.body.splitlines() if line.startswith("Searches"))
    assert searches.endswith(f"fewer than {settings.matching.small_number_threshold}.")

    shown = page(client.get(f"{place_address(db)}?kind=personal-care"))
    listed = shown.select_one("#invitations").find_next("ul").get_text(" ", strip=True)
    assert "Lairg care" in listed and "Not extended yet" in listed

    near.radius_km = (near.radius_km or 0) + 7
    db.flush()
    listed = page(client.get(f"{place_address(db)}?kind=personal-care"))
    assert "Extended: reaches Ullapool now" in listed.select_one("#invitations").find_next(
        "ul"
    ).get_text(" ", strip=True)

    again = invite(client, db)
    assert "invited=0" in again.headers["location"]
    assert len(db.scalars(select(AreaInvitation)).all()) == 1


def test_a_wider_distance_invites_the_further_ones_too(client: HtmlClient, db: Session) -> None:
    stopping_short_of_place_by(db, 6, "Lairg", "Lairg care")
    stopping_short_of_place_by(db, 40, "Inverness", "Inverness care")
    client.sign_in(commissioner(db, "Highland").email, PASSWORD)
    assert "invited=2" in invite(client, db, within="50").headers["location"]


def test_only_in_the_commissioners_own_area_and_with_a_kind(
    client: HtmlClient, db: Session
) -> None:
    stopping_short_of_place_by(db, 6, "Lairg", "Lairg care")
    client.sign_in(commissioner(db, "Fife").email, PASSWORD)
    assert invite(client, db).status_code == 404
    client.cookies.clear()
    client.sign_in(commissioner(db, "Highland").email, PASSWORD)
    assert invite(client, db, within="7").status_code == 422
    no_kind = client.submit(f"{place_address(db)}/invitations", {"within": "20"})
    assert no_kind.status_code == 422
    assert db.scalars(select(AreaInvitation)).all() == []


def test_a_crafted_count_in_the_address_is_ignored(client: HtmlClient, db: Session) -> None:
    client.sign_in(commissioner(db, "Highland").email, PASSWORD)
    for invited in ["١٢", "9" * 40, "-1", "3"]:
        answer = client.get(f"{place_address(db)}?kind=personal-care&invited={invited}")
        assert answer.status_code == 200
        said = page(answer).select_one("#invitations").find_next("div", class_="ds_inset-text")
        assert (said is not None and "3 invited" in said.get_text()) == (invited == "3")
