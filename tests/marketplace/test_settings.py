"""Configuration from the environment, with an embedded default that needs nothing set."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from marketplace.settings import Settings


class TestEmbeddedDefault:
    def test_uses_a_sqlite_file_under_var(self, tmp_path: Path) -> None:
        settings = Settings(var_dir=tmp_path)
        assert settings.database_url == f"sqlite:///{tmp_path / 'sds-market.sqlite3'}"
        assert settings.outbox_dir == tmp_path / "outbox"

    def test_generates_a_secret_key_once_and_keeps_it(self, tmp_path: Path) -> None:
        first = Settings(var_dir=tmp_path).secret_key
        second = Settings(var_dir=tmp_path).secret_key
        assert first is not None and second is not None
        assert first.get_secret_value() == second.get_secret_value()
        assert len(first.get_secret_value()) >= 48
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "only the owner may read it"

    def test_stripe_is_off_without_keys(self, tmp_path: Path) -> None:
        assert not Settings(var_dir=tmp_path).stripe.enabled
        assert Settings(var_dir=tmp_path, stripe={"secret_key": "sk_test_x"}).stripe.enabled

    def test_reads_the_environment(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.example.org/sds")
        monkeypatch.setenv("BASE_URL", "https://sds.example.org")
        monkeypatch.setenv("SDS_MAIL__SMTP_HOST", "smtp.example.org")
        monkeypatch.setenv("SDS_SECURITY__SESSION_IDLE_MINUTES", "20")
        settings = Settings(var_dir=tmp_path)
        assert settings.database_url == "postgresql+psycopg://db.example.org/sds"
        assert settings.base_url == "https://sds.example.org"
        assert settings.mail.smtp_host == "smtp.example.org"
        assert settings.security.session_idle_minutes == 20
        assert settings.secure_cookies


class TestProduction:
    def test_needs_a_secret_key(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(
                env="production",
                var_dir=tmp_path,
                database_url="postgresql://x/y",
                base_url="https://a.example.org",
            )
        assert not (tmp_path / "secret_key").exists()

    def test_needs_a_database_and_https(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="DATABASE_URL"):
            Settings(
                env="production",
                var_dir=tmp_path,
                secret_key="k" * 40,
                base_url="https://a.example.org",
            )
        with pytest.raises(ValidationError, match="https"):
            Settings(
                env="production",
                var_dir=tmp_path,
                secret_key="k" * 40,
                database_url="postgresql://x/y",
            )
