"""The written notice to the state identification bureau and ICE, and the chaser of a
letter that awaits its answer: their texts from shipped templates, logged as letters."""

from dataclasses import dataclass

import jinja2
import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import AgencyKind, Channel, LetterPurpose, VoteOutcome, VoteTopic
from ..errors import FieldError, InvalidInput, english
from ..i18n import Sentence
from ..models import Agency, Jurisdiction, Letter, Vote
from ..paths import TEMPLATES_DIR
from ..schemas import LetterCreate, NoticeCreate
from ..security import Principal
from ..status import CHANNEL_WORDS
from ..wording import long_day
from . import agencies, letter_chains, letters, records

TEXTS = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "letters"),
    autoescape=False,  # plain text: the pages escape it when they show it
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEXTS.filters.update(long_day=long_day, channel_words=CHANNEL_WORDS.get)


def _render(name: str, **context: object) -> str:
    text = TEXTS.get_template(name).render(**context)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


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


def tally(vote: Vote) -> str | None:
    """The counts a vote records, in words ("4 to 1, 0 abstaining, 1 absent"); None if the
    yes and no counts are not known."""
    if vote.yes is None or vote.no is None:
        return None
    parts = [f"{vote.yes} to {vote.no}"]
    if vote.abstain is not None:
        parts.append(f"{vote.abstain} abstaining")
    if vote.absent is not None:
        parts.append(f"{vote.absent} absent")
    return ", ".join(parts)


def default_subject(j: Jurisdiction) -> str:
    return f"{j.name}: notice that it does not wish to participate in Secure Communities"


def notice_text(
    j: Jurisdiction, vote: Vote | None, recipients: list[Agency], recipient: Agency | None
) -> str:
    """The notice's text for one recipient, or (recipient None) the text shared by all."""
    count = tally(vote) if vote is not None else None
    return _render(
        "notice.txt",
        j=j,
        vote=vote,
        tally=count,
        recipients=recipients,
        recipient=recipient,
        on=today(),
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
) -> list[Letter]:
    """Log the notice: one opt-out request per recipient, all checked before any is written
    (the caller's transaction holds them all, or none)."""
    j = records.get(session, Jurisdiction, jurisdiction_id)
    recipients = _recipients(session, j, data.recipients)
    vote = latest_passed_vote(session, jurisdiction_id)
    bodies = [
        letters.prepare(
            session,
            LetterCreate(
                jurisdiction_id=jurisdiction_id,
                agency_id=agency.id or 0,
                channel=data.channel,
                sent_on=data.sent_on,
                purpose=LetterPurpose.opt_out_request,
                signed_by=data.signed_by,
                subject=data.subject or default_subject(j),
                body=data.body or notice_text(j, vote, recipients, agency),
            ),
            agency_window(agency, response_window_days),
        )
        for agency in recipients
    ]
    return [records.insert(session, Letter(**body.model_dump()), actor) for body in bodies]


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
    values = {
        "sent_on": today().isoformat(),
        "channel": Channel.mail.value,
        "signed_by": signer or _signer(session, j, vote),
        "subject": default_subject(j),
        "body": notice_text(j, vote, checked, None),
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


def chaser_values(session: Session, first: Letter) -> dict[str, str]:
    """The chaser form's fields for a follow-up to `first`."""
    j = records.get(session, Jurisdiction, first.jurisdiction_id)
    recipient = records.get(session, Agency, first.agency_id)
    subject = f"Follow-up: {first.subject}" if first.subject else "Follow-up"
    body = _render(
        "chaser.txt",
        j=j,
        first=first,
        recipient=recipient,
        answered=answered(session, first.id or 0),
    )
    return {
        "sent_on": today().isoformat(),
        "channel": (first.channel or Channel.mail).value,
        "signed_by": first.signed_by or j.name,
        "subject": subject[:500],
        "body": body,
    }


def send_chaser(
    session: Session,
    first: Letter,
    data: LetterCreate,
    actor: Principal,
    response_window_days: int,
) -> Letter:
    """Log a follow-up to `first`: same jurisdiction and agency, purpose follow_up."""
    fixed = {
        "jurisdiction_id": first.jurisdiction_id,
        "agency_id": first.agency_id,
        "purpose": LetterPurpose.follow_up,
        "follows_letter_id": first.id,
    }
    agency = records.get(session, Agency, first.agency_id)
    window = agency_window(agency, response_window_days)
    return letters.create(session, data.model_copy(update=fixed), actor, window)


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
        closing = "\n".join(["Sincerely,", "", *self.signature])
        return f"{self.letter.body}\n\n{closing}" if self.letter.body else closing


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
