"""Configuration read from the environment: one Settings class, built once per process."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class MailSettings(BaseModel):
    """Where mail goes. Without an SMTP host, mails are written to the outbox folder."""

    from_address: str = "SDS Marketplace <no-reply@example.org>"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True


class JobSettings(BaseModel):
    """The job queue (huey): the outbox's worker and the daily runs."""

    immediate: bool | None = None
    """Run tasks in the caller's process as they are queued; by default only in tests."""
    daily_hour_utc: int = Field(default=2, ge=0, le=23)
    """The hour (UTC) the daily runs start: needs, index pruning, check reminders."""


class StripeSettings(BaseModel):
    """Stripe Connect keys. Absent keys mean Stripe is off and only the manual rail runs."""

    secret_key: SecretStr | None = None
    publishable_key: str | None = None
    webhook_secret: SecretStr | None = None

    @property
    def enabled(self) -> bool:
        return self.secret_key is not None


class SecuritySettings(BaseModel):
    session_idle_minutes: int = 30
    """A session unused for this long must sign in again."""
    session_max_hours: int = 12
    """However active, a session ends this long after sign-in."""
    sign_in_failures_allowed: int = 5
    """Failed sign-ins per account (and, times four, per address) in the window below."""
    sign_in_window_minutes: int = 15
    password_resets_allowed: int = 5
    """Times four: reset requests from one client address per hour. Reset mails to one
    account are bounded by mails_to_one_address_per_hour, like every mail nobody asked for."""
    mails_to_one_address_per_hour: int = 3
    """Mails from sign-ups, password resets and staff invitations to one email address in
    an hour, whoever asked for them: nobody can be flooded with mail they did not ask for."""
    rate_limit_storage: str = "memory://"
    """A `limits` storage URI. Use redis:// when several app workers run."""
    password_hash_profile: Literal["rfc9106_low_memory", "cheapest"] = "rfc9106_low_memory"
    """`cheapest` is for tests only: it is still argon2id, just fast."""


class MatchingSettings(BaseModel):
    """How the matcher judges offers for the people choosing them."""

    minimum_care_pay_pence: int = Field(default=1345, gt=0)
    """The least an hour adult social care workers in Scotland must be paid, in pence; an
    offer's hourly rate below it is flagged. £13.45 from April 2026. Sources: the Scottish
    Government funds adult social care workers giving direct care in commissioned services
    to be paid at least the real Living Wage (parliament.scot written answer S6W-38736); it
    confirmed that the 2026-27 Budget meets the uplift to the 2026-27 real Living Wage in
    full (Tom Arthur, written answers of 20 February 2026); and the Living Wage Foundation
    set that rate at £13.45 on 22 October 2025, to be paid by 1 May 2026. The minimum was
    £12.60 from April 2025 and £12 from April 2024, for personal assistants and support
    through every SDS option too (gov.scot, "Adult social care workers minimum pay").
    Change it with SDS_MATCHING__MINIMUM_CARE_PAY_PENCE when the next uplift applies."""
    small_number_threshold: int = Field(default=10, ge=2)
    """Counts of people or searches from 1 to one less than this are shown to commissioners
    as "fewer than" it, in every view and export."""


class ServerSettings(BaseModel):
    """How each app worker process serves."""

    requests_at_once: int = Field(default=1, ge=1, le=64)
    """Requests a worker works on at the same time; the rest wait their turn at the door
    (marketplace.admission). More do not get more done in one Python process: run more
    workers (about one a core, or more where the database is far away) instead."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SDS_", env_nested_delimiter="__", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    secret_key: SecretStr | None = Field(default=None, validation_alias="SECRET_KEY")
    base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="BASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    """With it, the job queue lives in Redis and workers can run on several machines;
    without it, in a SQLite file under var/ for one machine."""
    var_dir: Path = DEFAULT_VAR_DIR
    service_name: str = "SDS Marketplace"
    mail: MailSettings = MailSettings()
    jobs: JobSettings = JobSettings()
    stripe: StripeSettings = StripeSettings()
    security: SecuritySettings = SecuritySettings()
    matching: MatchingSettings = MatchingSettings()
    server: ServerSettings = ServerSettings()

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if self.env == "production":
            if self.secret_key is None:
                raise ValueError("SECRET_KEY must be set when SDS_ENV=production")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set when SDS_ENV=production")
            if not self.base_url.startswith("https://"):
                raise ValueError("BASE_URL must be https:// when SDS_ENV=production")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'sds-market.sqlite3'}"
        if self.secret_key is None:
            self.secret_key = SecretStr(_embedded_secret_key(self.var_dir))
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure (and __Host- prefixed) whenever the service is served over TLS."""
        return self.base_url.startswith("https://")

    @property
    def jobs_immediate(self) -> bool:
        return self.jobs.immediate if self.jobs.immediate is not None else self.env == "test"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"


def _embedded_secret_key(var_dir: Path) -> str:
    """The embedded default keeps a generated key in var/ so sessions survive restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
