"""Digests: for each user with daily (or weekly) follows, today's follow-up items and the
period's changes in the places they follow that way, queued as one message each, written
in the user's language (mail.language)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import i18n
from ..config import Settings
from ..enums import Alerts, FollowTarget
from ..i18n import gettext, ngettext
from ..models import AuditEntry, Follow, Jurisdiction, User
from ..schemas import ENTITIES, FollowUpItem
from ..wording import long_day
from . import feeds, follow_up
from .mail import by_id, language, per_language, queue, render, unsubscribe_token, unsubscribe_url

PERIOD = {Alerts.daily: timedelta(days=1), Alerts.weekly: timedelta(days=7)}


@dataclass(frozen=True)
class Digest:
    user: User
    frequency: Alerts
    on: date
    subject: str
    text: str
    html: str
    follow_up: list[FollowUpItem]
    changes: list[feeds.Change]
    unsubscribe: str  # the link, in the digest's language

    @property
    def key(self) -> str:
        return f"digest:{self.frequency.value}:{self.on.isoformat()}:user:{self.user.id}"


def digests(session: Session, settings: Settings, frequency: Alerts, on: date) -> list[Digest]:
    """For each user with follows of this frequency: today's follow-up items and the
    period's public changes (the audit log: votes, letters, responses, records), in the
    places they follow that way only; a user with nothing to be told gets none."""
    rows = session.execute(
        sa.select(Follow, User)
        .join(User, col(User.id) == Follow.user_id)
        .where(col(Follow.alerts) == frequency, col(User.active))
        .order_by(col(User.id), col(Follow.id))
    ).all()
    by_user: dict[int, tuple[User, list[Follow]]] = {}
    for f, user in rows:
        by_user.setdefault(user.id or 0, (user, []))[1].append(f)
    if not by_user:
        return []
    since = datetime.combine(on - PERIOD[frequency], time(), UTC)
    until = datetime.combine(on, time(), UTC)
    # The items and changes are sentences: said in each language a digest goes out in.
    said = per_language(lambda: (follow_up.items(session), _changes_between(session, since, until)))
    waiting, recent = said(settings.default_locale)
    places = by_id(
        session,
        {i.jurisdiction_id for i in waiting}
        | {c.jurisdiction.id or 0 for c in recent if c.jurisdiction},
    )
    found = []
    for user, followed in by_user.values():
        covered = _covering(followed)
        locale = language(settings, user, followed)
        waiting, recent = said(locale)
        items = [i for i in waiting if covered(places[i.jurisdiction_id])]
        changes = [c for c in recent if c.jurisdiction is not None and covered(c.jurisdiction)]
        if not items and not changes:
            continue
        token = unsubscribe_token(settings, user_id=user.id)
        with i18n.using(locale):
            unsubscribe = unsubscribe_url(settings, token)
            text, html = render(
                "digest", user=user, frequency=frequency, on=on, since=since.date(),
                items=items, changes=changes, base=settings.base_url, unsubscribe=unsubscribe,
            )  # fmt: skip
            subject = _subject(frequency, on, len(items), len(changes))
        found.append(Digest(user, frequency, on, subject, text, html, items, changes, unsubscribe))
    return found


def _subject(frequency: Alerts, on: date, waiting: int, changes: int) -> str:
    """The subject, in the current language, its counts in their plural forms."""
    parts = {
        "day": long_day(on),
        "waiting": ngettext("{count} to follow up", "{count} to follow up", waiting).format(
            count=i18n.format_number(waiting)
        ),
        "changes": ngettext("{count} change", "{count} changes", changes).format(
            count=i18n.format_number(changes)
        ),
    }
    if frequency is Alerts.weekly:
        return gettext("optout-tracker weekly digest, {day}: {waiting}, {changes}").format(**parts)
    return gettext("optout-tracker daily digest, {day}: {waiting}, {changes}").format(**parts)


def queue_digests(session: Session, settings: Settings, found: list[Digest]) -> None:
    queue(
        session,
        settings,
        (
            (
                d.key,
                d.user,
                d.subject,
                d.text,
                d.html,
                d.unsubscribe,
            )
            for d in found
        ),
    )


def _covering(followed: list[Follow]) -> Any:
    everything = any(f.target is FollowTarget.all for f in followed)
    states = {f.state for f in followed if f.target is FollowTarget.state}
    ids = {f.jurisdiction_id for f in followed if f.target is FollowTarget.jurisdiction}

    def covered(j: Jurisdiction) -> bool:
        return everything or j.state in states or j.id in ids

    return covered


def _changes_between(session: Session, since: datetime, until: datetime) -> list[feeds.Change]:
    """Public changes to campaign records in [since, until), oldest first."""
    stmt = (
        sa.select(AuditEntry, Jurisdiction)
        .join(Jurisdiction, col(Jurisdiction.id) == AuditEntry.jurisdiction_id)
        .where(
            col(AuditEntry.entity).in_(ENTITIES),
            col(AuditEntry.created_at) >= since,
            col(AuditEntry.created_at) < until,
            feeds.public_changes(session),
        )
        .order_by(col(AuditEntry.id))
    )
    found = session.execute(stmt).all()
    return feeds.described(session, found)
