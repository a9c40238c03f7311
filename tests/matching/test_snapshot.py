"""Workers start from the index's snapshot on disk: they find what a worker that read the
database finds, catch up on every change committed since the snapshot was written, never
write their own changes back into the shared files, and refuse a snapshot they cannot
trust (another database's, one whose changes have been pruned, or one numbered by another
taxonomy), reading the database instead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from marketplace.cli import app as cli_app
from marketplace.db import make_engine, make_sessionmaker, session_scope, utcnow
from marketplace.migrate import upgrade
from marketplace.settings import get_settings
from matching import snapshot
from matching.change_log import prune_changes
from matching.index import OfferIndex
from matching.models import OfferChange
from providers import offers as offers_service
from providers.models import Offer, Taxonomy, TaxonomyTerm
from tests.conftest import fresh_database
from tests.factories import make_offer, make_provider
from tests.matching.test_index import found

PLACES = ("Lairg", "Ullapool", "Inverness", "Thurso")


@pytest.fixture
def sessions(shared_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(shared_database)
    yield make_sessionmaker(engine)
    engine.dispose()


def publish_near(sessions: sessionmaker[Session], place: str) -> int:
    with session_scope(sessions) as session:
        return make_offer(session, provider=make_provider(session, base=place)).id


def pause(sessions: sessionmaker[Session], offer_id: int) -> None:
    with session_scope(sessions) as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None
        offers_service.pause_offer(session, offer=offer, actor=offer.provider.members[0].user)


def a_week_later(sessions: sessionmaker[Session]) -> None:
    """Every change recorded so far is more than a week old, one more is made, and the log
    is pruned as the daily run does."""
    with session_scope(sessions) as session:
        session.execute(update(OfferChange).values(changed_at=utcnow() - timedelta(days=8)))
    publish_near(sessions, "Thurso")
    with session_scope(sessions) as session:
        prune_changes(session, now=utcnow())


def written(sessions: sessionmaker[Session], folder: Path) -> Path:
    """A snapshot of the database as it is now, as `sds-market index build` writes it."""
    index = OfferIndex()
    with session_scope(sessions, write=False) as session:
        index.refresh(session)
        return index.write_snapshot(session, folder)


def started(sessions: sessionmaker[Session], folder: Path) -> OfferIndex:
    """A worker's index as it starts on a machine with the snapshot in `folder`."""
    index = OfferIndex(snapshots=folder)
    with session_scope(sessions, write=False) as session:
        index.refresh(session)
    return index


def everywhere(sessions: sessionmaker[Session], index: OfferIndex) -> dict[str, set[int]]:
    with session_scope(sessions, write=False) as session:
        return {place: set(found(session, index, place=place)) for place in PLACES}


class TestStartingFromASnapshot:
    def test_a_worker_finds_what_a_worker_reading_the_database_finds(
        self, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        for place in PLACES:
            publish_near(sessions, place)
        written(sessions, tmp_path)
        mapped = started(sessions, tmp_path)
        assert mapped.from_snapshot
        read = OfferIndex()
        assert everywhere(sessions, mapped) == everywhere(sessions, read)
        assert not read.from_snapshot
        assert all(everywhere(sessions, mapped).values())

    def test_changes_committed_since_it_was_written_are_read(
        self, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        kept, paused = publish_near(sessions, "Lairg"), publish_near(sessions, "Lairg")
        written(sessions, tmp_path)
        pause(sessions, paused)
        added = publish_near(sessions, "Lairg")
        mapped = started(sessions, tmp_path)
        assert mapped.from_snapshot
        lairg = everywhere(sessions, mapped)["Lairg"]
        assert {kept, added} <= lairg and paused not in lairg
        # and afterwards, as any worker does
        later = publish_near(sessions, "Lairg")
        pause(sessions, kept)
        lairg = everywhere(sessions, mapped)["Lairg"]
        assert later in lairg and kept not in lairg

    def test_a_workers_changes_stay_its_own(
        self, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        offer_id = publish_near(sessions, "Thurso")
        where = written(sessions, tmp_path)
        on_disk = np.load(where / "live.npy").copy()
        first = started(sessions, tmp_path)
        pause(sessions, offer_id)
        assert offer_id not in everywhere(sessions, first)["Thurso"]
        np.testing.assert_array_equal(np.load(where / "live.npy"), on_disk)
        # A worker starting later maps the same files and reads the pause from the log.
        second = started(sessions, tmp_path)
        assert second.from_snapshot
        assert offer_id not in everywhere(sessions, second)["Thurso"]


class TestASnapshotNotToTrust:
    def test_another_databases_snapshot(
        self, backend: str, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        with fresh_database(backend, tmp_path) as other_url:
            upgrade(other_url)
            other_engine = make_engine(other_url)
            other = make_sessionmaker(other_engine)
            publish_near(other, "Ullapool")
            written(other, tmp_path / "index")
            other_engine.dispose()
        mine = publish_near(sessions, "Ullapool")
        index = started(sessions, tmp_path / "index")
        assert not index.from_snapshot
        assert mine in everywhere(sessions, index)["Ullapool"]

    def test_one_whose_changes_have_been_pruned(
        self, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        offer_id = publish_near(sessions, "Lairg")
        written(sessions, tmp_path)
        pause(sessions, offer_id)
        a_week_later(sessions)  # the pause's record, and the snapshot's last change, are gone
        index = started(sessions, tmp_path)
        assert not index.from_snapshot
        assert offer_id not in everywhere(sessions, index)["Lairg"]

    def test_one_numbered_by_another_taxonomy(
        self, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        publish_near(sessions, "Lairg")
        written(sessions, tmp_path)
        with session_scope(sessions) as session:
            session.add(
                TaxonomyTerm(
                    taxonomy=Taxonomy.KIND_OF_SUPPORT,
                    code="snapshot-test-kind",
                    name="A kind added after the snapshot",
                    position=0,
                )
            )
        index = started(sessions, tmp_path)
        assert not index.from_snapshot

    def test_no_snapshot_or_a_broken_one(
        self, sessions: sessionmaker[Session], tmp_path: Path
    ) -> None:
        offer_id = publish_near(sessions, "Lairg")
        assert not started(sessions, tmp_path / "none").from_snapshot
        where = written(sessions, tmp_path)
        (where / "lat.npy").write_bytes(b"not a column")
        index = started(sessions, tmp_path)
        assert not index.from_snapshot
        assert offer_id in everywhere(sessions, index)["Lairg"]


class TestTheCommand:
    def test_sds_market_index_build(self, cli_database: str) -> None:
        runner = CliRunner()
        assert runner.invoke(cli_app, ["db", "upgrade"]).exit_code == 0
        engine = make_engine(cli_database)
        publish_near(make_sessionmaker(engine), "Lairg")
        built = runner.invoke(cli_app, ["index", "build"])
        assert built.exit_code == 0, built.output
        assert "Wrote the index of 1 offer to" in built.output
        again = runner.invoke(cli_app, ["index", "build", "--when-stale"])
        assert "usable: nothing to write" in again.output
        publish_near(make_sessionmaker(engine), "Lairg")
        a_week_later(make_sessionmaker(engine))
        stale = runner.invoke(cli_app, ["index", "build", "--when-stale"])
        assert "Wrote the index of 3 offers to" in stale.output, stale.output
        engine.dispose()
        folder = snapshot.directory_of(get_settings())
        assert len([p for p in folder.iterdir() if p.is_dir()]) == 2  # this one and the one before
