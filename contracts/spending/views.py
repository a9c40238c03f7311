"""What the spending pages show each viewer: which of a delivery's next steps they may
take (the service still decides; this only chooses which buttons to draw), which
deliveries are waiting for them, and the tables that download as CSV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from contracts.funds import service as funds_service
from contracts.funds import views as fund_views
from contracts.funds.models import AgreementParty, IndividualServiceFund
from contracts.spending import service as spending
from contracts.spending.models import Delivery, DeliveryKind, DeliveryStatus
from marketplace.accounts.models import User
from marketplace.money import format_pence
from marketplace.tables import Cell, Column, Table

STATUS_COLOURS = {
    DeliveryStatus.RECORDED: "blue",
    DeliveryStatus.CONFIRMED: "orange",
    DeliveryStatus.DISPUTED: "red",
    DeliveryStatus.APPROVED: "green",
    DeliveryStatus.WITHDRAWN: "grey",
    DeliveryStatus.REFUSED: "grey",
}

RECEIPT_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


@dataclass(frozen=True)
class Actions:
    """The next steps the viewer's side may take on one delivery now."""

    confirm: bool = False
    dispute: bool = False
    resolve: bool = False
    withdraw: bool = False
    approve: bool = False
    refuse: bool = False

    @property
    def waiting(self) -> bool:
        """Nothing moves until this viewer acts: the person confirms, the recorder puts a
        dispute right, the holder approves."""
        return self.confirm or self.resolve or self.approve

    @property
    def any(self) -> bool:
        return self.waiting or self.dispute or self.withdraw or self.refuse


def actions_for(
    session: Session, user: User, delivery: Delivery, party: AgreementParty | None
) -> Actions:
    status = delivery.status
    person = party == AgreementParty.PERSON
    holder = party == AgreementParty.HOLDER
    recorder = status.is_open and spending.staff_of(session, user, delivery.provider_id)
    return Actions(
        confirm=person and status in (DeliveryStatus.RECORDED, DeliveryStatus.DISPUTED),
        dispute=person and status == DeliveryStatus.RECORDED,
        resolve=recorder and status == DeliveryStatus.DISPUTED,
        withdraw=recorder,
        approve=holder and status == DeliveryStatus.CONFIRMED,
        refuse=holder and status.is_open,
    )


@dataclass(frozen=True)
class Row:
    delivery: Delivery
    actions: Actions

    @property
    def colour(self) -> str:
        return STATUS_COLOURS[self.delivery.status]


def rows_for(
    session: Session, user: User, fund: IndividualServiceFund, deliveries: Sequence[Delivery]
) -> list[Row]:
    """Each delivery with what the viewer may do; those waiting for the viewer first, then
    the others still open, then the rest, each newest day first (the order they came in)."""
    party = funds_service.party_of(session, fund, user)
    rows = [Row(d, actions_for(session, user, d, party)) for d in deliveries]
    return sorted(rows, key=lambda row: (not row.actions.waiting, not row.delivery.status.is_open))


def shows_person(session: Session, fund: IndividualServiceFund, user: User) -> bool:
    """Whoever may see the person's name on the fund's pages, and the provider who
    delivers the person's support, who knows whom it supports."""
    return fund_views.may_see_person(session, fund, user) or spending.delivers_to(
        session, user, fund
    )


def quantity(delivery: Delivery) -> str:
    """Hours for support; 'Purchase' for a purchase (its cost is the amount)."""
    if delivery.kind == DeliveryKind.SUPPORT and delivery.minutes is not None:
        return spending.hours_label(delivery.minutes)
    return "Purchase"


def notes(delivery: Delivery) -> str:
    """A dispute, how it was put right, and why it was withdrawn or refused, in words."""
    said = []
    if delivery.dispute_reason:
        said.append(f"Disputed: {delivery.dispute_reason}")
    if delivery.resolution:
        said.append(f"Put right: {delivery.resolution}")
    if delivery.end_reason:
        said.append(f"{delivery.status.label}: {delivery.end_reason}")
    return " ".join(said)


def receipt_path(delivery: Delivery) -> str | None:
    if delivery.receipt_id is None:
        return None
    return f"/funds/{delivery.fund_id}/deliveries/{delivery.id}/receipt"


def delivery_path(delivery: Delivery) -> str:
    return f"/funds/{delivery.fund_id}/deliveries/{delivery.id}"


def deliveries_table(
    deliveries: Sequence[Delivery], *, name: str, caption: str, in_words: bool = True
) -> Table:
    """Support and purchases as the page lists them and as they download. Without
    `in_words` (finance, who see a fund's money by number only), what was done and what
    the person said are left out: the day, the line, the money and the status remain."""
    rows = [
        [
            Cell(f"{d.delivered_on:%-d %B %Y}", d.delivered_on.isoformat()),
            Cell(d.line.title),
            Cell(d.description if in_words else d.kind.label, href=delivery_path(d)),
            Cell(quantity(d), d.minutes if d.minutes is not None else ""),
            Cell(format_pence(d.amount_pence), d.amount_pence),
            Cell(d.status.label, d.status.value),
            Cell(f"{d.recorded_by.name}, {d.provider.name}"),
            Cell(notes(d) if in_words else ""),
            Cell("Receipt", href=receipt_path(d)) if d.receipt_id else Cell("", ""),
        ]
        for d in deliveries
    ]
    return Table(
        name=name,
        caption=caption,
        columns=(
            Column("Day", key="delivered_on"),
            Column("Budget line", key="line"),
            Column("What"),
            Column("Hours", key="minutes"),
            Column("Cost", numeric=True, key="amount_pence"),
            Column("Status"),
            Column("Recorded by"),
            Column("Notes"),
            Column("Receipt"),
        ),
        rows=rows,
        header_column=False,
    )
