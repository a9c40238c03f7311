"""The `sds-market` command, run against a database of its own (it commits for real)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from contracts.changes.demo import SECOND_HOLDER
from contracts.funds.demo import STATES as DEMO_FUND_STATES
from marketplace.accounts.models import Representation, Role, User
from marketplace.cli import app
from marketplace.db import make_engine
from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from marketplace.settings import get_settings
from providers.demo.data import GENERATED_PROVIDERS
from providers.models import Provider

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_upgrade_then_demo_twice_then_create_users(cli_database: str) -> None:
    run("db", "upgrade")
    run("db", "upgrade")
    first = run("demo")
    second = run("demo")
    assert first == second
    assert DEMO_PASSWORD in first
    assert f"lists {2 + GENERATED_PROVIDERS} providers" in first
    assert "Remote rural area" in first
    for account in DEMO_ACCOUNTS:
        assert account.email in first

    out = run(
        "users",
        "create",
        "--email",
        "bh@example.org",
        "--name",
        "Budget Holder",
        "--role",
        "budget_holder",
        "--password",
        "a long enough password",
        "--council",
        "Fife",
    )
    assert "bh@example.org" in out
    run(
        "users",
        "create",
        "--email",
        "c@example.org",
        "--name",
        "Scotland Commissioner",
        "--role",
        "commissioner",
        "--password",
        "a long enough password",
    )

    engine = make_engine(cli_database)
    with Session(engine) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        # The demo's accounts, the people its funds are for and the second budget holder who
        # decides a review in the change-of-use demo (who never sign in), and the two.
        fund_people = {email for email in users if email.startswith("isf-person-")}
        assert len(fund_people) == len(DEMO_FUND_STATES)
        assert SECOND_HOLDER[0] in users
        assert len(users) == len(DEMO_ACCOUNTS) + len(fund_people) + 1 + 2
        assert {u.role for u in users.values()} == set(Role)
        budget_holder = users["bh@example.org"]
        assert budget_holder.council is not None and budget_holder.council.name == "Fife"
        assert budget_holder.password_hash.startswith("$argon2id$")
        assert budget_holder.email_confirmed_at is not None
        assert users["c@example.org"].council is None
        assert len(session.scalars(select(Representation)).all()) == 1
        # The demo staff member's organisation, the demo personal assistant's own listing
        # and the generated providers, each once however often the demo is loaded.
        assert len(session.scalars(select(Provider)).all()) == 2 + GENERATED_PROVIDERS
    engine.dispose()


def test_users_create_explains_what_is_wrong(cli_database: str) -> None:
    run("db", "upgrade")
    result = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "budget_holder",
            "--password",
            "a long enough password",
        ],
    )
    assert result.exit_code == 1
    assert "council area" in result.output
    unknown_council = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "commissioner",
            "--password",
            "a long enough password",
            "--council",
            "Atlantis",
        ],
    )
    assert unknown_council.exit_code == 1
    assert "Atlantis" in unknown_council.output


def test_check_reminders_are_sent_once(cli_database: str, tmp_path: Path) -> None:
    from datetime import timedelta

    from marketplace.db import make_sessionmaker, session_scope, utcnow
    from marketplace.mail import Mailer, attach_mailer, read_outbox
    from providers import checks as checks_service
    from providers.checks import CheckDetails
    from providers.models import CheckKind
    from tests.factories import make_provider

    run("db", "upgrade")
    engine = make_engine(cli_database)
    settings = get_settings()
    with session_scope(make_sessionmaker(engine)) as session:
        attach_mailer(session, Mailer(settings))
        provider = make_provider(session)
        checks_service.declare_check(
            session,
            provider=provider,
            actor=provider.members[0].user,
            details=CheckDetails(
                kind=CheckKind.INSURANCE,
                reference="PL-1",
                issuer="Insurer",
                expires_on=(utcnow() + timedelta(days=10)).date(),
            ),
            today=utcnow().date(),
        )
    engine.dispose()
    assert "Sent 1 reminder." in run("checks", "remind")
    assert "Sent 0 reminders." in run("checks", "remind")
    assert read_outbox(settings.outbox_dir) == [], "queued in the outbox; the worker sends"
    assert "Sent 1 mail;" in run("mail", "drain")
    assert [m.subject for m in read_outbox(settings.outbox_dir) if "insurance" in m.subject]


def test_serve_refuses_other_machines_outside_production(cli_database: str) -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    said = " ".join(word for word in result.output.split() if word != "│")  # rich draws a box
    assert "0.0.0.0 would let other machines reach this development server" in said
