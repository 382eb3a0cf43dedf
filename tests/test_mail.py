"""Mail: alerts written with the change, sent by the worker to a real SMTP server on
loopback (aiosmtpd), retried when it fails; one-click unsubscribe; digests."""

import email
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from babel.dates import format_date
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from optout_tracker import i18n
from optout_tracker.cli import main
from optout_tracker.clock import today
from optout_tracker.config import Settings, get_settings
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import (
    AgencyKind,
    Alerts,
    DeliveryState,
    FollowTarget,
    LetterPurpose,
    ResponseKind,
    Role,
    Scope,
    VoteOutcome,
)
from optout_tracker.i18n import gettext
from optout_tracker.mail_worker import MailWorker
from optout_tracker.main import create_app
from optout_tracker.models import Follow, Jurisdiction, MailMessage, User
from optout_tracker.schemas import ResponseCreate, VoteCreate
from optout_tracker.security import CLI
from optout_tracker.services import accounts, digests, mail, responses, status_projection, votes
from optout_tracker.status import Step
from optout_tracker.wording import STEP_WORDS
from tests import factories
from tests.conftest import DatabaseFactory, make_settings

SANTA_CLARA, MARIN, NEW_YORK = "06085", "06041", "36061"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received; `refuse` answers this many DATA commands with 451."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            parsed = email.message_from_bytes(envelope.content)
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self) -> list[str]:
        return sorted(a for rcpt, _ in self.messages for a in rcpt)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@dataclass
class Live:
    engine: Engine
    settings: Settings

    def worker(self, *, daily: bool = False, **settings: Any) -> MailWorker:
        """A worker; unless `daily`, one that has queued today's digests already."""
        worker = MailWorker(self.engine, self.settings.model_copy(update=settings))
        worker.daily_done_on = None if daily else today()
        return worker

    def messages(self) -> list[MailMessage]:
        with Session(self.engine) as session:
            return list(session.scalars(sa.select(MailMessage).order_by(col(MailMessage.id))))


@pytest.fixture
def live(databases: DatabaseFactory, inbox: tuple[Inbox, int]) -> Iterator[Live]:
    settings = make_settings(
        databases.new_seeded_url(),
        smtp_url=f"smtp://127.0.0.1:{inbox[1]}?tls=off",
        mail_from="Coalition alerts <alerts@coalition.example.org>",
        mail_backoff_seconds=0,
        base_url="https://tracker.example.org",
    )
    engine = create_db_engine(settings)
    yield Live(engine, settings)
    engine.dispose()


def _user(session: Session, email_: str) -> User:
    return accounts.create_user(session, email_, Role.organizer, "correct horse battery", CLI)


def _follow(
    session: Session, user: User, alerts: Alerts = Alerts.immediate, **target: Any
) -> Follow:
    if "jurisdiction_id" in target:
        kind = FollowTarget.jurisdiction
    elif "state" in target:
        kind = FollowTarget.state
    else:
        kind = FollowTarget.all
    f = Follow(user_id=user.id or 0, target=kind, alerts=alerts, **target)
    session.add(f)
    session.flush()
    return f


def _followers(session: Session) -> dict[str, int]:
    """Ana follows Santa Clara and Ben follows California, at once; Cara follows New York
    at once, Dan follows Santa Clara daily, Eve everything with alerts off."""
    santa_clara = factories.jurisdiction(session, SANTA_CLARA)
    ny = factories.jurisdiction(session, NEW_YORK)
    users = {n: _user(session, f"{n}@example.org") for n in ("ana", "ben", "cara", "dan", "eve")}
    _follow(session, users["ana"], jurisdiction_id=santa_clara.id)
    _follow(session, users["ben"], state="CA")
    _follow(session, users["cara"], jurisdiction_id=ny.id)
    _follow(session, users["dan"], Alerts.daily, jurisdiction_id=santa_clara.id)
    _follow(session, users["eve"], Alerts.off)
    return {"santa_clara": santa_clara.id or 0, "ny": ny.id or 0}


def _vote(session: Session, jurisdiction_id: int, **fields: Any) -> int:
    data = VoteCreate(
        jurisdiction_id=jurisdiction_id, body="Board of Supervisors",
        held_on=fields.pop("held_on", today() - timedelta(days=1)),
        outcome=fields.pop("outcome", VoteOutcome.passed), measure="Opt out of Secure Communities",
        **fields,
    )  # fmt: skip
    return votes.create(session, data, CLI).id or 0


def test_an_alert_reaches_exactly_the_followers_once_and_unsubscribes_in_one_click(
    live: Live, inbox: tuple[Inbox, int]
) -> None:
    box, _ = inbox
    with unit_of_work(live.engine) as session:
        ids = _followers(session)
    with unit_of_work(live.engine) as session:
        _vote(session, ids["santa_clara"])
    queued = live.messages()
    assert sorted(m.to_address for m in queued) == ["ana@example.org", "ben@example.org"]
    with unit_of_work(live.engine) as session:  # the same change told again: mails once
        row = session.scalars(sa.select(MailMessage)).first()
        assert row is not None
        revision = int(row.key.split(":r")[1].split(":")[0])
        mail.status_changed(
            session, [mail.StatusAlert(ids["santa_clara"], *_statuses(), revision, own=True)]
        )
    assert len(live.messages()) == 2

    tally = live.worker().run(once=True)
    assert tally.sent == 2
    assert box.to() == ["ana@example.org", "ben@example.org"]
    assert live.worker().run(once=True).sent == 0 and len(box.messages) == 2  # never twice
    _, sent = box.messages[0]
    assert sent["From"] == "Coalition alerts <alerts@coalition.example.org>"
    assert "Santa Clara County, CA: now" in sent["Subject"]
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = sent["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    assert unsubscribe.startswith("https://tracker.example.org/unsubscribe/")
    assert "mailto:alerts@coalition.example.org" in sent["List-Unsubscribe"]
    parts = {p.get_content_type(): _text(p) for p in sent.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "https://tracker.example.org/jurisdictions/ca-santa-clara-county" in parts["text/plain"]
    assert unsubscribe in parts["text/plain"] and "<strong>" in parts["text/html"]
    assert all(m.state is DeliveryState.delivered and m.sent_at for m in live.messages())

    # One click, from the mail client, without signing in or a CSRF token.
    app = create_app(live.settings)
    with TestClient(app) as client:
        path = unsubscribe.removeprefix("https://tracker.example.org")
        page = client.get(path)
        assert page.status_code == 200 and "<button" in page.text
        done = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "Done" in done.text
        assert client.post(path).status_code == 200  # again: nothing changes
        assert client.get("/unsubscribe/forged.token").status_code == 404
    app.state.engine.dispose()
    with Session(live.engine) as session:
        offs = session.scalars(sa.select(Follow).where(col(Follow.alerts) == Alerts.off)).all()
        assert len(offs) == 2  # Eve's, and the follow the mail came by

    # A new response, after one recipient unsubscribed: only the other hears of it.
    box.messages.clear()
    with unit_of_work(live.engine) as session:
        ice = factories.agency(session, AgencyKind.ice)
        responses.create(
            session,
            ResponseCreate(
                jurisdiction_id=ids["santa_clara"], agency_id=ice.id or 0,
                received_on=today(), kind=ResponseKind.meeting_requested,
                summary="ICE asks for a meeting with the county and the state.",
            ),
            CLI,
        )  # fmt: skip
    live.worker().run(once=True)
    assert len(set(box.to())) == 1
    subjects = sorted(m["Subject"] for _, m in box.messages)
    assert any("answered (meeting requested)" in s for s in subjects)


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _statuses() -> tuple[Any, Any]:
    from optout_tracker.enums import CampaignStatus

    return CampaignStatus.no_action, CampaignStatus.vote_passed


def test_a_failing_server_gets_retries_and_nothing_is_lost(
    live: Live, inbox: tuple[Inbox, int]
) -> None:
    box, _ = inbox
    with unit_of_work(live.engine) as session:
        ids = _followers(session)
        _vote(session, ids["ny"])
    box.refuse = 1
    first = live.worker().run(once=True)
    # The 451 leaves the message pending with its error (backoff 0: due again at once, and
    # `once` goes on until nothing is due).
    assert first.retrying == 1 and first.sent == 1
    [m] = live.messages()
    assert m.state is DeliveryState.delivered and m.attempt_count == 2 and m.last_error is None
    assert box.to() == ["cara@example.org"]

    with unit_of_work(live.engine) as session:
        _vote(session, ids["ny"], held_on=today(), outcome=VoteOutcome.failed)
    closed = live.worker(smtp_url=f"smtp://127.0.0.1:{free_port()}?tls=off", mail_max_attempts=3)
    tally = closed.run(once=True)
    assert (tally.sent, tally.retrying, tally.failed) == (0, 2, 1)
    failed = live.messages()[-1]
    assert failed.state is DeliveryState.failed and failed.attempt_count == 3
    assert failed.last_error and "Connection" in failed.last_error
    assert len(box.messages) == 1  # the failed one never went out; the sent one not again


def test_digests_hold_only_the_followed_places_and_queue_once(
    live: Live, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, _ = inbox
    with unit_of_work(live.engine) as session:
        ids = _followers(session)
        marin = factories.jurisdiction(session, MARIN)
        weekly = _user(session, "wes@example.org")
        _follow(session, weekly, Alerts.weekly, state="NY")
        _follow(session, _user(session, "quiet@example.org"), Alerts.daily, state="WY")
        _vote(session, ids["santa_clara"])  # Dan's: vote passed, no notice sent
        _vote(session, marin.id or 0)  # in CA, but Dan follows Santa Clara only
        _vote(session, ids["ny"])
    tomorrow = today() + timedelta(days=1)
    with Session(live.engine) as session:
        found = digests.digests(session, live.settings, Alerts.daily, tomorrow)
    assert [d.user.email for d in found] == ["dan@example.org"]  # the WY follower: nothing
    [dan] = found
    assert [i.jurisdiction_id for i in dan.follow_up] == [ids["santa_clara"]]
    assert {c.jurisdiction.id for c in dan.changes if c.jurisdiction} == {ids["santa_clara"]}
    assert "Marin" not in dan.text and "New York" not in dan.text
    assert "Santa Clara County" in dan.text and "Santa Clara County" in dan.html
    notice = "/jurisdictions/ca-santa-clara-county/notice"  # its step's action, linked
    assert f"Prepare the notice: {live.settings.base_url.rstrip('/')}{notice}" in dan.text
    assert f'{notice}">Prepare the notice</a>' in dan.html
    assert dan.key == f"digest:daily:{tomorrow.isoformat()}:user:{dan.user.id}"
    with unit_of_work(live.engine) as session:
        digests.queue_digests(session, live.settings, found)
        digests.queue_digests(session, live.settings, found)  # run twice: queued once
    assert [m.key for m in live.messages() if m.key.startswith("digest:")] == [dan.key]

    # The command line: --dry-run prints and queues nothing.
    monkeypatch.setenv("OPTOUT_DATABASE_URL", live.settings.database_url)
    monkeypatch.setenv("OPTOUT_SECRET_KEY", live.settings.secret_key or "")
    monkeypatch.setenv("OPTOUT_SMTP_URL", live.settings.smtp_url or "")
    get_settings.cache_clear()
    try:
        before = len(live.messages())
        result = CliRunner().invoke(main, ["digest", "--frequency", "weekly", "--dry-run"])
        assert result.exit_code == 0, result.output
        assert (
            "To: wes@example.org" in result.output
            and "1 weekly digest would go out" in result.output
        )
        assert len(live.messages()) == before
    finally:
        get_settings.cache_clear()


def test_no_mail_is_queued_when_smtp_is_unset(session: Session) -> None:
    ids = _followers(session)
    _vote(session, ids["santa_clara"])
    session.flush()
    assert session.scalars(sa.select(MailMessage)).all() == []


def test_answers_falling_due_in_three_days_are_announced_once(live: Live) -> None:
    on = today()
    with unit_of_work(live.engine) as session:
        ids = _followers(session)
        j = session.get(Jurisdiction, ids["santa_clara"])
        assert j is not None
        sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
        factories.letter(session, j, sib, sent_on=on - timedelta(days=27),
                         response_due_on=on + timedelta(days=3))  # fmt: skip
        # A second notice due the same day is answered already, through its chaser.
        answered = factories.letter(session, j, sib, sent_on=on - timedelta(days=27),
                                    response_due_on=on + timedelta(days=3))  # fmt: skip
        chaser = factories.letter(
            session, j, sib, sent_on=on - timedelta(days=2), purpose=LetterPurpose.follow_up,
            follows_letter_id=answered.id,
        )  # fmt: skip
        factories.response(session, j, sib, received_on=on, letter_id=chaser.id)
    with unit_of_work(live.engine) as session:
        assert mail.answers_due_soon(session, on) == 1
        mail.answers_due_soon(session, on)
    due = [m for m in live.messages() if m.key.startswith("alert:due:")]
    assert sorted(m.to_address for m in due) == ["ana@example.org", "ben@example.org"]


def test_an_answer_overdue_since_yesterday_is_announced_once_with_the_chaser(
    live: Live,
) -> None:
    on = today()
    with unit_of_work(live.engine) as session:
        ids = _followers(session)
        j = session.get(Jurisdiction, ids["santa_clara"])
        assert j is not None
        sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
        letter = factories.letter(session, j, sib, sent_on=on - timedelta(days=31),
                                  response_due_on=on - timedelta(days=1))  # fmt: skip
    with unit_of_work(live.engine) as session:
        assert mail.answers_overdue(session, on - timedelta(days=1)) == 0  # not yet overdue
        assert mail.answers_overdue(session, on) == 1
        mail.answers_overdue(session, on)
    overdue = [m for m in live.messages() if m.key.startswith("alert:overdue:")]
    assert sorted(m.to_address for m in overdue) == ["ana@example.org", "ben@example.org"]
    chaser = f"/letters/{letter.id}/chaser"
    assert all(chaser in m.text_body and chaser in m.html_body for m in overdue)
    assert "Santa Clara County, CA: the answer to the letter of" in overdue[0].text_body


def test_many_changes_at_once_make_one_alert_per_follower(live: Live) -> None:
    with unit_of_work(live.engine) as session:
        _follow(session, _user(session, "all@example.org"))  # everything, at once
        counties = session.scalars(
            sa.select(Jurisdiction)
            .where(col(Jurisdiction.state) == "CA", col(Jurisdiction.kind) == "county")
            .order_by(col(Jurisdiction.id))
            .limit(mail.MANY + 1)
        ).all()
        for j in counties:
            _vote(session, j.id or 0, held_on=today() - timedelta(days=5))
    assert len(live.messages()) == mail.MANY + 1  # one transaction each: one alert each
    with unit_of_work(live.engine) as session:
        ice = factories.agency(session, AgencyKind.ice)
        factories.announcement(session, ice, scope="CA", announced_on=today() - timedelta(days=1))
        status_projection.refresh_scopes(session, {"CA"})
    [many] = live.messages()[mail.MANY + 1 :]
    assert many.key.startswith("alert:status-many:")
    assert many.subject == f"{mail.MANY + 1} campaigns you follow changed status"
    assert all(j.name in many.text_body for j in counties)


# Languages: each mail is written in its recipient's language when it is queued.


def _key(session: Session, user: User, scope: Scope = Scope.write) -> dict[str, str]:
    _, token = accounts.create_api_key(
        session, "phone", scope, accounts.user_principal(user, via_session=False)
    )
    return {"Authorization": f"Bearer {token}"}


def _subject(m: Message) -> str:
    return str(make_header(decode_header(m["Subject"])))


def _parts(m: Message) -> dict[str, str]:
    return {p.get_content_type(): _text(p) for p in m.walk() if not p.is_multipart()}


def _long(d: date, locale: str) -> str:
    return format_date(d, format="long", locale=locale)


def test_each_recipient_reads_an_alert_in_their_language_not_the_requests(
    live: Live, inbox: tuple[Inbox, int]
) -> None:
    """Ana chose Spanish, Ben English; Fay chose none and followed in Spanish, Gus chose none
    and followed asking for no language (the site's default). An organizer logs an answer
    from a request in Spanish: each reads the alert in their own language."""
    box, _ = inbox
    received = today() - timedelta(days=3)
    with unit_of_work(live.engine) as session:
        santa_clara = factories.jurisdiction(session, SANTA_CLARA)
        ice = factories.agency(session, AgencyKind.ice)
        users = {n: _user(session, f"{n}@example.org") for n in ("ana", "ben", "fay", "gus")}
        users["ana"].locale, users["ben"].locale = "es", "en"
        _follow(session, users["ana"], jurisdiction_id=santa_clara.id)
        _follow(session, users["ben"], state="CA")
        keys = {n: _key(session, u) for n, u in users.items()}
        organizer = _key(session, _user(session, "org@example.org"))
        ids, agency = {"santa_clara": santa_clara.id, "ice": ice.id}, ice.name
    app = create_app(live.settings)
    with TestClient(app) as client:
        body = {"target": "jurisdiction", "jurisdiction_id": ids["santa_clara"]}
        spanish = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
        followed = client.post("/api/v1/follows", json=body, headers={**keys["fay"], **spanish})
        assert followed.status_code == 201, followed.text
        # The language is the follow's own, kept for its mail: not a field of the API's
        # follows (design.md lists target, jurisdiction_id, state, alerts).
        assert "locale" not in followed.json()
        assert client.post("/api/v1/follows", json={"target": "all"}, headers=keys["gus"])
        logged = client.post(
            "/api/v1/responses",
            json={
                "jurisdiction_id": ids["santa_clara"], "agency_id": ids["ice"],
                "received_on": received.isoformat(), "kind": "meeting_requested",
            },
            headers={**organizer, "Accept-Language": "es"},
        )  # fmt: skip
        assert logged.status_code == 201, logged.text
        assert logged.headers["Content-Language"] == "es"  # the request was in Spanish
    app.state.engine.dispose()
    with Session(live.engine) as session:
        kept = {
            f.user_id: f.locale for f in session.scalars(sa.select(Follow).order_by(col(Follow.id)))
        }
        assert (kept[users["fay"].id or 0], kept[users["gus"].id or 0]) == ("es", "en")

    live.worker().run(once=True)
    # Each hears of the answer, and of the status it moved the campaign to.
    got: dict[str, dict[bool, Message]] = {}
    for rcpt, m in box.messages:
        got.setdefault(rcpt[0].split("@")[0], {})["ICE" in _subject(m)] = m
    assert sorted(got) == ["ana", "ben", "fay", "gus"]
    assert all(len(two) == 2 for two in got.values())
    mails = {name: two[True] for name, two in got.items()}
    for name in ("ana", "fay"):
        assert _subject(got[name][False]).startswith("Santa Clara County, CA: ahora ")
        assert '<html lang="es">' in _parts(got[name][False])["text/html"]
        m, parts = mails[name], _parts(mails[name])
        assert _subject(m) == f"Santa Clara County, CA: {agency} respondió (reunión solicitada)"
        assert f"{agency} respondió el {_long(received, 'es')} (reunión solicitada)." in parts[
            "text/plain"
        ]  # fmt: skip
        assert re.fullmatch(r"\d{1,2} de [a-z]+ de \d{4}", _long(received, "es"))
        assert "Recibe este correo porque sigue Santa Clara County, CA" in parts["text/plain"]
        assert '<html lang="es">' in parts["text/html"]
        assert "Dejar de recibir estas alertas" in parts["text/html"]
        assert "answered" not in parts["text/plain"] + parts["text/html"]
        # The unsubscribe link opens in the mail's language, in the body and the header.
        unsubscribe = m["List-Unsubscribe"].split(",")[0].strip().strip("<>")
        assert unsubscribe.endswith("?lang=es") and unsubscribe in parts["text/plain"]
    for name, followed_as in (("ben", "everything in CA"), ("gus", "every jurisdiction")):
        assert _subject(got[name][False]).startswith("Santa Clara County, CA: now ")
        m, parts = mails[name], _parts(mails[name])
        assert _subject(m) == f"Santa Clara County, CA: {agency} answered (meeting requested)"
        assert f"{agency} answered on {_long(received, 'en')} (meeting requested)." in parts[
            "text/plain"
        ]  # fmt: skip
        assert f"You get this because you follow {followed_as} on" in parts["text/plain"]
        assert '<html lang="en">' in parts["text/html"]
        assert "respondió" not in parts["text/plain"] + parts["text/html"]
        assert m["List-Unsubscribe"].split(",")[0].strip().strip("<>").endswith("?lang=en")


def test_digests_go_out_in_each_recipients_language(live: Live, inbox: tuple[Inbox, int]) -> None:
    box, _ = inbox
    with unit_of_work(live.engine) as session:
        santa_clara = factories.jurisdiction(session, SANTA_CLARA)
        dan, dee = _user(session, "dan@example.org"), _user(session, "dee@example.org")
        dan.locale, dee.locale = "es", "en"
        _follow(session, dan, Alerts.daily, jurisdiction_id=santa_clara.id)
        _follow(session, dee, Alerts.daily, state="CA")
        _vote(session, santa_clara.id or 0)  # a change, and the notice is to be sent
    on = today() + timedelta(days=1)
    # The run's own language (a command run in a Spanish shell, say) is nobody's.
    with Session(live.engine) as session, i18n.using("es"):
        found = {d.user.email: d for d in digests.digests(session, live.settings, Alerts.daily, on)}
    es, en = found["dan@example.org"], found["dee@example.org"]
    assert (len(es.follow_up), len(es.changes)) == (len(en.follow_up), len(en.changes)) == (1, 1)

    assert re.fullmatch(r"\d{1,2} de [a-z]+ de \d{4}", _long(on, "es"))
    assert es.subject == (
        f"Resumen diario de optout-tracker, {_long(on, 'es')}: 1 pendiente de seguimiento, 1 cambio"
    )
    assert en.subject == f"optout-tracker daily digest, {_long(on, 'en')}: 1 to follow up, 1 change"
    with i18n.using("es"):
        step_es = gettext(STEP_WORDS[Step.send_notice])
    assert step_es != STEP_WORDS[Step.send_notice]
    assert f"Su resumen diario, {_long(on, 'es')}" in es.html and step_es in es.html
    assert "Pendiente de seguimiento (1)" in es.html and '<html lang="es">' in es.html
    assert f"Your daily digest, {_long(on, 'en')}" in en.html
    assert STEP_WORDS[Step.send_notice] in en.html and '<html lang="en">' in en.html
    assert "Waiting for follow-up" not in es.html + es.text and "resumen" not in en.html

    with unit_of_work(live.engine) as session:
        digests.queue_digests(session, live.settings, list(found.values()))
    live.worker().run(once=True)
    sent = {rcpt[0]: m for rcpt, m in box.messages}
    assert _subject(sent["dan@example.org"]) == es.subject
    assert _subject(sent["dee@example.org"]) == en.subject
    assert '<html lang="es">' in _parts(sent["dan@example.org"])["text/html"]
    assert "Su resumen diario de optout-tracker" in _parts(sent["dan@example.org"])["text/plain"]
    app = create_app(live.settings)  # the digest's unsubscribe page, in its language
    with TestClient(app) as client:
        link = sent["dan@example.org"]["List-Unsubscribe"].split(",")[0].strip().strip("<>")
        page = client.get(link.removeprefix(live.settings.base_url))
        assert page.headers["content-language"] == "es" and '<html lang="es">' in page.text
    app.state.engine.dispose()


def test_the_site_default_is_the_language_of_who_chose_none(
    databases: DatabaseFactory, inbox: tuple[Inbox, int]
) -> None:
    """OPTOUT_DEFAULT_LOCALE=es: a follower who never chose (a follow made outside any
    request) reads Spanish; one who chose English reads English."""
    settings = make_settings(
        databases.new_seeded_url(), smtp_url=f"smtp://127.0.0.1:{inbox[1]}?tls=off",
        default_locale="es", base_url="https://tracker.example.org",
    )  # fmt: skip
    engine = create_db_engine(settings)
    try:
        with unit_of_work(engine) as session:
            santa_clara = factories.jurisdiction(session, SANTA_CLARA)
            _follow(session, _user(session, "nadie@example.org"), jurisdiction_id=santa_clara.id)
            chose = _user(session, "chose@example.org")
            chose.locale = "en"
            _follow(session, chose, jurisdiction_id=santa_clara.id)
            _vote(session, santa_clara.id or 0)
        with Session(engine) as session:
            subjects = {
                m.to_address: m.subject for m in session.scalars(sa.select(MailMessage)).all()
            }
        assert subjects["nadie@example.org"].startswith("Santa Clara County, CA: ahora ")
        assert subjects["chose@example.org"].startswith("Santa Clara County, CA: now ")
    finally:
        engine.dispose()
