"""Forms for providers' pages, parsed into the shapes the services take."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from marketplace.forms import (
    SEVERAL,
    Choices,
    Email,
    Form,
    OptionalEmail,
    OptionalHours,
    OptionalPercent,
    OptionalPounds,
    OptionalWholeNumber,
    Text,
    required,
)
from marketplace.parsing import ascii_whole_number, one_line
from providers.models import (
    DAYS,
    PERIODS,
    AreaType,
    CapacityUnit,
    CheckKind,
    Employment,
    FeePeriod,
    PriceUnit,
    ProviderKind,
    TravelCharge,
    availability_bit,
)


def availability_mask(values: list[str]) -> int:
    """Ticked boxes named 'day-period' (0-0 is Monday morning) -> the availability mask."""
    mask = 0
    for value in values:
        if not isinstance(value, str):  # a JSON body may send anything: a number, a list
            raise ValueError("Choose from the days and times given")
        day_text, _, period_text = value.partition("-")
        day = ascii_whole_number(day_text, low=0, high=len(DAYS) - 1)
        period = ascii_whole_number(period_text, low=0, high=len(PERIODS) - 1)
        if day is None or period is None:
            raise ValueError("Choose from the days and times given")
        mask |= availability_bit(day, period)
    return mask


def availability_values(mask: int) -> list[str]:
    """The ticked boxes for a mask, to show a form again."""
    return [
        f"{d}-{p}"
        for d in range(len(DAYS))
        for p in range(len(PERIODS))
        if mask & availability_bit(d, p)
    ]


def _yes_no(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(str(value or ""))


Availability = Annotated[
    int,
    BeforeValidator(lambda v: availability_mask(v if isinstance(v, list) else ([v] if v else []))),
    SEVERAL,
]
YesNo = Annotated[bool | None, BeforeValidator(_yes_no)]


def _positive(message: str) -> Any:
    def check(value: int | None) -> int | None:
        if value is None or value <= 0:
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _distance() -> Any:
    """How far someone travels: blank and 0 or less get messages that say what to enter."""

    def check(value: int | None) -> int:
        if value is None:
            raise ValueError("Enter how far you will travel, in km")
        if value <= 0:
            raise ValueError("Enter a distance of 1 km or more")
        return value

    return AfterValidator(check)


class ProviderSignUpForm(Form):
    messages = {"kind": "Choose what kind of organisation it is"}

    organisation_name: Annotated[
        str, one_line("the organisation's name"), required("Enter your organisation's name")
    ] = ""
    kind: ProviderKind
    name: Annotated[str, one_line("your name"), required("Enter your full name")] = ""
    email: Email = ""
    password: str = ""


class ListingForm(Form):
    """A personal assistant's first listing: their profile and one offer, in one page."""

    messages = {"drives": "Say whether you drive"}

    about: Annotated[Text, required("Tell people a little about yourself")] = ""
    base: Annotated[str, one_line("where you are based"), required("Enter where you are based")] = (
        ""
    )
    radius_km: Annotated[OptionalWholeNumber, _distance()] = None
    drives: YesNo = None
    languages: Choices = []
    other_languages: Annotated[str, one_line("the other languages")] = ""
    kinds_of_support: Annotated[
        Choices, AfterValidator(lambda v: v or _fail("Choose at least one kind of support"))
    ] = []
    outcomes: Annotated[
        Choices, AfterValidator(lambda v: v or _fail("Choose at least one thing you help with"))
    ] = []
    client_groups: Choices = []
    """Who the offer suits, so searches for them find it (optional)."""
    title: Annotated[
        Text, required("Enter a title for your offer, like 'Help at home around Portree'")
    ] = ""
    rate: Annotated[OptionalPounds, _positive("Enter your hourly rate, like 18.50")] = None
    availability: Annotated[
        Availability, AfterValidator(lambda v: v or _fail("Tick when you are available"))
    ] = 0
    capacity_hours: Annotated[
        OptionalWholeNumber, _positive("Enter how many hours a week you can take on")
    ] = None


def _fail(message: str) -> Any:
    raise ValueError(message)


class ProfileForm(Form):
    name: Annotated[str, one_line("the name"), required("Enter the name people will see")] = ""
    about: Text = ""
    base: Annotated[str, one_line("where you are based")] = ""
    holds_isf: YesNo = None
    contact_email: OptionalEmail = ""
    phone: Annotated[str, one_line("the phone number", 40)] = ""
    website: Annotated[str, one_line("the website address", 300)] = ""
    drives: YesNo = None
    employment: Annotated[Employment | None, BeforeValidator(lambda v: v or None)] = None
    languages: Choices = []
    other_languages: Annotated[str, one_line("the other languages")] = ""


class OfferForm(Form):
    messages = {
        "area_type": "Choose how you describe the area you cover",
        "capacity_unit": "Choose hours or places",
    }

    title: Annotated[str, one_line("the title", 120), required("Enter a title for the offer")] = ""
    description: Text = ""
    kinds_of_support: Choices = []
    outcomes: Choices = []
    client_groups: Choices = []
    area_type: AreaType = AreaType.RADIUS
    centre: Annotated[str, one_line("where you travel from")] = ""
    radius_km: OptionalWholeNumber = None
    council_ids: Choices = []
    settlements: Text = ""
    availability: Availability = 0
    capacity_unit: CapacityUnit = CapacityUnit.HOURS_PER_WEEK
    capacity_amount: OptionalWholeNumber = None
    """None on the manage page, where capacity has a form of its own."""
    minimum_booking: OptionalHours = None
    typical_week_hours: Annotated[
        OptionalWholeNumber, AfterValidator(lambda v: 10 if v is None else v)
    ] = None


class PriceForm(Form):
    messages = {"unit": "Choose what the price is for"}

    unit: PriceUnit = PriceUnit.HOUR
    rate: Annotated[OptionalPounds, _positive("Enter the price, like 18.50")] = None
    unit_hours: OptionalHours = None
    evening_uplift: OptionalPercent = None
    weekend_uplift: OptionalPercent = None
    night_uplift: OptionalPercent = None
    public_holiday_uplift: OptionalPercent = None
    travel_charge: TravelCharge = TravelCharge.NONE
    travel_charge_amount: OptionalPounds = None
    included: Text = ""
    management_fee_percent: OptionalPercent = None
    management_fee_fixed: OptionalPounds = None
    management_fee_period: Annotated[FeePeriod | None, BeforeValidator(lambda v: v or None)] = None


class CheckForm(Form):
    reference: Annotated[str, one_line("the reference", 100)] = ""
    issuer: Annotated[str, one_line("who issued it")] = ""
    cover: OptionalPounds = None
    expires_on: Annotated[str, BeforeValidator(lambda v: (v or "").strip())] = ""


class CapacityForm(Form):
    capacity_amount: Annotated[
        OptionalWholeNumber,
        AfterValidator(lambda v: _fail("Enter a whole number, like 12") if v is None else v),
    ] = None


class InviteForm(Form):
    email: Email = ""


class JoinForm(Form):
    name: Annotated[str, one_line("your name"), required("Enter your full name")] = ""
    password: str = ""


class RejectCheckForm(Form):
    note: Annotated[Text, required("Say why, so the provider can put it right")] = ""


CHECK_KIND_SLUGS = {
    "care-inspectorate": CheckKind.CARE_INSPECTORATE,
    "pvg": CheckKind.PVG,
    "insurance": CheckKind.INSURANCE,
    "training": CheckKind.TRAINING,
}


class NewOfferForm(PriceForm, OfferForm):
    """A new offer's details and its first price, on one page."""

    messages = OfferForm.messages | PriceForm.messages
