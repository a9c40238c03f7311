"""A council's rules for change of use, each budget holder's delegated authority, and the
calendar they are counted on: working days (Monday to Friday, not Scotland's public
holidays, from the maintained `holidays` library) and the panel's sittings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.changes.models import ChangeRules, DelegatedAuthority
from marketplace import audit
from marketplace.accounts.models import Role, User
from marketplace.db import utcnow
from marketplace.errors import NotAllowed, RuleBroken, Rules
from marketplace.geography.models import CouncilArea
from marketplace.money import format_pence
from providers.enquiries import check_text

MAX_LIMIT_PENCE = 100_000_000
"""£1,000,000: no limit on change of use is larger than a year's largest budget."""


@dataclass(frozen=True)
class RuleValues:
    """What an administrator sets: the council's rules, as one version."""

    light_touch_limit_pence: int
    delegated_days: int
    panel_days: int
    reminder_days: int
    panel_first_sits_on: date
    panel_every_days: int


DEFAULT_RULES = RuleValues(
    light_touch_limit_pence=50_000,
    delegated_days=5,
    panel_days=15,
    reminder_days=1,
    panel_first_sits_on=date(2026, 1, 8),
    panel_every_days=14,
)
"""What a council starts with until its administrator sets its own: moves of up to £500 a
period between lines serving the same outcome approved at once; a budget holder decides
within 5 working days, the panel within 15; a reminder the working day before; the panel
sits fortnightly on Thursdays."""


# Working days ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("GB", subdiv="SCT", years=year))


def public_holiday(day: date) -> str | None:
    """The name of Scotland's public holiday on `day`, if it is one."""
    return _holidays_of(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def add_working_days(day: date, count: int) -> date:
    """The `count`th working day after `day` (0: `day` itself if it is a working day, else
    the next one)."""
    if count == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after
    `start`): how long a decision took, or how far a deadline is."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def next_sitting(rules: ChangeRules | RuleValues, after: date) -> date:
    """The panel's first sitting after `after` (not on it: the panel reads its papers
    first)."""
    first, every = rules.panel_first_sits_on, rules.panel_every_days
    if after < first:
        return first
    return first + timedelta(days=((after - first).days // every + 1) * every)


# The council's rules ---------------------------------------------------------------------


def rules_in_force(session: Session, council_id: int) -> ChangeRules:
    """The council's newest rules; the product's defaults, as version 1, for a council that
    has set none."""
    newest = _newest_rules(session, council_id)
    if newest is not None:
        return newest
    try:
        with session.begin_nested():
            session.add(
                ChangeRules(
                    council_id=council_id,
                    version=1,
                    note="The product's defaults",
                    **DEFAULT_RULES.__dict__,
                )
            )
    except IntegrityError:  # another request wrote version 1 first: read theirs
        pass
    newest = _newest_rules(session, council_id)
    assert newest is not None
    return newest


def rules_to_show(session: Session, council_id: int) -> ChangeRules | RuleValues:
    """The council's newest rules, or the defaults it would start with (writing nothing)."""
    return _newest_rules(session, council_id) or DEFAULT_RULES


def _newest_rules(session: Session, council_id: int) -> ChangeRules | None:
    return session.scalar(
        select(ChangeRules)
        .where(ChangeRules.council_id == council_id)
        .order_by(ChangeRules.version.desc())
        .limit(1)
    )


def rules_history(session: Session, council_id: int) -> list[ChangeRules]:
    return list(
        session.scalars(
            select(ChangeRules)
            .where(ChangeRules.council_id == council_id)
            .order_by(ChangeRules.version.desc())
        )
    )


def check_rule_values(values: RuleValues) -> None:
    with Rules() as rules:
        if not 0 <= values.light_touch_limit_pence <= MAX_LIMIT_PENCE:
            rules.broken(
                f"Enter an amount from £0 to {format_pence(MAX_LIMIT_PENCE)}",
                field="light_touch_limit",
            )
        if not 0 <= values.delegated_days <= 60:
            rules.broken("Enter from 0 to 60 working days", field="delegated_days")
        if not 0 <= values.panel_days <= 90:
            rules.broken("Enter from 0 to 90 working days", field="panel_days")
        if not 0 <= values.reminder_days <= 30:
            rules.broken("Enter from 0 to 30 working days", field="reminder_days")
        if not 1 <= values.panel_every_days <= 92:
            rules.broken("Enter from 1 to 92 days", field="panel_every_days")


def set_rules(
    session: Session,
    *,
    council: CouncilArea,
    by: User,
    values: RuleValues,
    note: str,
    now: datetime | None = None,
) -> ChangeRules:
    """An administrator changes a council's rules: a new version, in force from now.
    Requests already sent keep the deadline and route they were given."""
    if by.role != Role.ADMIN:
        raise NotAllowed("Only administrators change a council's rules")
    check_rule_values(values)
    why = check_text(note, field="note", missing="Say why the rules change")
    current = rules_in_force(session, council.id)
    rules = ChangeRules(
        council_id=council.id,
        version=current.version + 1,
        set_by_id=by.id,
        set_at=now or utcnow(),
        note=why,
        **values.__dict__,
    )
    session.add(rules)
    session.flush()
    audit.record_change(
        session, actor=by, subject_type="change_rules", subject_id=rules.id, fields=["version"]
    )
    return rules


# Delegated authority ---------------------------------------------------------------------


def authority_of(session: Session, holder_id: int) -> DelegatedAuthority | None:
    """The budget holder's authority in force: the newest set."""
    return session.scalar(
        select(DelegatedAuthority)
        .where(DelegatedAuthority.holder_id == holder_id)
        .order_by(DelegatedAuthority.id.desc())
        .limit(1)
    )


def authorities_in_force(session: Session, council_id: int) -> list[DelegatedAuthority]:
    """Each of the council's budget holders' authority in force, largest first."""
    newest = (
        select(func.max(DelegatedAuthority.id))
        .where(DelegatedAuthority.council_id == council_id)
        .group_by(DelegatedAuthority.holder_id)
    )
    rows = session.scalars(
        select(DelegatedAuthority)
        .join(User, User.id == DelegatedAuthority.holder_id)
        .where(
            DelegatedAuthority.id.in_(newest),
            User.disabled_at.is_(None),
            User.role == Role.BUDGET_HOLDER,
            User.council_id == council_id,
        )
    )
    return sorted(rows, key=lambda a: (-a.per_request_pence, -a.per_fund_year_pence, a.id))


def authority_history(session: Session, holder_id: int) -> list[DelegatedAuthority]:
    return list(
        session.scalars(
            select(DelegatedAuthority)
            .where(DelegatedAuthority.holder_id == holder_id)
            .order_by(DelegatedAuthority.id.desc())
        )
    )


def set_authority(
    session: Session,
    *,
    holder: User,
    by: User,
    per_request_pence: int,
    per_fund_year_pence: int,
    note: str,
    now: datetime | None = None,
) -> DelegatedAuthority:
    """An administrator sets what a budget holder may approve alone. The old limits stay
    on the record; decisions already made keep the limits they were made under."""
    if by.role != Role.ADMIN:
        raise NotAllowed("Only administrators set delegated authority")
    if holder.role != Role.BUDGET_HOLDER or holder.council_id is None:
        raise RuleBroken("Delegated authority is for a council's budget holders", field="holder")
    with Rules() as rules:
        if not 0 <= per_request_pence <= MAX_LIMIT_PENCE:
            rules.broken(
                f"Enter an amount from £0 to {format_pence(MAX_LIMIT_PENCE)}", field="per_request"
            )
        if not per_request_pence <= per_fund_year_pence <= MAX_LIMIT_PENCE:
            rules.broken(
                "Enter a yearly amount for one fund of at least the amount a request, and "
                f"at most {format_pence(MAX_LIMIT_PENCE)}",
                field="per_fund_year",
            )
    why = check_text(note, field="note", missing="Say why the limits are set")
    authority = DelegatedAuthority(
        council_id=holder.council_id,
        holder_id=holder.id,
        per_request_pence=per_request_pence,
        per_fund_year_pence=per_fund_year_pence,
        set_by_id=by.id,
        set_at=now or utcnow(),
        note=why,
    )
    session.add(authority)
    session.flush()
    audit.record_change(
        session,
        actor=by,
        subject_type="delegated_authority",
        subject_id=authority.id,
        fields=["per_request_pence", "per_fund_year_pence"],
    )
    return authority
