"""The money side's pages in `sds-market bench pages`: every statement of the demo's funds
and the change-of-use queue with its filters, read by the demo's budget holder, who may
read all of her council's funds. The demo (a year of funding, spending, fees and change of
use) is loaded into the bench's database the first time, beside the bench's market."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.funds.models import FundStatus, IndividualServiceFund
from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import make_hasher
from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo
from marketplace.mail import Mailer, attach_mailer
from marketplace.settings import get_settings
from matching.page_bench import SignedInPages, add_signed_in_pages

QUEUE_ADDRESSES = [
    "/changes",
    "/changes?status=approved",
    "/changes?status=declined",
    "/changes?route=delegated",
    "/changes?route=panel",
]
"""The queue as budget holders filter it; each has a first page, empty or not."""


def money_pages(session: Session) -> dict[str, SignedInPages]:
    if session.scalar(select(IndividualServiceFund.id).limit(1)) is None:
        attach_mailer(session, Mailer(get_settings()))
        load_demo(session, hasher=make_hasher("cheapest"))
    holder = next(a for a in DEMO_ACCOUNTS if a.role == Role.BUDGET_HOLDER)
    council_id = session.scalar(select(User.council_id).where(User.email == holder.email))
    funds = session.scalars(
        select(IndividualServiceFund.id)
        .where(
            IndividualServiceFund.council_id == council_id,
            IndividualServiceFund.status.in_((FundStatus.ACTIVE, FundStatus.CLOSED)),
        )
        .order_by(IndividualServiceFund.id)
    ).all()
    return {
        "statement": SignedInPages(
            holder.email, DEMO_PASSWORD, [f"/funds/{fund_id}/statement" for fund_id in funds]
        ),
        "queue": SignedInPages(holder.email, DEMO_PASSWORD, QUEUE_ADDRESSES),
    }


add_signed_in_pages(money_pages)
