"""The mail outbox: alerts written in the transaction of the change they tell, digests
written by the digest run, each once per recipient (its `key`), sent by mail_worker.py.

Each message is written when it is queued, in its recipient's language (`language`), not
in that of the request or run that caused it: the worker only sends what is written.

With OPTOUT_SMTP_URL unset nothing is queued at all. Each message carries a signed
one-click unsubscribe link (RFC 8058) naming the follow it came by, or for a digest the
user: following the link turns those alerts off without signing in.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import jinja2
import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from .. import i18n
from ..config import Settings
from ..db import settings_of
from ..db_types import utcnow
from ..enums import STATUS_LABELS, Alerts, CampaignStatus, FollowTarget
from ..i18n import Sentence, Translated, gettext, ngettext, pgettext
from ..models import (
    Agency,
    Follow,
    Jurisdiction,
    JurisdictionStatus,
    Letter,
    MailMessage,
    Response,
    User,
)
from ..paths import TEMPLATES_DIR
from ..security import Principal
from ..session_secret import session_secret
from ..status import NOTICE_AGENCIES, NOTICE_PURPOSES, Step
from ..wording import STEP_WORDS, long_day, words
from . import follow_up, follows, letter_chains

DUE_SOON_DAYS = 3  # an answer falling due this many days ahead is announced
MANY = 10  # more status changes than this for one user at once: one alert lists them
SALT = "optout-unsubscribe"
# (key, recipient, subject, text, html, unsubscribe link)
Message = tuple[str, User, str, str, str, str]
T = TypeVar("T")

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "mail"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    extensions=["jinja2.ext.i18n"],
)
_templates.install_gettext_callables(  # type: ignore[attr-defined]
    gettext, ngettext, newstyle=True, pgettext=pgettext
)
# Mail is prose: its dates as a letter writes them ("2 de diciembre de 2026").
_templates.filters.update(day=long_day, words=words)
_templates.globals.update(
    current_locale=i18n.LOCALE.get,
    status_labels=Translated(STATUS_LABELS),
    step_words=Translated(STEP_WORDS),
    follow_up_action=follow_up.action,
)


def mail_settings(session: Session) -> Settings | None:
    """The settings mail is written with, or None when this server sends no mail."""
    settings = settings_of(session)
    return settings if settings is not None and settings.mail_on else None


def language(settings: Settings, user: User, followed: Iterable[Follow] = ()) -> str:
    """The language of mail to `user`: the one they chose (their account's), else the one
    they followed in (the newest of `followed` that kept one), else the site's default."""
    if (chosen := i18n.known(user.locale)) is not None:
        return chosen
    for f in sorted(followed, key=lambda f: f.id or 0, reverse=True):
        if (kept := i18n.known(f.locale)) is not None:
            return kept
    return settings.default_locale


def per_language(compute: Callable[[], T]) -> Callable[[str], T]:
    """`compute`'s result said in a language, computed once for each language asked (the
    sentences of follow-up items and changes are made in the language they are said in)."""
    said: dict[str, T] = {}

    def in_language(locale: str) -> T:
        if locale not in said:
            with i18n.using(locale):
                said[locale] = compute()
        return said[locale]

    return in_language


# One-click unsubscribe


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(session_secret(settings).value, salt=SALT)


def unsubscribe_token(settings: Settings, *, follow_id: int | None = None,
                      user_id: int | None = None) -> str:  # fmt: skip
    """A signed token naming one follow, or a user (all their follows)."""
    return str(
        _serializer(settings).dumps({"follow": follow_id} if follow_id else {"user": user_id})
    )


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The unsubscribe link of a mail, opening in the language the mail is written in."""
    return f"{settings.base_url}/unsubscribe/{token}?lang={i18n.LOCALE.get()}"


@dataclass(frozen=True)
class Unsubscribe:
    follows: list[Follow]
    email: str | None
    what: str  # in words: "Santa Clara County, CA" or "all you follow"


def unsubscribing(session: Session, settings: Settings, token: str) -> Unsubscribe | None:
    """What the token turns off; None for a token this server did not sign."""
    try:
        named = _serializer(settings).loads(token)
    except BadSignature:
        return None
    if not isinstance(named, dict):
        return None
    if isinstance(follow_id := named.get("follow"), int):
        found = session.get(Follow, follow_id)
        if found is None:  # already removed: nothing left to turn off
            return Unsubscribe([], None, gettext("a follow you have since removed"))
        what = follows.described(session, [found])[found.id or 0][0]
        return Unsubscribe([found], follows.user_email(session, found.user_id), what)
    if isinstance(user_id := named.get("user"), int):
        return Unsubscribe(
            follows.list_(session, user_id),
            follows.user_email(session, user_id),
            gettext("all you follow"),
        )
    return None


def unsubscribe(
    session: Session, settings: Settings, token: str, actor: Principal
) -> Unsubscribe | None:
    """Alerts off for what the token names (a second click changes nothing, also when it
    comes at the same moment as the first: a double tap)."""
    found = unsubscribing(session, settings, token)
    if found is not None:
        try:
            with session.begin_nested():
                follows.turn_off(session, found.follows, actor)
        except StaleDataError:  # the other click turned them off first: done all the same
            session.expire_all()
            found = unsubscribing(session, settings, token)
    return found


# Queueing


def queue(
    session: Session,
    settings: Settings,
    messages: Iterable[Message],
) -> None:
    """(key, recipient, subject, text, html, unsubscribe link) each become a pending
    message, unless one with the key exists: a change, or a digest run twice, mails once."""
    now = utcnow()
    rows = [
        {
            "key": key[:200],
            "user_id": user.id,
            "to_address": user.email,
            "subject": subject[:300],
            "text_body": text,
            "html_body": html,
            "unsubscribe_url": unsubscribe,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for key, user, subject, text, html, unsubscribe in messages
    ]
    if not rows:
        return
    table: Any = MailMessage.__table__  # type: ignore[attr-defined]
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    session.execute(insert(table).on_conflict_do_nothing(index_elements=["key"]), rows)


def render(template: str, **context: Any) -> tuple[str, str]:
    """The text and HTML parts of a message from templates/mail/TEMPLATE.txt and .html."""
    text = _templates.get_template(f"{template}.txt").render(**context)
    html = _templates.get_template(f"{template}.html").render(**context)
    return text, html


def _followers(
    session: Session, pairs: Iterable[tuple[int, str]], alerts: Alerts,
    targets: tuple[FollowTarget, ...] = tuple(FollowTarget),
) -> dict[int, list[tuple[User, Follow]]]:  # fmt: skip
    """For each (jurisdiction id, state): the active users following it (the jurisdiction
    itself, its state, or everything) with `alerts`, each once, by their most specific
    follow: one query."""
    places = dict(pairs)
    if not places:
        return {}
    covers = sa.or_(
        col(Follow.target) == FollowTarget.all,
        sa.and_(
            col(Follow.target) == FollowTarget.state, col(Follow.state).in_(set(places.values()))
        ),
        sa.and_(
            col(Follow.target) == FollowTarget.jurisdiction,
            col(Follow.jurisdiction_id).in_(list(places)),
        ),
    )
    rows = session.execute(
        sa.select(Follow, User)
        .join(User, col(User.id) == Follow.user_id)
        .where(
            covers, col(Follow.alerts) == alerts, col(User.active), col(Follow.target).in_(targets)
        )
    ).all()
    rank = {FollowTarget.jurisdiction: 0, FollowTarget.state: 1, FollowTarget.all: 2}
    found: dict[int, list[tuple[User, Follow]]] = {}
    for jurisdiction_id, state in places.items():
        best: dict[int, tuple[User, Follow]] = {}
        for f, user in rows:
            if f.target is FollowTarget.jurisdiction and f.jurisdiction_id != jurisdiction_id:
                continue
            if f.target is FollowTarget.state and f.state != state:
                continue
            held = best.get(user.id or 0)
            if held is None or rank[f.target] < rank[held[1].target]:
                best[user.id or 0] = (user, f)
        found[jurisdiction_id] = list(best.values())
    return found


def _alert(
    settings: Settings, template: str, key: str, user: User, f: Follow, j: Jurisdiction,
    subject: Sentence, **context: Any,
) -> Message:  # fmt: skip
    """One alert about `j` to `user`, who follows it by `f`, written in their language (the
    subject said in it too); its unsubscribe link names `f`."""
    token = unsubscribe_token(settings, follow_id=f.id)
    with i18n.using(language(settings, user, [f])):
        unsubscribe = unsubscribe_url(settings, token)
        text, html = render(
            template, j=j, name=_name(j), url=_url(settings, j), followed=_what(f, j),
            unsubscribe=unsubscribe, **context,
        )  # fmt: skip
        return key, user, str(subject), text, html, unsubscribe


def by_id(session: Session, ids: Iterable[int]) -> dict[int, Jurisdiction]:
    wanted = sorted(set(ids))
    return {
        j.id or 0: j
        for j in session.scalars(sa.select(Jurisdiction).where(col(Jurisdiction.id).in_(wanted)))
    }


# Immediate alerts, in the transaction of the change


@dataclass(frozen=True)
class StatusAlert:
    jurisdiction_id: int
    old: CampaignStatus
    new: CampaignStatus
    revision: int  # the status row's: each change of it has its own
    own: bool  # the jurisdiction's own campaign changed (else only its state's, covering it)


def status_changed(session: Session, changes: list[StatusAlert]) -> None:
    """An alert per change to each user following the place at once. A state's change
    reaches the followers of the state; its counties' followers get their county's."""
    settings = mail_settings(session)
    if settings is None or not changes:
        return
    places = by_id(session, (c.jurisdiction_id for c in changes))
    own = [c for c in changes if c.own]
    through_state = [c for c in changes if not c.own]
    told: dict[int, list[tuple[User, Follow, StatusAlert]]] = {}
    for batch, targets in (
        (own, tuple(FollowTarget)),
        (through_state, (FollowTarget.jurisdiction,)),
    ):
        followers = _followers(
            session, ((c.jurisdiction_id, places[c.jurisdiction_id].state) for c in batch),
            Alerts.immediate, targets,
        )  # fmt: skip
        for c in batch:
            for user, f in followers.get(c.jurisdiction_id, []):
                told.setdefault(user.id or 0, []).append((user, f, c))
    messages = []
    for changes_told in told.values():
        if len(changes_told) > MANY:
            messages.append(_many(settings, places, changes_told))
            continue
        for user, f, c in changes_told:
            j = places[c.jurisdiction_id]
            messages.append(_alert(
                settings, "alert_status", f"alert:status:{j.id}:r{c.revision}:user:{user.id}",
                user, f, j, Sentence(
                    "{name}: now {status}", name=_name(j), status=Sentence(STATUS_LABELS[c.new])
                ), change=c,
            ))  # fmt: skip
    queue(session, settings, messages)


def _many(
    settings: Settings, places: dict[int, Jurisdiction],
    told: list[tuple[User, Follow, StatusAlert]],
) -> Message:  # fmt: skip
    """One alert for the many changes one transaction made in what a user follows (an
    announcement to a whole state, an import), named after the first of them."""
    user = told[0][0]
    first = min((c.jurisdiction_id, c.revision) for _, _, c in told)
    token = unsubscribe_token(settings, user_id=user.id)
    changes = sorted(
        ((places[c.jurisdiction_id], c) for _, _, c in told),
        key=lambda pair: (pair[0].state, pair[0].name),
    )
    with i18n.using(language(settings, user, (f for _, f, _ in told))):
        unsubscribe = unsubscribe_url(settings, token)
        text, html = render(
            "alert_status_many", changes=changes, name=_name, base=settings.base_url,
            unsubscribe=unsubscribe, followed="places",
        )  # fmt: skip
        subject = ngettext(
            "{count} campaign you follow changed status",
            "{count} campaigns you follow changed status",
            len(changes),
        ).format(count=i18n.format_number(len(changes)))
    key = f"alert:status-many:{first[0]}:r{first[1]}:user:{user.id}"
    return key, user, subject, text, html, unsubscribe


def responses_logged(session: Session, response_ids: list[int]) -> None:
    """An alert per new response to each user following its jurisdiction at once."""
    settings = mail_settings(session)
    if settings is None or not response_ids:
        return
    rows = session.execute(
        sa.select(Response, Agency, Jurisdiction)
        .join(Agency, col(Agency.id) == Response.agency_id)
        .join(Jurisdiction, col(Jurisdiction.id) == Response.jurisdiction_id)
        .where(col(Response.id).in_(response_ids))
    ).all()
    followers = _followers(session, ((j.id or 0, j.state) for _, _, j in rows), Alerts.immediate)
    messages = []
    for r, agency, j in rows:
        for user, f in followers.get(j.id or 0, []):
            messages.append(_alert(
                settings, "alert_response", f"alert:response:{r.id}:user:{user.id}", user, f, j,
                Sentence(
                    "{name}: {agency} answered ({kind})", name=_name(j), agency=agency.name,
                    kind=Sentence(r.kind.replace("_", " ")),  # as wording.words says it
                ), r=r, agency=agency,
            ))  # fmt: skip
    queue(session, settings, messages)


def answers_due_soon(session: Session, on: date) -> int:
    """An alert to each immediate follower per unanswered notice letter whose answer falls
    due DUE_SOON_DAYS after `on`, in a campaign not closed (the worker runs this daily; the
    key makes a second run a no-op). How many letters."""
    settings = mail_settings(session)
    if settings is None:
        return 0
    due = on + timedelta(days=DUE_SOON_DAYS)
    rows = session.execute(
        sa.select(Letter, Agency, Jurisdiction)
        .join(Agency, col(Agency.id) == Letter.agency_id)
        .join(Jurisdiction, col(Jurisdiction.id) == Letter.jurisdiction_id)
        .join(JurisdictionStatus, col(JurisdictionStatus.jurisdiction_id) == Jurisdiction.id)
        .where(
            col(Letter.response_due_on) == due,
            col(Letter.purpose).in_(NOTICE_PURPOSES),
            col(Agency.kind).in_(NOTICE_AGENCIES),
            col(Letter.id).not_in(letter_chains.answered_ids()),
            col(JurisdictionStatus.campaign_closed_on).is_(None),
        )
    ).all()
    followers = _followers(session, ((j.id or 0, j.state) for _, _, j in rows), Alerts.immediate)
    messages = []
    for x, agency, j in rows:
        for user, f in followers.get(j.id or 0, []):
            messages.append(_alert(
                settings, "alert_due", f"alert:due:{x.id}:{due.isoformat()}:user:{user.id}",
                user, f, j, Sentence(
                    "{name}: {agency}'s answer is due {day}", name=_name(j), agency=agency.name,
                    day=due,
                ), letter=x, agency=agency,
            ))  # fmt: skip
    queue(session, settings, messages)
    return len(rows)


def answers_overdue(session: Session, on: date) -> int:
    """An alert to each immediate follower per chase that falls due on `on` (an answer
    overdue since yesterday, or a follow-up's), with the link to write the chaser; the
    worker runs this daily and the key makes a second run a no-op. How many chases."""
    settings = mail_settings(session)
    if settings is None:
        return 0
    # The items' sentences are said in each recipient's language: made once per language.
    chases_in = per_language(
        lambda: {
            (i.jurisdiction_id, i.letter_id): i
            for i in follow_up.items(session, step=Step.chase)
            if i.due_on == on
        }
    )
    chases = list(chases_in(settings.default_locale).values())
    if not chases:
        return 0
    places = by_id(session, {i.jurisdiction_id for i in chases})
    followers = _followers(
        session, ((j_id, j.state) for j_id, j in places.items()), Alerts.immediate
    )
    messages = []
    for item in chases:
        j = places[item.jurisdiction_id]
        for user, f in followers.get(item.jurisdiction_id, []):
            said = chases_in(language(settings, user, [f]))[item.jurisdiction_id, item.letter_id]
            messages.append(_alert(
                settings, "alert_overdue",
                f"alert:overdue:{item.letter_id}:{on.isoformat()}:user:{user.id}",
                user, f, j, Sentence("{name}: an answer is overdue", name=_name(j)),
                item=said, chaser_url=f"{settings.base_url}/letters/{item.letter_id}/chaser"
                if item.letter_id else None,
            ))  # fmt: skip
    queue(session, settings, messages)
    return len(chases)


def _url(settings: Settings, j: Jurisdiction) -> str:
    return f"{settings.base_url}/jurisdictions/{j.slug}"


def _name(j: Jurisdiction) -> str:
    return j.name if j.state == j.slug.upper() else f"{j.name}, {j.state}"


def _what(f: Follow, j: Jurisdiction) -> str:
    """Why the recipient hears of it: the follow it came by."""
    if f.target is FollowTarget.all:
        return gettext("every jurisdiction")
    if f.target is FollowTarget.state:
        return gettext("everything in {state}").format(state=f.state)
    return _name(j)
