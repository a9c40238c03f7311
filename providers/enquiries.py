"""Enquiries: a supported person (or a representative acting for them) asks a provider
about a published offer, with the hours a week and the days and times they need. The
enquiry keeps the price version it was sent at as its quote, so a later price change never
alters what the person was told. The provider and the person write to each other in a
thread; the provider marks the enquiry arranged or declined, and both are final:

    new --(provider's first reply)--> replied --> arranged
     |                                   |
     +-----------------------------------+--> declined

Everyone involved is told by mail (after the transaction commits), every view is in the
audit log, and an enquiry is visible only to the people it concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marketplace import audit, mail
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import on_persons_side, on_persons_side_filter, visibility_rule
from marketplace.audit import AuditAction
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken, Rules
from marketplace.money import format_pence
from marketplace.paging import Page, paginate
from marketplace.parsing import CONTROL_CHARACTERS
from providers import service as providers_service
from providers.models import (
    DAYS,
    PERIODS,
    Enquiry,
    EnquiryMessage,
    EnquiryStatus,
    Offer,
    OfferPrice,
    OfferStatus,
    ProviderMember,
    TravelCharge,
    availability_bit,
)
from providers.pricing import (
    WeeklyCost,
    fee_share_basis_points,
    format_basis_points,
    hourly_equivalent_pence,
    price_text,
    weekly_cost,
)

SUBJECT = "enquiry"
"""How enquiries are named in the audit log."""
MAX_MINUTES_PER_WEEK = 168 * 60
"""A week has 168 hours."""
ALL_TIMES = (1 << (len(DAYS) * len(PERIODS))) - 1
MAX_MESSAGE_LENGTH = 5000
PEOPLE_ROLES = (Role.SUPPORTED_PERSON, Role.REPRESENTATIVE)
FINAL = (EnquiryStatus.ARRANGED, EnquiryStatus.DECLINED)


def describe_availability(mask: int) -> list[tuple[str, list[str]]]:
    """[('Monday', ['morning', 'evening']), ...] for the days that have any time ticked."""
    described = []
    for day, name in enumerate(DAYS):
        periods = [period for p, period in enumerate(PERIODS) if mask & availability_bit(day, p)]
        if periods:
            described.append((name, periods))
    return described


# The quote ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """What the person was quoted: the price version they enquired at, applied to the hours
    and times they asked for (pricing.weekly_cost: uplifts, travel and fee included)."""

    price: OfferPrice
    minutes_per_week: int
    per_hour_pence: int | None
    """The hourly equivalent, or None for a one-off price."""
    cost: WeeklyCost | None
    """The week asked for, line by line, or None for a one-off price."""

    @property
    def support_pence(self) -> int | None:
        """A week of the support asked for (uplifts and travel included), or None for a
        one-off price."""
        return None if self.cost is None else self.cost.support_pence

    @property
    def fee_pence(self) -> int:
        """The management fee for that week (0 when there is none)."""
        return 0 if self.cost is None else self.cost.fee_pence

    @property
    def total_pence(self) -> int | None:
        return None if self.cost is None else self.cost.total_pence

    @property
    def fee_basis_points(self) -> int:
        return fee_share_basis_points(fee_pence=self.fee_pence, support_pence=self.support_pence)

    @property
    def price_text(self) -> str:
        """'£18.50 an hour', '£50.00 a session of 3 hours', '£90.00 one-off'."""
        return price_text(self.price)

    @property
    def fee_percent(self) -> str:
        return format_basis_points(self.fee_basis_points)

    @property
    def fee_terms(self) -> str | None:
        """How the management fee is charged ('10% of the support plus £20.00 a month'),
        or None when there is no fee."""
        price, parts = self.price, []
        if price.management_fee_bp:
            parts.append(f"{format_basis_points(price.management_fee_bp)} of the support")
        if price.management_fee_fixed_pence:
            period = price.management_fee_period.value if price.management_fee_period else "week"
            parts.append(f"{format_pence(price.management_fee_fixed_pence)} a {period}")
        return " plus ".join(parts) or None

    @property
    def extras(self) -> list[str]:
        """What may cost more than the weekday daytime rate, in plain words."""
        price, found = self.price, []
        for label, basis_points in (
            ("Evenings", price.evening_uplift_bp),
            ("Weekends", price.weekend_uplift_bp),
            ("Nights", price.night_uplift_bp),
            ("Public holidays", price.public_holiday_uplift_bp),
        ):
            if basis_points:
                found.append(f"{label} cost {format_basis_points(basis_points)} more")
        if price.travel_charge == TravelCharge.PER_MILE:
            found.append(f"Travel is charged at {format_pence(price.travel_charge_pence)} a mile")
        elif price.travel_charge == TravelCharge.PER_VISIT:
            found.append(f"Travel is charged at {format_pence(price.travel_charge_pence)} a visit")
        return found


def quote_for(enquiry: Enquiry) -> Quote:
    """The enquiry's quote, from the price version it recorded, never the offer's current one,
    for the hours, times and distance it recorded."""
    return quote(
        enquiry.offer_price,
        minutes_per_week=enquiry.minutes_per_week,
        typical_week_hours=enquiry.offer.typical_week_hours,
        when=enquiry.availability,
        distance_km=enquiry.distance_km,
    )


def quote(
    price: OfferPrice,
    *,
    minutes_per_week: int,
    typical_week_hours: int,
    when: int = 0,
    distance_km: float | None = None,
) -> Quote:
    """A price applied to some minutes a week at the times `when`: pricing.weekly_cost."""
    return Quote(
        price=price,
        minutes_per_week=minutes_per_week,
        per_hour_pence=hourly_equivalent_pence(price, typical_week_hours=typical_week_hours),
        cost=weekly_cost(
            price,
            minutes_per_week=minutes_per_week,
            when=when,
            typical_week_hours=typical_week_hours,
            distance_km=distance_km,
        ),
    )


# Who may see an enquiry -----------------------------------------------------------------


def is_provider_member(session: Session, *, user: User, provider_id: int) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(ProviderMember)
            .where(ProviderMember.provider_id == provider_id, ProviderMember.user_id == user.id)
        )
        or 0
    ) > 0


def acts_for_a_provider(session: Session, *, user: User) -> bool:
    """Whether `user` is a member of any provider yet."""
    return (
        session.scalar(select(ProviderMember.id).where(ProviderMember.user_id == user.id).limit(1))
        is not None
    )


def is_on_persons_side(session: Session, *, user: User, enquiry: Enquiry) -> bool:
    """The person, or a representative acting for them now: whoever sent the enquiry,
    once the person removes them they see it no more (policy.on_persons_side)."""
    return on_persons_side(session, user, enquiry.person_id)


@visibility_rule(Enquiry)
def _may_see_enquiry(session: Session, viewer: User, enquiry: Enquiry) -> bool:
    if viewer.role == Role.ADMIN:
        return True
    if viewer.role in PEOPLE_ROLES:
        return is_on_persons_side(session, user=viewer, enquiry=enquiry)
    return is_provider_member(session, user=viewer, provider_id=enquiry.provider_id)


def record_view(session: Session, *, viewer: User, enquiry: Enquiry) -> None:
    """Enquiries are personal data: every view is in the audit log."""
    audit.record_read(session, actor=viewer, subject_type=SUBJECT, subject_id=enquiry.id)


# Sending an enquiry ---------------------------------------------------------------------


def people_acted_for(session: Session, *, representative: User) -> list[User]:
    """The supported people a representative acts for now, by name."""
    links = accounts_service.representations_of(session, user=representative)
    people = [
        link.supported_person for link in links if link.representative_id == representative.id
    ]
    return sorted(people, key=lambda person: (person.name, person.id))


def people_to_choose(session: Session, *, user: User) -> list[tuple[str, str]]:
    """For a representative's form, the people they act for as (id, name) choices; nobody
    for anyone else, who asks only for themself."""
    if user.role != Role.REPRESENTATIVE:
        return []
    return [
        (str(person.id), person.name) for person in people_acted_for(session, representative=user)
    ]


def _check_request(minutes_per_week: int, availability: int) -> None:
    with Rules() as rules:
        if not 0 < minutes_per_week <= MAX_MINUTES_PER_WEEK:
            rules.broken("Enter from more than 0 to 168 hours a week", field="hours")
        if availability == 0:
            rules.broken("Tick at least one day and time you need support", field="when")
        elif availability & ~ALL_TIMES or availability < 0:
            rules.broken("Choose days and times from the table", field="when")


def check_text(text: str, *, field: str, missing: str) -> str:
    """Text with no control characters, not empty and not too long, or a RuleBroken for
    `field`. '<' and '>' are kept: the pages escape them."""
    cleaned = text.strip()
    if not cleaned:
        raise RuleBroken(missing, field=field)
    if CONTROL_CHARACTERS.search(cleaned):
        raise RuleBroken("Remove the special characters from your message", field=field)
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        raise RuleBroken(f"Write {MAX_MESSAGE_LENGTH:,} characters or fewer", field=field)
    return cleaned


def send_enquiry(
    session: Session,
    *,
    offer: Offer,
    sender: User,
    person: User | None,
    minutes_per_week: int,
    availability: int,
    message: str,
    distance_km: float | None = None,
) -> Enquiry:
    """A supported person asks about a published offer for themself, or a representative
    for someone they act for (`person`). The offer's current price becomes the quote, for
    the hours and times asked and, when the person said where they are, the distance
    travel by the mile is counted over."""
    if offer.status != OfferStatus.PUBLISHED:
        raise NotFound("Page not found")
    if sender.role == Role.SUPPORTED_PERSON:
        if person is not None and person.id != sender.id:
            raise RuleBroken("You can only ask about support for yourself", field="person")
        person = sender
    elif sender.role == Role.REPRESENTATIVE:
        if person is None or not accounts_service.acts_for(
            session, representative=sender, supported_person_id=person.id
        ):
            raise RuleBroken("Choose a person you act for", field="person")
    else:
        raise NotAllowed("Only supported people and their representatives send enquiries")
    _check_request(minutes_per_week, availability)
    body = check_text(message, field="message", missing="Enter a message for the provider")
    price = offer.price
    if price is None:
        raise Conflict("This offer has no price yet, so it cannot take enquiries")
    enquiry = Enquiry(
        offer=offer,
        offer_price=price,
        provider=offer.provider,
        person=person,
        sent_by=sender,
        minutes_per_week=minutes_per_week,
        availability=availability,
        distance_km=distance_km,
        message=body,
        status=EnquiryStatus.NEW,
    )
    session.add(enquiry)
    session.flush()
    audit.record(
        session,
        actor=sender,
        action=AuditAction.RECORD_CHANGED,
        subject_type=SUBJECT,
        subject_id=enquiry.id,
        detail={
            "change": "sent",
            "offer_id": offer.id,
            "offer_price_id": price.id,
            "person_id": person.id,
        },
    )
    _mail_provider(
        session,
        enquiry,
        subject=f"New enquiry about {offer.title}",
        text=f'Someone has asked about your offer "{offer.title}".',
    )
    return enquiry


# The thread -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadEntry:
    author_name: str
    from_provider: bool
    body: str
    written_at: datetime


def thread_of(session: Session, *, enquiry: Enquiry) -> list[ThreadEntry]:
    """The enquiry's first message and every reply, oldest first, each marked by side."""
    members = set(
        session.scalars(
            select(ProviderMember.user_id).where(ProviderMember.provider_id == enquiry.provider_id)
        )
    )
    entries = [ThreadEntry(enquiry.sent_by.name, False, enquiry.message, enquiry.created_at)]
    for message in enquiry.messages:
        entries.append(
            ThreadEntry(
                message.author.name, message.author_id in members, message.body, message.created_at
            )
        )
    return entries


def reply(session: Session, *, enquiry: Enquiry, author: User, body: str) -> EnquiryMessage:
    """Add to the thread. The provider's first reply moves a new enquiry to replied. The
    other side is told by mail."""
    from_provider = is_provider_member(session, user=author, provider_id=enquiry.provider_id)
    if not from_provider and not is_on_persons_side(session, user=author, enquiry=enquiry):
        raise NotFound("Page not found")
    text = check_text(body, field="body", missing="Enter your message")
    message = EnquiryMessage(author=author, body=text)
    enquiry.messages.append(message)
    changed = ["messages"]
    if from_provider and enquiry.status == EnquiryStatus.NEW:
        enquiry.status = EnquiryStatus.REPLIED
        changed.append("status")
    session.flush()
    audit.record_change(
        session, actor=author, subject_type=SUBJECT, subject_id=enquiry.id, fields=changed
    )
    if from_provider:
        _mail_person(
            session,
            enquiry,
            subject=f"{enquiry.provider.name} has replied to your enquiry",
            text=f"{enquiry.provider.name} has replied to your enquiry "
            f'about "{enquiry.offer.title}".',
        )
    else:
        _mail_provider(
            session,
            enquiry,
            subject=f"A new message about {enquiry.offer.title}",
            text=f'There is a new message on an enquiry about your offer "{enquiry.offer.title}".',
        )
    return message


# Status ---------------------------------------------------------------------------------


def _set_status(session: Session, *, enquiry: Enquiry, actor: User, status: EnquiryStatus) -> None:
    if not is_provider_member(session, user=actor, provider_id=enquiry.provider_id):
        raise NotFound("Page not found")
    if enquiry.status in FINAL:
        raise Conflict(
            f"This enquiry has already been marked as {enquiry.status.label.lower()}, "
            "and that cannot be changed"
        )
    if status == EnquiryStatus.ARRANGED and enquiry.status != EnquiryStatus.REPLIED:
        raise Conflict("Reply to the person before you mark the support as arranged")
    enquiry.status = status
    session.flush()
    audit.record_change(
        session, actor=actor, subject_type=SUBJECT, subject_id=enquiry.id, fields=["status"]
    )
    if status == EnquiryStatus.ARRANGED:
        subject = f"{enquiry.provider.name} has arranged your support"
        text = (
            f'{enquiry.provider.name} has marked your enquiry about "{enquiry.offer.title}" as '
            "arranged. Once the support has started, you can review it."
        )
    else:
        subject = f"{enquiry.provider.name} cannot take on your enquiry"
        text = (
            f'{enquiry.provider.name} has declined your enquiry about "{enquiry.offer.title}". '
            "You can look for other support on the marketplace."
        )
    _mail_person(session, enquiry, subject=subject, text=text)


def mark_arranged(session: Session, *, enquiry: Enquiry, actor: User) -> None:
    """The provider and the person have agreed the support. Final."""
    _set_status(session, enquiry=enquiry, actor=actor, status=EnquiryStatus.ARRANGED)


def decline(session: Session, *, enquiry: Enquiry, actor: User) -> None:
    """The provider cannot take this on. Final."""
    _set_status(session, enquiry=enquiry, actor=actor, status=EnquiryStatus.DECLINED)


# Lists ----------------------------------------------------------------------------------


def _page(session: Session, query: Select[Enquiry], *, page: int, page_size: int) -> Page[Enquiry]:
    newest_first = query.order_by(Enquiry.created_at.desc(), Enquiry.id.desc())
    return paginate(session, newest_first, page=page, page_size=page_size)


def provider_inbox(
    session: Session,
    *,
    member: User,
    status: EnquiryStatus | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[Enquiry]:
    """Enquiries to every provider `member` acts for, newest first."""
    provider_ids = select(ProviderMember.provider_id).where(ProviderMember.user_id == member.id)
    query = select(Enquiry).where(Enquiry.provider_id.in_(provider_ids))
    if status is not None:
        query = query.where(Enquiry.status == status)
    return _page(session, query, page=page, page_size=page_size)


def enquiries_of(
    session: Session, *, user: User, page: int = 1, page_size: int = 50
) -> Page[Enquiry]:
    """A person's own enquiries and those of the people they act for now; newest first."""
    query = select(Enquiry).where(on_persons_side_filter(user, Enquiry.person_id))
    return _page(session, query, page=page, page_size=page_size)


# Mail -----------------------------------------------------------------------------------
# Mails say only that something happened and link to it: what people wrote stays behind
# sign-in, because it is about their health and care.


def _mail_provider(session: Session, enquiry: Enquiry, *, subject: str, text: str) -> None:
    users = providers_service.members_of(session, enquiry.provider_id)
    mail.tell(session, users, subject=subject, text=text, path=f"/provider/enquiries/{enquiry.id}")


def _mail_person(session: Session, enquiry: Enquiry, *, subject: str, text: str) -> None:
    # Whoever sent it is told too, while they still act for the person.
    senders = (
        [enquiry.sent_by] if on_persons_side(session, enquiry.sent_by, enquiry.person_id) else []
    )
    mail.tell(
        session,
        [*senders, enquiry.person],
        subject=subject,
        text=text,
        path=f"/enquiries/{enquiry.id}",
    )
