"""Letters sent on behalf of a jurisdiction."""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..errors import Conflict, FieldError, InvalidInput
from ..i18n import N_, Sentence
from ..models import Agency, Jurisdiction, Letter, Response
from ..schemas import LETTERS, LetterCreate, LetterFilters, LetterUpdate
from ..security import Principal
from . import documents, records, status_projection

KIND = LETTERS


def get(session: Session, letter_id: int) -> Letter:
    return records.get(session, Letter, letter_id)


LISTING = records.Listing(
    Letter, equal=("jurisdiction_id", "agency_id", "purpose", "channel"), default_sort="-sent_on"
)


def list_(session: Session, params: LetterFilters) -> tuple[list[Letter], int]:
    return LISTING.page(session, params)


ordered = LISTING.ordered  # for exports


def _not_in_future(sent_on: date) -> None:
    if sent_on > today():
        raise InvalidInput(
            "a letter cannot be sent in the future",
            [FieldError("sent_on", Sentence("{day} is in the future", day=str(sent_on)))],
        )


def check(session: Session, letter: Letter | LetterCreate) -> None:
    """The rules for a letter about to be written (a row, or a new letter's body)."""
    records.reference(session, Jurisdiction, letter.jurisdiction_id, "jurisdiction_id")
    records.reference(session, Agency, letter.agency_id, "agency_id")
    _not_in_future(letter.sent_on)
    due = letter.response_due_on  # a new letter's is defaulted by `prepare` before this check
    if due is not None and due < letter.sent_on:
        raise InvalidInput(
            "the answer cannot be due before the letter was sent",
            [
                FieldError(
                    "response_due_on",
                    Sentence("is before sent_on ({day})", day=str(letter.sent_on)),
                )
            ],
        )
    if letter.follows_letter_id is not None:
        _check_follows(session, letter)


def _check_follows(session: Session, letter: Letter | LetterCreate) -> None:
    """A chaser follows an earlier letter of its own jurisdiction."""
    followed_id = letter.follows_letter_id or 0
    field = "follows_letter_id"
    if isinstance(letter, Letter) and followed_id == letter.id:
        raise InvalidInput(
            "a letter cannot follow itself", [FieldError(field, Sentence("is this letter"))]
        )
    followed = records.reference(session, Letter, followed_id, field)
    if followed.jurisdiction_id != letter.jurisdiction_id:
        raise InvalidInput(
            f"letter {followed_id} was sent for another jurisdiction",
            [FieldError(field, Sentence("belongs to another jurisdiction"))],
        )
    if followed.sent_on > letter.sent_on:
        raise InvalidInput(
            f"letter {followed_id} was sent on {followed.sent_on}, after this one",
            [
                FieldError(
                    field, Sentence("was sent after sent_on ({day})", day=str(letter.sent_on))
                )
            ],
        )


def _responses(session: Session, letter_id: int | None) -> list[Response]:
    return list(session.scalars(sa.select(Response).where(col(Response.letter_id) == letter_id)))


def _chasers(session: Session, letter_id: int | None) -> list[Letter]:
    return list(
        session.scalars(sa.select(Letter).where(col(Letter.follows_letter_id) == letter_id))
    )


def prepare(session: Session, data: LetterCreate, response_window_days: int) -> LetterCreate:
    """A new letter's body with its answer due date defaulted (the recipient's response
    window, else `response_window_days`, the settings'), checked."""
    _not_in_future(data.sent_on)  # before the date arithmetic below can overflow
    if data.response_due_on is None:
        recipient = session.get(Agency, data.agency_id)  # a missing one fails `check` below
        window = (recipient and recipient.response_window_days) or response_window_days
        due = data.sent_on + timedelta(days=window)
        data = data.model_copy(update={"response_due_on": due})
    check(session, data)
    return data


def create(
    session: Session,
    data: LetterCreate,
    actor: Principal,
    response_window_days: int,
    language: str | None = None,
    translation: dict[str, str | None] | None = None,
) -> Letter:
    """A new letter; `language` and `translation` when the site wrote its text (notices)."""
    letter = Letter(
        **prepare(session, data, response_window_days).model_dump(),
        language=language,
        translation=translation,
    )
    return records.insert(session, letter, actor)


# Why an edit of a letter is refused, by what refers to it: a response that answers it, a
# letter that follows it up.
ANSWERS = {
    "elsewhere": N_("response {id} answers this letter for its current jurisdiction"),
    "here": N_("response {id} answers this letter here"),
    "earlier": N_("response {id}, which answers this letter, is dated {day}, before that date"),
    "after": N_("is after response {id} ({day})"),
}
FOLLOWS = {
    "elsewhere": N_("letter {id} follows up this letter for its current jurisdiction"),
    "here": N_("letter {id} follows up this letter here"),
    "earlier": N_("letter {id}, which follows up this letter, is dated {day}, before that date"),
    "after": N_("is after letter {id} ({day})"),
}


def update(session: Session, letter: Letter, data: LetterUpdate, actor: Principal) -> Letter:
    was_in = letter.jurisdiction_id
    changes = records.changes_of(Letter, data)
    if letter.translation and any(
        changes.get(k, getattr(letter, k)) != getattr(letter, k) for k in ("subject", "body")
    ):
        changes["translation"] = None  # it translated the words that were, not these
    merged = Letter.model_validate({**letter.model_dump(), **changes})
    check(session, merged)
    # What refers to this letter (its answers, its chasers) must still fit it: each refusal a
    # whole sentence per kind of record, said in the reader's language.
    later = [
        (ANSWERS, str(r.id), r.jurisdiction_id, r.received_on)
        for r in _responses(session, letter.id)
    ]
    later += [
        (FOLLOWS, str(c.id), c.jurisdiction_id, c.sent_on) for c in _chasers(session, letter.id)
    ]
    for said, record_id, jurisdiction_id, on in later:
        if jurisdiction_id != merged.jurisdiction_id:
            raise Conflict(
                Sentence(said["elsewhere"], id=record_id),
                [FieldError("jurisdiction_id", Sentence(said["here"], id=record_id))],
            )
        if on < merged.sent_on:
            raise InvalidInput(
                Sentence(said["earlier"], id=record_id, day=str(on)),
                [FieldError("sent_on", Sentence(said["after"], id=record_id, day=str(on)))],
            )
    records.update(session, letter, changes, actor)
    status_projection.refresh(session, {was_in, letter.jurisdiction_id})
    return letter


def delete(session: Session, letter: Letter, actor: Principal) -> None:
    if answers := _responses(session, letter.id):
        ids = ", ".join(str(r.id) for r in answers)
        raise Conflict(
            Sentence("responses {ids} answer this letter: unlink or delete them first", ids=ids)
        )
    if chasers := _chasers(session, letter.id):
        ids = ", ".join(str(c.id) for c in chasers)
        raise Conflict(
            Sentence("letters {ids} follow this letter: unlink or delete them first", ids=ids)
        )
    documents.refuse_if_attached(session, letter)
    records.delete(session, letter, actor)
    status_projection.refresh(session, [letter.jurisdiction_id])
