"""Settings, read from the environment with the OPTOUT_ prefix."""

import difflib
import logging
import os
from collections.abc import Mapping
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPTOUT_", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'optout-tracker.db'}",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db",
    )
    secret_key: str | None = Field(
        None,
        description="Signs session cookies. Unset: made once beside a SQLite file "
        "(session_secret.py); required on PostgreSQL.",
    )
    response_window_days: int = Field(30, ge=1, le=365, description="Default days to answer.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL, used in links.")
    sql_echo: bool = Field(False, description="Log every SQL statement.")
    # Five and five: more connections than that only held memory (each SQLite connection its
    # page cache) and lowered a process's throughput under load, its threads taking turns on
    # one GIL and, on SQLite, one writer (bench/api.py's load test).
    db_pool_size: int = Field(
        5, ge=1, le=500, description="Database connections each app process keeps open."
    )
    db_max_overflow: int = Field(
        5, ge=0, le=500, description="Connections opened beyond the pool under load, then closed."
    )
    db_pool_timeout_seconds: float = Field(
        10, gt=0, le=120, description="How long a request waits for a free connection (then 503)."
    )
    export_concurrency: int = Field(
        4, ge=1, le=64, description="CSV exports one app process prepares at once (then 503)."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted (413 above)."
    )
    import_max_bytes: int = Field(
        52_428_800, ge=1024, description="Largest CSV accepted by /api/v1/import (413 above)."
    )
    max_upload_bytes: int = Field(
        10_485_760,
        ge=1024,
        description="Largest document (scan, PDF, image, text) attached to a letter or a response.",
    )
    import_max_rows: int = Field(100_000, ge=1, description="Most rows in one CSV import.")
    webhook_timeout_seconds: float = Field(
        10, gt=0, le=120, description="How long a webhook receiver may take to answer."
    )
    webhook_max_attempts: int = Field(
        10, ge=1, le=50, description="Attempts before a webhook delivery is marked failed."
    )
    webhook_backoff_seconds: float = Field(
        30, ge=0, description="Wait before the first retry; doubled after each failure."
    )
    webhook_keep_days: int = Field(
        30, ge=1, description="Days delivered and failed deliveries are kept, then deleted."
    )
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook URLs on loopback, private, link-local or metadata addresses, "
        "and plain http.",
    )

    smtp_url: str | None = Field(
        None,
        description="Where mail goes: smtp://user:pass@host:587 (STARTTLS), smtps://… "
        "(implicit TLS), smtp://host:25?tls=off (a plain relay). Unset: no mail is queued.",
    )
    mail_from: str = Field(
        "optout-tracker <optout-tracker@localhost>",
        description="The From address of alerts and digests.",
    )
    mail_max_attempts: int = Field(
        8, ge=1, le=50, description="Attempts before a message is marked failed."
    )
    mail_backoff_seconds: float = Field(
        60, ge=0, description="Wait before the first retry of a message; doubled after each."
    )
    mail_timeout_seconds: float = Field(
        30, gt=0, le=300, description="How long the SMTP server may take to answer."
    )

    cors_origins: str = Field(
        "",
        description="Web pages that may read the API from the browser: their origins, "
        "comma-separated (https://coalition.example), or *. Unset: none.",
    )

    default_locale: Literal["en", "es"] = Field(
        "en",
        description="The language of the pages, mail and API wording for a visitor who asks "
        "for none (neither ?lang= nor Accept-Language names one the site speaks): en or es.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="How `serve` and `worker` write their log lines: text (readable, with a "
        "timestamp) or json (one JSON object per line, for a log collector).",
    )

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format_is_known(cls, value: object) -> object:
        # A typo would otherwise be pydantic's "Input should be 'text' or 'json'", unnamed.
        if isinstance(value, str) and value.strip().lower() in ("text", "json"):
            return value.strip().lower()
        raise ValueError(f"OPTOUT_LOG_FORMAT must be text or json (got {value!r})")

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        for origin in _listed(value):
            parts = urlsplit(origin)
            whole = parts.scheme in ("http", "https") and parts.netloc and not parts.path
            if origin != "*" and not (whole and not parts.query and not parts.fragment):
                raise ValueError(
                    f"OPTOUT_CORS_ORIGINS: {origin!r} is not an origin: give scheme and host "
                    "(and port), nothing after them, e.g. https://coalition.example, or *"
                )
        return value

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return _listed(self.cors_origins)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_a_site(cls, value: str) -> str:
        # Links in mail, feeds and share cards are made from it: a typo would send them all
        # somewhere else, found only when someone clicks.
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(
                f"OPTOUT_BASE_URL must be the site's public address, e.g. "
                f"https://optout.example.org (got {value!r})"
            )
        try:
            parts.port  # noqa: B018  (a port that is not a number raises here)
        except ValueError as exc:
            raise ValueError(f"OPTOUT_BASE_URL has a bad port: {exc}") from exc
        return value.strip().rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_one_we_speak(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "OPTOUT_SMTP_URL must look like smtp://user:pass@host:587 (STARTTLS), "
                "smtps://user:pass@host:465 or smtp://host:25?tls=off"
            )
        tls = parse_qs(parts.query).get("tls", ["on"])[-1]
        if tls not in ("on", "off"):
            raise ValueError("OPTOUT_SMTP_URL's tls= must be on or off")
        try:
            parts.port  # noqa: B018  (a port that is not a number raises here)
        except ValueError as exc:
            raise ValueError(f"OPTOUT_SMTP_URL has a bad port: {exc}") from exc
        return value.strip()

    @field_validator("mail_from")
    @classmethod
    def _mail_from_is_an_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address or any(c in value for c in "\r\n"):
            raise ValueError(
                "OPTOUT_MAIL_FROM must be an address, e.g. Coalition <alerts@example.org>"
            )
        return value

    @property
    def mail_on(self) -> bool:
        return self.smtp_url is not None

    @field_validator("secret_key")
    @classmethod
    def _refuse_a_weak_secret(cls, value: str | None) -> str | None:
        # A short or guessable secret lets anyone sign a session cookie for an admin.
        if value is not None and len(value.strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"OPTOUT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} random characters: "
                f"make one with {MAKE_A_SECRET}"
            )
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    for name, guess in unknown_variables(os.environ):
        hint = f": did you mean {guess}?" if guess else ""
        log.warning("%s is not a setting, and is ignored%s", name, hint)
    return Settings()


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """The OPTOUT_ variables no setting reads (a misspelt one would silently do nothing),
    each with the setting it most looks like, if any."""
    known = [name.upper() for name in Settings.model_fields]
    found = []
    for name in sorted(environ):
        suffix = name.removeprefix("OPTOUT_")
        if name.startswith("OPTOUT_") and suffix not in known:
            close = difflib.get_close_matches(suffix, known, n=1, cutoff=0.8)
            found.append((name, f"OPTOUT_{close[0]}" if close else None))
    return found


def _listed(value: str) -> tuple[str, ...]:
    """The items of a comma-separated setting, without blanks."""
    return tuple(item.strip() for item in value.split(",") if item.strip())
