"""Password hashing and API-key tokens. No I/O: services/accounts.py stores what this makes."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .enums import Access, ActorKind
from .i18n import Sentence

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
TOKEN_KIND = "optk"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> Sentence | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Sentence("must be at least {n} characters", n=str(MIN_PASSWORD_LENGTH))
    return None


# A spent argon2 verification for unknown emails, so that timing does not tell which exist.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    prefix: str
    key_hash: str


def new_api_token() -> NewToken:
    """A random token `optk_<prefix>_<secret>`: the prefix is a lookup id, not a secret."""
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_KIND}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(token, prefix, token_hash(token))


def token_hash(token: str) -> str:
    # 256 random bits need no slow hash: SHA-256 cannot be brute-forced back to them.
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str | None:
    kind, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    return prefix if kind == TOKEN_KIND and len(prefix) == 12 and secret else None


def token_matches(token: str, key_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), key_hash)


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user, an API key, the command line, or nobody."""

    kind: ActorKind | None
    id: int | None
    label: str
    access: Access
    via_session: bool = False  # cookie-authenticated, so unsafe requests need a CSRF token

    @property
    def anonymous(self) -> bool:
        return self.kind is None

    def can(self, access: Access) -> bool:
        return self.access >= access

    @property
    def key(self) -> str:
        """A stable name for this caller, e.g. for idempotency keys."""
        return f"{self.kind}:{self.id}" if self.kind else "anonymous"


ANONYMOUS = Principal(None, None, "anonymous", Access.public)
CLI = Principal(ActorKind.cli, None, "command line", Access.admin)
