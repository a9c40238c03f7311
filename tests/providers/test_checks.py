"""The trust panel: declared, verified by an administrator on a date, or expired; bad
numbers refused; reminders sent once before and once after expiry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role
from marketplace.errors import Conflict, RuleBroken
from marketplace.mail import read_outbox
from marketplace.settings import Settings
from providers import checks as checks_service
from providers.checks import CheckDetails
from providers.models import CARE_INSPECTORATE_THEMES, CheckKind, CheckStatus, ProviderKind
from tests.factories import make_provider, make_user

TODAY = date(2026, 11, 22)


def declare(db: Session, provider, **fields):  # type: ignore[no-untyped-def]
    return checks_service.declare_check(
        db,
        provider=provider,
        actor=provider.members[0].user,
        details=CheckDetails(**fields),
        today=TODAY,
    )


class TestDeclare:
    def test_a_pvg_membership_is_declared_until_verified(self, db: Session) -> None:
        provider = make_provider(db)
        check = declare(db, provider, kind=CheckKind.PVG, reference="1234 5678 9012 3456")
        assert (check.reference, check.status) == ("1234567890123456", CheckStatus.DECLARED)
        assert check in checks_service.checks_waiting(db, page_size=1_000).items

    @pytest.mark.parametrize(
        ("kind", "reference"),
        [
            (CheckKind.PVG, "12345"),
            (CheckKind.PVG, "ABCDEFGHIJKLMNOP"),
            (CheckKind.CARE_INSPECTORATE, "CS12345"),
            (CheckKind.CARE_INSPECTORATE, "XY2012301234"),
            (CheckKind.CARE_INSPECTORATE, ""),
        ],
    )
    def test_malformed_numbers_are_refused(
        self, db: Session, kind: CheckKind, reference: str
    ) -> None:
        with pytest.raises(RuleBroken) as refused:
            declare(db, make_provider(db), kind=kind, reference=reference)
        assert refused.value.field == "reference"

    def test_a_registration_with_grades(self, db: Session) -> None:
        grades = {CARE_INSPECTORATE_THEMES[0]: 5, CARE_INSPECTORATE_THEMES[2]: 4}
        check = declare(
            db,
            make_provider(db, kind=ProviderKind.REGISTERED_PROVIDER),
            kind=CheckKind.CARE_INSPECTORATE,
            reference="cs2012301234",
            grades=grades,
        )
        assert check.reference == "CS2012301234" and check.grades == grades

    def test_grades_outside_1_to_6_are_refused(self, db: Session) -> None:
        with pytest.raises(RuleBroken) as refused:
            declare(
                db,
                make_provider(db),
                kind=CheckKind.CARE_INSPECTORATE,
                reference="CS2012301234",
                grades={CARE_INSPECTORATE_THEMES[0]: 7},
            )
        assert refused.value.field == "grades"

    def test_expired_insurance_is_refused(self, db: Session) -> None:
        with pytest.raises(RuleBroken) as refused:
            declare(
                db,
                make_provider(db),
                kind=CheckKind.INSURANCE,
                reference="PL-1",
                issuer="Insurer",
                expires_on=TODAY - timedelta(days=1),
            )
        assert refused.value.field == "expires_on"

    def test_insurance_needs_its_end_date(self, db: Session) -> None:
        with pytest.raises(RuleBroken) as refused:
            declare(db, make_provider(db), kind=CheckKind.INSURANCE, reference="PL-1")
        assert refused.value.field == "expires_on"

    def test_every_fault_in_a_declaration_is_named_at_once(self, db: Session) -> None:
        with pytest.raises(RuleBroken) as refused:
            declare(
                db,
                make_provider(db),
                kind=CheckKind.INSURANCE,
                reference=" ",
                grades={CARE_INSPECTORATE_THEMES[0]: 5},
                cover_pence=-1,
            )
        assert [p.field for p in refused.value.problems] == [
            "reference",
            "grades",
            "expires_on",
            "cover",
        ]

    def test_the_same_check_twice_is_a_conflict(self, db: Session) -> None:
        provider = make_provider(db)
        declare(db, provider, kind=CheckKind.PVG, reference="1234567890123456")
        with pytest.raises(Conflict):
            declare(db, provider, kind=CheckKind.PVG, reference="1234567890123456")


class TestVerify:
    def test_verified_by_an_administrator_on_a_date(self, db: Session) -> None:
        admin = make_user(db, role=Role.ADMIN)
        check = declare(db, make_provider(db), kind=CheckKind.PVG, reference="1234567890123456")
        checks_service.verify_check(db, check=check, admin=admin)
        assert (check.status, check.verified_by_id) == (CheckStatus.VERIFIED, admin.id)
        assert check.verified_at is not None
        assert check not in checks_service.checks_waiting(db, page_size=1_000).items
        with pytest.raises(Conflict):
            checks_service.reject_check(db, check=check, admin=admin, note="Too late")

    def test_a_rejection_says_why_and_tells_the_provider(
        self, db: Session, settings: Settings
    ) -> None:
        admin = make_user(db, role=Role.ADMIN)
        check = declare(db, make_provider(db), kind=CheckKind.PVG, reference="1234567890123456")
        with pytest.raises(RuleBroken):
            checks_service.reject_check(db, check=check, admin=admin, note=" ")
        checks_service.reject_check(
            db, check=check, admin=admin, note="Disclosure Scotland has no such membership."
        )
        db.commit()
        [mail] = read_outbox(settings.outbox_dir)
        assert "no such membership" in mail.body

    def test_a_verified_check_past_its_date_shows_expired(self, db: Session) -> None:
        check = declare(
            db,
            make_provider(db),
            kind=CheckKind.INSURANCE,
            reference="PL-9",
            issuer="Insurer",
            expires_on=TODAY + timedelta(days=10),
        )
        checks_service.verify_check(db, check=check, admin=make_user(db, role=Role.ADMIN))
        assert check.status_on(TODAY + timedelta(days=10)) == CheckStatus.VERIFIED
        assert check.status_on(TODAY + timedelta(days=11)) == CheckStatus.EXPIRED


def test_reminders_before_and_after_expiry_each_once(db: Session, settings: Settings) -> None:
    provider = make_provider(db)
    check = declare(
        db,
        provider,
        kind=CheckKind.INSURANCE,
        reference="PL-7",
        issuer="Insurer",
        expires_on=TODAY + timedelta(days=20),
    )
    declare(
        db,
        provider,
        kind=CheckKind.TRAINING,
        reference="First aid",
        expires_on=TODAY + timedelta(days=90),
    )
    assert checks_service.send_expiry_reminders(db, today=TODAY) == 1
    assert checks_service.send_expiry_reminders(db, today=TODAY) == 0
    assert checks_service.send_expiry_reminders(db, today=TODAY + timedelta(days=21)) == 1
    assert checks_service.send_expiry_reminders(db, today=TODAY + timedelta(days=22)) == 0
    db.commit()
    subjects = sorted(m.subject for m in read_outbox(settings.outbox_dir))
    assert subjects == [
        "Your public liability insurance has run out",
        f"Your public liability insurance runs out on {check.expires_on:%-d %B %Y}",
    ]
