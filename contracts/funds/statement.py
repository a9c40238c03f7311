"""A fund's statement: what the person, their representative, the holder and the council
read. Money received, spent and charged comes from the ledger (the fund account's postings,
named by where the money came from or went); what is committed and still to come from the
plan. The figures always agree:

    available    = received - spent - fees charged
    projected end = budget - spent - fees charged - committed - fees to come

By budget line and by outcome (`by_line`, `by_outcome`), the same money is split, never
counted twice: each approved delivery's cost is spent on its line (anything paid out not
through a delivery is a row of its own), each line's cost from today is committed on it,
so the lines' spent and committed add up to the statement's. A line that serves several
outcomes is shared equally between them, to the penny (the first outcomes of the plan
take any odd pence), and a line serving none (the contingency) is a row of its own, so
the outcomes' rows add up to the same totals as the lines'."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.funds.models import BudgetLineKind, IndividualServiceFund
from contracts.funds.plan import (
    LineTerms,
    days_between,
    line_committed_pence,
    line_period_pence,
    period_budget_pence,
    plan_costs,
)
from contracts.models import AccountKind, LedgerAccount, LedgerPosting, LedgerTransaction
from contracts.spending.fees import fee_on_pence, fixed_fees_to_come_pence
from contracts.spending.models import Delivery, DeliveryStatus
from marketplace.accounts.models import User
from marketplace.db import SCOTTISH_TIME
from marketplace.money import format_pence
from marketplace.tables import Cell, Column, Table
from providers.pricing import fee_percent

ALERT_SPENT_SHARE_BP = 8_500
"""Spent (with fees) at 85% of the budget or more: the statement says so."""


@dataclass(frozen=True)
class StatementEntry:
    posted_at: datetime
    amount_pence: int
    """Into the fund (positive) or out of it (negative)."""
    balance_pence: int
    """The fund's balance after it."""
    reason: str
    caused_by: str
    """Who caused it ('Scheduled' for the service's own work), in their role then."""


@dataclass(frozen=True)
class Statement:
    on: date
    budget_pence: int
    received_pence: int
    spent_pence: int
    fees_charged_pence: int
    fees_to_come_pence: int
    contingency_pence: int
    available_pence: int
    committed_pence: int
    projected_end_pence: int
    days_elapsed: int
    period_days: int
    entries: tuple[StatementEntry, ...]
    carried_in_pence: int = 0
    """Of what was received, what the last period carried over (the rest is the council's
    funding, less what went back to it)."""

    @property
    def spent_share_bp(self) -> int:
        """Spent with fees charged, as basis points of the budget."""
        used = self.spent_pence + self.fees_charged_pence
        return used * 10_000 // self.budget_pence if self.budget_pence else 0

    @property
    def fee_percent(self) -> str | None:
        """The fees charged as a share of what was spent, like '8%'."""
        return fee_percent(fee_pence=self.fees_charged_pence, support_pence=self.spent_pence)

    @property
    def elapsed_share_bp(self) -> int:
        return self.days_elapsed * 10_000 // self.period_days if self.period_days else 0

    @property
    def alerts(self) -> list[str]:
        found = []
        if self.spent_share_bp >= ALERT_SPENT_SHARE_BP:
            found.append(f"{self.spent_share_bp // 100}% of the budget has been spent")
        if self.projected_end_pence < 0:
            found.append("At the planned rate, the plan will cost more than the budget")
        return found


# Where money in the fund's account came from or went, by the other account's kind.
# What goes back to the council (a clawback, underspend returned at the period's end)
# counts against what was received from it; what a closed period carried over is received
# by the next period's fund, and counts against what the closed one received.
RECEIVED_FROM = (
    AccountKind.COUNCIL_FUNDING,
    AccountKind.RETURNED_UNDERSPEND,
    AccountKind.ISF_FUNDS,
)
SPENT_ON = (AccountKind.PROVIDER_PAYABLE,)
CHARGED_TO = (AccountKind.MANAGEMENT_FEES,)


def statement_of(session: Session, fund: IndividualServiceFund, *, on: date) -> Statement:
    """The fund's statement as it stands `on` a day of its period (before the period, as at
    its start; after it, as at its end)."""
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    starts_on, ends_on = fund.period_starts_on, fund.period_ends_on
    received = spent = charged = carried = 0
    entries: list[StatementEntry] = []
    for moved, transaction, actor, counterparts in _fund_postings(session, fund):
        # What the other accounts of the transaction took or gave, by their kind: an
        # approval that pays the provider and the holder's fee at once counts as both.
        for kind, amount in counterparts:
            if kind in RECEIVED_FROM:
                received -= amount
                if kind == AccountKind.ISF_FUNDS and amount < 0:
                    carried -= amount
            elif kind in SPENT_ON:
                spent += amount
            elif kind in CHARGED_TO:
                charged += amount
        balance = (entries[-1].balance_pence if entries else 0) + moved
        entries.append(
            StatementEntry(
                posted_at=transaction.posted_at,
                amount_pence=moved,
                balance_pence=balance,
                reason=transaction.reason,
                caused_by="Scheduled"
                if actor is None
                else f"{actor.name} ({actor.role.label.lower()})",
            )
        )
    from_day = min(max(on, starts_on), ends_on + timedelta(days=1))
    spent_on = (
        spent_by_line(session, fund)
        if any(line.kind == BudgetLineKind.PURCHASE for line in fund.lines)
        else {}
    )
    committed = committed_pence(fund.lines, from_day, ends_on, spent_on=spent_on)
    # The share of what the plan will spend, and the fixed charge of the months not yet
    # charged (charged after each month ends: contracts.spending.fees).
    fees_to_come = fee_on_pence(fund, committed) + fixed_fees_to_come_pence(session, fund)
    budget = period_budget_pence(fund)
    return Statement(
        on=on,
        budget_pence=budget,
        received_pence=received,
        spent_pence=spent,
        fees_charged_pence=charged,
        fees_to_come_pence=fees_to_come,
        contingency_pence=plan_costs(fund).contingency_pence,
        available_pence=received - spent - charged,
        committed_pence=committed,
        projected_end_pence=budget - spent - charged - committed - fees_to_come,
        days_elapsed=days_between(starts_on, min(on, ends_on)),
        period_days=days_between(starts_on, ends_on),
        entries=tuple(entries),
        carried_in_pence=carried,
    )


def committed_pence(
    lines: Iterable[LineTerms], from_day: date, ends_on: date, *, spent_on: dict[int, int]
) -> int:
    """What `lines` will still spend from `from_day` on (`spent_on`: what was spent on
    each line, by its id, for purchases)."""
    return sum(
        line_committed_pence(line, from_day, ends_on, spent_pence=spent_on.get(line.id or 0, 0))
        for line in lines
    )


def spent_by_line(session: Session, fund: IndividualServiceFund) -> dict[int, int]:
    """What approved deliveries have spent on each of the fund's lines, by line id."""
    return {
        line_id: int(pence or 0)
        for line_id, pence in session.execute(
            select(Delivery.line_id, func.sum(Delivery.amount_pence))
            .where(Delivery.fund_id == fund.id, Delivery.status == DeliveryStatus.APPROVED)
            .group_by(Delivery.line_id)
        )
    }


def _fund_postings(
    session: Session, fund: IndividualServiceFund
) -> list[tuple[int, LedgerTransaction, User | None, list[tuple[AccountKind, int]]]]:
    """Each posting to the fund's account, oldest first, with its transaction, who caused
    it, and the kind and amount of each other posting of that transaction."""
    if fund.account_id is None:
        return []
    rows = session.execute(
        select(LedgerPosting.amount_pence, LedgerTransaction, User)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
        .outerjoin(User, User.id == LedgerTransaction.actor_id)
        .where(LedgerPosting.account_id == fund.account_id)
        .order_by(LedgerTransaction.posted_at, LedgerPosting.id)
    ).all()
    counterparts: dict[object, list[tuple[AccountKind, int]]] = {}
    fund_transactions = select(LedgerPosting.transaction_id).where(
        LedgerPosting.account_id == fund.account_id
    )
    for transaction_id, kind, amount in session.execute(
        select(LedgerPosting.transaction_id, LedgerAccount.kind, LedgerPosting.amount_pence)
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(
            LedgerPosting.transaction_id.in_(fund_transactions),
            LedgerPosting.account_id != fund.account_id,
        )
    ):
        counterparts.setdefault(transaction_id, []).append((kind, amount))
    return [
        (amount, transaction, actor, counterparts.get(transaction.id, []))
        for amount, transaction, actor in rows
    ]


def entries_table(statement: Statement) -> Table:
    """Every movement of the fund's money, as the page shows it and as it downloads."""
    rows = [
        [
            Cell(f"{entry.posted_at.astimezone(SCOTTISH_TIME):%-d %B %Y}", entry.posted_at.date()),
            Cell(entry.reason),
            Cell(entry.caused_by),
            Cell(format_pence(entry.amount_pence) if entry.amount_pence > 0 else "", _in(entry)),
            Cell(format_pence(-entry.amount_pence) if entry.amount_pence < 0 else "", _out(entry)),
            Cell(format_pence(entry.balance_pence), entry.balance_pence),
        ]
        for entry in statement.entries
    ]
    return Table(
        name="entries",
        caption="Money in and out of the fund",
        columns=(
            Column("Date"),
            Column("What"),
            Column("Who"),
            Column("Money in", numeric=True, key="in_pence"),
            Column("Money out", numeric=True, key="out_pence"),
            Column("Balance", numeric=True, key="balance_pence"),
        ),
        rows=rows,
        header_column=False,
    )


def figures_table(statement: Statement) -> Table:
    """The statement's figures, as they download (pence, for spreadsheets)."""
    figures = (
        ("Budget for the period", statement.budget_pence),
        ("Received from the council", statement.received_pence - statement.carried_in_pence),
        ("Carried over from the last period", statement.carried_in_pence),
        ("Spent on support", statement.spent_pence),
        ("Management fee charged", statement.fees_charged_pence),
        ("Available now", statement.available_pence),
        ("Contingency set aside in the plan", statement.contingency_pence),
        ("Committed: the plan from today to the end of the period", statement.committed_pence),
        ("Management fee still to come", statement.fees_to_come_pence),
        ("Projected at the end of the period", statement.projected_end_pence),
    )
    return Table(
        name="figures",
        caption=f"The fund's figures on {statement.on:%-d %B %Y}",
        columns=(Column("Figure"), Column("Amount", numeric=True, key="pence")),
        rows=[[Cell(label), Cell(format_pence(pence), pence)] for label, pence in figures],
    )


def _in(entry: StatementEntry) -> int | str:
    return entry.amount_pence if entry.amount_pence > 0 else ""


def _out(entry: StatementEntry) -> int | str:
    return -entry.amount_pence if entry.amount_pence < 0 else ""


# By budget line and by outcome ----------------------------------------------------------

UNPLANNED = "Paid out not through a line of the plan"
NO_OUTCOME = "Not tied to an outcome (the contingency)"


@dataclass(frozen=True)
class Split:
    """One row of money: what the plan gives it for the whole period, what has been spent
    on it (approved deliveries, before the holder's fee), and its cost from today to the
    end of the period."""

    name: str
    planned_pence: int
    spent_pence: int
    committed_pence: int
    outcome_ids: tuple[int, ...] = ()

    @property
    def left_pence(self) -> int:
        """What the plan gives it less what is spent and committed."""
        return self.planned_pence - self.spent_pence - self.committed_pence


def by_line(session: Session, fund: IndividualServiceFund, statement: Statement) -> list[Split]:
    """Each budget line's planned, spent and committed money, in the plan's order; a last
    row for money paid out of the fund not through a delivery, when there is any, so the
    lines always add up to the statement."""
    assert fund.period_starts_on is not None and fund.period_ends_on is not None
    starts_on, ends_on = fund.period_starts_on, fund.period_ends_on
    spent_on = spent_by_line(session, fund)
    from_day = min(max(statement.on, starts_on), ends_on + timedelta(days=1))
    rows = [
        Split(
            name=line.title,
            planned_pence=line_period_pence(line, starts_on, ends_on)[0],
            spent_pence=spent_on.get(line.id, 0),
            committed_pence=line_committed_pence(
                line, from_day, ends_on, spent_pence=spent_on.get(line.id, 0)
            ),
            outcome_ids=tuple(outcome.id for outcome in line.outcomes),
        )
        for line in sorted(fund.lines, key=lambda line: line.id)
    ]
    unplanned = statement.spent_pence - sum(row.spent_pence for row in rows)
    if unplanned:
        rows.append(Split(UNPLANNED, 0, unplanned, 0))
    return rows


def _shares(pence: int, ways: int) -> list[int]:
    """`pence` split `ways` ways to the penny, the first shares taking any odd pence."""
    whole, odd = divmod(pence, ways)
    return [whole + (1 if index < odd else 0) for index in range(ways)]


def by_outcome(
    fund: IndividualServiceFund, lines: list[Split], *, names: dict[int, str]
) -> list[Split]:
    """The lines' money by the outcomes they serve, in the plan's order of outcomes: a line
    serving several is shared equally between them (see the module's docstring), and
    money on no outcome is a last row. `names` gives each outcome's name as the viewer may
    read it."""
    order = [outcome.id for outcome in sorted(fund.outcomes, key=lambda outcome: outcome.id)]
    totals = {outcome_id: [0, 0, 0] for outcome_id in order}
    loose = [0, 0, 0]
    for row in lines:
        served = [outcome_id for outcome_id in order if outcome_id in row.outcome_ids]
        figures = (row.planned_pence, row.spent_pence, row.committed_pence)
        if not served:
            loose = [a + b for a, b in zip(loose, figures, strict=True)]
            continue
        for index, pence in enumerate(figures):
            for outcome_id, share in zip(served, _shares(pence, len(served)), strict=True):
                totals[outcome_id][index] += share
    rows = [_split(names[outcome_id], totals[outcome_id]) for outcome_id in order]
    if any(loose):
        rows.append(_split(NO_OUTCOME, loose))
    return rows


def _split(name: str, figures: list[int]) -> Split:
    planned, spent, committed = figures
    return Split(name, planned, spent, committed)


def outcome_names(fund: IndividualServiceFund, *, in_own_words: bool) -> dict[int, str]:
    """Each outcome's name: the person's own words for those who may read them, otherwise
    the name of its personal outcome (finance reads no one's own words)."""
    names = {}
    for number, outcome in enumerate(sorted(fund.outcomes, key=lambda o: o.id), start=1):
        if in_own_words:
            names[outcome.id] = outcome.own_words
        elif outcome.term is not None:
            names[outcome.id] = f"{outcome.term.name} (outcome {number})"
        else:
            names[outcome.id] = f"Outcome {number}, in the person's words"
    return names


def split_table(rows: list[Split], *, name: str, caption: str, first: str) -> Table:
    """Planned, spent, committed and left for each row, with their total, as the page
    shows them and as they download."""
    total = Split(
        "Total",
        sum(row.planned_pence for row in rows),
        sum(row.spent_pence for row in rows),
        sum(row.committed_pence for row in rows),
    )
    return Table(
        name=name,
        caption=caption,
        columns=(
            Column(first),
            Column("Planned for the period", numeric=True, key="planned_pence"),
            Column("Spent so far", numeric=True, key="spent_pence"),
            Column("Committed from today", numeric=True, key="committed_pence"),
            Column("Left", numeric=True, key="left_pence"),
        ),
        rows=[
            [
                Cell(row.name),
                *(
                    Cell(format_pence(pence), pence)
                    for pence in (
                        row.planned_pence,
                        row.spent_pence,
                        row.committed_pence,
                        row.left_pence,
                    )
                ),
            ]
            for row in [*rows, total]
        ],
    )
