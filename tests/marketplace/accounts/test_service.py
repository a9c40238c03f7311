"""The rules of accounts, tested through the service functions on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import EmailToken, Relationship, Role, User, UserSession
from marketplace.accounts.passwords import make_hasher
from marketplace.audit import AuditAction, AuditEvent
from marketplace.db import utcnow
from marketplace.errors import Conflict, NotFound, RuleBroken
from marketplace.geography import service as geography_service
from marketplace.mail import read_outbox
from marketplace.settings import SecuritySettings, Settings
from tests.factories import PASSWORD, make_user


def events(db: Session, action: AuditAction) -> list[AuditEvent]:
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def sent_mails(db: Session, settings: Settings) -> list:
    db.commit()  # mail goes out only when the transaction commits
    return read_outbox(settings.outbox_dir)


def link_in(body: str, prefix: str) -> str:
    return next(line for line in body.splitlines() if prefix in line).split(prefix, 1)[1]


class TestPasswordHashing:
    def test_service_profile_is_argon2id_above_the_owasp_minimum(self) -> None:
        stored = make_hasher("rfc9106_low_memory").hash("a long enough password")
        assert stored.startswith("$argon2id$")
        parameters = extract_parameters(stored)
        assert parameters.memory_cost >= 19456
        assert parameters.time_cost >= 2

    def test_stored_hashes_are_argon2id(self, db: Session) -> None:
        user = make_user(db)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash

    @pytest.mark.parametrize("length", [12, 64, 128])
    def test_accepts_passwords_from_12_to_128_characters(
        self, db: Session, hasher: PasswordHasher, length: int
    ) -> None:
        password = ("abcdefghij" * 13)[:length]
        make_user(db, password=password)

    @pytest.mark.parametrize("length", [11, 129])
    def test_refuses_too_short_or_too_long(self, db: Session, length: int) -> None:
        with pytest.raises(RuleBroken) as refused:
            make_user(db, password=("abcdefghij" * 13)[:length])
        assert refused.value.field == "password"

    def test_refuses_the_email_address_as_password(self, db: Session) -> None:
        with pytest.raises(RuleBroken):
            make_user(db, email="longaddress@example.org", password="longaddress@example.org")


class TestSignUp:
    def test_creates_an_unconfirmed_account_and_mails_a_link(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        user = accounts_service.sign_up(
            db,
            hasher=hasher,
            email="Morag@Example.org",
            name=" Morag ",
            role=Role.SUPPORTED_PERSON,
            password=PASSWORD,
        )
        assert user is not None
        assert user.email == "morag@example.org"
        assert user.name == "Morag"
        assert user.email_confirmed_at is None
        assert not user.is_active
        [mail] = sent_mails(db, settings)
        assert mail.to == "morag@example.org"
        assert "/confirm-email?token=" in mail.body

    def test_an_address_in_use_gets_a_notice_not_a_second_account(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        existing = make_user(db, email="taken@example.org")
        again = accounts_service.sign_up(
            db,
            hasher=hasher,
            email="taken@example.org",
            name="Someone",
            role=Role.REPRESENTATIVE,
            password=PASSWORD,
        )
        assert again is None
        assert len(list(db.scalars(select(User).where(User.email == "taken@example.org")))) == 1
        [mail] = sent_mails(db, settings)
        assert mail.to == existing.email
        assert "already has an account" in mail.body

    @pytest.mark.parametrize(
        "role", [Role.ADMIN, Role.COMMISSIONER, Role.BUDGET_HOLDER, Role.FINANCE, Role.PANEL_MEMBER]
    )
    def test_staff_roles_cannot_be_chosen_at_sign_up(
        self, db: Session, hasher: PasswordHasher, role: Role
    ) -> None:
        with pytest.raises(RuleBroken):
            accounts_service.sign_up(
                db, hasher=hasher, email="x@example.org", name="X", role=role, password=PASSWORD
            )

    def test_a_rolled_back_sign_up_mails_nobody(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        accounts_service.sign_up(
            db,
            hasher=hasher,
            email="gone@example.org",
            name="Gone",
            role=Role.SUPPORTED_PERSON,
            password=PASSWORD,
        )
        db.rollback()
        assert read_outbox(settings.outbox_dir) == []


class TestEmailConfirmation:
    def _signed_up(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> tuple[User, str]:
        user = accounts_service.sign_up(
            db,
            hasher=hasher,
            email="new@example.org",
            name="New",
            role=Role.PERSONAL_ASSISTANT,
            password=PASSWORD,
        )
        assert user is not None
        [mail] = sent_mails(db, settings)
        return user, link_in(mail.body, "/confirm-email?token=")

    def test_the_link_confirms_once(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        user, token = self._signed_up(db, hasher, settings)
        assert accounts_service.confirm_email(db, token=token) == user
        assert user.is_active
        with pytest.raises(NotFound):
            accounts_service.confirm_email(db, token=token)
        assert len(events(db, AuditAction.EMAIL_CONFIRMED)) == 1

    def test_an_expired_link_is_refused(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        user, token = self._signed_up(db, hasher, settings)
        stored = db.get(EmailToken, accounts_service.hash_token(token))
        assert stored is not None
        stored.expires_at = utcnow() - timedelta(seconds=1)
        with pytest.raises(NotFound):
            accounts_service.confirm_email(db, token=token)
        assert user.email_confirmed_at is None

    def test_only_a_hash_of_the_token_is_stored(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        _, token = self._signed_up(db, hasher, settings)
        assert db.get(EmailToken, token) is None
        assert db.get(EmailToken, accounts_service.hash_token(token)) is not None


class TestAuthenticate:
    def test_right_password_signs_in_and_is_audited(
        self, db: Session, hasher: PasswordHasher
    ) -> None:
        user = make_user(db)
        assert (
            accounts_service.authenticate(
                db, hasher=hasher, email=user.email.upper(), password=PASSWORD
            )
            == user
        )
        [event] = events(db, AuditAction.SIGN_IN_SUCCEEDED)
        assert event.actor_id == user.id

    @pytest.mark.parametrize(
        ("setup", "reason"),
        [
            ("wrong_password", "wrong_password"),
            ("unconfirmed", "email_not_confirmed"),
            ("disabled", "account_disabled"),
        ],
    )
    def test_refusals_are_audited_with_a_reason(
        self, db: Session, hasher: PasswordHasher, setup: str, reason: str
    ) -> None:
        user = make_user(db, confirmed=setup != "unconfirmed")
        if setup == "disabled":
            user.disabled_at = utcnow()
        password = "not the password at all" if setup == "wrong_password" else PASSWORD
        assert (
            accounts_service.authenticate(db, hasher=hasher, email=user.email, password=password)
            is None
        )
        [event] = events(db, AuditAction.SIGN_IN_FAILED)
        assert event.subject_id == str(user.id)
        assert event.detail == {"reason": reason}
        assert event.actor_id is None

    def test_unknown_address_is_audited_without_the_address(
        self, db: Session, hasher: PasswordHasher
    ) -> None:
        assert (
            accounts_service.authenticate(
                db, hasher=hasher, email="nobody@example.org", password=PASSWORD
            )
            is None
        )
        [event] = events(db, AuditAction.SIGN_IN_FAILED)
        assert "nobody" not in repr((event.subject_id, event.detail))


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting the work it does."""

    def __init__(self, **costs: int) -> None:
        super().__init__(**costs)
        self.verified = self.hashed = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


class TestSignInTakesTheSameWorkForAnyAddress:
    """An unknown address costs one real argon2 verification with the hasher's own costs,
    exactly as a known one does, and nothing more, so the time taken gives nothing away."""

    @pytest.mark.parametrize("time_cost", [1, 2])
    def test_an_unknown_address_costs_one_verification_and_no_hashing(
        self, db: Session, time_cost: int
    ) -> None:
        counting = CountingHasher(
            time_cost=time_cost, memory_cost=8, parallelism=1, hash_len=16, salt_len=8
        )
        user = make_user(db, hasher=counting)
        accounts_service.authenticate(
            db, hasher=counting, email="first@example.org", password=PASSWORD
        )
        counting.verified = counting.hashed = 0

        accounts_service.authenticate(
            db, hasher=counting, email="nobody@example.org", password=PASSWORD
        )
        unknown = (counting.verified, counting.hashed)
        counting.verified = counting.hashed = 0
        accounts_service.authenticate(
            db, hasher=counting, email=user.email, password="not the password at all"
        )
        known = (counting.verified, counting.hashed)
        assert unknown == known == (1, 0)

    def test_the_unknown_address_is_checked_against_a_hash_with_the_hashers_costs(
        self, db: Session
    ) -> None:
        seen: list[str] = []

        class Recording(CountingHasher):
            def verify(self, hash: str | bytes, password: str | bytes) -> bool:
                seen.append(str(hash))
                return super().verify(hash, password)

        costs = {
            "time_cost": 3,
            "memory_cost": 16,
            "parallelism": 2,
            "hash_len": 32,
            "salt_len": 16,
        }
        accounts_service.authenticate(
            db, hasher=Recording(**costs), email="nobody@example.org", password=PASSWORD
        )
        [dummy] = seen
        parameters = extract_parameters(dummy)
        assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 16, 2)
        assert parameters.hash_len == 32


class TestSessions:
    security = SecuritySettings()

    def test_a_new_session_replaces_the_old_one(self, db: Session) -> None:
        user = make_user(db)
        first = accounts_service.start_session(db, user=user)
        second = accounts_service.start_session(db, user=user, replacing=first)
        assert first != second
        assert accounts_service.user_for_session(db, token=first, security=self.security) is None
        assert accounts_service.user_for_session(db, token=second, security=self.security) == user

    def test_signing_out_ends_the_session(self, db: Session) -> None:
        user = make_user(db)
        token = accounts_service.start_session(db, user=user)
        accounts_service.end_session(db, token=token, user=user)
        assert accounts_service.user_for_session(db, token=token, security=self.security) is None
        assert len(events(db, AuditAction.SIGNED_OUT)) == 1

    def test_sessions_end_after_the_absolute_limit(self, db: Session) -> None:
        user = make_user(db)
        token = accounts_service.start_session(db, user=user)
        db.flush()
        stored = db.get(UserSession, accounts_service.hash_token(token))
        assert stored is not None
        stored.created_at = utcnow() - timedelta(hours=self.security.session_max_hours, seconds=1)
        assert accounts_service.user_for_session(db, token=token, security=self.security) is None
        stored.created_at = (
            utcnow() - timedelta(hours=self.security.session_max_hours) + timedelta(minutes=1)
        )
        assert accounts_service.user_for_session(db, token=token, security=self.security) == user

    def test_a_disabled_account_loses_its_sessions(self, db: Session) -> None:
        admin = make_user(db, role=Role.ADMIN)
        user = make_user(db)
        token = accounts_service.start_session(db, user=user)
        accounts_service.set_disabled(db, changed_by=admin, user=user, disabled=True)
        assert accounts_service.user_for_session(db, token=token, security=self.security) is None


class TestPasswordReset:
    def _reset_token(self, db: Session, settings: Settings, user: User) -> str:
        accounts_service.request_password_reset(db, email=user.email)
        [mail] = sent_mails(db, settings)
        return link_in(mail.body, "/password-reset/new?token=")

    def test_reset_sets_the_password_and_ends_every_session(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        user = make_user(db)
        token_before = accounts_service.start_session(db, user=user)
        token = self._reset_token(db, settings, user)
        accounts_service.reset_password(
            db, hasher=hasher, token=token, new_password="a brand new passphrase"
        )
        assert (
            accounts_service.authenticate(
                db, hasher=hasher, email=user.email, password="a brand new passphrase"
            )
            == user
        )
        assert (
            accounts_service.user_for_session(db, token=token_before, security=settings.security)
            is None
        )
        with pytest.raises(NotFound):
            accounts_service.reset_password(
                db, hasher=hasher, token=token, new_password="yet another passphrase"
            )

    def test_a_weak_new_password_leaves_the_link_usable(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        user = make_user(db)
        token = self._reset_token(db, settings, user)
        with pytest.raises(RuleBroken):
            accounts_service.reset_password(db, hasher=hasher, token=token, new_password="short")
        accounts_service.check_reset_token(db, token=token)

    def test_unknown_address_mails_nobody(self, db: Session, settings: Settings) -> None:
        accounts_service.request_password_reset(db, email="nobody@example.org")
        assert sent_mails(db, settings) == []


class TestChangePassword:
    def test_keeps_this_session_and_ends_the_others(
        self, db: Session, hasher: PasswordHasher, settings: Settings
    ) -> None:
        user = make_user(db)
        here = accounts_service.start_session(db, user=user)
        elsewhere = accounts_service.start_session(db, user=user)
        accounts_service.change_password(
            db,
            hasher=hasher,
            user=user,
            current_password=PASSWORD,
            new_password="another long passphrase",
            session_token=here,
        )
        assert accounts_service.user_for_session(db, token=here, security=settings.security) == user
        assert (
            accounts_service.user_for_session(db, token=elsewhere, security=settings.security)
            is None
        )
        assert len(events(db, AuditAction.PASSWORD_CHANGED)) == 1

    def test_needs_the_current_password(self, db: Session, hasher: PasswordHasher) -> None:
        user = make_user(db)
        with pytest.raises(RuleBroken) as refused:
            accounts_service.change_password(
                db,
                hasher=hasher,
                user=user,
                current_password="wrong wrong wrong",
                new_password="another long passphrase",
                session_token="x",
            )
        assert refused.value.field == "current_password"


class TestRoles:
    def test_a_role_change_is_audited_and_applies_at_once(
        self, db: Session, settings: Settings
    ) -> None:
        admin = make_user(db, role=Role.ADMIN)
        user = make_user(db, role=Role.PANEL_MEMBER)
        token = accounts_service.start_session(db, user=user)
        highland = geography_service.find_council_area(db, name_or_code="Highland")
        accounts_service.change_role(
            db,
            changed_by=admin,
            user=user,
            role=Role.BUDGET_HOLDER,
            council=highland,
        )
        assert (user.role, user.council) == (Role.BUDGET_HOLDER, highland)
        assert (
            accounts_service.user_for_session(db, token=token, security=settings.security) is None
        )
        [event] = events(db, AuditAction.ROLE_CHANGED)
        assert event.actor_id == admin.id
        assert event.detail["from_role"] == "panel_member"
        assert event.detail["to_role"] == "budget_holder"

    def test_budget_holders_need_a_council(self, db: Session) -> None:
        admin = make_user(db, role=Role.ADMIN)
        user = make_user(db)
        with pytest.raises(RuleBroken) as refused:
            accounts_service.change_role(
                db,
                changed_by=admin,
                user=user,
                role=Role.BUDGET_HOLDER,
                council=None,
            )
        assert refused.value.field == "council"

    def test_only_council_roles_have_a_council(self, db: Session) -> None:
        admin = make_user(db, role=Role.ADMIN)
        user = make_user(db)
        fife = geography_service.find_council_area(db, name_or_code="S12000047")
        with pytest.raises(RuleBroken):
            accounts_service.change_role(
                db,
                changed_by=admin,
                user=user,
                role=Role.PROVIDER_STAFF,
                council=fife,
            )

    def test_a_commissioner_without_a_council_covers_scotland(self, db: Session) -> None:
        commissioner = make_user(db, role=Role.COMMISSIONER)
        assert commissioner.council is None

    def test_an_administrator_cannot_remove_their_own_role(self, db: Session) -> None:
        admin = make_user(db, role=Role.ADMIN)
        with pytest.raises(RuleBroken):
            accounts_service.change_role(
                db,
                changed_by=admin,
                user=admin,
                role=Role.FINANCE,
                council=None,
            )

    def test_the_database_refuses_an_unscoped_budget_holder(self, db: Session) -> None:
        from sqlalchemy.exc import IntegrityError

        user = make_user(db)
        nested = db.begin_nested()
        user.role = Role.BUDGET_HOLDER
        with pytest.raises(IntegrityError):
            db.flush()
        nested.rollback()


class TestRepresentation:
    def test_a_person_names_their_representative(self, db: Session, settings: Settings) -> None:
        person = make_user(db)
        carer = make_user(db, role=Role.REPRESENTATIVE)
        link = accounts_service.add_representative(
            db,
            supported_person=person,
            representative_email=carer.email,
            relationship_kind=Relationship.CARER,
        )
        assert accounts_service.acts_for(db, representative=carer, supported_person_id=person.id)
        assert accounts_service.representations_of(db, user=carer) == [link]
        [mail] = sent_mails(db, settings)
        assert mail.to == carer.email
        assert person.name in mail.subject
        [event] = events(db, AuditAction.REPRESENTATION_ADDED)
        assert event.detail["representative_id"] == carer.id

    def test_only_representative_accounts_can_be_named(self, db: Session) -> None:
        person = make_user(db)
        other = make_user(db, role=Role.PERSONAL_ASSISTANT)
        with pytest.raises(RuleBroken):
            accounts_service.add_representative(
                db,
                supported_person=person,
                representative_email=other.email,
                relationship_kind=Relationship.CARER,
            )

    def test_naming_the_same_person_twice_is_a_conflict(self, db: Session) -> None:
        person = make_user(db)
        carer = make_user(db, role=Role.REPRESENTATIVE)
        accounts_service.add_representative(
            db,
            supported_person=person,
            representative_email=carer.email,
            relationship_kind=Relationship.FAMILY,
        )
        with pytest.raises(Conflict):
            accounts_service.add_representative(
                db,
                supported_person=person,
                representative_email=carer.email,
                relationship_kind=Relationship.FAMILY,
            )

    def test_removing_ends_the_link(self, db: Session) -> None:
        person = make_user(db)
        carer = make_user(db, role=Role.REPRESENTATIVE)
        link = accounts_service.add_representative(
            db,
            supported_person=person,
            representative_email=carer.email,
            relationship_kind=Relationship.GUARDIAN,
        )
        accounts_service.remove_representative(db, removed_by=carer, link=link)
        db.flush()
        assert not accounts_service.acts_for(
            db, representative=carer, supported_person_id=person.id
        )
        assert len(events(db, AuditAction.REPRESENTATION_REMOVED)) == 1


class TestCreateUser:
    def test_addresses_are_unique_whatever_their_case(self, db: Session) -> None:
        make_user(db, email="dup@example.org")
        with pytest.raises(Conflict):
            make_user(db, email="DUP@example.org")
