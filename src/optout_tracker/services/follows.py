"""Follows: a user follows a jurisdiction, a state or everything, with how alerts reach them.

Follows are personal: audited like every write, but no webhook event tells anyone.
"""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import audit
from ..enums import ActorKind, Alerts, AuditAction, FollowTarget
from ..errors import Conflict, FieldError, InvalidInput, NotFound
from ..i18n import gettext
from ..models import Follow, Jurisdiction, User
from ..schemas import FollowCreate, FollowPublic, FollowUpdate
from ..security import Principal
from . import accounts


def owner_id(session: Session, principal: Principal) -> int:
    """The user whose follows the caller reads and writes (accounts.person)."""
    return accounts.person(session, principal, "follows")


def list_(session: Session, user_id: int) -> list[Follow]:
    """The user's follows, oldest first."""
    return list(
        session.scalars(
            sa.select(Follow).where(col(Follow.user_id) == user_id).order_by(col(Follow.id))
        )
    )


def get(session: Session, user_id: int, follow_id: int) -> Follow:
    """One of the user's follows (another user's is as absent as one that never was)."""
    found = session.get(Follow, follow_id)
    if found is None or found.user_id != user_id:
        raise NotFound(f"you have no follow with id {follow_id}")
    return found


def find(session: Session, user_id: int, payload: FollowCreate) -> Follow | None:
    """The user's follow of the same target, if any."""
    stmt = sa.select(Follow).where(
        col(Follow.user_id) == user_id, col(Follow.target) == payload.target
    )
    if payload.target is FollowTarget.jurisdiction:
        stmt = stmt.where(col(Follow.jurisdiction_id) == payload.jurisdiction_id)
    elif payload.target is FollowTarget.state:
        stmt = stmt.where(col(Follow.state) == payload.state)
    return session.scalars(stmt).first()


def _check(session: Session, payload: FollowCreate) -> None:
    """The fields fit the target, and the jurisdiction followed exists."""
    wanted = {
        "jurisdiction_id": payload.target is FollowTarget.jurisdiction,
        "state": payload.target is FollowTarget.state,
    }
    errors = [
        FieldError(
            name,
            f"required when target is {payload.target.value}"
            if need
            else f"must be empty when target is {payload.target.value}",
        )
        for name, need in wanted.items()
        if need != (getattr(payload, name) is not None)
    ]
    if not errors and payload.jurisdiction_id is not None:
        if session.get(Jurisdiction, payload.jurisdiction_id) is None:
            errors.append(FieldError("jurisdiction_id", "no jurisdiction has this id"))
    if errors:
        raise InvalidInput("the follow's fields do not fit its target", errors)


def create(session: Session, user_id: int, payload: FollowCreate, actor: Principal) -> Follow:
    """Follow a target; a second follow of the same target is a 409 naming the first."""
    _check(session, payload)
    if (earlier := find(session, user_id, payload)) is not None:
        raise Conflict(
            f"you already follow this (follow {earlier.id}): change its alerts with PATCH",
            [FieldError("target", "already followed")],
        )
    return _add(session, user_id, payload, actor)


def follow(session: Session, user_id: int, payload: FollowCreate, actor: Principal) -> Follow:
    """Follow a target, or set the alerts of the follow of it the user has (the pages'
    Follow button)."""
    _check(session, payload)
    if (earlier := find(session, user_id, payload)) is not None:
        return update(session, earlier, FollowUpdate(alerts=payload.alerts), actor)
    return _add(session, user_id, payload, actor)


def _add(session: Session, user_id: int, payload: FollowCreate, actor: Principal) -> Follow:
    created = Follow(user_id=user_id, **payload.model_dump())
    session.add(created)
    session.flush()
    audit.record(session, actor, AuditAction.create, created, None)
    return created


def update(session: Session, found: Follow, payload: FollowUpdate, actor: Principal) -> Follow:
    if found.alerts == payload.alerts:
        return found
    before = audit.snapshot(found)
    found.alerts = payload.alerts
    session.add(found)
    session.flush()
    audit.record(session, actor, AuditAction.update, found, before)
    return found


def delete(session: Session, found: Follow, actor: Principal) -> None:
    before = audit.snapshot(found)
    session.delete(found)
    session.flush()
    audit.record(session, actor, AuditAction.delete, found, before)


def turn_off(session: Session, found: Iterable[Follow], actor: Principal) -> int:
    """Alerts off for these follows (an unsubscribe link): how many were on."""
    changed = [f for f in found if f.alerts is not Alerts.off]
    for f in changed:
        update(session, f, FollowUpdate(alerts=Alerts.off), actor)
    return len(changed)


def public(found: Follow) -> FollowPublic:
    return FollowPublic.model_validate(found)


def described(session: Session, found: list[Follow]) -> dict[int, tuple[str, str | None]]:
    """What each follow follows, in words, with the path of its page: one query."""
    ids = {f.jurisdiction_id for f in found if f.jurisdiction_id is not None}
    named = {
        j.id: j
        for j in session.scalars(sa.select(Jurisdiction).where(col(Jurisdiction.id).in_(ids)))
    }
    out: dict[int, tuple[str, str | None]] = {}
    for f in found:
        if f.target is FollowTarget.all:
            out[f.id or 0] = (gettext("Every jurisdiction"), None)
        elif f.target is FollowTarget.state:
            out[f.id or 0] = (
                gettext("Everything in {state}").format(state=f.state),
                f"/states/{f.state}",
            )
        else:
            j = named.get(f.jurisdiction_id or 0)
            out[f.id or 0] = (
                (f"{j.name}, {j.state}", f"/jurisdictions/{j.slug}") if j else ("?", None)
            )
    return out


def user_email(session: Session, user_id: int) -> str | None:
    user = session.get(User, user_id)
    return user.email if user else None


def following(
    session: Session, principal: Principal, *, jurisdiction_id: int | None = None,
    state: str | None = None,
) -> Follow | None:  # fmt: skip
    """The signed-in user's follow of this jurisdiction (or state), if any: what its page's
    Follow button shows."""
    if principal.kind is not ActorKind.user or principal.id is None:
        return None
    target = FollowTarget.jurisdiction if jurisdiction_id is not None else FollowTarget.state
    return find(
        session,
        principal.id,
        FollowCreate.model_construct(target=target, jurisdiction_id=jurisdiction_id, state=state),
    )
