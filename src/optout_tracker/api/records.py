"""/api/v1/agencies, /votes, /letters, /responses: the plain records."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..schemas import (
    AgencyFilters,
    AgencyPublic,
    LetterFilters,
    LetterPublic,
    Page,
    ResponseFilters,
    ResponsePublic,
    VoteFilters,
    VotePublic,
)
from ..services import agencies, letters, responses, votes
from .deps import IdPath, SessionDep
from .http import conditional, page, record_tag

router = APIRouter()


@router.get("/agencies", tags=["agencies"])
def list_agencies(
    request: Request,
    response: Response,
    session: SessionDep,
    params: Annotated[AgencyFilters, Query()],
) -> Page[AgencyPublic]:
    """List agencies: state identification bureaus, ICE, DHS and others."""
    items, total = agencies.list_(session, params)
    return page(request, response, [AgencyPublic.model_validate(a) for a in items], total, params)


@router.get("/agencies/{agency_id}", tags=["agencies"], response_model=AgencyPublic)
def get_agency(
    agency_id: IdPath, request: Request, response: Response, session: SessionDep
) -> AgencyPublic | Response:
    """One agency."""
    a = agencies.get(session, agency_id)
    tag = record_tag("agency", a.id, a.version)
    return conditional(request, response, tag, lambda: AgencyPublic.model_validate(a))


@router.get("/votes", tags=["votes"])
def list_votes(
    request: Request,
    response: Response,
    session: SessionDep,
    params: Annotated[VoteFilters, Query()],
) -> Page[VotePublic]:
    """List votes, newest first by default."""
    items, total = votes.list_(session, params)
    return page(request, response, [VotePublic.model_validate(v) for v in items], total, params)


@router.get("/votes/{vote_id}", tags=["votes"], response_model=VotePublic)
def get_vote(
    vote_id: IdPath, request: Request, response: Response, session: SessionDep
) -> VotePublic | Response:
    """One vote."""
    v = votes.get(session, vote_id)
    tag = record_tag("vote", v.id, v.version)
    return conditional(request, response, tag, lambda: VotePublic.model_validate(v))


@router.get("/letters", tags=["letters"])
def list_letters(
    request: Request,
    response: Response,
    session: SessionDep,
    params: Annotated[LetterFilters, Query()],
) -> Page[LetterPublic]:
    """List letters, newest first by default."""
    items, total = letters.list_(session, params)
    return page(request, response, [LetterPublic.model_validate(x) for x in items], total, params)


@router.get("/letters/{letter_id}", tags=["letters"], response_model=LetterPublic)
def get_letter(
    letter_id: IdPath, request: Request, response: Response, session: SessionDep
) -> LetterPublic | Response:
    """One letter."""
    x = letters.get(session, letter_id)
    tag = record_tag("letter", x.id, x.version)
    return conditional(request, response, tag, lambda: LetterPublic.model_validate(x))


@router.get("/responses", tags=["responses"])
def list_responses(
    request: Request,
    response: Response,
    session: SessionDep,
    params: Annotated[ResponseFilters, Query()],
) -> Page[ResponsePublic]:
    """List responses, newest first by default."""
    items, total = responses.list_(session, params)
    return page(request, response, [ResponsePublic.model_validate(r) for r in items], total, params)


@router.get("/responses/{response_id}", tags=["responses"], response_model=ResponsePublic)
def get_response(
    response_id: IdPath, request: Request, response: Response, session: SessionDep
) -> ResponsePublic | Response:
    """One response."""
    r = responses.get(session, response_id)
    tag = record_tag("response", r.id, r.version)
    return conditional(request, response, tag, lambda: ResponsePublic.model_validate(r))
