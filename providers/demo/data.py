"""The demo market's fixed choices: seed, weights, ranges, names and offer templates."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.geography.classify import UrbanRural6, UrbanRural8
from providers.models import (
    PriceUnit,
    ProviderKind,
)

DEMO_SEED = 20260114
GENERATED_PROVIDERS = 300

HOME_WEIGHT = {
    UrbanRural8.LARGE_URBAN: 1.0,
    UrbanRural8.OTHER_URBAN: 1.0,
    UrbanRural8.ACCESSIBLE_SMALL_TOWN: 0.7,
    UrbanRural8.REMOTE_SMALL_TOWN: 0.4,
    UrbanRural8.VERY_REMOTE_SMALL_TOWN: 0.25,
    UrbanRural8.ACCESSIBLE_RURAL: 0.6,
    UrbanRural8.REMOTE_RURAL: 0.25,
    UrbanRural8.VERY_REMOTE_RURAL: 0.12,
}
"""Per head of population, how likely a provider is to be based in a place of each class."""
RADIUS_KM = {
    UrbanRural6.LARGE_URBAN: (5, 15),
    UrbanRural6.OTHER_URBAN: (5, 15),
    UrbanRural6.ACCESSIBLE_SMALL_TOWN: (10, 25),
    UrbanRural6.ACCESSIBLE_RURAL: (10, 25),
    UrbanRural6.REMOTE_SMALL_TOWN: (20, 40),
    UrbanRural6.REMOTE_RURAL: (20, 40),
}
KIND_WEIGHTS = {
    ProviderKind.PERSONAL_ASSISTANT: 62,
    ProviderKind.MICRO_PROVIDER: 18,
    ProviderKind.COMMUNITY_GROUP: 8,
    ProviderKind.REGISTERED_PROVIDER: 12,
}
OFFERS_PER_PROVIDER = {
    ProviderKind.PERSONAL_ASSISTANT: (1, 1, 1, 1, 2),
    ProviderKind.MICRO_PROVIDER: (1, 2, 2, 3),
    ProviderKind.COMMUNITY_GROUP: (1, 1, 2),
    ProviderKind.REGISTERED_PROVIDER: (2, 3, 3, 4),
}
ISF_SHARE = {
    ProviderKind.MICRO_PROVIDER: 0.25,
    ProviderKind.COMMUNITY_GROUP: 0.1,
    ProviderKind.REGISTERED_PROVIDER: 0.6,
}
PA_HOURLY_PENCE = (1500, 2200)
ORGANISATION_HOURLY_PENCE = (2000, 3200)
MIN_DISTRICT_POSTCODES = 50
"""Districts with fewer postcodes are mostly PO box and large-user ones (EH95, G79, AB99,
G90), whose middle is no place anybody lives; the few villages among them lose nothing,
as only towns of 10,000+ use districts."""
STALE_SHARE = 0.3
"""Share of offers whose capacity was last confirmed more than 30 days ago."""
VERIFIED_SHARE = 0.65

# The demo accounts' first names (Morag, Isla, Ewan...) are left out, so no generated
# personal assistant shares a name with one of them.
FIRST_NAMES = (
    "Morven",
    "Catriona",
    "Mhairi",
    "Shona",
    "Rhona",
    "Ailsa",
    "Iona",
    "Elspeth",
    "Ishbel",
    "Seonaid",
    "Lorna",
    "Heather",
    "Gillian",
    "Agnes",
    "Effie",
    "Jean",
    "Marion",
    "Kirsteen",
    "Flora",
    "Annie",
    "Sorcha",
    "Aisha",
    "Agnieszka",
    "Priya",
    "Hamish",
    "Angus",
    "Struan",
    "Calum",
    "Finlay",
    "Lachlan",
    "Murdo",
    "Iain",
    "Duncan",
    "Gregor",
    "Niall",
    "Douglas",
    "Graeme",
    "Kenneth",
    "Donald",
    "Archie",
    "Rory",
    "Euan",
    "Ross",
    "Malcolm",
    "Torquil",
    "Fergus",
    "Innes",
    "Imran",
    "Tomasz",
)
SURNAMES = (
    "MacDonald",
    "Campbell",
    "Robertson",
    "Mackenzie",
    "Mackay",
    "Ross",
    "Sinclair",
    "Henderson",
    "Ferguson",
    "Morrison",
    "Murray",
    "Reid",
    "Kerr",
    "Gray",
    "Hamilton",
    "Cameron",
    "Buchanan",
    "Gunn",
    "Matheson",
    "Macrae",
    "Maclean",
    "Macintyre",
    "Macaulay",
    "Macphail",
    "Wallace",
    "Baird",
    "Dunbar",
    "Galbraith",
    "Urquhart",
    "Kennedy",
    "Shearer",
    "Laing",
    "Rennie",
    "Tulloch",
    "Flett",
    "Rendall",
    "Isbister",
    "Johnston",
    "Thomson",
    "Wilson",
    "Nicolson",
    "Mathieson",
    "Lamont",
    "Bain",
    "Chalmers",
)
ORGANISATION_NAMES = {
    ProviderKind.MICRO_PROVIDER: (
        "{place} Community Care",
        "{place} Home Support Team",
        "{place} Care Collective",
        "{surname} Family Support",
        "{place} Companions",
        "{surname} and {surname2} Care",
    ),
    ProviderKind.COMMUNITY_GROUP: (
        "{place} Befriending Circle",
        "{place} Carers' Circle",
        "{place} Get-Together Club",
        "{place} Community Lifts",
        "{place} Friendship Café",
        "{place} Day Club",
    ),
    ProviderKind.REGISTERED_PROVIDER: (
        "{place} Care Services",
        "{place} Care at Home",
        "{place} Support Services",
        "{surname} Care Group",
        "{place} and District Care",
        "{place} Supported Living",
    ),
}
INSURERS = (
    "Bothy Mutual Insurance",
    "Cairnwell Assurance",
    "Kelpie Liability Underwriters",
    "Saltire Glen Insurance",
)
TRAINING = (
    ("First aid at work", 3 * 365),
    ("Moving and handling", 365),
    ("Medication awareness", None),
    ("SVQ Social Services and Healthcare Level 3", None),
)
OTHER_LANGUAGES = ("Polish", "Urdu", "Punjabi", "Arabic", "Scots")
GAELIC_COUNCILS = ("Highland", "Na h-Eileanan Siar", "Argyll and Bute")


@dataclass(frozen=True)
class OfferTemplate:
    """How one kind of support is usually offered."""

    titles: tuple[str, ...]
    description: str
    outcomes: tuple[str, ...]
    client_groups: tuple[str, ...]
    partners: tuple[str, ...]
    """Kinds of support often offered with it."""
    when: str
    """care (mornings and evenings), day, session or night: the shape of its availability."""
    unit: PriceUnit
    typical_week_hours: int


TEMPLATES = {
    "personal-care": OfferTemplate(
        (
            "Personal care at home in {place}",
            "Care at home around {place}",
            "Morning and evening care, {place}",
        ),
        "Help with getting up, washing, dressing, meals and medicines, at the times that suit you, "
        "from people you get to know.",
        ("feeling-safe", "staying-well", "living-where-you-want"),
        (
            "older-people",
            "dementia",
            "physical-disabilities",
            "long-term-conditions",
            "end-of-life",
        ),
        ("help-at-home", "overnight-support"),
        "care",
        PriceUnit.HOUR,
        10,
    ),
    "help-at-home": OfferTemplate(
        ("Help around the house in {place}", "Shopping, cooking and cleaning, {place}"),
        "Help to run your home your way: shopping, cooking, cleaning and keeping on top of "
        "letters and bills.",
        ("living-where-you-want", "staying-well"),
        ("older-people", "physical-disabilities", "sensory-impairment", "mental-health"),
        ("getting-out-and-about",),
        "day",
        PriceUnit.HOUR,
        4,
    ),
    "social-and-community": OfferTemplate(
        (
            "Out and about in {place}",
            "Clubs, classes and company, {place}",
            "Community life in {place}",
        ),
        "Company and support to do the things you enjoy and to meet people: clubs, classes, walks, "
        "the football, the library.",
        ("having-things-to-do", "seeing-people", "dealing-with-stigma"),
        ("learning-disabilities", "autistic-people", "mental-health", "older-people"),
        ("getting-out-and-about",),
        "session",
        PriceUnit.SESSION,
        6,
    ),
    "short-breaks": OfferTemplate(
        ("Short breaks from {place}", "Days out and short breaks, {place}"),
        "A day out or a break away for you, and time off for the people who care for you.",
        ("having-things-to-do", "staying-well", "seeing-people"),
        ("learning-disabilities", "older-people", "children-and-families", "unpaid-carers"),
        ("support-for-carers",),
        "day",
        PriceUnit.DAY,
        8,
    ),
    "employment-learning-volunteering": OfferTemplate(
        ("Into work and volunteering, {place}", "Learning and work support in {place}"),
        "Support to find and keep a job, a course or a volunteering place, and to travel there.",
        ("having-things-to-do", "dealing-with-stigma"),
        ("learning-disabilities", "autistic-people", "mental-health", "drugs-and-alcohol"),
        ("social-and-community",),
        "session",
        PriceUnit.SESSION,
        6,
    ),
    "housing-support": OfferTemplate(
        ("Housing support in {place}", "Keeping your home, {place}"),
        "Help to keep your tenancy: bills, letters, repairs, neighbours and getting settled in.",
        ("living-where-you-want", "feeling-safe"),
        ("mental-health", "learning-disabilities", "drugs-and-alcohol"),
        ("help-at-home",),
        "day",
        PriceUnit.HOUR,
        5,
    ),
    "getting-out-and-about": OfferTemplate(
        ("Lifts and outings from {place}", "Getting out and about, {place}"),
        "A lift and a hand to appointments, the shops, "
        "friends and family, and the things you enjoy.",
        ("seeing-people", "having-things-to-do", "staying-well"),
        ("older-people", "physical-disabilities", "sensory-impairment"),
        ("social-and-community",),
        "day",
        PriceUnit.HOUR,
        4,
    ),
    "overnight-support": OfferTemplate(
        ("Overnight support in {place}", "Sleepovers and waking nights, {place}"),
        "Someone in the house overnight, asleep unless "
        "you need them, so you and your family feel safe.",
        ("feeling-safe", "living-where-you-want"),
        ("learning-disabilities", "dementia", "physical-disabilities", "end-of-life"),
        ("personal-care",),
        "night",
        PriceUnit.NIGHT,
        30,
    ),
    "support-for-carers": OfferTemplate(
        ("Time for carers, {place}", "Carers' sitting service, {place}"),
        "Someone to sit with the person you care for, so you can have time for yourself.",
        ("staying-well", "seeing-people"),
        ("unpaid-carers", "dementia", "older-people"),
        ("short-breaks",),
        "session",
        PriceUnit.SESSION,
        4,
    ),
    "equipment-and-technology": OfferTemplate(
        ("Technology at home, {place}", "Telecare and gadgets set up, {place}"),
        "Setting up and showing you how to use alarms, reminders, tablets and video calls.",
        ("feeling-safe", "living-where-you-want", "seeing-people"),
        ("older-people", "sensory-impairment", "dementia"),
        ("help-at-home",),
        "day",
        PriceUnit.HOUR,
        2,
    ),
}
KINDS_OF_SUPPORT = {
    ProviderKind.PERSONAL_ASSISTANT: {
        "personal-care": 30,
        "help-at-home": 15,
        "social-and-community": 20,
        "getting-out-and-about": 15,
        "overnight-support": 8,
        "short-breaks": 5,
        "employment-learning-volunteering": 4,
        "support-for-carers": 3,
    },
    ProviderKind.MICRO_PROVIDER: {
        "personal-care": 25,
        "help-at-home": 15,
        "social-and-community": 15,
        "getting-out-and-about": 10,
        "overnight-support": 8,
        "short-breaks": 10,
        "support-for-carers": 7,
        "employment-learning-volunteering": 7,
        "equipment-and-technology": 3,
    },
    ProviderKind.COMMUNITY_GROUP: {
        "social-and-community": 35,
        "support-for-carers": 20,
        "getting-out-and-about": 20,
        "employment-learning-volunteering": 15,
        "short-breaks": 10,
    },
    ProviderKind.REGISTERED_PROVIDER: {
        "personal-care": 35,
        "overnight-support": 15,
        "housing-support": 15,
        "short-breaks": 10,
        "help-at-home": 10,
        "employment-learning-volunteering": 5,
        "social-and-community": 5,
        "equipment-and-technology": 5,
    },
}
