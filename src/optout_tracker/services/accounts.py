"""Users, their signed-in sessions, API keys and the sign-in throttle."""

import math
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import audit
from ..db import UnitsOfWork, insert_or
from ..db_types import utcnow
from ..enums import ROLE_ACCESS, SCOPE_ACCESS, Access, ActorKind, AuditAction, Role, Scope
from ..errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from ..i18n import LOCALES, Sentence
from ..models import ApiKey, LoginThrottle, User, UserSession
from ..security import (
    DUMMY_HASH,
    NewToken,
    Principal,
    hash_password,
    new_api_token,
    password_problem,
    token_hash,
    token_matches,
    token_prefix,
    verify_password,
)

# Sign-in throttle per (email, client address): three free tries, then a doubling wait, then
# a lock-out. Counted per email alone, anyone could lock any account, an admin's too, with ten
# wrong guesses; per pair, the owner signing in from their own address is never held up by
# someone else's guesses. The price: an attacker with many addresses gets LOCK_FAILURES
# guesses per address and window, which the per-client budget in front of the check
# (ratelimit.py), argon2 and the minimum password length keep far from useful.
FREE_FAILURES = 3
LOCK_FAILURES = 10
LOCK_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=7)  # absolute; the cookie itself lapses after idle hours
KEY_USE_RESOLUTION = timedelta(minutes=1)  # how often last_used_at is rewritten
KEYS = "API keys"  # what `person` names: each caller's own
HOW_TO_GET_A_KEY = (
    "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'; make your own on "
    "/account once signed in, or an operator creates one with "
    "`optout-tracker api-keys create NAME --scope read|write|admin`"
)


def user_principal(user: User, *, via_session: bool) -> Principal:
    return Principal(ActorKind.user, user.id, user.email, ROLE_ACCESS[user.role], via_session)


def _key_principal(key: ApiKey, owner: User | None) -> Principal:
    """The caller a key stands for: its scope, but never more than its owner's role now (a
    key made by an organizer since made a viewer reads only), and no one once its owner is
    deactivated. A key made on the command line has no owner."""
    access = SCOPE_ACCESS[key.scope]
    if key.created_by_id is not None:
        if owner is None or not owner.active:
            raise Unauthorized(f"this API key's owner was deactivated: {HOW_TO_GET_A_KEY}")
        access = min(access, ROLE_ACCESS[owner.role])
    return Principal(ActorKind.api_key, key.id, f"key {key.name}", access)


def owner_of(session: Session, principal: Principal) -> int | None:
    """The user a caller acts for: a signed-in user, or the user who made the API key it
    sent (a key made on the command line belongs to no one)."""
    if principal.kind is ActorKind.user:
        return principal.id
    if principal.kind is ActorKind.api_key and principal.id is not None:
        key = session.get(ApiKey, principal.id)
        return None if key is None else key.created_by_id
    return None


# Users


def create_user(session: Session, email: str, role: Role, password: str, actor: Principal) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(
            "not an email address", [FieldError("email", Sentence("must be an email address"))]
        )
    if problem := password_problem(password):
        detail = Sentence("password {problem}", problem=problem)
        raise InvalidInput(detail, [FieldError("password", problem)])
    if session.scalars(sa.select(User).filter_by(email=email)).first():
        raise Conflict(
            f"a user with email {email} exists", [FieldError("email", Sentence("already taken"))]
        )
    user = User(email=email, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, actor, AuditAction.create, user, None)
    return user


def authenticate_user(units: UnitsOfWork, email: str, password: str, client: str) -> User | None:
    """The user these credentials belong to, or None. Refuses with 429 while throttled.

    Unlike the other services, this one runs its own short transactions, around the password
    check rather than over it: argon2 spends ~100 ms of CPU on purpose, and on SQLite a
    writer's transaction holds the database's one write lock, so every API write would wait.
    The attempt is counted and committed before the check, so that simultaneous guesses cannot
    all be checked before the first failure is recorded; a success clears the count.
    """
    email = email.strip().lower()
    with units() as session:
        _count_attempt(session, email, client)
        user = session.scalars(sa.select(User).filter_by(email=email)).first()
    # The same check for unknown and deactivated accounts: the timing tells nothing.
    if not verify_password(user.password_hash if user else DUMMY_HASH, password):
        return None
    if user is None or not user.active:
        return None
    with units() as session:
        session.execute(sa.delete(LoginThrottle).filter_by(email=email, client=client))
    return user


def _count_attempt(session: Session, email: str, client: str) -> None:
    """Record one more attempt for (email, client), or raise TooManyRequests without one."""
    now = utcnow()
    # Counts past their window are spent: gone, so that guesses at made-up emails from ever
    # new addresses do not pile up (updated_at is indexed).
    session.execute(
        sa.delete(LoginThrottle).where(col(LoginThrottle.updated_at) < now - LOCK_WINDOW)
    )
    row = {"email": email, "client": client, "failures": 0, "created_at": now,
           "updated_at": now, "version": 1}  # fmt: skip
    session.execute(insert_or(session, LoginThrottle).values(row).on_conflict_do_nothing())
    # The row lock (PostgreSQL; SQLite's writer holds the whole database) serialises attempts.
    throttle = session.scalars(
        sa.select(LoginThrottle).filter_by(email=email, client=client).with_for_update()
    ).one()
    if throttle.last_failure_at and now - throttle.last_failure_at > LOCK_WINDOW:
        throttle.failures = 0
    if (wait := _wait(throttle, now)) > 0:
        refusal = Sentence(
            "too many failed sign-ins for {email}: try again in {seconds} seconds",
            email=email,
            seconds=str(wait),
        )
        raise TooManyRequests(refusal, wait)
    throttle.failures += 1
    throttle.last_failure_at = now
    session.flush()


def _wait(throttle: LoginThrottle, now: datetime) -> int:
    """Seconds until the next attempt is allowed."""
    if throttle.failures < FREE_FAILURES or throttle.last_failure_at is None:
        return 0
    if throttle.failures >= LOCK_FAILURES:
        delay = LOCK_WINDOW
    else:
        delay = timedelta(seconds=2 ** (throttle.failures - FREE_FAILURES))
    return max(0, math.ceil((throttle.last_failure_at + delay - now).total_seconds()))


# Signed-in sessions


def start_session(session: Session, user: User) -> str:
    """A new session for `user`: the token goes into the cookie, only its hash is stored."""
    now = utcnow()
    # Expired sessions go here, at sign-in, rather than in a sweeper of their own.
    session.execute(
        sa.delete(UserSession).where(col(UserSession.created_at) < now - SESSION_LIFETIME)
    )
    signed_in = session.get_one(User, user.id)
    signed_in.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=signed_in.id or 0, token_hash=token_hash(token)))
    session.flush()
    return token


def session_user(session: Session, token: str) -> User | None:
    """The active user of a live session, or None: signed out, expired or deactivated."""
    return session.scalars(
        sa.select(User)
        .join(UserSession, col(UserSession.user_id) == col(User.id))
        .where(
            col(UserSession.token_hash) == token_hash(token),
            col(UserSession.created_at) > utcnow() - SESSION_LIFETIME,
            col(User.active),
        )
    ).first()


def end_session(session: Session, token: str) -> None:
    session.execute(sa.delete(UserSession).filter_by(token_hash=token_hash(token)))


# API keys


def create_api_key(
    session: Session, name: str, scope: Scope, actor: Principal
) -> tuple[ApiKey, str]:
    """A new key and its token; the token is shown once and only its hash is kept. The key
    belongs to the person who makes it, with a scope up to their own access; an admin (or
    the command line) may make any."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            "a key needs a name", [FieldError("name", Sentence("1 to 200 characters"))]
        )
    if not actor.can(SCOPE_ACCESS[scope]):
        allowed = [s.value for s in Scope if actor.can(SCOPE_ACCESS[s])]
        message = Sentence("at most {scope}", scope=allowed[-1]) if allowed else Sentence("none")
        refusal = Sentence(
            "{actor} may not make a key of scope {scope}: {allowed}",
            actor=actor.label,
            scope=scope.value,
            allowed=message,
        )
        raise Forbidden(refusal, [FieldError("scope", message)])
    owner = owner_of(session, actor) if actor.can(Access.admin) else person(session, actor, KEYS)
    token: NewToken = new_api_token()
    key = ApiKey(
        name=name, scope=scope, prefix=token.prefix, key_hash=token.key_hash, created_by_id=owner
    )
    session.add(key)
    session.flush()
    audit.record(session, actor, AuditAction.create, key, None)
    return key, token.token


def list_api_keys(session: Session, viewer: Principal) -> list[ApiKey]:
    """Every key for an admin; anyone else's own keys."""
    keys = sa.select(ApiKey).order_by(col(ApiKey.id))
    if not viewer.can(Access.admin):
        keys = keys.where(col(ApiKey.created_by_id) == person(session, viewer, KEYS))
    return list(session.scalars(keys))


def revoke_api_key(session: Session, key_id: int, actor: Principal) -> ApiKey:
    """Revoke a key (an admin's any; anyone else's own: another's is not found)."""
    key = session.get(ApiKey, key_id)
    if key is None or not (
        actor.can(Access.admin) or key.created_by_id == person(session, actor, KEYS)
    ):
        raise NotFound(Sentence("no API key with id {id}", id=str(key_id)))
    if key.revoked_at is None:
        before = audit.snapshot(key)
        key.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor, AuditAction.update, key, before)
    return key


def person(session: Session, principal: Principal, belongs: str) -> int:
    """The user whose own `belongs` (follows, API keys) a caller reads and writes
    (`owner_of`); 401 for anyone else, 403 for a key made on the command line."""
    if (owner := owner_of(session, principal)) is not None:
        return owner
    if principal.kind is ActorKind.api_key:
        raise Forbidden(
            f"{belongs} belong to a person, and this API key has no owner (it was made on the "
            "command line): use a key a signed-in user created, or sign in at /login"
        )
    raise Unauthorized(f"{belongs} belong to a person: sign in at /login or send your API key")


def authenticate_key(session: Session, token: str) -> Principal:
    """The caller this API key stands for (`_key_principal`): the key and its owner in one
    query, every API request with a key asks it."""
    prefix = token_prefix(token)
    found = sa.select(ApiKey, User).outerjoin(User, col(User.id) == ApiKey.created_by_id)
    row = session.execute(found.where(col(ApiKey.prefix) == prefix)).first() if prefix else None
    key, owner = (row[0], row[1]) if row else (None, None)
    if key is None or not token_matches(token, key.key_hash):
        raise Unauthorized(f"unknown API key: {HOW_TO_GET_A_KEY}")
    if key.revoked_at is not None:
        raise Unauthorized(f"this API key was revoked: {HOW_TO_GET_A_KEY}")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > KEY_USE_RESOLUTION:
        _touch(session, key.id or 0, now)
    return _key_principal(key, owner)


def _touch(session: Session, key_id: int, now: datetime) -> None:
    """Best-effort bookkeeping: a plain UPDATE (no version bump, so it never conflicts with an
    edit) in a savepoint, given up when SQLite cannot turn a reading transaction into a writer."""
    try:
        with session.begin_nested():
            session.execute(
                sa.update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=now)
            )
    except sa.exc.OperationalError:
        pass


def list_users(session: Session) -> list[User]:
    return list(session.scalars(sa.select(User).order_by(col(User.email))))


def chosen_locale(session: Session, user_id: int) -> str | None:
    """The language a user chose for their pages and mail, if they chose one."""
    user = session.get(User, user_id)
    return user.locale if user else None


def set_locale(session: Session, user_id: int, locale: str, actor: Principal) -> User:
    """The language of a user's pages and mail (one the site speaks)."""
    if locale not in LOCALES:
        message = Sentence("one of {locales}", locales=", ".join(LOCALES))
        refusal = Sentence("{locale} is no language of the site", locale=repr(locale))
        raise InvalidInput(refusal, [FieldError("locale", message)])
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Sentence("no user with id {id}", id=str(user_id)))
    if user.locale != locale:
        before = audit.snapshot(user)
        user.locale = locale
        session.flush()
        audit.record(session, actor, AuditAction.update, user, before)
    return user


def set_active(session: Session, user_id: int, active: bool, actor: Principal) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Sentence("no user with id {id}", id=str(user_id)))
    if user.active == active:
        return user  # nothing changes: no audit entry
    before = audit.snapshot(user)
    user.active = active
    if not active:  # out at once, everywhere
        session.execute(sa.delete(UserSession).filter_by(user_id=user_id))
    session.flush()
    audit.record(session, actor, AuditAction.update, user, before)
    return user
