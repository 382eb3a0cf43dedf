"""Votes by councils and boards on opting out."""

from sqlmodel import Session

from ..models import Vote
from ..schemas import VoteFilters
from . import records


def get(session: Session, vote_id: int) -> Vote:
    return records.get(session, Vote, vote_id)


def list_(session: Session, params: VoteFilters) -> tuple[list[Vote], int]:
    return records.list_(
        session, Vote, params, equal=("jurisdiction_id", "outcome"), default_sort="-held_on"
    )
