"""A search as people ask it: the answers of the search form (or the same parameters on the
API) read into a request for the matcher, every bad answer named by its field at once; and
a page of results made ready to show, its offers loaded in a fixed number of queries
however many results there are."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.errors import FieldError, RuleBroken
from marketplace.forms import FormInvalid, parse_choice, parse_hours
from marketplace.money import parse_pounds
from marketplace.parsing import clean_query_text
from matching import fair_price as fair_price_service
from matching import service as matching_service
from matching import short_of_reach
from matching.fair_price import FairPrice, PayWarning
from matching.index import OfferIndex
from matching.listed import ListedOffer, listed_offers
from matching.schemas import MatchResult, MatchSort, RankedOffer, SupportWanted
from matching.search.cards import OfferCard, offer_cards
from matching.short_of_reach import ShortOfReach
from providers.areas import distance_to_km
from providers.models import ProviderLanguage, TravelCharge
from providers.pricing import WeeklyCost, fee_percent, weekly_cost
from providers.schemas import availability_mask
from providers.service import STANDARD_LANGUAGES

FIELDS = (
    "location",
    "kinds_of_support",
    "outcomes",
    "client_groups",
    "when",
    "hours",
    "language",
    "max_price",
    "isf",
    "verified",
    "sort",
    "page",
)
"""The search's parameters, in the order the form asks them (and errors are listed)."""
LIST_FIELDS = frozenset({"kinds_of_support", "outcomes", "client_groups", "when"})
"""Checkbox fields, which may be given many times."""
PAGE_NUMBER = re.compile(r"\d{1,6}")
T = TypeVar("T")


Answers = dict[str, str | list[str]]


def answers_from(items: Iterable[tuple[str, str]]) -> Answers:
    """The search's answers from an address's query: every value of a checkbox field, the
    first of any other; parameters the search does not know are left out."""
    answers: Answers = {}
    for key, raw in items:
        if key not in FIELDS:
            continue
        value = clean_query_text(raw)
        if key in LIST_FIELDS:
            listed = answers.setdefault(key, [])
            assert isinstance(listed, list)
            listed.append(value)
        else:
            answers.setdefault(key, value)
    return answers


def query_pairs(answers: Answers, fields: Iterable[str]) -> list[tuple[str, str]]:
    """The answers to these fields as an address's query, leaving out blanks."""
    pairs = []
    for field in fields:
        value = answers.get(field, "")
        pairs += [
            (field, v.strip()) for v in (value if isinstance(value, list) else [value]) if v.strip()
        ]
    return pairs


def _text(answers: Answers, field: str) -> str:
    value = answers.get(field, "")
    return value.strip() if isinstance(value, str) else ""


def _listed(answers: Answers, field: str) -> list[str]:
    value = answers.get(field, [])
    return [v for v in value if v] if isinstance(value, list) else [value] if value else []


def asks_anything(answers: Answers) -> bool:
    """Whether the person asked for a search at all. A form sent with nothing filled in
    (its sort list still says "best match") is the same as no search."""
    return any(
        (_listed(answers, field) if field in LIST_FIELDS else _text(answers, field))
        and not (field == "sort" and _text(answers, field) == MatchSort.BEST.value)
        for field in FIELDS
    )


@dataclass(frozen=True)
class Search:
    """What the matcher is asked, and which page of the answer is wanted, in what order."""

    wanted: SupportWanted
    sort: MatchSort
    page: int


def language_options(session: Session, index: OfferIndex) -> list[str]:
    """The languages a search can ask for: the standard ones, then every other language a
    provider says it speaks, A to Z (asked again only when the offers change)."""

    def read() -> list[str]:
        standard = {name.lower() for name in STANDARD_LANGUAGES}
        others = {
            name.strip()
            for name in session.scalars(select(ProviderLanguage.language).distinct())
            if name.strip() and name.strip().lower() not in standard
        }
        return [*STANDARD_LANGUAGES, *sorted(others, key=str.lower)]

    return index.memo("language_options", read)


def taxonomy_choices(index: OfferIndex) -> dict[str, list[tuple[str, str]]]:
    """Checkbox options for each taxonomy by the form field carrying it, as the index
    holds the terms (providers.routes.taxonomy_choices asks the database for the same)."""
    terms = index.terms
    return index.memo(
        "taxonomy_choices",
        lambda: {
            field: [
                (terms.code[t], terms.name[t])
                for t, tax in terms.taxonomy.items()
                if tax == taxonomy
            ]
            for field, taxonomy in matching_service.TAXONOMY_OF_FIELD.items()
        },
    )


def _language(session: Session, index: OfferIndex, text: str) -> str | None:
    if not text:
        return None
    for option in language_options(session, index):
        if option.lower() == text.lower():
            return option
    raise ValueError("Choose a language from the list")


def _highest_price(text: str) -> int | None:
    if not text:
        return None
    pence = parse_pounds(text)
    if pence <= 0:
        raise ValueError("Enter a highest price of more than £0 an hour, like 25")
    return pence


def _ticked(text: str) -> bool:
    if text not in ("", "yes"):
        raise ValueError("Tick the box or leave it empty")
    return text == "yes"


def _page(text: str) -> int:
    if not text:
        return 1
    if not PAGE_NUMBER.fullmatch(text):
        raise ValueError("The page number in the address must be a whole number, like 2")
    return max(1, int(text))


def _sort(text: str) -> MatchSort:
    try:
        return parse_choice(MatchSort, text) or MatchSort.BEST
    except RuleBroken as error:
        raise ValueError("Choose how to sort the results from the list") from error


def read_search(session: Session, index: OfferIndex, answers: Answers) -> Search:
    """The request the answers describe, or FormInvalid naming every answer at fault."""
    errors: list[FieldError] = []

    def attempt(field: str, read: Callable[[], T], otherwise: T) -> T:
        try:
            return read()
        except ValueError as error:
            # The page is not a question on the form, so its message links to the page.
            errors.append(FieldError(None if field == "page" else field, str(error)))
            return otherwise

    when = attempt("when", lambda: availability_mask(_listed(answers, "when")), 0)
    hours = _text(answers, "hours")
    minutes = attempt("hours", lambda: parse_hours(hours) if hours else None, None)
    language = attempt(
        "language", lambda: _language(session, index, _text(answers, "language")), None
    )
    highest = attempt("max_price", lambda: _highest_price(_text(answers, "max_price")), None)
    isf = attempt("isf", lambda: _ticked(_text(answers, "isf")), False)
    verified = attempt("verified", lambda: _ticked(_text(answers, "verified")), False)
    sort = attempt("sort", lambda: _sort(_text(answers, "sort")), MatchSort.BEST)
    page = attempt("page", lambda: _page(_text(answers, "page")), 1)
    wanted = None
    try:
        wanted = matching_service.support_wanted(
            session,
            index,
            location=_text(answers, "location"),
            kinds_of_support=_listed(answers, "kinds_of_support"),
            outcomes=_listed(answers, "outcomes"),
            client_groups=_listed(answers, "client_groups"),
            when=when,
            minutes_per_week=minutes,
            language=language,
            max_hourly_pence=highest,
            isf_holders_only=isf,
            verified_only=verified,
        )
    except FormInvalid as invalid:
        errors += invalid.problems
    if errors:
        order = {field: position for position, field in enumerate(FIELDS)}
        raise FormInvalid(sorted(errors, key=lambda e: order.get(e.field or "page", len(FIELDS))))
    assert wanted is not None
    return Search(wanted=wanted, sort=sort, page=page)


# Showing results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One result with what the page shows about it besides the matcher's figures."""

    ranked: RankedOffer
    offer: ListedOffer
    fee_percent: str | None
    card: OfferCard
    """What it says of the offer alone (its provider, checks, space and reviews)."""
    fair_price: FairPrice | None
    """Its hourly price against others of the same kind; None when too few to say."""
    pay_warning: PayWarning | None
    cost: WeeklyCost | None
    """The week asked for, line by line (pricing.weekly_cost, whose total the matcher's is)."""


def week_costs_of(offers: Iterable[ListedOffer], wanted: SupportWanted) -> dict[int, WeeklyCost]:
    """Each priced offer's week as asked, line by line: pricing.weekly_cost, whose total is
    the one the matcher ranked by (ranking.week_costs_of makes the same sums)."""
    costs = {}
    for offer in offers:
        price = offer.price
        cost = (
            None
            if price is None
            else weekly_cost(
                price,
                minutes_per_week=wanted.minutes_per_week,
                when=wanted.when,
                typical_week_hours=offer.typical_week_hours,
                # Only travel by the mile on chosen days reads it, and the geodesic costs.
                distance_km=distance_to_km(offer, wanted.location)
                if price.travel_charge == TravelCharge.PER_MILE and wanted.when
                else None,
            )
        )
        if cost is not None:
            costs[offer.id] = cost
    return costs


def results_to_show(
    session: Session, index: OfferIndex, result: MatchResult, *, today: date, minimum_pay_pence: int
) -> list[Shown]:
    """The page's results in the matcher's order, each with its offer as stored and its
    fair-price context: against the first kind of support the person asked for that the
    offer gives (or its own first kind when they chose none)."""
    offer_ids = [r.offer_id for r in result.results]
    offers = listed_offers(session, offer_ids=offer_ids, index=index)
    prices = fair_price_service.fair_prices_for_results(
        session, index=index, offer_ids=offer_ids, kind_ids=result.wanted.kinds
    )
    shown = []
    costs = week_costs_of(offers.values(), result.wanted)
    cards = offer_cards(index, offers.values(), today=today)
    for ranked in result.results:
        offer = offers.get(ranked.offer_id)
        if offer is None:
            continue  # deleted since the index last heard; the next search will not find it
        shown.append(
            Shown(
                ranked=ranked,
                offer=offer,
                fee_percent=fee_percent(
                    fee_pence=ranked.week_fee_pence, support_pence=ranked.week_support_pence
                ),
                card=cards[offer.id],
                fair_price=prices.get(offer.id),
                pay_warning=fair_price_service.pay_warning(
                    hourly_pence=ranked.hourly_pence, minimum_pence=minimum_pay_pence
                ),
                cost=costs.get(offer.id),
            )
        )
    return shown


@dataclass(frozen=True)
class ShownShort:
    """An offer that stops short of the person, as the results show it."""

    short: ShortOfReach
    offer: ListedOffer


def short_of_reach_to_show(
    session: Session, index: OfferIndex, result: MatchResult
) -> list[ShownShort]:
    """While few offers reach the person, the nearest that fit and stop short of them."""
    if result.total >= short_of_reach.SHOWN_WHILE_FEWER_THAN:
        return []
    found = short_of_reach.stopping_short(session, index, result.wanted)
    offers = listed_offers(session, offer_ids=[s.offer_id for s in found], index=index)
    return [ShownShort(s, offers[s.offer_id]) for s in found if s.offer_id in offers]
