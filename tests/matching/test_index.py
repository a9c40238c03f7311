"""The offer index stays right as offers change: published, paused, edited, re-priced, their
capacity updated, their provider's languages and checks changed; and across several app
workers, each with its own index and its own connections to one database, including the
PostgreSQL case where a later change becomes visible before an earlier one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from marketplace.accounts.models import Role
from marketplace.cli import app as cli_app
from marketplace.db import make_engine, make_sessionmaker, session_scope, utcnow
from marketplace.geography import service as geography_service
from matching import service as matching_service
from matching.change_log import prune_changes
from matching.deps import warm_offer_index
from matching.index import RELOAD_AFTER_IDLE_SECONDS, OfferIndex
from matching.models import OfferChange
from matching.schemas import RankedOffer, SupportWanted
from providers import checks as checks_service
from providers import offers as offers_service
from providers import service as providers_service
from providers.checks import CheckDetails
from providers.models import CheckKind, Offer, OfferStatus, PriceUnit
from tests.factories import make_offer, make_provider, make_user
from tests.helpers import HtmlClient
from tests.matching.test_reach import set_area


def found(
    db: Session, index: OfferIndex, place: str = "Ullapool", **asked: object
) -> dict[int, RankedOffer]:
    wanted = SupportWanted(location=geography_service.resolve_location(db, text=place), **asked)  # type: ignore[arg-type]
    return {
        r.offer_id: r for r in matching_service.match(db, index, wanted, page_size=1000).results
    }


class TestChangesAreSeen:
    def test_publishing_pausing_and_publishing_again(self, db: Session) -> None:
        index = OfferIndex()
        assert found(db, index) == {}
        offer = make_offer(db, provider=make_provider(db, base="Ullapool"))
        assert set(found(db, index)) == {offer.id}
        actor = offer.provider.members[0].user
        offers_service.pause_offer(db, offer=offer, actor=actor)
        assert found(db, index) == {}
        offers_service.publish_offer(db, offer=offer, actor=actor)
        assert set(found(db, index)) == {offer.id}

    def test_an_edited_area(self, db: Session) -> None:
        index = OfferIndex()
        offer = make_offer(db, provider=make_provider(db, base="Ullapool"), radius_km=60)
        assert offer.id in found(db, index, place="Lairg")
        set_area(db, offer, radius_km=10)
        assert offer.id not in found(db, index, place="Lairg")
        assert offer.id in found(db, index, place="Ullapool")

    def test_capacity_and_price(self, db: Session) -> None:
        index = OfferIndex()
        offer = make_offer(
            db, provider=make_provider(db, base="Ullapool"), rate_pence=2000, capacity_hours=12
        )
        before = found(db, index)[offer.id]
        assert before.week_support_pence == 10 * 2000
        actor = offer.provider.members[0].user
        offers_service.update_capacity(db, offer=offer, actor=actor, amount=0)
        offers_service.set_price(
            db,
            offer=offer,
            actor=actor,
            details=offers_service.PriceDetails(unit=PriceUnit.HOUR, rate_pence=2350),
        )
        after = found(db, index)[offer.id]
        assert after.week_support_pence == 10 * 2350
        space = next(r for r in after.reasons if r.factor == "Space")
        assert space.text.startswith("Said it had no space") and space.points == 0

    def test_the_providers_languages_checks_and_fund_holding(self, db: Session) -> None:
        index = OfferIndex()
        provider = make_provider(db, base="Ullapool")
        offer = make_offer(db, provider=provider)
        assert found(db, index, language="Gaelic") == {}
        assert found(db, index, verified_only=True) == {}
        assert found(db, index, isf_holders_only=True) == {}
        providers_service.set_languages(provider, ["English", "Gaelic"])
        provider.holds_isf = True
        admin = make_user(db, role=Role.ADMIN)
        check = checks_service.declare_check(
            db,
            provider=provider,
            actor=provider.members[0].user,
            details=CheckDetails(kind=CheckKind.PVG, reference="1234 5678 9012 3456"),
            today=date.today(),
        )
        checks_service.verify_check(db, check=check, admin=admin)
        db.flush()
        assert set(found(db, index, language="gaelic")) == {offer.id}
        assert set(found(db, index, verified_only=True)) == {offer.id}
        assert set(found(db, index, isf_holders_only=True)) == {offer.id}

    def test_a_verified_check_stops_counting_when_it_runs_out(self, db: Session) -> None:
        index = OfferIndex()
        provider = make_provider(db, base="Ullapool")
        offer = make_offer(db, provider=provider)
        admin = make_user(db, role=Role.ADMIN)
        runs_out = date.today() + timedelta(days=10)
        check = checks_service.declare_check(
            db,
            provider=provider,
            actor=provider.members[0].user,
            details=CheckDetails(
                kind=CheckKind.PVG, reference="1234567890123456", expires_on=runs_out
            ),
            today=date.today(),
        )
        checks_service.verify_check(db, check=check, admin=admin)
        wanted = SupportWanted(
            location=geography_service.resolve_location(db, text="Ullapool"), verified_only=True
        )
        assert matching_service.match(db, index, wanted, today=runs_out).total == 1
        assert (
            matching_service.match(db, index, wanted, today=runs_out + timedelta(days=1)).total == 0
        )
        assert offer.id


# Several workers ---------------------------------------------------------------------------


class Worker:
    """One app worker: its own engine (so its own connections) and its own index."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.index = OfferIndex()

    def sees(self, place: str = "Lairg") -> set[int]:
        with session_scope(self.sessions, write=False) as session:
            return set(found(session, self.index, place=place))


@pytest.fixture
def workers(shared_database: str) -> Iterator[tuple[Worker, Worker, sessionmaker[Session]]]:
    first, second, writer = (
        Worker(shared_database),
        Worker(shared_database),
        make_engine(shared_database),
    )
    yield first, second, make_sessionmaker(writer)
    for engine in (first.engine, second.engine, writer):
        engine.dispose()


def publish_near(sessions: sessionmaker[Session], place: str = "Lairg") -> int:
    with session_scope(sessions) as session:
        return make_offer(session, provider=make_provider(session, base=place)).id


class TestSeveralWorkers:
    def test_every_worker_sees_a_change_committed_anywhere(
        self, workers: tuple[Worker, Worker, sessionmaker[Session]]
    ) -> None:
        first, second, writer = workers
        before = first.sees()
        assert second.sees() == before
        offer_id = publish_near(writer)
        assert first.sees() == second.sees() == before | {offer_id}
        with session_scope(writer) as session:
            offer = session.get(Offer, offer_id)
            assert offer is not None
            offers_service.pause_offer(session, offer=offer, actor=offer.provider.members[0].user)
        assert first.sees() == second.sees() == before

    def test_an_uncommitted_change_is_not_seen_until_committed(
        self, workers: tuple[Worker, Worker, sessionmaker[Session]]
    ) -> None:
        first, _, writer = workers
        before = first.sees()
        with session_scope(writer) as session:
            offer_id = make_offer(session, provider=make_provider(session, base="Lairg")).id
            session.flush()
            assert first.sees() == before
        assert offer_id in first.sees()

    def test_a_change_that_becomes_visible_late_is_still_read(
        self, backend: str, workers: tuple[Worker, Worker, sessionmaker[Session]]
    ) -> None:
        """PostgreSQL numbers changes before commit, so change n+2 can be seen before n+1.
        Written here by hand, in order a worker could see them: n+2, then n+1."""
        first, _, writer = workers
        late, early = publish_near(writer), publish_near(writer)
        assert {late, early} <= first.sees()
        newest = first.index.last_seq
        assert newest is not None
        with session_scope(writer) as session:
            # Core statements, so the change log holds only the rows written below.
            session.execute(
                update(Offer).where(Offer.id.in_([late, early])).values(status=OfferStatus.PAUSED)
            )
            session.execute(insert(OfferChange).values(seq=newest + 2, offer_id=early))
        seen = first.sees()
        assert early not in seen and late in seen
        with session_scope(writer) as session:
            session.execute(insert(OfferChange).values(seq=newest + 1, offer_id=late))
            if backend == "postgresql":
                session.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('offer_change', 'seq'), (SELECT max(seq) FROM offer_change))"
                    )
                )
        assert not first.sees() & {late, early}

    @pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="concurrent writers need PostgreSQL"
    )
    def test_concurrent_transactions_committing_out_of_order(
        self, backend: str, workers: tuple[Worker, Worker, sessionmaker[Session]]
    ) -> None:
        if backend != "postgresql":
            pytest.skip("SQLite lets one transaction write at a time, so changes commit in order")
        first, _, writer = workers
        first.sees()
        slow = writer()
        slow_offer = make_offer(slow, provider=make_provider(slow, base="Lairg")).id
        slow.flush()  # its change has its number now, but is not committed
        quick_offer = publish_near(writer)
        assert quick_offer in first.sees()
        assert slow_offer not in first.sees()
        slow.commit()
        slow.close()
        assert slow_offer in first.sees()

    @pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="concurrent writers need PostgreSQL"
    )
    def test_a_worker_starting_while_an_earlier_change_is_uncommitted(
        self,
        backend: str,
        shared_database: str,
        workers: tuple[Worker, Worker, sessionmaker[Session]],
    ) -> None:
        """A worker reading everything at change n+1 must still look for n, held by a
        transaction that commits after it has read."""
        if backend != "postgresql":
            pytest.skip("SQLite lets one transaction write at a time, so changes commit in order")
        _, _, writer = workers
        slow = writer()
        slow_offer = make_offer(slow, provider=make_provider(slow, base="Lairg")).id
        slow.flush()
        quick_offer = publish_near(writer)
        starting = Worker(shared_database)
        try:
            assert quick_offer in starting.sees() and slow_offer not in starting.sees()
            slow.commit()
            slow.close()
            assert slow_offer in starting.sees()
        finally:
            starting.engine.dispose()


class TestWarmUp:
    def test_a_starting_worker_loads_its_index_in_the_background(
        self, app: FastAPI, db: Session
    ) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Lairg"))
        db.flush()
        warm_offer_index(app.state).join(timeout=60)
        index = app.state.offer_index
        assert index.last_seq is not None
        assert offer.id in index.row_of


class TestTheChangeLog:
    def test_pruning_keeps_a_week_and_the_newest_change(self, db: Session) -> None:
        offer = make_offer(db, provider=make_provider(db, base="Lairg"))
        db.execute(update(OfferChange).values(changed_at=utcnow() - timedelta(days=8)))
        kept = make_offer(db, provider=make_provider(db, base="Lairg"))
        db.flush()
        prune_changes(db, now=utcnow())
        left = {row.offer_id for row in db.scalars(select(OfferChange))}
        assert kept.id in left and offer.id not in left
        db.execute(update(OfferChange).values(changed_at=utcnow() - timedelta(days=30)))
        prune_changes(db, now=utcnow())
        assert len(db.scalars(select(OfferChange)).all()) == 1

    def test_an_index_idle_for_most_of_a_week_reads_everything_again(self, db: Session) -> None:
        index = OfferIndex()
        offer = make_offer(db, provider=make_provider(db, base="Lairg"))
        assert offer.id in found(db, index, place="Lairg")
        # A change the log never heard of (as if its record had been pruned).
        db.execute(update(Offer).where(Offer.id == offer.id).values(status=OfferStatus.PAUSED))
        assert offer.id in found(db, index, place="Lairg")
        index.refreshed_at -= RELOAD_AFTER_IDLE_SECONDS + 1
        assert offer.id not in found(db, index, place="Lairg")

    def test_sds_market_index_prune(self, cli_database: str) -> None:
        runner = CliRunner()
        assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
        engine = make_engine(cli_database)
        with session_scope(make_sessionmaker(engine)) as session:
            for _ in range(3):
                make_offer(session, provider=make_provider(session, base="Lairg"))
            session.flush()
            session.execute(update(OfferChange).values(changed_at=utcnow() - timedelta(days=8)))
            logged = len(session.scalars(select(OfferChange)).all())
        pruned = runner.invoke(cli_app, ["index", "prune"])
        assert pruned.exit_code == 0, pruned.output
        with session_scope(make_sessionmaker(engine), write=False) as session:
            left = session.scalars(select(OfferChange)).all()
        engine.dispose()
        assert len(left) == 1
        assert f"Deleted {logged - 1} offer changes older than 7 days." in pruned.output


class TestReadiness:
    def test_a_worker_is_ready_once_its_index_has_loaded(self, app: FastAPI, db: Session) -> None:
        with HtmlClient(app) as client:
            starting = client.get("/readyz")
            assert (starting.status_code, starting.headers["retry-after"]) == (503, "1")
            warm_offer_index(app.state).join(timeout=60)
            told = client.get("/readyz").json()
            assert (told["status"], told["offer_index"]) == ("ready", "database")
            assert told["loaded_in_s"] >= 0
            assert client.get("/healthz").status_code == 200
