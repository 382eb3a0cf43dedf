"""The written notice to the state identification bureau and ICE, and the chaser of a
letter that awaits its answer: their texts from shipped templates, logged as letters.

The templates say each fact once, their sentences in `{% trans %}` blocks: rendered in the
letter's language (English unless the organizer chooses another), and at once in the other
language the site speaks, kept with the letter for reading only (`Letter.translation`)."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import jinja2
import sqlalchemy as sa
from babel import Locale
from sqlmodel import Session, col

from .. import i18n
from ..clock import today
from ..enums import AgencyKind, Channel, LetterPurpose, VoteOutcome, VoteTopic
from ..errors import FieldError, InvalidInput, NotFound, english
from ..i18n import Sentence, gettext, pgettext
from ..models import Agency, Jurisdiction, Letter, Vote
from ..paths import TEMPLATES_DIR
from ..schemas import LetterCreate, NoticeCreate
from ..security import Principal
from ..wording import long_day
from . import agencies, letter_chains, letters, records

TEXTS = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "letters"),
    autoescape=False,  # plain text: the pages escape it when they show it
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
TEXTS.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
)


def how(channel: Channel) -> str:
    """How a letter went, as the chaser says it ("wrote to you by mail")."""
    match channel:
        case Channel.email:
            return pgettext("letter sent", "by email")
        case Channel.mail:
            return pgettext("letter sent", "by mail")
        case Channel.fax:
            return pgettext("letter sent", "by fax")
        case Channel.hand_delivery:
            return pgettext("letter sent", "by hand")


TEXTS.filters.update(long_day=long_day, how=how)


def _render(name: str, **context: object) -> str:
    """A letter template in the current language (i18n.using)."""
    text = TEXTS.get_template(name).render(**context)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@dataclass(frozen=True)
class Wording:
    """A letter's subject and text as the site writes them, in each language it speaks."""

    subjects: dict[str, str]
    bodies: dict[str, str]

    @classmethod
    def of(cls, subject: Callable[[], str], body: Callable[[], str]) -> "Wording":
        subjects, bodies = {}, {}
        for language in i18n.LOCALES:
            with i18n.using(language):
                subjects[language], bodies[language] = subject(), body()
        return cls(subjects, bodies)

    def kept(self, subject: str | None, body: str | None, language: str | None) -> dict[str, Any]:
        """What the letter records of its words. A subject or a text left empty, or as the
        site offered it in any language, is the site's in `language` (if None: the one it
        was offered in, else English); one written by hand is kept as it is. The letter's
        language is `language` if given, else known only if the site wrote the text; the
        translation, for reading, is the site's text in the other language, when the site
        wrote it."""
        offered_in = next((lang for lang, text in self.bodies.items() if text == body), None)
        written_in = language or offered_in or i18n.SOURCE
        own_subject = subject is not None and subject not in self.subjects.values()
        own_body = body is not None and offered_in is None
        kept: dict[str, Any] = {
            "subject": subject if own_subject else self.subjects[written_in],
            "body": body if own_body else self.bodies[written_in],
            "language": language if own_body else written_in,
            "translation": None,
        }
        if not own_body:
            other = next(lang for lang in i18n.LOCALES if lang != written_in)
            kept["translation"] = {
                "language": other,
                "subject": kept["subject"] if own_subject else self.subjects[other],
                "body": self.bodies[other],
            }
        return kept


# The written notice


def latest_passed_vote(session: Session, jurisdiction_id: int) -> Vote | None:
    """The jurisdiction's latest opt-out vote that passed, up to today."""
    return session.scalars(
        sa.select(Vote)
        .where(
            col(Vote.jurisdiction_id) == jurisdiction_id,
            col(Vote.topic) == VoteTopic.opt_out,
            col(Vote.outcome) == VoteOutcome.passed,
            col(Vote.held_on) <= today(),
        )
        .order_by(col(Vote.held_on).desc(), col(Vote.id).desc())
    ).first()


def default_subject(j: Jurisdiction) -> str:
    """The notice's subject, in the current language."""
    return gettext(
        "{place}: notice that it does not wish to participate in Secure Communities"
    ).format(place=j.name)


def notice_text(
    j: Jurisdiction, vote: Vote | None, recipients: list[Agency], recipient: Agency | None
) -> str:
    """The notice's text for one recipient, or (recipient None) the text shared by all, in
    the current language."""
    return _render(
        "notice.txt", j=j, vote=vote, recipients=recipients, recipient=recipient, on=today()
    )


def notice_wording(
    j: Jurisdiction, vote: Vote | None, recipients: list[Agency], recipient: Agency | None
) -> Wording:
    return Wording.of(
        lambda: default_subject(j), lambda: notice_text(j, vote, recipients, recipient)
    )


def default_recipients(session: Session, j: Jurisdiction) -> list[Agency]:
    """The state's identification bureau and ICE, those that exist."""
    sib = agencies.state_bureau(session, j.state)
    ice = session.scalars(
        sa.select(Agency).filter_by(kind=AgencyKind.ice).order_by(col(Agency.id))
    ).first()
    return [a for a in (sib, ice) if a is not None]


def _recipients(session: Session, j: Jurisdiction, ids: list[int] | None) -> list[Agency]:
    """The agencies named, each of them a correspondent of the jurisdiction (national, or of
    its state); by default the state's bureau and ICE."""
    if ids is None:
        found = default_recipients(session, j)
        if len(found) < 2:
            raise InvalidInput(
                f"no state identification bureau of {j.state} or no ICE agency on record",
                [FieldError("recipients", Sentence("name the agencies the notice goes to"))],
            )
        return found
    errors, chosen = [], []
    for n, agency_id in enumerate(ids):
        agency = session.get(Agency, agency_id)
        if agency is None:
            missing = Sentence("no agency with id {id}", id=str(agency_id))
            errors.append(FieldError(f"recipients[{n}]", missing))
        elif agency.state not in (None, j.state):
            elsewhere = Sentence("is an agency of {state}", state=str(agency.state))
            errors.append(FieldError(f"recipients[{n}]", elsewhere))
        elif agency in chosen:
            again = Sentence("names agency {id} again", id=str(agency_id))
            errors.append(FieldError(f"recipients[{n}]", again))
        else:
            chosen.append(agency)
    if errors:
        raise InvalidInput("; ".join(f"{e.field} {english(e.message)}" for e in errors), errors)
    return chosen


def send_notice(
    session: Session,
    jurisdiction_id: int,
    data: NoticeCreate,
    actor: Principal,
    response_window_days: int,
    language: str | None = None,
) -> list[Letter]:
    """Log the notice: one opt-out request per recipient, all checked before any is written
    (the caller's transaction holds them all, or none). Its text, unless given, is written in
    `language` (English by default), its translation kept beside it (Wording.kept)."""
    j = records.get(session, Jurisdiction, jurisdiction_id)
    recipients = _recipients(session, j, data.recipients)
    vote = latest_passed_vote(session, jurisdiction_id)
    prepared = []
    for agency in recipients:
        wording = notice_wording(j, vote, recipients, agency)
        words = wording.kept(data.subject or None, data.body or None, language)
        body = letters.prepare(
            session,
            LetterCreate(
                jurisdiction_id=jurisdiction_id,
                agency_id=agency.id or 0,
                channel=data.channel,
                sent_on=data.sent_on,
                purpose=LetterPurpose.opt_out_request,
                signed_by=data.signed_by,
                subject=words.pop("subject"),
                body=words.pop("body"),
            ),
            agency_window(agency, response_window_days),
        )
        prepared.append(Letter(**body.model_dump(), **words))
    return [records.insert(session, letter, actor) for letter in prepared]


def agency_window(agency: Agency, response_window_days: int) -> int:
    """The days an agency has to answer: its own window, or the settings'."""
    return agency.response_window_days or response_window_days


@dataclass(frozen=True)
class NoticeDraft:
    """What the notice form offers: the recipients (the sides not yet notified checked),
    and the text of the latest passed opt-out vote."""

    j: Jurisdiction
    vote: Vote | None
    offered: list[tuple[Agency, bool]]  # the correspondents, each with whether it is checked
    values: dict[str, str]  # the form's fields

    @property
    def wording(self) -> Wording:
        """The text the form offers (shared by the recipients checked), in each language."""
        checked = [a for a, on in self.offered if on]
        return notice_wording(self.j, self.vote, checked, None)


def draft(
    session: Session, j: Jurisdiction, notified: tuple[bool, bool], signer: str | None = None
) -> NoticeDraft:
    """The notice form for `j`, whose (SIB, ICE) sides are `notified` or not: to the sides
    still missing (both, when both or neither are)."""
    vote = latest_passed_vote(session, j.id or 0)
    defaults = default_recipients(session, j)
    sib_done, ice_done = notified
    missing = [
        a
        for a in defaults
        if not (sib_done and a.kind is AgencyKind.state_identification_bureau)
        and not (ice_done and a.kind is AgencyKind.ice)
    ]
    checked = missing or defaults
    others = session.scalars(
        sa.select(Agency)
        .where(
            col(Agency.kind).in_((AgencyKind.state_identification_bureau, AgencyKind.dhs)),
            sa.or_(col(Agency.state).is_(None), col(Agency.state) == j.state),
        )
        .order_by(col(Agency.name))
    )
    offered = [*defaults, *(a for a in others if a not in defaults)]
    with i18n.using(i18n.SOURCE):  # the letter in English unless the organizer chooses
        subject, body = default_subject(j), notice_text(j, vote, checked, None)
    values = {
        "sent_on": today().isoformat(),
        "channel": Channel.mail.value,
        "signed_by": signer or _signer(session, j, vote),
        "subject": subject,
        "body": body,
        "language": i18n.SOURCE,
    }
    return NoticeDraft(j, vote, [(a, a in checked) for a in offered], values)


def _signer(session: Session, j: Jurisdiction, vote: Vote | None) -> str:
    """Who signed the jurisdiction's last letter; else the body that voted, of the place."""
    last = session.scalar(
        sa.select(col(Letter.signed_by))
        .where(col(Letter.jurisdiction_id) == j.id, col(Letter.signed_by).is_not(None))
        .order_by(col(Letter.sent_on).desc(), col(Letter.id).desc())
        .limit(1)
    )
    if last:
        return str(last)
    return f"{vote.body}, {j.name}" if vote is not None else j.name


# The chaser


def answered(session: Session, letter_id: int) -> bool:
    ids = letter_chains.answered_ids().subquery()
    return session.scalar(sa.select(ids).where(ids.c.letter_id == letter_id)) is not None


def chaser_wording(session: Session, first: Letter) -> Wording:
    """The follow-up to `first` as the site writes it, in each language."""
    j = records.get(session, Jurisdiction, first.jurisdiction_id)
    recipient = records.get(session, Agency, first.agency_id)
    was_answered = answered(session, first.id or 0)

    def subject() -> str:
        if first.subject:
            return gettext("Follow-up: {subject}").format(subject=first.subject)[:500]
        return gettext("Follow-up")

    def body() -> str:
        return _render("chaser.txt", j=j, first=first, recipient=recipient, answered=was_answered)

    return Wording.of(subject, body)


def chaser_values(session: Session, first: Letter) -> dict[str, str]:
    """The chaser form's fields for a follow-up to `first` (its text in English unless the
    organizer chooses another language)."""
    j = records.get(session, Jurisdiction, first.jurisdiction_id)
    wording = chaser_wording(session, first)
    return {
        "sent_on": today().isoformat(),
        "channel": (first.channel or Channel.mail).value,
        "signed_by": first.signed_by or j.name,
        "subject": wording.subjects[i18n.SOURCE],
        "body": wording.bodies[i18n.SOURCE],
        "language": i18n.SOURCE,
    }


def send_chaser(
    session: Session,
    first: Letter,
    data: LetterCreate,
    actor: Principal,
    response_window_days: int,
    language: str | None = None,
) -> Letter:
    """Log a follow-up to `first`: same jurisdiction and agency, purpose follow_up. A subject
    or text left empty or as offered is the site's, in `language` (Wording.kept)."""
    words = chaser_wording(session, first).kept(data.subject, data.body, language)
    fixed = {
        "jurisdiction_id": first.jurisdiction_id,
        "agency_id": first.agency_id,
        "purpose": LetterPurpose.follow_up,
        "follows_letter_id": first.id,
        "subject": words.pop("subject"),
        "body": words.pop("body"),
    }
    agency = records.get(session, Agency, first.agency_id)
    window = agency_window(agency, response_window_days)
    return letters.create(session, data.model_copy(update=fixed), actor, window, **words)


# A letter as printed


@dataclass(frozen=True)
class LetterView:
    """A letter with what its printed page names: its jurisdiction, its recipient, the
    letter it follows and whether an answer is on record."""

    letter: Letter
    j: Jurisdiction
    agency: Agency
    follows: Letter | None
    answered: bool
    reading: str | None = None  # the language of the translation shown; None: as sent

    @property
    def sent_in(self) -> str:
        """The language the letter was sent in (English unless recorded otherwise)."""
        return self.letter.language or i18n.SOURCE

    @property
    def language(self) -> str:
        """The language of the text shown: the letter's, or its translation's."""
        return self.reading or self.sent_in

    @property
    def translated_into(self) -> str | None:
        """The language the letter can also be read in, if the site wrote its text."""
        return (self.letter.translation or {}).get("language")

    def translation(self, language: str) -> "LetterView":
        """The letter as it reads in `language`: its translation, for reading only."""
        if language == self.sent_in:
            return self
        if language != self.translated_into:
            raise NotFound(f"letter {self.letter.id} has no translation into that language")
        return replace(self, reading=language)

    @property
    def subject(self) -> str | None:
        if self.reading is None:
            return self.letter.subject
        return (self.letter.translation or {}).get("subject")

    @property
    def body(self) -> str | None:
        if self.reading is None:
            return self.letter.body
        return (self.letter.translation or {}).get("body")

    @property
    def date(self) -> str:
        """The letter's date, as its language writes it."""
        with i18n.using(self.language):
            return long_day(self.letter.sent_on)

    @property
    def regarding(self) -> str | None:
        """The subject line, as the letter's language writes it ("Re: ...")."""
        if not self.subject:
            return None
        with i18n.using(self.language):
            return gettext("Re: {subject}").format(subject=self.subject)

    @property
    def note(self) -> str | None:
        """What a translation shown says of itself, in the page's language."""
        if self.reading is None:
            return None
        name = Locale.parse(self.sent_in).get_display_name(i18n.LOCALE.get()) or self.sent_in
        return gettext(
            "Translation for reading only, not the letter as sent: it was sent in {language}."
        ).format(language=name)

    @property
    def closing(self) -> str:
        with i18n.using(self.language):
            return gettext("Sincerely,")

    @property
    def signature(self) -> list[str]:
        """The lines under the signature line: the signer, and the place signed for."""
        signer = self.letter.signed_by
        if signer and self.j.name in signer:  # "Board of Supervisors, Marin County"
            return [signer]
        return [line for line in (signer, self.j.name) if line]

    @property
    def text(self) -> str:
        """The letter as an e-mail holds it: its text, then the signature."""
        closing = "\n".join([self.closing, "", *self.signature])
        return f"{self.body}\n\n{closing}" if self.body else closing


def letter_view(session: Session, letter_id: int) -> LetterView:
    letter = letters.get(session, letter_id)
    follows = session.get(Letter, letter.follows_letter_id) if letter.follows_letter_id else None
    return LetterView(
        letter=letter,
        j=records.get(session, Jurisdiction, letter.jurisdiction_id),
        agency=records.get(session, Agency, letter.agency_id),
        follows=follows,
        answered=answered(session, letter_id),
    )
