"""Every active demo fund's statement by budget line and by outcome adds up to the
statement itself: nothing spent or committed is lost between the lines, and nothing is
counted twice between the outcomes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.models import FundStatus, IndividualServiceFund
from contracts.funds.statement import UNPLANNED, by_line, by_outcome, outcome_names, statement_of
from marketplace.db import today
from tests.conftest import DEMO_GROUP, DemoDatabase

pytestmark = DEMO_GROUP


@pytest.fixture(scope="module")
def demo(demo_database: DemoDatabase) -> Iterator[Session]:
    connection = demo_database.engine.connect()
    outer = connection.begin()
    yield Session(bind=connection, join_transaction_mode="create_savepoint")
    outer.rollback()
    connection.close()


def test_every_demo_fund_adds_up_by_line_and_by_outcome(demo: Session) -> None:
    active = list(
        demo.scalars(
            select(IndividualServiceFund).where(IndividualServiceFund.status == FundStatus.ACTIVE)
        )
    )
    assert active
    spent_somewhere = False
    for fund in active:
        statement = statement_of(demo, fund, on=today())
        lines = by_line(demo, fund, statement)
        assert all(row.name != UNPLANNED for row in lines), fund.id
        assert sum(row.spent_pence for row in lines) == statement.spent_pence, fund.id
        assert sum(row.committed_pence for row in lines) == statement.committed_pence, fund.id
        spent_somewhere |= statement.spent_pence > 0
        for in_own_words in (True, False):
            outcomes = by_outcome(fund, lines, names=outcome_names(fund, in_own_words=in_own_words))
            for figure in ("planned_pence", "spent_pence", "committed_pence"):
                assert sum(getattr(row, figure) for row in outcomes) == sum(
                    getattr(row, figure) for row in lines
                ), (fund.id, figure)
    assert spent_somewhere
