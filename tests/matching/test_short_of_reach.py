"""When little reaches a remote village: the offers that give what the person asked for
and stop just short of them, nearest first with how far short, on the search page with a
way to ask the provider to come further, and an enquiry that asks so."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.geography import service as geography_service
from marketplace.geography.distance import geodesic_km
from marketplace.settings import Settings
from matching import service as matching_service
from matching.index import OfferIndex
from matching.short_of_reach import SHORT_BY_AT_MOST_KM, stopping_short
from providers.models import Offer
from tests.factories import PASSWORD, make_offer, make_provider, make_user, make_verified_provider
from tests.helpers import HtmlClient, page
from tests.matching.needs.need_builders import mails_to, post

HOME = "IV27 4JY"  # Lochinver


def offer_stopping_short_by(
    db: Session, km: float, *, base: str, title: str, **kw: object
) -> Offer:
    """An offer based at `base` whose radius stops `km` short of HOME."""
    home = geography_service.resolve_location(db, text=HOME)
    centre = geography_service.resolve_location(db, text=base)
    distance = geodesic_km(home.latitude, home.longitude, centre.latitude, centre.longitude)
    assert distance > km + 1, "the base must be further away than that"
    return make_offer(
        db,
        provider=make_provider(db, base=base),
        title=title,
        radius_km=round(distance - km, 1),
        **kw,
    )


def short_titles(db: Session, **asked: object) -> list[tuple[str, float]]:
    index = OfferIndex()
    wanted = matching_service.support_wanted(db, index, location=HOME, **asked)  # type: ignore[arg-type]
    found = stopping_short(db, index, wanted)
    titles = {o.id: o.title for o in db.scalars(select(Offer))}
    return [(titles[s.offer_id], round(s.short_by_km)) for s in found]


def test_nearest_first_with_how_far_short_and_only_what_fits(db: Session) -> None:
    make_offer(db, provider=make_provider(db, base=HOME), title="Reaches", radius_km=5)
    offer_stopping_short_by(db, 12, base="Ullapool", title="Twelve short")
    offer_stopping_short_by(db, 4, base="Lairg", title="Four short")
    offer_stopping_short_by(db, 5, base="Lairg", title="Other kind", kinds=("help-at-home",))
    offer_stopping_short_by(db, SHORT_BY_AT_MOST_KM + 10, base="Inverness", title="Too far")
    assert short_titles(db, kinds_of_support=["personal-care"]) == [
        ("Four short", 4),
        ("Twelve short", 12),
    ]
    assert ("Other kind", 5) in short_titles(db)


def test_the_search_shows_them_while_little_reaches(client: HtmlClient, db: Session) -> None:
    offer = offer_stopping_short_by(db, 4, base="Lairg", title="Four short")
    answer = page(client.get("/find-support", params={"location": HOME}))
    section = answer.select_one("#short-of-reach")
    assert section is not None
    assert "Offers that stop short of" in section.get_text()
    items = section.find_next("ul").select("li")
    assert [li.select_one("a").get_text(strip=True) for li in items] == ["Four short"]
    assert "stops 4 km short of you" in items[0].get_text(" ", strip=True)
    ask = items[0].select("a")[1]["href"]
    assert ask.startswith(f"/offers/{offer.id}/enquire?") and "location=" in ask


def test_an_enquiry_from_beyond_the_area_asks_whether_they_would_come(
    client: HtmlClient, db: Session
) -> None:
    offer = offer_stopping_short_by(db, 4, base="Lairg", title="Four short")
    person = make_user(db, role=Role.SUPPORTED_PERSON)
    db.flush()
    client.sign_in(person.email, PASSWORD)
    answer = page(client.get(f"/offers/{offer.id}/enquire", params={"location": HOME}))
    message = answer.select_one("textarea[name=message]")
    assert message is not None and "Would you come that far?" in message.get_text()
    assert "Stops 4 km short of" in answer.select_one(".ds_inset-text").get_text(" ", strip=True)
    # From inside the area, nothing of the kind is said.
    near = page(client.get(f"/offers/{offer.id}/enquire", params={"location": "Lairg"}))
    assert near.select_one(".ds_inset-text") is None


def test_a_need_is_sent_just_out_of_reach_too_and_says_so(
    client: HtmlClient, db: Session, settings: Settings
) -> None:
    home = geography_service.resolve_location(db, text=HOME)
    lairg = geography_service.resolve_location(db, text="Lairg")
    distance = geodesic_km(home.latitude, home.longitude, lairg.latitude, lairg.longitude)
    short = make_offer(
        db,
        provider=make_verified_provider(db, base="Lairg"),
        title="Four short",
        radius_km=round(distance - 4, 1),
    )
    far = make_offer(
        db,
        provider=make_verified_provider(db, base="Inverness"),
        title="Too far",
        radius_km=20,
    )
    need = post(db, OfferIndex(), location=HOME)
    [delivery] = need.deliveries
    assert (delivery.provider_id, delivery.offer_id) == (short.provider_id, short.id)
    assert delivery.short_by_km is not None and round(delivery.short_by_km) == 4
    assert far.provider_id not in {d.provider_id for d in need.deliveries}
    db.commit()
    member = short.provider.members[0].user
    [mail] = [m for m in mails_to(settings, member) if "needs support" in m.subject]
    assert "just out of reach: about 4 km beyond" in mail.body
    client.sign_in(member.email, PASSWORD)
    answer = page(client.get(f"/provider/needs/{need.id}")).get_text(" ", strip=True)
    assert "Just out of reach" in answer and "about 4 km beyond" in answer


def test_the_json_match_lists_them_too(client: HtmlClient, db: Session) -> None:
    offer = offer_stopping_short_by(db, 4, base="Lairg", title="Four short")
    answer = client.get("/api/v1/match", params={"location": HOME}).json()
    assert answer["total"] == 0
    [short] = answer["short_of_reach"]
    assert (short["offer_id"], short["title"], round(short["short_by_km"])) == (
        offer.id,
        "Four short",
        4,
    )
    assert short["url"].startswith(f"/offers/{offer.id}?location=")
