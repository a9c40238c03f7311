"""Support delivered against a fund, from the provider's record to the payment: the person
confirms or disputes it, a dispute is put right, the holder approves it, and the fund pays
the provider and the holder's fee in one ledger transaction, once, never beyond what the
fund holds."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds.accounts import management_fees_account, payable_account
from contracts.funds.funding import post_due_tranches
from contracts.funds.models import BudgetLine, BudgetLineKind, IndividualServiceFund
from contracts.funds.statement import statement_of
from contracts.ledger_check import check_invariants
from contracts.models import LedgerTransaction, ReferenceKind
from contracts.spending import service as spending
from contracts.spending.models import Delivery, DeliveryKind, DeliveryStatus
from marketplace.accounts.models import Role, User
from marketplace.errors import Conflict, NotAllowed, NotFound, RuleBroken
from providers.models import Provider
from tests.contracts.funds.fund_builders import PERIOD_START, active_fund, holder_staff
from tests.factories import make_provider, make_user

A_MONDAY = date(2027, 4, 5)
AN_HOUR_PENCE = 2_000
"""The plan's line: 4 hours a week at £20 an hour, with nothing added."""


def offer_line(fund: IndividualServiceFund) -> BudgetLine:
    return next(line for line in fund.lines if line.kind == BudgetLineKind.OFFER)


def line_staff(fund: IndividualServiceFund) -> User:
    provider = offer_line(fund).provider
    assert provider is not None
    return provider.members[0].user


def funded(db: Session, **holder_fee: object) -> IndividualServiceFund:
    fund = active_fund(db, **holder_fee)
    post_due_tranches(db, today=PERIOD_START)
    return fund


def recorded(db: Session, fund: IndividualServiceFund, *, minutes: int = 90) -> Delivery:
    return spending.record_support(
        db,
        fund=fund,
        line_id=offer_line(fund).id,
        by=line_staff(fund),
        delivered_on=A_MONDAY,
        minutes=minutes,
        description="Swimming at the leisure centre",
        today=A_MONDAY,
    )


def confirmed(db: Session, fund: IndividualServiceFund, *, minutes: int = 90) -> Delivery:
    return spending.confirm_delivery(
        db, delivery=recorded(db, fund, minutes=minutes), by=fund.person
    )


def fields_of(error: RuleBroken) -> set[str | None]:
    return {problem.field for problem in error.problems} | {error.field}


def a_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, "PNG")
    return out.getvalue()


class TestRecording:
    def test_hours_are_paid_at_the_lines_agreed_price(self, db: Session) -> None:
        fund = funded(db)
        delivery = recorded(db, fund, minutes=90)
        assert delivery.status == DeliveryStatus.RECORDED
        assert delivery.amount_pence == AN_HOUR_PENCE * 3 // 2
        assert delivery.provider_id == offer_line(fund).provider_id

    @pytest.mark.parametrize(
        ("day", "minutes", "words", "field"),
        [
            (date(2027, 4, 6), 60, "Swimming", "delivered_on"),  # after today
            (date(2027, 3, 31), 60, "Swimming", "delivered_on"),  # before the line starts
            (A_MONDAY, 0, "Swimming", "hours"),
            (A_MONDAY, 24 * 60 + 1, "Swimming", "hours"),
            (A_MONDAY, 60, "   ", "description"),
        ],
    )
    def test_a_record_that_cannot_be_right_is_refused_with_its_field(
        self, db: Session, day: date, minutes: int, words: str, field: str
    ) -> None:
        fund = funded(db)
        with pytest.raises(RuleBroken) as refused:
            spending.record_support(
                db,
                fund=fund,
                line_id=offer_line(fund).id,
                by=line_staff(fund),
                delivered_on=day,
                minutes=minutes,
                description=words,
                today=A_MONDAY,
            )
        assert field in fields_of(refused.value)
        assert db.scalar(select(func.count()).select_from(Delivery)) == 0

    def test_only_the_lines_provider_records_it(self, db: Session) -> None:
        fund = funded(db)
        stranger = make_provider(db).members[0].user
        with pytest.raises(NotFound):
            spending.record_support(
                db,
                fund=fund,
                line_id=offer_line(fund).id,
                by=stranger,
                delivered_on=A_MONDAY,
                minutes=60,
                description="Swimming",
                today=A_MONDAY,
            )
        # The holder sees the fund, but another provider delivers this line.
        with pytest.raises(NotAllowed):
            spending.record_support(
                db,
                fund=fund,
                line_id=offer_line(fund).id,
                by=holder_staff(fund),
                delivered_on=A_MONDAY,
                minutes=60,
                description="Swimming",
                today=A_MONDAY,
            )

    def test_a_line_of_another_fund_is_not_found(self, db: Session) -> None:
        fund, other = funded(db), funded(db)
        with pytest.raises(NotFound):
            spending.record_support(
                db,
                fund=fund,
                line_id=offer_line(other).id,
                by=line_staff(other),
                delivered_on=A_MONDAY,
                minutes=60,
                description="Swimming",
                today=A_MONDAY,
            )

    def test_the_provider_finds_the_lines_it_delivers(self, db: Session) -> None:
        fund = funded(db)
        assert [line.id for _, line in spending.lines_to_record(db, user=line_staff(fund))] == [
            offer_line(fund).id
        ]
        assert spending.lines_to_record(db, user=fund.person) == []


class TestPurchases:
    def test_a_purchase_keeps_its_receipt_and_the_holder_records_described_support(
        self, db: Session
    ) -> None:
        fund = funded(db)
        # Support described in words is the holder's to record and to pay on. (A line
        # added once the fund is active comes by a change of use; here, written directly.)
        described = BudgetLine(
            kind=BudgetLineKind.DESCRIBED,
            title="Gym membership",
            weekly_pence=500,
            starts_on=PERIOD_START,
            ends_on=date(2028, 3, 31),
            added_by_id=fund.person_id,
        )
        fund.lines.append(described)
        db.flush()
        delivery = spending.record_purchase(
            db,
            fund=fund,
            line_id=described.id,
            by=holder_staff(fund),
            delivered_on=A_MONDAY,
            amount_pence=2_150,
            description="April's gym membership",
            receipt=a_png(),
            today=A_MONDAY,
        )
        assert delivery.kind == DeliveryKind.PURCHASE
        assert delivery.provider_id == fund.holder_id
        assert delivery.receipt is not None and delivery.receipt.media_type == "image/png"

    @pytest.mark.parametrize(
        "receipt",
        [b"", b"not a picture at all", b"%PDF-1.7 cut short"],
        ids=["empty", "not-a-picture", "pdf-cut-short"],
    )
    def test_a_receipt_must_be_a_pdf_or_a_photo(self, db: Session, receipt: bytes) -> None:
        fund = funded(db)
        with pytest.raises(RuleBroken) as refused:
            spending.record_purchase(
                db,
                fund=fund,
                line_id=offer_line(fund).id,
                by=line_staff(fund),
                delivered_on=A_MONDAY,
                amount_pence=1_000,
                description="Swimming goggles",
                receipt=receipt,
                today=A_MONDAY,
            )
        assert fields_of(refused.value) == {"receipt"}

    def test_a_pdf_receipt_is_kept_as_sent(self, db: Session) -> None:
        fund = funded(db)
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        delivery = spending.record_purchase(
            db,
            fund=fund,
            line_id=offer_line(fund).id,
            by=line_staff(fund),
            delivered_on=A_MONDAY,
            amount_pence=1_000,
            description="Swimming goggles",
            receipt=pdf,
            today=A_MONDAY,
        )
        assert delivery.receipt is not None
        assert (delivery.receipt.media_type, delivery.receipt.data) == ("application/pdf", pdf)


class TestConfirmingAndDisputing:
    def test_only_the_persons_side_confirms(self, db: Session) -> None:
        fund = funded(db)
        delivery = recorded(db, fund)
        with pytest.raises(NotAllowed):
            spending.confirm_delivery(db, delivery=delivery, by=holder_staff(fund))
        with pytest.raises(NotFound):
            spending.confirm_delivery(db, delivery=delivery, by=make_user(db))
        assert delivery.status == DeliveryStatus.RECORDED

    def test_a_dispute_is_put_right_and_confirmed_at_the_corrected_hours(self, db: Session) -> None:
        fund = funded(db)
        delivery = recorded(db, fund, minutes=120)
        with pytest.raises(RuleBroken):
            spending.dispute_delivery(db, delivery=delivery, by=fund.person, reason=" ")
        spending.dispute_delivery(
            db, delivery=delivery, by=fund.person, reason="We only swam for an hour"
        )
        assert delivery.status == DeliveryStatus.DISPUTED
        with pytest.raises(NotAllowed):
            spending.resolve_dispute(db, delivery=delivery, by=fund.person, resolution="Fine")
        spending.resolve_dispute(
            db,
            delivery=delivery,
            by=line_staff(fund),
            resolution="Sorry: it was an hour. Corrected.",
            minutes=60,
        )
        assert (delivery.status, delivery.amount_pence) == (DeliveryStatus.RECORDED, AN_HOUR_PENCE)
        assert delivery.dispute_reason == "We only swam for an hour"
        spending.confirm_delivery(db, delivery=delivery, by=fund.person)
        assert delivery.status == DeliveryStatus.CONFIRMED

    def test_a_withdrawn_delivery_cannot_be_approved(self, db: Session) -> None:
        fund = funded(db)
        delivery = confirmed(db, fund)
        spending.withdraw_delivery(
            db, delivery=delivery, by=line_staff(fund), reason="Recorded twice"
        )
        with pytest.raises(Conflict):
            spending.approve_delivery(db, delivery=delivery, by=holder_staff(fund))


def postings_for(db: Session, delivery: Delivery) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(
                LedgerTransaction.reference_kind == ReferenceKind.DELIVERY,
                LedgerTransaction.reference_id == str(delivery.id),
            )
        )
        or 0
    )


class TestApproving:
    def test_approval_pays_the_provider_and_the_holders_fee_from_the_fund_once(
        self, db: Session
    ) -> None:
        fund = funded(db)
        assert fund.account is not None
        before = fund.account.balance_pence
        delivery = confirmed(db, fund, minutes=90)
        with pytest.raises(NotAllowed):
            spending.approve_delivery(db, delivery=delivery, by=fund.person)
        spending.approve_delivery(db, delivery=delivery, by=holder_staff(fund))
        spending.approve_delivery(db, delivery=delivery, by=holder_staff(fund))
        assert delivery.status == DeliveryStatus.APPROVED
        assert postings_for(db, delivery) == 1
        provider = offer_line(fund).provider
        assert isinstance(provider, Provider)
        # £30 of support and the holder's 10%, £3.
        assert fund.account.balance_pence == before - 3_300
        assert payable_account(db, provider, fund.council).balance_pence == 3_000
        assert management_fees_account(db, fund.holder).balance_pence == 300
        statement = statement_of(db, fund, on=A_MONDAY)
        assert (statement.spent_pence, statement.fees_charged_pence) == (3_000, 300)
        assert statement.entries[-1].reason.startswith(f"{offer_line(fund).title}: 1 h 30 min")
        assert check_invariants(db).sound

    def test_a_fund_that_holds_too_little_pays_nothing(self, db: Session) -> None:
        fund = active_fund(db)  # nothing paid in yet
        delivery = confirmed(db, fund)
        with pytest.raises(RuleBroken, match=r"The fund holds £0\.00 now"):
            spending.approve_delivery(db, delivery=delivery, by=holder_staff(fund))
        assert delivery.status == DeliveryStatus.CONFIRMED
        assert postings_for(db, delivery) == 0

    def test_the_holder_refuses_with_a_reason(self, db: Session) -> None:
        fund = funded(db)
        delivery = confirmed(db, fund)
        with pytest.raises(RuleBroken):
            spending.refuse_delivery(db, delivery=delivery, by=holder_staff(fund), reason="")
        spending.refuse_delivery(
            db, delivery=delivery, by=holder_staff(fund), reason="Not in the support plan"
        )
        assert (delivery.status, delivery.end_reason) == (
            DeliveryStatus.REFUSED,
            "Not in the support plan",
        )
        with pytest.raises(Conflict):
            spending.approve_delivery(db, delivery=delivery, by=holder_staff(fund))

    def test_council_staff_see_deliveries_but_do_not_act_on_them(self, db: Session) -> None:
        fund = funded(db)
        delivery = recorded(db, fund)
        finance = make_user(db, role=Role.FINANCE, council="Highland")
        assert spending.may_see_delivery(db, finance, delivery)
        with pytest.raises(NotAllowed):
            spending.confirm_delivery(db, delivery=delivery, by=finance)
        elsewhere = make_user(db, role=Role.FINANCE, council="Fife")
        assert not spending.may_see_delivery(db, elsewhere, delivery)
