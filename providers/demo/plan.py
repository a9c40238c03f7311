"""Planning the demo market: a pure function of the seed and the reference places."""

from __future__ import annotations

import functools
import itertools
import json
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from marketplace.geography.classify import UrbanRural6, UrbanRural8
from marketplace.geography.distance import haversine_km
from providers.demo.data import (
    DEMO_SEED,
    FIRST_NAMES,
    GAELIC_COUNCILS,
    GENERATED_PROVIDERS,
    HOME_WEIGHT,
    INSURERS,
    ISF_SHARE,
    KIND_WEIGHTS,
    KINDS_OF_SUPPORT,
    OFFERS_PER_PROVIDER,
    ORGANISATION_HOURLY_PENCE,
    ORGANISATION_NAMES,
    OTHER_LANGUAGES,
    PA_HOURLY_PENCE,
    RADIUS_KM,
    STALE_SHARE,
    SURNAMES,
    TEMPLATES,
    TRAINING,
    VERIFIED_SHARE,
    OfferTemplate,
)
from providers.models import (
    CARE_INSPECTORATE_THEMES,
    AreaType,
    CheckKind,
    Employment,
    FeePeriod,
    OfferStatus,
    PriceUnit,
    ProviderKind,
    Taxonomy,
    TravelCharge,
    availability_bit,
)
from providers.offers import PriceDetails
from providers.taxonomy import TAXONOMIES_JSON


@dataclass(frozen=True)
class Place:
    """A settlement as the planner sees it: plain values, so planning needs no database."""

    id: int
    name: str
    label: str
    latitude: float
    longitude: float
    population: int
    urban_rural_8: int
    council: str

    @property
    def six_fold(self) -> UrbanRural6:
        return UrbanRural8(self.urban_rural_8).six_fold


@dataclass(frozen=True)
class District:
    code: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class PlannedCheck:
    kind: CheckKind
    reference: str
    issuer: str | None = None
    grades: dict[str, int] | None = None
    cover_pence: int | None = None
    expires_in_days: int | None = None
    verified: bool = False


@dataclass(frozen=True)
class PlannedOffer:
    title: str
    description: str
    kinds: tuple[str, ...]
    outcomes: tuple[str, ...]
    client_groups: tuple[str, ...]
    area_type: AreaType
    availability: int
    capacity_hours: int
    capacity_age_days: int
    """How long ago the capacity was confirmed; over 30 days shows as stale."""
    listed_days_ago: int
    typical_week_hours: int
    price: PriceDetails | None
    status: OfferStatus
    radius_km: int | None = None
    own_council: bool = False
    """Covers the whole council area the provider is based in."""
    settlement_ids: tuple[int, ...] = ()
    minimum_booking_minutes: int | None = None


@dataclass(frozen=True)
class PlannedProvider:
    name: str
    kind: ProviderKind
    base: str
    """The home place's label, looked up as anyone's would be."""
    centre: str | None
    """A postcode district in a town of 10,000+ that radius offers are measured from."""
    about: str
    holds_isf: bool
    contact_email: str | None
    phone: str | None
    website: str | None
    drives: bool
    employment: Employment | None
    languages: tuple[str, ...]
    checks: tuple[PlannedCheck, ...]
    offers: tuple[PlannedOffer, ...]


def plan_providers(
    *,
    places: Sequence[Place],
    districts: Sequence[District],
    seed: int = DEMO_SEED,
    count: int = GENERATED_PROVIDERS,
) -> list[PlannedProvider]:
    """The generated providers: the same list for the same seed and reference data."""
    rng = random.Random(seed)
    homes = [place for place in places if place.population > 0]
    cum_weights = list(
        itertools.accumulate(
            place.population * HOME_WEIGHT[UrbanRural8(place.urban_rural_8)] for place in homes
        )
    )
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    used: set[str] = set()
    plans = []
    for _ in range(count):
        kind = rng.choices(kinds, weights=kind_weights)[0]
        home = rng.choices(homes, cum_weights=cum_weights)[0]
        plans.append(
            _plan_provider(rng, kind=kind, home=home, places=places, districts=districts, used=used)
        )
    return plans


def _plan_provider(
    rng: random.Random,
    *,
    kind: ProviderKind,
    home: Place,
    places: Sequence[Place],
    districts: Sequence[District],
    used: set[str],
) -> PlannedProvider:
    name, first = _name(rng, kind, home, used)
    remote = home.six_fold in (UrbanRural6.REMOTE_SMALL_TOWN, UrbanRural6.REMOTE_RURAL)
    holds_isf = rng.random() < ISF_SHARE.get(kind, 0.0)
    drives = rng.random() < (
        0.95 if remote else 0.7 if kind == ProviderKind.PERSONAL_ASSISTANT else 0.85
    )
    employment = None
    if kind == ProviderKind.PERSONAL_ASSISTANT:
        employment = Employment.SELF_EMPLOYED if rng.random() < 0.6 else Employment.EMPLOYED
    languages = ["English"]
    if rng.random() < (0.35 if home.council in GAELIC_COUNCILS else 0.02):
        languages.append("Gaelic")
    if rng.random() < 0.03:
        languages.append("British Sign Language")
    if home.population >= 10_000 and rng.random() < 0.1:
        languages.append(rng.choice(OTHER_LANGUAGES))
    slug = _slug(name)
    if kind == ProviderKind.PERSONAL_ASSISTANT:
        email = f"{slug.replace('-', '.')}@example.org"
        phone = f"07700 900{rng.randrange(1000):03d}"
        website = None
    else:
        email = f"hello@{slug}.example.org"
        area_code = "0141 496 0" if home.longitude < -3.9 and home.latitude < 56.1 else "0131 496 0"
        phone = (
            area_code if home.population >= 10_000 else "01632 960"
        ) + f"{rng.randrange(1000):03d}"
        website = f"https://{slug}.example.org" if rng.random() < 0.6 else None
    offer_count = rng.choice(OFFERS_PER_PROVIDER[kind])
    kinds_of_support = _choose_kinds(rng, kind, offer_count)
    offers = tuple(
        _plan_offer(
            rng,
            kind=kind,
            support=support,
            home=home,
            places=places,
            holds_isf=holds_isf,
            drives=drives,
            employment=employment,
        )
        for support in kinds_of_support
    )
    groups = sorted({g for offer in offers for g in offer.client_groups})
    return PlannedProvider(
        name=name,
        kind=kind,
        base=home.label,
        centre=_centre(rng, home, districts),
        about=_about(rng, kind, home, first, groups, holds_isf, drives),
        holds_isf=holds_isf,
        contact_email=email,
        phone=phone,
        website=website,
        drives=drives,
        employment=employment,
        languages=tuple(languages),
        checks=_plan_checks(rng, kind, employment, offers),
        offers=offers,
    )


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.replace("'", "")).strip("-")


def _name(rng: random.Random, kind: ProviderKind, home: Place, used: set[str]) -> tuple[str, str]:
    """A made-up name nobody in the plan has yet, and the first name for a person's."""
    for attempt in itertools.count():
        first, surname, surname2 = (
            rng.choice(FIRST_NAMES),
            rng.choice(SURNAMES),
            rng.choice(SURNAMES),
        )
        if kind == ProviderKind.PERSONAL_ASSISTANT:
            name = f"{first} {surname}"
        else:
            pattern = rng.choice(ORGANISATION_NAMES[kind])
            name = pattern.format(place=home.name, surname=surname, surname2=surname2)
            if attempt > 10:  # a busy city has used its patterns: name the people behind it
                name = f"{home.name} {surname} {pattern.rsplit(' ', 1)[-1]}"
        if name not in used and surname != surname2:
            used.add(name)
            return name, first
    raise AssertionError("unreachable")


def _centre(rng: random.Random, home: Place, districts: Sequence[District]) -> str | None:
    if home.population < 10_000 or not districts:
        return None
    # A town's providers are spread over it: the postcode district nearest a point drawn
    # around its centre, as in GEOGRAPHY.md section 3. The base stays the town itself, as
    # the nearest settlement to a city's outer district can be a village on its edge.
    sigma_km = 1.5 + 4 * math.sqrt(home.population / 600_000)
    latitude = home.latitude + rng.gauss(0, sigma_km) / 111.2
    longitude = home.longitude + rng.gauss(0, sigma_km) / (
        111.2 * math.cos(math.radians(home.latitude))
    )
    nearest = min(
        districts, key=lambda d: haversine_km(latitude, longitude, d.latitude, d.longitude)
    )
    return nearest.code


def _choose_kinds(rng: random.Random, kind: ProviderKind, count: int) -> list[str]:
    weights = dict(KINDS_OF_SUPPORT[kind])
    chosen = []
    for _ in range(min(count, len(weights))):
        pick = rng.choices(list(weights), weights=list(weights.values()))[0]
        chosen.append(pick)
        del weights[pick]
    return chosen


def _plan_offer(
    rng: random.Random,
    *,
    kind: ProviderKind,
    support: str,
    home: Place,
    places: Sequence[Place],
    holds_isf: bool,
    drives: bool,
    employment: Employment | None,
) -> PlannedOffer:
    template = TEMPLATES[support]
    kinds: tuple[str, ...] = (support,)
    partners = [p for p in template.partners if p in KINDS_OF_SUPPORT[kind]]
    if partners and rng.random() < 0.35:
        kinds += (rng.choice(partners),)
    outcomes = tuple(sorted(rng.sample(template.outcomes, rng.randint(1, len(template.outcomes)))))
    groups = tuple(sorted(rng.sample(template.client_groups, rng.randint(1, 3))))
    low, high = RADIUS_KM[home.six_fold]
    radius = rng.randint(low, high)
    area_type, own_council = AreaType.RADIUS, False
    settlement_ids: tuple[int, ...] = ()
    if kind == ProviderKind.COMMUNITY_GROUP and rng.random() < 0.7:
        # A village group names the places it serves: its own and its nearest neighbours.
        nearby = sorted(
            (haversine_km(home.latitude, home.longitude, p.latitude, p.longitude), p.id)
            for p in places
            if p.population > 0
        )
        area_type = AreaType.SETTLEMENTS
        settlement_ids = tuple(
            sorted(pid for km, pid in nearby[: rng.randint(1, 6)] if km <= radius)
        )
    elif (
        kind == ProviderKind.REGISTERED_PROVIDER
        and home.urban_rural_8 == UrbanRural8.LARGE_URBAN
        and rng.random() < 0.4
    ):
        # Only the four cities' councils are covered whole: they are compact and urban.
        area_type, own_council = AreaType.COUNCILS, True
    if area_type == AreaType.SETTLEMENTS and not settlement_ids:
        settlement_ids = (home.id,)
    stale = rng.random() < STALE_SHARE
    capacity_age = rng.randint(31, 150) if stale else rng.randint(0, 29)
    status = rng.choices(
        (OfferStatus.PUBLISHED, OfferStatus.PAUSED, OfferStatus.DRAFT), weights=(86, 6, 8)
    )[0]
    capacity = {
        ProviderKind.PERSONAL_ASSISTANT: (4, 30),
        ProviderKind.MICRO_PROVIDER: (10, 80),
        ProviderKind.COMMUNITY_GROUP: (6, 40),
        ProviderKind.REGISTERED_PROVIDER: (20, 300),
    }[kind]
    price: PriceDetails | None = _plan_price(
        rng,
        kind=kind,
        template=template,
        home=home,
        holds_isf=holds_isf,
        drives=drives,
        employment=employment,
        support=support,
    )
    if status == OfferStatus.DRAFT and rng.random() < 0.5:
        price = None  # a draft is often half written: the price comes last
    hourly = price is not None and price.unit == PriceUnit.HOUR
    minimum_booking = rng.choice((30, 60, 60, 120, None)) if hourly else None
    return PlannedOffer(
        title=rng.choice(template.titles).format(place=home.name),
        description=template.description,
        kinds=kinds,
        outcomes=outcomes,
        client_groups=groups,
        area_type=area_type,
        radius_km=radius if area_type == AreaType.RADIUS else None,
        own_council=own_council,
        settlement_ids=settlement_ids,
        availability=_availability(rng, template.when),
        capacity_hours=0 if rng.random() < 0.04 else rng.randint(*capacity),
        capacity_age_days=capacity_age,
        listed_days_ago=capacity_age + rng.randint(0, 300),
        typical_week_hours=template.typical_week_hours,
        price=price,
        status=status,
        minimum_booking_minutes=minimum_booking,
    )


def _plan_price(
    rng: random.Random,
    *,
    kind: ProviderKind,
    template: OfferTemplate,
    home: Place,
    holds_isf: bool,
    drives: bool,
    employment: Employment | None,
    support: str,
) -> PriceDetails:
    is_pa = kind == ProviderKind.PERSONAL_ASSISTANT
    low, high = PA_HOURLY_PENCE if is_pa else ORGANISATION_HOURLY_PENCE
    hourly = rng.randrange(low, high + 1, 25 if is_pa else 5)
    unit, minutes, rate, included = template.unit, None, hourly, "Support time."
    if unit == PriceUnit.SESSION and is_pa:
        unit = PriceUnit.HOUR  # personal assistants mostly charge by the hour
    if unit == PriceUnit.SESSION:
        minutes = rng.choice((120, 150, 180, 240))
        rate, included = hourly * minutes // 60, "The session, activities and a cup of tea."
    elif unit == PriceUnit.DAY:
        minutes = rng.choice((360, 420, 480))
        rate, included = (
            hourly * minutes // 60,
            "The day's support; entry fees and meals are extra.",
        )
    elif unit == PriceUnit.NIGHT:
        minutes = 600
        if rng.random() < 0.6:
            # A sleepover is paid as a flat rate: the worker sleeps unless needed.
            rate = rng.randrange(9000, 13001, 500) if is_pa else rng.randrange(12000, 18001, 500)
            included = "A sleepover, 10pm to 8am, woken if you need help."
        else:
            rate, included = hourly * minutes // 60, "A waking night, 10pm to 8am."
    evening = (
        rng.randrange(1000, 2501, 250) if unit != PriceUnit.NIGHT and rng.random() < 0.35 else 0
    )
    weekend = rng.randrange(1000, 5001, 500) if rng.random() < 0.45 else 0
    holiday = rng.choice((5000, 10000)) if rng.random() < 0.3 else 0
    travel, travel_pence = TravelCharge.NONE, 0
    rural = home.six_fold not in (UrbanRural6.LARGE_URBAN, UrbanRural6.OTHER_URBAN)
    if (
        is_pa
        and drives
        and employment == Employment.SELF_EMPLOYED
        and (support == "getting-out-and-about" or rng.random() < 0.3)
    ):
        travel, travel_pence = TravelCharge.PER_MILE, rng.choice((40, 45, 45, 50))
        included += " Mileage on outings is charged per mile."
    elif not is_pa and rural and rng.random() < 0.4:
        travel, travel_pence = TravelCharge.PER_VISIT, rng.randrange(300, 801, 50)
        included += " A travel charge per visit covers the distances here."
    fee_bp = fee_fixed = fee_period = None
    if holds_isf:
        if rng.random() < 0.75:
            fee_bp = rng.randrange(500, 1201, 50)
        else:
            fee_fixed, fee_period = rng.randrange(3500, 7501, 500), FeePeriod.MONTH
    return PriceDetails(
        unit=unit,
        rate_pence=rate,
        unit_minutes=minutes,
        evening_uplift_bp=evening,
        weekend_uplift_bp=weekend,
        public_holiday_uplift_bp=holiday,
        travel_charge=travel,
        travel_charge_pence=travel_pence,
        included=included,
        management_fee_bp=fee_bp,
        management_fee_fixed_pence=fee_fixed,
        management_fee_period=fee_period,
    )


MORNING, AFTERNOON, EVENING, NIGHT = range(4)
WEEKDAYS, WEEK = tuple(range(5)), tuple(range(7))


def _availability(rng: random.Random, when: str) -> int:
    """A 28-bit availability mask (providers.models.availability_bit) of a plausible shape."""
    if when == "care":
        days = WEEK if rng.random() < 0.6 else WEEKDAYS
        periods = (MORNING, EVENING) + ((AFTERNOON,) if rng.random() < 0.5 else ())
    elif when == "night":
        days = WEEK if rng.random() < 0.5 else tuple(sorted(rng.sample(WEEK, rng.randint(3, 5))))
        periods = (NIGHT,)
    elif when == "session":
        days = tuple(sorted(rng.sample(WEEK[:6], rng.randint(1, 3))))
        periods = (rng.choice((MORNING, AFTERNOON, AFTERNOON, EVENING)),)
    else:
        days = (
            WEEKDAYS if rng.random() < 0.5 else tuple(sorted(rng.sample(WEEK, rng.randint(3, 5))))
        )
        periods = (MORNING, AFTERNOON)
    return sum(availability_bit(day, period) for day in days for period in periods)


def _about(
    rng: random.Random,
    kind: ProviderKind,
    home: Place,
    first: str,
    groups: list[str],
    holds_isf: bool,
    drives: bool,
) -> str:
    names = [_client_group_names()[code].lower() for code in groups[:3]]
    who = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names) or "adults"
    if kind == ProviderKind.PERSONAL_ASSISTANT:
        years = rng.randint(1, 15)
        car = "I drive and have my own car." if drives else "I do not drive, so I travel by bus."
        return (
            f"I'm {first}, a personal assistant living in {home.name}. I have spent "
            f"{years} year{'s' if years > 1 else ''} supporting {who}. {car}"
        )
    since = rng.randint(1990, 2023)
    what = {
        ProviderKind.MICRO_PROVIDER: "a small local care business",
        ProviderKind.COMMUNITY_GROUP: "a community group of local "
        "volunteers with a paid coordinator",
        ProviderKind.REGISTERED_PROVIDER: "a care provider registered with the Care Inspectorate",
    }[kind]
    isf = (
        (
            " We can hold an individual service fund (Option 2) for you: we manage the money "
            "and the paperwork and show you what has been spent."
        )
        if holds_isf
        else ""
    )
    return f"We are {what} in {home.name}, supporting {who} since {since}.{isf}"


@functools.cache
def _client_group_names() -> dict[str, str]:
    """Client groups' names, from the same data file the taxonomy is loaded from."""
    data = json.loads(TAXONOMIES_JSON.read_text())
    return {item["code"]: item["name"] for item in data[Taxonomy.CLIENT_GROUP.value]}


def _plan_checks(
    rng: random.Random,
    kind: ProviderKind,
    employment: Employment | None,
    offers: tuple[PlannedOffer, ...],
) -> tuple[PlannedCheck, ...]:
    checks: list[PlannedCheck] = []

    def add(
        check_kind: CheckKind,
        reference: str,
        *,
        issuer: str | None = None,
        grades: dict[str, int] | None = None,
        cover_pence: int | None = None,
        expires_in_days: int | None = None,
    ) -> None:
        checks.append(
            PlannedCheck(
                check_kind,
                reference,
                issuer=issuer,
                grades=grades,
                cover_pence=cover_pence,
                expires_in_days=expires_in_days,
                verified=rng.random() < VERIFIED_SHARE,
            )
        )

    # Care at home must be registered, so micro-providers giving personal care mostly are;
    # a newly registered service may not have been graded yet.
    registered = kind == ProviderKind.REGISTERED_PROVIDER
    cares = any(k in ("personal-care", "overnight-support") for o in offers for k in o.kinds)
    if registered or (kind == ProviderKind.MICRO_PROVIDER and cares and rng.random() < 0.7):
        graded = rng.random() < (0.85 if registered else 0.5)
        themes = sorted(rng.sample(CARE_INSPECTORATE_THEMES, rng.randint(2, 5))) if graded else []
        grades = {
            t: rng.choices((1, 2, 3, 4, 5, 6), weights=(1, 4, 15, 35, 35, 10))[0] for t in themes
        }
        add(
            CheckKind.CARE_INSPECTORATE,
            f"CS{rng.randint(2004, 2023)}{rng.randrange(10**6):06d}",
            grades=grades or None,
        )
    # PVG is a person's: a personal assistant's own, or a small organisation's lead worker's.
    pvg_share = {
        ProviderKind.PERSONAL_ASSISTANT: 1.0,
        ProviderKind.MICRO_PROVIDER: 0.7,
        ProviderKind.COMMUNITY_GROUP: 0.5,
    }.get(kind, 0.0)
    if rng.random() < pvg_share:
        add(CheckKind.PVG, str(rng.randrange(10**15, 10**16)))
    insured = 0.15 if employment == Employment.EMPLOYED else 0.9
    if kind != ProviderKind.PERSONAL_ASSISTANT or rng.random() < insured:
        millions = rng.choice((5, 10)) if registered else rng.choice((1, 2, 5))
        add(
            CheckKind.INSURANCE,
            f"PL-{rng.randrange(10**6, 10**7)}",
            issuer=rng.choice(INSURERS),
            cover_pence=millions * 100_000_000,
            expires_in_days=rng.randint(10, 365),
        )
    if kind == ProviderKind.PERSONAL_ASSISTANT and rng.random() < 0.6:
        course, lasts = rng.choice(TRAINING)
        add(CheckKind.TRAINING, course, expires_in_days=rng.randint(30, lasts) if lasts else None)
    return tuple(checks)


# The demo accounts' own listings, written by hand so the journeys have something known.


def _glen_care_plan() -> PlannedProvider:
    weekdays_and_saturday = sum(
        availability_bit(d, p) for d in range(6) for p in (MORNING, AFTERNOON)
    )
    care_times = sum(availability_bit(d, p) for d in WEEK for p in (MORNING, EVENING))
    return PlannedProvider(
        name="Glen Care Co-operative",
        kind=ProviderKind.MICRO_PROVIDER,
        base="Drumnadrochit",
        centre=None,
        about=(
            "A co-operative of eight care workers who live in Glen Urquhart and along Loch Ness. "
            "We hold individual service funds (Option 2) for the people we support: we manage "
            "the money and the paperwork, and you see every penny."
        ),
        holds_isf=True,
        contact_email="hello@glencare.example.org",
        phone="01632 960412",
        website="https://glencare.example.org",
        drives=True,
        employment=None,
        languages=("English", "Gaelic"),
        checks=(
            PlannedCheck(
                CheckKind.CARE_INSPECTORATE,
                "CS2019300042",
                verified=True,
                grades={
                    CARE_INSPECTORATE_THEMES[0]: 5,
                    CARE_INSPECTORATE_THEMES[2]: 5,
                    CARE_INSPECTORATE_THEMES[4]: 4,
                },
            ),
            PlannedCheck(
                CheckKind.INSURANCE,
                "PL-4471902",
                issuer="Cairnwell Assurance",
                cover_pence=500_000_000,
                expires_in_days=240,
                verified=True,
            ),
            PlannedCheck(CheckKind.TRAINING, "Moving and handling", expires_in_days=200),
        ),
        offers=(
            PlannedOffer(
                title="Care at home around Loch Ness",
                description=TEMPLATES["personal-care"].description,
                kinds=("personal-care", "help-at-home"),
                outcomes=("feeling-safe", "living-where-you-want", "staying-well"),
                client_groups=("dementia", "older-people", "physical-disabilities"),
                area_type=AreaType.RADIUS,
                radius_km=30,
                availability=care_times,
                capacity_hours=24,
                capacity_age_days=3,
                listed_days_ago=200,
                typical_week_hours=10,
                status=OfferStatus.PUBLISHED,
                minimum_booking_minutes=30,
                price=PriceDetails(
                    unit=PriceUnit.HOUR,
                    rate_pence=2460,
                    evening_uplift_bp=1500,
                    weekend_uplift_bp=2500,
                    public_holiday_uplift_bp=10000,
                    travel_charge=TravelCharge.PER_VISIT,
                    travel_charge_pence=400,
                    included="Care worker time; a travel charge per visit.",
                    management_fee_bp=800,
                ),
            ),
            PlannedOffer(
                title="Days out and community life in the Great Glen",
                description=TEMPLATES["social-and-community"].description,
                kinds=("social-and-community", "getting-out-and-about"),
                outcomes=("having-things-to-do", "seeing-people"),
                client_groups=("learning-disabilities", "mental-health", "older-people"),
                area_type=AreaType.RADIUS,
                radius_km=35,
                availability=weekdays_and_saturday,
                capacity_hours=16,
                capacity_age_days=45,
                listed_days_ago=320,
                typical_week_hours=8,
                status=OfferStatus.PUBLISHED,
                price=PriceDetails(
                    unit=PriceUnit.SESSION,
                    rate_pence=9800,
                    unit_minutes=240,
                    weekend_uplift_bp=1500,
                    included="Four hours out, with transport in our minibus.",
                    management_fee_bp=800,
                ),
            ),
            PlannedOffer(
                title="Overnight support in Glen Urquhart",
                description=TEMPLATES["overnight-support"].description,
                kinds=("overnight-support",),
                outcomes=("feeling-safe",),
                client_groups=("dementia",),
                area_type=AreaType.RADIUS,
                radius_km=20,
                availability=0,
                capacity_hours=0,
                capacity_age_days=1,
                listed_days_ago=1,
                typical_week_hours=30,
                price=None,
                status=OfferStatus.DRAFT,
            ),
        ),
    )


def _demo_pa_plan(name: str) -> PlannedProvider:
    return PlannedProvider(
        name=name,
        kind=ProviderKind.PERSONAL_ASSISTANT,
        base="Portree",
        centre=None,
        about=(
            "I'm Ewan, a personal assistant in Portree. I have supported older people and people "
            "with physical disabilities across north Skye "
            "for six years. I drive, and I speak Gaelic."
        ),
        holds_isf=False,
        contact_email="pa@example.org",
        phone="07700 900318",
        website=None,
        drives=True,
        employment=Employment.SELF_EMPLOYED,
        languages=("English", "Gaelic"),
        checks=(
            PlannedCheck(CheckKind.PVG, "1402558813920471", verified=True),
            PlannedCheck(
                CheckKind.INSURANCE,
                "PL-2290417",
                issuer="Bothy Mutual Insurance",
                cover_pence=200_000_000,
                expires_in_days=150,
            ),
            PlannedCheck(
                CheckKind.TRAINING, "First aid at work", expires_in_days=700, verified=True
            ),
        ),
        offers=(
            PlannedOffer(
                title="Personal assistant in Portree and north Skye",
                description=(
                    "Personal care, help to get out and about and company, from someone "
                    "local who speaks Gaelic."
                ),
                kinds=("personal-care", "getting-out-and-about", "social-and-community"),
                outcomes=("feeling-safe", "having-things-to-do", "seeing-people", "staying-well"),
                client_groups=("older-people", "physical-disabilities"),
                area_type=AreaType.RADIUS,
                radius_km=25,
                availability=sum(
                    availability_bit(d, p) for d in WEEKDAYS for p in (MORNING, AFTERNOON)
                )
                + availability_bit(5, MORNING),
                capacity_hours=12,
                capacity_age_days=6,
                listed_days_ago=90,
                typical_week_hours=10,
                status=OfferStatus.PUBLISHED,
                minimum_booking_minutes=60,
                price=PriceDetails(
                    unit=PriceUnit.HOUR,
                    rate_pence=1850,
                    weekend_uplift_bp=2000,
                    travel_charge=TravelCharge.PER_MILE,
                    travel_charge_pence=45,
                    included="My time; mileage on outings at 45p a mile.",
                ),
            ),
        ),
    )


# Writing: through the services, as a provider (or for generated listings, the demo
# administrator entering them) would.
