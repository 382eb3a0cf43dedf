"""Settings come from OPTOUT_ variables; a weak secret is refused."""

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from optout_tracker.config import Settings, get_settings
from optout_tracker.paths import MIGRATIONS_DIR, TEMPLATES_DIR


def test_environment_variables_with_the_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTOUT_DATABASE_URL", "postgresql+psycopg://app@db.internal/optout")
    monkeypatch.setenv("OPTOUT_RESPONSE_WINDOW_DAYS", "45")
    monkeypatch.setenv("OPTOUT_BASE_URL", "https://optout.example.org")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://app@db.internal/optout"
    assert settings.response_window_days == 45
    assert settings.base_url == "https://optout.example.org"
    assert not settings.is_sqlite


def test_the_default_database_is_a_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.delenv("OPTOUT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings().database_url == f"sqlite:///{tmp_path / 'optout-tracker.db'}"


@pytest.mark.parametrize("secret", ["", "dev-insecure-secret-change-me", "x" * 31])
def test_a_short_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="OPTOUT_SECRET_KEY must be at least 32"):
        Settings(secret_key=secret)
    assert Settings(secret_key="x" * 32).secret_key == "x" * 32


def test_there_is_no_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTOUT_SECRET_KEY", raising=False)
    assert Settings().secret_key is None  # session_secret.py makes one or refuses to start


@pytest.mark.parametrize("days", ["0", "366", "thirty"])
def test_a_bad_response_window_is_refused(monkeypatch: pytest.MonkeyPatch, days: str) -> None:
    monkeypatch.setenv("OPTOUT_RESPONSE_WINDOW_DAYS", days)
    with pytest.raises(ValidationError, match="response_window_days"):
        Settings()


def test_the_package_finds_its_migrations_and_templates() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert TEMPLATES_DIR.is_dir()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"OPTOUT_{name.upper()}" in readme, name


@pytest.mark.parametrize(
    "url", ["optout.example.org", "ftp://optout.example.org", "https://", "https://x.org?a=1",
            "https://x.org:port"]
)  # fmt: skip
def test_a_base_url_that_is_not_a_site_s_address_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="OPTOUT_BASE_URL"):
        Settings(base_url=url)


def test_a_base_url_is_kept_without_its_trailing_slash() -> None:
    assert (
        Settings(base_url=" https://optout.example.org/ ").base_url == "https://optout.example.org"
    )
    assert Settings(base_url="http://127.0.0.1:8000/tracker").base_url.endswith(":8000/tracker")


def test_a_misspelt_variable_is_warned_about_with_the_setting_it_looks_like(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPTOUT_DATABSE_URL", "postgresql+psycopg://app@db/optout")
    monkeypatch.setenv("OPTOUT_SOMETHING_ELSE", "1")
    monkeypatch.setenv("OPTOUT_BASE_URL", "https://optout.example.org")  # a real one: quiet
    get_settings.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="optout_tracker.config"):
            get_settings()
    finally:
        get_settings.cache_clear()
    assert (
        "OPTOUT_DATABSE_URL is not a setting, and is ignored: did you mean OPTOUT_DATABASE_URL?"
        in caplog.messages
    )
    assert "OPTOUT_SOMETHING_ELSE is not a setting, and is ignored" in caplog.messages
    assert not any("OPTOUT_BASE_URL" in m for m in caplog.messages)
