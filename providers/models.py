"""Who provides support and what they offer: providers (organisations and personal
assistants) and their staff, their checks, the taxonomies offers are described in, offers
with their service areas, availability, capacity and versioned prices, enquiries and
reviews."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import Base, TimestampMixin, str_enum, utcnow
from marketplace.geography.models import CouncilArea, Settlement


class ProviderKind(enum.StrEnum):
    REGISTERED_PROVIDER = "registered_provider"
    """An organisation registered with the Care Inspectorate."""
    MICRO_PROVIDER = "micro_provider"
    """A very small local business or community enterprise, typically 1 to 8 people."""
    COMMUNITY_GROUP = "community_group"
    PERSONAL_ASSISTANT = "personal_assistant"
    """One person, working for the people they support."""

    @property
    def label(self) -> str:
        return {
            ProviderKind.REGISTERED_PROVIDER: "Registered care provider",
            ProviderKind.MICRO_PROVIDER: "Micro-provider",
            ProviderKind.COMMUNITY_GROUP: "Community group",
            ProviderKind.PERSONAL_ASSISTANT: "Personal assistant",
        }[self]

    @property
    def is_organisation(self) -> bool:
        return self != ProviderKind.PERSONAL_ASSISTANT


ORGANISATION_KINDS = tuple(kind for kind in ProviderKind if kind.is_organisation)


class Employment(enum.StrEnum):
    SELF_EMPLOYED = "self_employed"
    EMPLOYED = "employed"
    """Employed directly by the people they support (often through a direct payment)."""

    @property
    def label(self) -> str:
        return (
            "Self-employed"
            if self == Employment.SELF_EMPLOYED
            else "Employed by the people I support"
        )


class Provider(TimestampMixin, Base):
    """An organisation or a personal assistant that offers support."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ProviderKind] = mapped_column(str_enum(ProviderKind))
    name: Mapped[str] = mapped_column(String(200))
    about: Mapped[str] = mapped_column(Text, default="")
    """Plain-language description, in the provider's own words."""
    holds_isf: Mapped[bool] = mapped_column(default=False)
    """Whether it can hold individual service funds (Option 2) for the people it supports."""
    contact_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    drives: Mapped[bool | None]
    """Whether they (or their staff) drive, so can take people out or reach remote homes."""
    employment: Mapped[Employment | None] = mapped_column(str_enum(Employment))
    """For personal assistants only."""
    base_label: Mapped[str | None] = mapped_column(String(160))
    """Where they are based, as they entered it (a place or postcode district)."""
    base_latitude: Mapped[float | None] = mapped_column(Float)
    base_longitude: Mapped[float | None] = mapped_column(Float)
    base_council_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_area.id", ondelete="RESTRICT")
    )
    base_settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("settlement.id", ondelete="RESTRICT")
    )
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    """A photo or logo, at most 1 MB, PNG or JPEG,
    redrawn without its metadata (providers.photos)."""
    photo_type: Mapped[str | None] = mapped_column(String(20))
    identity_confirmed_at: Mapped[datetime | None]
    """When an administrator confirmed who the provider is (providers.verification)."""
    identity_confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )

    base_council: Mapped[CouncilArea | None] = relationship(lazy="joined")
    base_settlement: Mapped[Settlement | None] = relationship(lazy="joined")
    members: Mapped[list[ProviderMember]] = relationship(
        back_populates="provider", cascade="all, delete-orphan"
    )
    languages: Mapped[list[ProviderLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="ProviderLanguage.language", lazy="selectin"
    )
    checks: Mapped[list[Check]] = relationship(back_populates="provider", order_by="Check.id")
    offers: Mapped[list[Offer]] = relationship(back_populates="provider", order_by="Offer.id")

    @property
    def language_names(self) -> list[str]:
        return [language.language for language in self.languages]


class ProviderMember(TimestampMixin, Base):
    """Someone who acts for a provider: its staff, or the personal assistant themself."""

    __tablename__ = "provider_member"
    __table_args__ = (UniqueConstraint("provider_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    is_owner: Mapped[bool] = mapped_column(default=False)
    """Owners manage the profile, the checks and the staff."""

    provider: Mapped[Provider] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class ProviderLanguage(Base):
    """A language the provider can support people in (English, Gaelic, BSL, others)."""

    __tablename__ = "provider_language"

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(60), primary_key=True)


class StaffInvitation(TimestampMixin, Base):
    """An emailed invitation to join a provider's staff. Only the token's hash is kept."""

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]

    provider: Mapped[Provider] = relationship(lazy="joined")


class CheckKind(enum.StrEnum):
    CARE_INSPECTORATE = "care_inspectorate"
    """Registration with the Care Inspectorate (a number CS followed by 10 digits) and grades."""
    PVG = "pvg"
    """Disclosure Scotland's Protecting Vulnerable Groups scheme membership (16 digits)."""
    INSURANCE = "insurance"
    """Public liability insurance."""
    TRAINING = "training"
    """A training certificate (moving and handling, first aid, medication...)."""

    @property
    def label(self) -> str:
        return {
            CheckKind.CARE_INSPECTORATE: "Care Inspectorate registration",
            CheckKind.PVG: "PVG scheme membership",
            CheckKind.INSURANCE: "Public liability insurance",
            CheckKind.TRAINING: "Training certificate",
        }[self]


class CheckStatus(enum.StrEnum):
    DECLARED = "declared"
    """Told to us by the provider, not yet checked."""
    VERIFIED = "verified"
    """Checked by an administrator, on the date recorded."""
    REJECTED = "rejected"
    """An administrator could not confirm it."""
    EXPIRED = "expired"
    """Never stored: a check past its expiry date shows as expired, whatever was checked."""

    @property
    def label(self) -> str:
        return self.value.capitalize()


CARE_INSPECTORATE_THEMES = (
    "How well do we support people's wellbeing?",
    "How good is our leadership?",
    "How good is our staff team?",
    "How good is our setting?",
    "How well is our care and support planned?",
)
"""The key questions the Care Inspectorate grades
services on, 1 (unsatisfactory) to 6 (excellent)."""


class Check(TimestampMixin, Base):
    """Something a provider says about itself that people can rely on once it is verified."""

    __tablename__ = "provider_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CheckKind] = mapped_column(str_enum(CheckKind))
    reference: Mapped[str] = mapped_column(String(120))
    """The registration or membership number, the policy number, or the certificate's title."""
    issuer: Mapped[str | None] = mapped_column(String(200))
    """The insurer or the training body."""
    grades: Mapped[dict[str, int] | None] = mapped_column(JSON)
    """Care Inspectorate grades by key question, 1 to 6."""
    cover_pence: Mapped[int | None] = mapped_column(BigInteger)
    """Insurance cover, in pence."""
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[CheckStatus] = mapped_column(str_enum(CheckStatus), default=CheckStatus.DECLARED)
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    review_note: Mapped[str | None] = mapped_column(Text)
    """Why an administrator rejected it, shown to the provider."""
    reminded_expiring_at: Mapped[datetime | None]
    reminded_expired_at: Mapped[datetime | None]

    provider: Mapped[Provider] = relationship(back_populates="checks", lazy="joined")

    def status_on(self, today: date) -> CheckStatus:
        return check_status_on(self.status, self.expires_on, today)


def check_status_on(status: CheckStatus, expires_on: date | None, today: date) -> CheckStatus:
    """A check's status on a day: whatever was decided, expired once past its expiry."""
    if expires_on is not None and expires_on < today:
        return CheckStatus.EXPIRED
    return status


class Taxonomy(enum.StrEnum):
    PERSONAL_OUTCOME = "personal_outcome"
    KIND_OF_SUPPORT = "kind_of_support"
    CLIENT_GROUP = "client_group"

    @property
    def label(self) -> str:
        return {
            Taxonomy.PERSONAL_OUTCOME: "Personal outcomes",
            Taxonomy.KIND_OF_SUPPORT: "Kinds of support",
            Taxonomy.CLIENT_GROUP: "Who it suits",
        }[self]


class TaxonomyTerm(Base):
    """A term of one of the taxonomies offers are described in. The terms are data
    (providers/data/taxonomies.json), loaded with the reference data."""

    __tablename__ = "taxonomy_term"
    __table_args__ = (UniqueConstraint("taxonomy", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    taxonomy: Mapped[Taxonomy] = mapped_column(str_enum(Taxonomy), index=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(SmallInteger, default=0)


class OfferStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    """Hidden for now (no space, a holiday); can be published again."""
    WITHDRAWN = "withdrawn"
    """No longer offered; kept for the record of past enquiries."""
    AWAITING_AGREEMENT = "awaiting_agreement"
    """Published by the provider, but its area is so wide (providers.areas.needs_agreement)
    that an administrator must agree first; shown and matched to nobody until then."""

    @property
    def label(self) -> str:
        if self == OfferStatus.AWAITING_AGREEMENT:
            return "Awaiting agreement"
        return self.value.capitalize()


class AreaType(enum.StrEnum):
    RADIUS = "radius"
    """Anywhere within a travel distance of a base."""
    COUNCILS = "councils"
    """Anywhere in the listed council areas."""
    SETTLEMENTS = "settlements"
    """The listed towns and villages."""


class CapacityUnit(enum.StrEnum):
    HOURS_PER_WEEK = "hours_per_week"
    PLACES = "places"

    @property
    def label(self) -> str:
        return "hours a week" if self == CapacityUnit.HOURS_PER_WEEK else "places"


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PERIODS = ("morning", "afternoon", "evening", "night")


def availability_bit(day: int, period: int) -> int:
    """Availability is a 28-bit mask: one bit for each of 4 periods on each of 7 days."""
    return 1 << (day * len(PERIODS) + period)


offer_term = Table(
    "offer_term",
    Base.metadata,
    Column("offer_id", ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "term_id", ForeignKey("taxonomy_term.id", ondelete="RESTRICT"), primary_key=True, index=True
    ),
)
offer_council = Table(
    "offer_council",
    Base.metadata,
    Column("offer_id", ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "council_id",
        ForeignKey("council_area.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)
offer_settlement = Table(
    "offer_settlement",
    Base.metadata,
    Column("offer_id", ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "settlement_id",
        ForeignKey("settlement.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Offer(TimestampMixin, Base):
    """What a provider offers: outcomes, kinds of support, where, when, how much, at what price."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint(
            "radius_km IS NULL OR (radius_km > 0 AND radius_km <= 200)", name="radius_in_range"
        ),
        CheckConstraint("capacity_amount >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OfferStatus] = mapped_column(
        str_enum(OfferStatus), default=OfferStatus.DRAFT, index=True
    )
    area_type: Mapped[AreaType] = mapped_column(str_enum(AreaType), default=AreaType.RADIUS)
    centre_label: Mapped[str | None] = mapped_column(String(160))
    centre_latitude: Mapped[float | None] = mapped_column(Float)
    centre_longitude: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    """How far from the centre they will travel, for a radius area."""
    availability: Mapped[int] = mapped_column(Integer, default=0)
    """See availability_bit()."""
    capacity_unit: Mapped[CapacityUnit] = mapped_column(
        str_enum(CapacityUnit), default=CapacityUnit.HOURS_PER_WEEK
    )
    capacity_amount: Mapped[int] = mapped_column(Integer, default=0)
    capacity_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    minimum_booking_minutes: Mapped[int | None] = mapped_column(Integer)
    typical_week_hours: Mapped[int] = mapped_column(SmallInteger, default=10)
    """The hours in the typical week the offer's weekly price is shown for."""
    published_at: Mapped[datetime | None]
    area_agreed_at: Mapped[datetime | None]
    """When an administrator agreed to an area that
    needs agreement; cleared when the area changes."""
    area_agreed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    provider: Mapped[Provider] = relationship(back_populates="offers", lazy="joined")
    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=offer_term, order_by=TaxonomyTerm.position, lazy="selectin"
    )
    area_councils: Mapped[list[CouncilArea]] = relationship(
        secondary=offer_council, order_by=CouncilArea.name, lazy="selectin"
    )
    area_settlements: Mapped[list[Settlement]] = relationship(
        secondary=offer_settlement, order_by=Settlement.name, lazy="selectin"
    )
    prices: Mapped[list[OfferPrice]] = relationship(
        back_populates="offer", order_by="OfferPrice.version", lazy="selectin"
    )

    def terms_of(self, taxonomy: Taxonomy) -> list[TaxonomyTerm]:
        return [term for term in self.terms if term.taxonomy == taxonomy]

    @property
    def price(self) -> OfferPrice | None:
        """The current price: the latest version."""
        return self.prices[-1] if self.prices else None


class PriceUnit(enum.StrEnum):
    HOUR = "hour"
    SESSION = "session"
    DAY = "day"
    NIGHT = "night"
    WEEK = "week"
    ONE_OFF = "one_off"

    @property
    def label(self) -> str:
        return "one-off" if self == PriceUnit.ONE_OFF else self.value

    @property
    def needs_length(self) -> bool:
        """Sessions, days and nights need their length to give an hourly equivalent."""
        return self in (PriceUnit.SESSION, PriceUnit.DAY, PriceUnit.NIGHT)


class TravelCharge(enum.StrEnum):
    NONE = "none"
    PER_MILE = "per_mile"
    PER_VISIT = "per_visit"


class FeePeriod(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class OfferPrice(Base):
    """One version of an offer's price. Never changed once written: a new price is a new
    version, so what a person was quoted stays what it was."""

    __tablename__ = "offer_price"
    __table_args__ = (
        UniqueConstraint("offer_id", "version"),
        CheckConstraint("rate_pence >= 0", name="rate_not_negative"),
        CheckConstraint(
            "management_fee_bp IS NULL OR (management_fee_bp >= 0 AND management_fee_bp <= 10000)",
            name="fee_percentage_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    unit: Mapped[PriceUnit] = mapped_column(str_enum(PriceUnit))
    rate_pence: Mapped[int] = mapped_column(BigInteger)
    """The price of one unit, in pence, on weekday days."""
    unit_minutes: Mapped[int | None] = mapped_column(Integer)
    """How long a session, day or night is, in minutes."""
    evening_uplift_bp: Mapped[int] = mapped_column(Integer, default=0)
    """Extra for evenings, in basis points of the rate (2500 = 25%)."""
    weekend_uplift_bp: Mapped[int] = mapped_column(Integer, default=0)
    night_uplift_bp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    public_holiday_uplift_bp: Mapped[int] = mapped_column(Integer, default=0)
    travel_charge: Mapped[TravelCharge] = mapped_column(
        str_enum(TravelCharge), default=TravelCharge.NONE
    )
    travel_charge_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    included: Mapped[str] = mapped_column(Text, default="")
    """What the price includes, in plain words."""
    management_fee_bp: Mapped[int | None] = mapped_column(Integer)
    """For providers holding an ISF: the fee as basis points of what is spent."""
    management_fee_fixed_pence: Mapped[int | None] = mapped_column(BigInteger)
    management_fee_period: Mapped[FeePeriod | None] = mapped_column(str_enum(FeePeriod))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )

    offer: Mapped[Offer] = relationship(back_populates="prices")


class EnquiryStatus(enum.StrEnum):
    NEW = "new"
    REPLIED = "replied"
    ARRANGED = "arranged"
    """Support has been agreed; the person may now review the provider."""
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Enquiry(TimestampMixin, Base):
    """A person (or their representative) asking a provider about an offer."""

    __tablename__ = "enquiry"
    __table_args__ = (CheckConstraint("minutes_per_week > 0", name="some_time_asked_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="RESTRICT"), index=True)
    offer_price_id: Mapped[int] = mapped_column(ForeignKey("offer_price.id", ondelete="RESTRICT"))
    """The price version the person saw when they asked: their quote."""
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="RESTRICT"), index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    """The supported person the support would be for."""
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    """The person themself, or a representative acting for them."""
    minutes_per_week: Mapped[int] = mapped_column(Integer)
    availability: Mapped[int] = mapped_column(Integer, default=0)
    """When they need support, as an availability mask."""
    distance_km: Mapped[float | None] = mapped_column(Float)
    """From where the offer is measured from to the person's place, when they gave it: what
    travel by the mile is quoted over."""
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[EnquiryStatus] = mapped_column(
        str_enum(EnquiryStatus), default=EnquiryStatus.NEW, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    offer: Mapped[Offer] = relationship(lazy="joined")
    offer_price: Mapped[OfferPrice] = relationship(lazy="joined")
    provider: Mapped[Provider] = relationship(lazy="joined")
    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="joined")
    sent_by: Mapped[User] = relationship(foreign_keys=[sent_by_id], lazy="joined")
    messages: Mapped[list[EnquiryMessage]] = relationship(
        order_by="EnquiryMessage.id", lazy="selectin"
    )


class EnquiryMessage(TimestampMixin, Base):
    __tablename__ = "enquiry_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User] = relationship(lazy="joined")


class Review(TimestampMixin, Base):
    """A verified review: only someone whose enquiry was arranged may leave one, once."""

    __tablename__ = "review"
    __table_args__ = (
        CheckConstraint("outcomes_rating BETWEEN 1 AND 5", name="outcomes_rating_1_to_5"),
        CheckConstraint("reliability_rating BETWEEN 1 AND 5", name="reliability_rating_1_to_5"),
        CheckConstraint("respect_rating BETWEEN 1 AND 5", name="respect_rating_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="RESTRICT"), unique=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True
    )
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    outcomes_rating: Mapped[int] = mapped_column(SmallInteger)
    """How well the support helped with what mattered to them, 1 to 5."""
    reliability_rating: Mapped[int] = mapped_column(SmallInteger)
    respect_rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str | None] = mapped_column(Text)
    """The provider's one reply."""
    replied_at: Mapped[datetime | None]
    replied_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    hidden_at: Mapped[datetime | None]
    """Set when an administrator hides the review; it then shows to nobody but them."""
    hidden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    moderation_note: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
