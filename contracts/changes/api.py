"""Change of use as JSON under /api/v1, authorised exactly as the pages are (the services
decide who does what; a request or a fund someone may not see is a 404): a fund's requests,
the preview of a change, sending it, following it, and each step of its decision, the
budget holder's and the panel's queue, the panel's sittings, and administrators' council
rules and delegated authority. Sending, reviewing, approving and declining carry an
`Idempotency-Key` header: a retry has one effect and gets the first answer back; the same
key with other content is refused (422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy.orm import Session

from contracts.changes import decisions
from contracts.changes import rules as change_rules
from contracts.changes import service as changes
from contracts.changes.access import DeciderUser, PanelUser
from contracts.changes.models import (
    ChangeRequest,
    ChangeRoute,
    ChangeStatus,
    PanelSitting,
)
from contracts.changes.schemas import (
    AnswerIn,
    ApproveIn,
    AuthorityIn,
    AuthorityOut,
    AuthorityVersionOut,
    ChangeDetailOut,
    ChangeIn,
    ChangeOut,
    ChangeQueueOut,
    ChangeRulesIn,
    ChangeRulesOut,
    ChangeRulesVersionOut,
    DeclineIn,
    PreviewOut,
    QuestionIn,
    ReasonIn,
    SittingIn,
    SittingOut,
    WithdrawIn,
)
from contracts.funds import views as fund_views
from contracts.funds.access import ActedFund, SeenFund
from contracts.funds.models import IndividualServiceFund
from contracts.funds.statement import outcome_names
from marketplace.accounts.models import Role, User
from marketplace.accounts.policy import AdminUser, SignedInUser, signed_in, visible
from marketplace.api import API_ERRORS, ApiError
from marketplace.db import today
from marketplace.deps import DbSession, audited
from marketplace.errors import NotFound, RuleBroken
from marketplace.geography.models import CouncilArea
from marketplace.idempotency import IdempotencyKey, JsonValue, answer_once
from marketplace.parsing import PageNumber, RecordId

router = APIRouter(prefix="/api/v1", tags=["change of use"])

ERRORS = {**API_ERRORS, 409: {"model": ApiError}}
"""As every /api/v1 route, and 409 when the request has moved on (decided, withdrawn)."""

SeenChange = Annotated[
    ChangeRequest,
    Depends(
        visible(ChangeRequest, param="change_id", access=signed_in, audit_subject=changes.SUBJECT)
    ),
]
"""A request whose record is read: the read is in the audit log."""
ActedChange = Annotated[
    ChangeRequest,
    Depends(visible(ChangeRequest, param="change_id", access=signed_in, audit_subject=None)),
]
"""A request a step is taken on; the service audits the step."""

KeyHeader = Annotated[
    IdempotencyKey,
    Header(
        alias="Idempotency-Key",
        description="Made by the client before its first try (a UUID, say) and sent again "
        "with every retry of the same request.",
    ),
]


def _reading(db: Session, fund: IndividualServiceFund, user: User) -> tuple[bool, dict[int, str]]:
    """Whether `user` reads the person's words, and the outcomes' names as they read them."""
    words = fund_views.may_see_person(db, fund, user)
    return words, outcome_names(fund, in_own_words=words)


def change_out(db: Session, request: ChangeRequest, user: User) -> ChangeOut:
    words, names = _reading(db, request.fund, user)
    return ChangeOut.of(request, words=words, names=names)


def change_detail(db: Session, request: ChangeRequest, user: User) -> ChangeDetailOut:
    db.flush()
    words, names = _reading(db, request.fund, user)
    return ChangeDetailOut.detail(request, words=words, names=names)


def _sitting(db: Session, sitting_id: int | None) -> PanelSitting | None:
    if sitting_id is None:
        return None
    sitting = db.get(PanelSitting, sitting_id)
    if sitting is None:
        raise RuleBroken("Choose a sitting of the panel by its number", field="sitting_id")
    return sitting


# A fund's requests ----------------------------------------------------------------------


@router.get("/isfs/{fund_id}/changes", response_model=list[ChangeOut], responses=ERRORS)
@audited
def list_changes(fund: SeenFund, db: DbSession, user: SignedInUser) -> list[ChangeOut]:
    """The fund's change-of-use requests, newest first, for anyone who may see the fund."""
    words, names = _reading(db, fund, user)
    return [ChangeOut.of(r, words=words, names=names) for r in decisions.requests_on(db, fund)]


@router.post("/isfs/{fund_id}/changes/preview", response_model=PreviewOut, responses=ERRORS)
def preview_change(fund: SeenFund, body: ChangeIn, db: DbSession, user: SignedInUser) -> PreviewOut:
    """What the change would do, without sending it: the statement now (available,
    committed, projected end) and after (committed, projected end), what it is worth, by
    how much it would overspend the fund beyond its contingency (it cannot be sent then),
    the route it would take, its deadline and the panel sitting that would decide it.
    Nothing is written."""
    when = today()
    request = changes.draft_request(db, fund=fund, by=user, asked=body.asked(), today=when)
    shown, _ = changes.preview(db, fund, request, today=when)
    return PreviewOut.of(shown)


@router.post(
    "/isfs/{fund_id}/changes", response_model=ChangeDetailOut, status_code=201, responses=ERRORS
)
def send_change(
    fund: ActedFund, body: ChangeIn, key: KeyHeader, db: DbSession, user: SignedInUser
) -> dict[str, JsonValue]:
    """The person, a representative or the fund's holder sends the request: refused if it
    would overspend the fund beyond its contingency; approved at once when the council's
    light-touch rule allows; otherwise routed to a budget holder or the panel with its
    deadline in working days."""
    return answer_once(
        db,
        key=key,
        operation="change.send",
        user_id=user.id,
        content={"fund": fund.id, **body.model_dump(mode="json")},
        act=lambda: change_detail(
            db, changes.send_request(db, fund=fund, by=user, asked=body.asked()), user
        ),
    )


# One request ----------------------------------------------------------------------------


@router.get("/changes/{change_id}", response_model=ChangeDetailOut, responses=ERRORS)
def get_change(request: SeenChange, db: DbSession, user: SignedInUser) -> ChangeDetailOut:
    """One request, with its whole history and its decision."""
    return change_detail(db, request, user)


@router.post("/changes/{change_id}/withdraw", response_model=ChangeDetailOut, responses=ERRORS)
def withdraw_change(
    request: ActedChange, body: WithdrawIn, db: DbSession, user: SignedInUser
) -> ChangeDetailOut:
    """Whoever may ask for changes on the fund takes the request back, before a decision."""
    changes.withdraw_request(db, request=request, by=user, reason=body.reason)
    return change_detail(db, request, user)


@router.post("/changes/{change_id}/answer", response_model=ChangeDetailOut, responses=ERRORS)
def answer_change(
    request: ActedChange, body: AnswerIn, db: DbSession, user: SignedInUser
) -> ChangeDetailOut:
    """The person (or whoever asked) gives the information asked for: the clock starts again
    and the deadline moves on by the working days it was stopped."""
    changes.answer_request(db, request=request, by=user, words=body.words)
    return change_detail(db, request, user)


@router.post(
    "/changes/{change_id}/review", response_model=ChangeDetailOut, status_code=201, responses=ERRORS
)
def review_change(
    request: ActedChange, body: ReasonIn, key: KeyHeader, db: DbSession, user: SignedInUser
) -> dict[str, JsonValue]:
    """The person (or a representative) asks for a decline to be reviewed by someone else,
    saying why: answers with the new request, decided afresh (at the panel if the panel
    declined it). A decline is reviewed once."""
    return answer_once(
        db,
        key=key,
        operation="change.review",
        user_id=user.id,
        content={"change": request.id, **body.model_dump(mode="json")},
        act=lambda: change_detail(
            db, decisions.ask_for_review(db, request=request, by=user, reason=body.reason), user
        ),
    )


@router.post("/changes/{change_id}/approve", response_model=ChangeDetailOut, responses=ERRORS)
def approve_change(
    request: ActedChange, body: ApproveIn, key: KeyHeader, db: DbSession, user: SignedInUser
) -> dict[str, JsonValue]:
    """A budget holder within their delegated authority, or a panel member naming the
    sitting that decided it, approves, perhaps with conditions: the plan changes at once,
    in the same transaction, if the fund can still afford it."""

    def act() -> ChangeDetailOut:
        decisions.approve_request(
            db,
            request=request,
            by=user,
            conditions=body.conditions,
            sitting=_sitting(db, body.sitting_id),
        )
        return change_detail(db, request, user)

    return answer_once(
        db,
        key=key,
        operation="change.approve",
        user_id=user.id,
        content={"change": request.id, **body.model_dump(mode="json")},
        act=act,
    )


@router.post("/changes/{change_id}/decline", response_model=ChangeDetailOut, responses=ERRORS)
def decline_change(
    request: ActedChange, body: DeclineIn, key: KeyHeader, db: DbSession, user: SignedInUser
) -> dict[str, JsonValue]:
    """A budget holder, or a panel member naming the sitting, declines with reasons in plain
    words (required). The person is told, and may ask for a review."""

    def act() -> ChangeDetailOut:
        decisions.decline_request(
            db,
            request=request,
            by=user,
            reasons=body.reasons,
            sitting=_sitting(db, body.sitting_id),
        )
        return change_detail(db, request, user)

    return answer_once(
        db,
        key=key,
        operation="change.decline",
        user_id=user.id,
        content={"change": request.id, **body.model_dump(mode="json")},
        act=act,
    )


@router.post("/changes/{change_id}/ask", response_model=ChangeDetailOut, responses=ERRORS)
def ask_about_change(
    request: ActedChange, body: QuestionIn, db: DbSession, user: SignedInUser
) -> ChangeDetailOut:
    """Whoever decides asks the person for more information: the clock stops until they
    answer."""
    decisions.ask_for_information(db, request=request, by=user, question=body.question)
    return change_detail(db, request, user)


@router.post("/changes/{change_id}/escalate", response_model=ChangeDetailOut, responses=ERRORS)
def escalate_change(
    request: ActedChange, body: ReasonIn, db: DbSession, user: SignedInUser
) -> ChangeDetailOut:
    """A budget holder passes the request to the resource allocation panel, saying why: it
    is decided at the panel's next sitting."""
    decisions.escalate_request(db, request=request, by=user, reason=body.reason)
    return change_detail(db, request, user)


# Those who decide -----------------------------------------------------------------------


@router.get("/changes", response_model=ChangeQueueOut, responses=ERRORS)
@audited
def queue(
    db: DbSession,
    user: DeciderUser,
    status: Annotated[ChangeStatus | None, Query(description="Open ones when none")] = None,
    route: ChangeRoute | None = None,
    page: Annotated[PageNumber, Query(description="Which page, from 1")] = 1,
) -> ChangeQueueOut:
    """The queue of a council's budget holders and panel members: its requests, soonest
    deadline first, a page at a time; open ones unless `status` says otherwise. Each read
    is in the audit log."""
    found = decisions.queue_for(db, user=user, status=status, route=route, page=page)
    changes.record_reads(db, user, found.items)
    return ChangeQueueOut(
        page=found.page,
        pages=found.pages,
        page_size=found.page_size,
        total=found.total,
        requests=[change_out(db, request, user) for request in found.items],
    )


@router.post("/panel-sittings", response_model=SittingOut, status_code=201, responses=ERRORS)
def record_sitting(body: SittingIn, db: DbSession, user: PanelUser) -> SittingOut:
    """A member of the council's resource allocation panel records a sitting held by today
    and who sat (recording the same day again changes who sat)."""
    if user.council_id is None:
        raise NotFound("Your account has no council yet: ask an administrator to give it one")
    if body.sits_on > today():
        raise RuleBroken("Record a sitting once it has been held", field="sits_on")
    sitting = decisions.record_sitting(
        db, council_id=user.council_id, sits_on=body.sits_on, members=body.members, by=user
    )
    return SittingOut.of(sitting)


# Administrators: the council's rules and delegated authority ------------------------------


def _council(db: Session, council_id: int) -> CouncilArea:
    council = db.get(CouncilArea, council_id)
    if council is None:
        raise NotFound("No council area has this number")
    return council


def _rules_out(db: Session, council: CouncilArea) -> ChangeRulesOut:
    versions = [ChangeRulesVersionOut.of(r) for r in change_rules.rules_history(db, council.id)]
    if not versions:  # the product's defaults, which become version 1 on first use
        versions = [
            ChangeRulesVersionOut(
                version=1,
                set_by_id=None,
                set_at=None,
                note="The product's defaults",
                **change_rules.DEFAULT_RULES.__dict__,
            )
        ]
    return ChangeRulesOut(council_id=council.id, in_force=versions[0], history=versions)


@router.get("/change-rules", response_model=ChangeRulesOut, responses=ERRORS)
def get_change_rules(
    council_id: Annotated[RecordId, Query(description="The council area's number")],
    db: DbSession,
    user: AdminUser,
) -> ChangeRulesOut:
    """For administrators: a council's rules for change of use in force, and every earlier
    version."""
    return _rules_out(db, _council(db, council_id))


@router.post("/change-rules", response_model=ChangeRulesOut, status_code=201, responses=ERRORS)
def set_change_rules(body: ChangeRulesIn, db: DbSession, user: AdminUser) -> ChangeRulesOut:
    """For administrators: a new version of a council's rules, in force from now; requests
    already sent keep their route and deadline."""
    council = db.get(CouncilArea, body.council_id)
    if council is None:
        raise RuleBroken("Choose a council area by its number", field="council_id")
    change_rules.set_rules(
        db,
        council=council,
        by=user,
        values=change_rules.RuleValues(
            light_touch_limit_pence=body.light_touch_limit_pence,
            delegated_days=body.delegated_days,
            panel_days=body.panel_days,
            reminder_days=body.reminder_days,
            panel_first_sits_on=body.panel_first_sits_on,
            panel_every_days=body.panel_every_days,
        ),
        note=body.note,
    )
    return _rules_out(db, council)


def _budget_holder(db: Session, user_id: int) -> User:
    holder = db.get(User, user_id)
    if holder is None or holder.role != Role.BUDGET_HOLDER:
        raise NotFound("No budget holder has this number")
    return holder


def _authority_out(db: Session, holder: User) -> AuthorityOut:
    history = [AuthorityVersionOut.of(a) for a in change_rules.authority_history(db, holder.id)]
    return AuthorityOut(
        holder_id=holder.id,
        council_id=holder.council_id,
        in_force=history[0] if history else None,
        history=history,
    )


@router.get("/budget-holders/{user_id}/authority", response_model=AuthorityOut, responses=ERRORS)
def get_authority(user_id: RecordId, db: DbSession, user: AdminUser) -> AuthorityOut:
    """For administrators: what a budget holder may approve alone now, and every earlier
    setting with who set it and when."""
    return _authority_out(db, _budget_holder(db, user_id))


@router.post(
    "/budget-holders/{user_id}/authority",
    response_model=AuthorityOut,
    status_code=201,
    responses=ERRORS,
)
def set_authority(
    user_id: RecordId, body: AuthorityIn, db: DbSession, user: AdminUser
) -> AuthorityOut:
    """For administrators: new limits for a budget holder, in force from now; the old ones
    stay on the record."""
    holder = _budget_holder(db, user_id)
    change_rules.set_authority(
        db,
        holder=holder,
        by=user,
        per_request_pence=body.per_request_pence,
        per_fund_year_pence=body.per_fund_year_pence,
        note=body.note,
    )
    return _authority_out(db, holder)
