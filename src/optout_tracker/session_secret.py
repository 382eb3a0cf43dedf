"""The secret that signs session cookies: set explicitly, or made once beside a SQLite file.

There is no default value: a secret printed in the source lets anyone sign an admin's cookie.
"""

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .config import MAKE_A_SECRET, MIN_SECRET_LENGTH, Settings
from .errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionSecret:
    value: str
    source: str  # where it came from, for the log: never the value itself


def session_secret(settings: Settings) -> SessionSecret:
    """OPTOUT_SECRET_KEY, else the secret file of a SQLite database, made on first start."""
    if settings.secret_key:
        return SessionSecret(settings.secret_key, "OPTOUT_SECRET_KEY")
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        url = None
    if url is None or url.get_backend_name() != "sqlite":
        raise ConfigError(
            "OPTOUT_SECRET_KEY must be set when the database is not a SQLite file "
            f"(it signs the session cookies of every app process); make one with {MAKE_A_SECRET}"
        )
    if not url.database or url.database == ":memory:":
        # Nothing outlives this process, so neither need its sessions.
        return SessionSecret(secrets.token_urlsafe(32), "a random value for this process")
    path = Path(f"{url.database}.secret")
    created = not path.exists() and _create(path)
    value = _read(path)
    if created:
        logger.warning(
            "created a new session secret in %s: keep it private, with the database", path
        )
    return SessionSecret(value, f"the file {path}")


def _create(path: Path) -> bool:
    """Write a new secret to `path` unless it exists; True if this call made it.

    The secret is written to a private temporary file and linked into place, which fails if
    the name exists: app processes starting together all end up reading the same, whole file.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(
            f"cannot create the session secret file {path}: {exc.strerror} "
            "(check that its directory exists and is writable)"
        ) from exc
    return True


def _read(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        value = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the session secret file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the session secret file {path} is open to others: chmod 600 {path}")
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"the session secret file {path} holds fewer than {MIN_SECRET_LENGTH} characters: "
            "delete it to have a new one made (everyone signs in again)"
        )
    return value
