"""`sds-market bench ledger`: how fast the ledger takes delivery approvals with many writers
at once, against the database's own speed at writing the same rows plainly. In the
configured database (migrated, and given the demo's funds if it has none) it records
confirmed support on the demo's active funds and tops each fund up to afford it, then:

- approvals: `writers` threads approve the deliveries, each approval the real service in
  its own committed transaction (the delivery locked, the fund's, the provider's and the
  fees' accounts locked in order, the postings and the sealed transaction written, the
  triggers' checks, the audit entry);
- plain inserts: the same threads write the same rows (one transaction row, three
  postings) into two plain tables with no constraints or triggers, one commit each.

It prints one JSON line with both rates and their ratio. Run it on PostgreSQL, on a
database of its own: SQLite has one writer at a time, and the bench writes demo data."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import typer
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from contracts.funds.accounts import council_funding_account
from contracts.funds.models import BudgetLineKind, FundStatus, IndividualServiceFund
from contracts.ledger import Actor, Reference, transfer
from contracts.models import ReferenceKind
from contracts.spending import service as spending
from contracts.spending.models import Delivery, DeliveryKind, DeliveryStatus
from marketplace.accounts.models import User
from marketplace.accounts.passwords import make_hasher
from marketplace.db import make_engine, make_sessionmaker, session_scope, today, utcnow
from marketplace.mail import Mailer, attach_mailer
from marketplace.migrate import upgrade
from marketplace.models import import_all_models
from marketplace.settings import get_settings
from matching.bench import bench_app

SUPPORT_PENCE = 1_000
RAW_TABLES = ("bench_raw_posting", "bench_raw_transaction")


def _prepare(factory: sessionmaker[Session], approvals: int) -> tuple[list[int], dict[int, int]]:
    """Confirmed deliveries on the demo's active funds, each fund topped up to afford its
    share; their ids, interleaved across funds, and each fund's approver."""
    from marketplace.demo import load_demo

    settings = get_settings()
    with session_scope(factory) as session:
        attach_mailer(session, Mailer(settings))
        load_demo(session, hasher=make_hasher("cheapest"))
    with session_scope(factory) as session:
        funds = [
            fund
            for fund in session.scalars(
                select(IndividualServiceFund)
                .where(IndividualServiceFund.status == FundStatus.ACTIVE)
                .order_by(IndividualServiceFund.id)
            )
            if any(line.kind == BudgetLineKind.OFFER for line in fund.lines)
        ]
        if not funds:
            raise typer.BadParameter("The database has no active fund with a line to approve")
        each = -(-approvals // len(funds))
        now, day = utcnow(), min(today(), *(f.period_ends_on or today() for f in funds))
        rows: list[dict[str, Any]] = []
        approvers = {}
        for fund in funds:
            line = next(line for line in fund.lines if line.kind == BudgetLineKind.OFFER)
            assert fund.account is not None and line.provider_id is not None
            transfer(
                session,
                source=council_funding_account(session, fund.council),
                destination=fund.account,
                amount_pence=each * SUPPORT_PENCE * 2,
                idempotency_key=f"bench-ledger-{uuid.uuid4()}",
                actor=Actor.system(),
                reason="Benchmark top-up",
                reference=Reference(ReferenceKind.FINANCE_ADJUSTMENT, str(fund.id)),
            )
            approvers[fund.id] = fund.holder.members[0].user_id
            rows.extend(
                {
                    "fund_id": fund.id,
                    "line_id": line.id,
                    "provider_id": line.provider_id,
                    "kind": DeliveryKind.SUPPORT,
                    "delivered_on": max(line.starts_on, min(day, line.ends_on)),
                    "minutes": 30,
                    "amount_pence": SUPPORT_PENCE,
                    "description": "Benchmark support",
                    "status": DeliveryStatus.CONFIRMED,
                    "recorded_by_id": fund.person_id,
                    "dispute_reason": "",
                    "resolution": "",
                    "end_reason": "",
                    "created_at": now,
                }
                for _ in range(each)
            )
        made = list(session.scalars(insert(Delivery).returning(Delivery.id), rows))
    # Interleaved, so that writers race for the same funds and accounts.
    by_fund: dict[int, list[int]] = {}
    for delivery_id, row in zip(made, rows, strict=True):
        by_fund.setdefault(row["fund_id"], []).append(delivery_id)
    interleaved = [d for group in zip(*by_fund.values(), strict=False) for d in group]
    approver_of = {d: approvers[row["fund_id"]] for d, row in zip(made, rows, strict=True)}
    return interleaved[:approvals], approver_of


def _in_threads(writers: int, work: Callable[[int], None]) -> float:
    """Seconds for `writers` threads, released together, to each do `work(n)`."""
    start = threading.Barrier(writers + 1)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except BaseException as error:  # reported below: a bench that fails says so
            failures.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return time.perf_counter() - began


@bench_app.command("ledger")
def bench_ledger(
    writers: int = typer.Option(16, min=1, max=64, help="Threads writing at once"),
    approvals: int = typer.Option(4_000, min=16, max=200_000, help="Approvals in all"),
) -> None:
    """Delivery approvals a second with many writers, against plain inserts of the same rows."""
    settings = get_settings()
    import_all_models()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=writers, max_overflow=2)
    factory = make_sessionmaker(engine)
    try:
        deliveries, approver_of = _prepare(factory, approvals)
        shares = [deliveries[n::writers] for n in range(writers)]

        def approve_share(n: int) -> None:
            for delivery_id in shares[n]:
                with session_scope(factory) as session:
                    delivery = session.get_one(Delivery, delivery_id)
                    spending.approve_delivery(
                        session,
                        delivery=delivery,
                        by=session.get_one(User, approver_of[delivery_id]),
                    )

        approving_s = _in_threads(writers, approve_share)
        raw_s = _plain_inserts(factory, shares)
    finally:
        engine.dispose()
    done = len(deliveries)
    approvals_per_s = done / approving_s
    raw_per_s = done / raw_s
    print(
        json.dumps(
            {
                "bench": "ledger",
                "database": engine.dialect.name,
                "writers": writers,
                "approvals": done,
                "approvals_per_s": round(approvals_per_s, 1),
                "postings_per_s": round(approvals_per_s * 3, 1),
                "raw_inserts_per_s": round(raw_per_s, 1),
                "ratio": round(approvals_per_s / raw_per_s, 3),
            }
        )
    )


def _plain_inserts(factory: sessionmaker[Session], shares: list[list[int]]) -> float:
    """The same rows an approval writes (a transaction and three postings), one commit per
    approval, into plain tables made for the run and dropped after it."""
    with session_scope(factory) as session:
        for table in RAW_TABLES:
            session.execute(text(f"DROP TABLE IF EXISTS {table}"))
        session.execute(
            text(
                "CREATE TABLE bench_raw_transaction (id VARCHAR(36) PRIMARY KEY, "
                "idempotency_key VARCHAR(100), reason VARCHAR(500), posted_at VARCHAR(40))"
            )
        )
        session.execute(
            text(
                "CREATE TABLE bench_raw_posting (transaction_id VARCHAR(36), "
                "account_id INTEGER, amount_pence BIGINT)"
            )
        )

    def insert_share(n: int) -> None:
        for delivery_id in shares[n]:
            transaction_id = str(uuid.uuid4())
            with session_scope(factory) as session:
                session.execute(
                    text("INSERT INTO bench_raw_transaction VALUES (:id, :key, :reason, :posted)"),
                    {
                        "id": transaction_id,
                        "key": f"delivery:{delivery_id}",
                        "reason": "Benchmark support",
                        "posted": str(date.today()),
                    },
                )
                session.execute(
                    text("INSERT INTO bench_raw_posting VALUES (:t, :account, :pence)"),
                    [
                        {"t": transaction_id, "account": 1, "pence": -1_100},
                        {"t": transaction_id, "account": 2, "pence": 1_000},
                        {"t": transaction_id, "account": 3, "pence": 100},
                    ],
                )

    try:
        return _in_threads(len(shares), insert_share)
    finally:
        with session_scope(factory) as session:
            for table in RAW_TABLES:
                session.execute(text(f"DROP TABLE IF EXISTS {table}"))
