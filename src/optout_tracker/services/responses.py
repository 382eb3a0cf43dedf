"""Responses: the answers a jurisdiction received."""

from sqlmodel import Session

from ..models import Response
from ..schemas import ResponseFilters
from . import records


def get(session: Session, response_id: int) -> Response:
    return records.get(session, Response, response_id)


def list_(session: Session, params: ResponseFilters) -> tuple[list[Response], int]:
    return records.list_(
        session,
        Response,
        params,
        equal=("jurisdiction_id", "agency_id", "letter_id", "kind"),
        default_sort="-received_on",
    )
