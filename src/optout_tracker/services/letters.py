"""Letters sent on behalf of a jurisdiction."""

from sqlmodel import Session

from ..models import Letter
from ..schemas import LetterFilters
from . import records


def get(session: Session, letter_id: int) -> Letter:
    return records.get(session, Letter, letter_id)


def list_(session: Session, params: LetterFilters) -> tuple[list[Letter], int]:
    return records.list_(
        session,
        Letter,
        params,
        equal=("jurisdiction_id", "agency_id", "purpose", "channel"),
        default_sort="-sent_on",
    )
