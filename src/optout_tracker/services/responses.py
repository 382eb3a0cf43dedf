"""Responses: the answers a jurisdiction received."""

from dataclasses import dataclass

from sqlmodel import Session

from ..clock import today
from ..enums import Access, ResponseKind
from ..errors import FieldError, InvalidInput, english
from ..i18n import Sentence
from ..models import Agency, Document, Jurisdiction, Letter, Response
from ..schemas import RESPONSES, ResponseCreate, ResponseFilters, ResponseUpdate
from ..security import Principal
from . import documents, records, status_projection

KIND = RESPONSES


def get(session: Session, response_id: int) -> Response:
    return records.get(session, Response, response_id)


LISTING = records.Listing(
    Response,
    equal=("jurisdiction_id", "agency_id", "letter_id", "kind"),
    default_sort="-received_on",
)


def list_(session: Session, params: ResponseFilters) -> tuple[list[Response], int]:
    return LISTING.page(session, params)


ordered = LISTING.ordered  # for exports


def check(session: Session, response: Response | ResponseCreate) -> None:
    records.reference(session, Jurisdiction, response.jurisdiction_id, "jurisdiction_id")
    records.reference(session, Agency, response.agency_id, "agency_id")
    errors = []
    if response.received_on > today():
        future = Sentence("{day} is in the future", day=str(response.received_on))
        errors.append(FieldError("received_on", future))
    if response.letter_id is not None:
        letter = records.reference(session, Letter, response.letter_id, "letter_id")
        if letter.jurisdiction_id != response.jurisdiction_id:
            errors.append(FieldError("letter_id", Sentence("belongs to another jurisdiction")))
        elif response.received_on < letter.sent_on:
            errors.append(
                FieldError(
                    "received_on",
                    Sentence("is before the letter was sent ({day})", day=str(letter.sent_on)),
                )
            )
    adjusted = response.kind is ResponseKind.activation_date_adjusted
    if adjusted and response.new_activation_on is None:
        required = Sentence("is required for activation_date_adjusted")
        errors.append(FieldError("new_activation_on", required))
    if errors:
        raise InvalidInput("; ".join(f"{e.field} {english(e.message)}" for e in errors), errors)


def prepare(
    session: Session,
    data: ResponseCreate,
    response_window_days: int = 0,  # the signature of every kind's; unused here
) -> ResponseCreate:
    """A new response's body as it will be written, checked."""
    check(session, data)
    return data


def create(session: Session, data: ResponseCreate, actor: Principal) -> Response:
    return records.insert(session, Response(**prepare(session, data).model_dump()), actor)


def update(
    session: Session, response: Response, data: ResponseUpdate, actor: Principal
) -> Response:
    was_in = response.jurisdiction_id
    changes = records.changes_of(Response, data)
    check(session, Response.model_validate({**response.model_dump(), **changes}))
    records.update(session, response, changes, actor)
    records.move_activation(session, response, actor)
    status_projection.refresh(session, {was_in, response.jurisdiction_id})
    return response


def delete(session: Session, response: Response, actor: Principal) -> None:
    documents.refuse_if_attached(session, response)
    records.delete(session, response, actor)
    status_projection.refresh(session, [response.jurisdiction_id])


@dataclass(frozen=True)
class ResponsePage:
    """What /responses/{id} shows: the answer, who sent it, the letter it answers, and the
    documents the reader may see."""

    response: Response
    jurisdiction: Jurisdiction
    agency: Agency | None
    letter: Letter | None
    letter_agency: Agency | None
    documents: list[Document]
    can_write: bool


def page(session: Session, response_id: int, principal: Principal) -> ResponsePage:
    response = get(session, response_id)
    letter = session.get(Letter, response.letter_id) if response.letter_id else None
    return ResponsePage(
        response=response,
        jurisdiction=records.get(session, Jurisdiction, response.jurisdiction_id),
        agency=session.get(Agency, response.agency_id),
        letter=letter,
        letter_agency=session.get(Agency, letter.agency_id) if letter else None,
        documents=documents.of_response(session, response, principal),
        can_write=principal.can(Access.write),
    )
