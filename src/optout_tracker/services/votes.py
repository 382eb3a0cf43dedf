"""Votes by councils and boards on opting out, and on related measures."""

from sqlmodel import Session

from ..clock import today
from ..errors import FieldError, InvalidInput
from ..i18n import Sentence
from ..models import Jurisdiction, Vote
from ..schemas import VOTES, VoteCreate, VoteFilters, VoteUpdate
from ..security import Principal
from ..status import PENDING
from . import records, status_projection

KIND = VOTES


def get(session: Session, vote_id: int) -> Vote:
    return records.get(session, Vote, vote_id)


LISTING = records.Listing(
    Vote, equal=("jurisdiction_id", "topic", "outcome"), default_sort="-held_on"
)


def list_(session: Session, params: VoteFilters) -> tuple[list[Vote], int]:
    return LISTING.page(session, params)


ordered = LISTING.ordered  # for exports


def check(session: Session, vote: Vote | VoteCreate) -> None:
    """The contract's rules for a vote about to be written (a row, or a new vote's body)."""
    records.reference(session, Jurisdiction, vote.jurisdiction_id, "jurisdiction_id")
    if vote.held_on > today() and vote.outcome not in PENDING:
        raise InvalidInput(
            "only an introduced or scheduled vote may lie in the future",
            [
                FieldError(
                    "held_on",
                    Sentence(
                        "is in the future, so outcome must be introduced or scheduled, "
                        "not {outcome}",
                        outcome=str(vote.outcome),
                    ),
                )
            ],
        )


def prepare(
    session: Session,
    data: VoteCreate,
    response_window_days: int = 0,  # the signature of every kind's; unused here
) -> VoteCreate:
    """A new vote's body as it will be written, checked."""
    check(session, data)
    return data


def create(session: Session, data: VoteCreate, actor: Principal) -> Vote:
    return records.insert(session, Vote(**prepare(session, data).model_dump()), actor)


def update(session: Session, vote: Vote, data: VoteUpdate, actor: Principal) -> Vote:
    was_in = vote.jurisdiction_id
    changes = records.changes_of(Vote, data)
    check(session, Vote.model_validate({**vote.model_dump(), **changes}))
    records.update(session, vote, changes, actor)
    status_projection.refresh(session, {was_in, vote.jurisdiction_id})
    return vote


def delete(session: Session, vote: Vote, actor: Principal) -> None:
    records.delete(session, vote, actor)
    status_projection.refresh(session, [vote.jurisdiction_id])
