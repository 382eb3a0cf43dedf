"""The pages of documents: a response's page with its documents, and the upload forms of
letters and responses (templates/_documents.html), which go back where they were sent from."""

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..errors import AppError
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..http.uploads import larger_body_for_writers, read_file
from ..i18n import N_, Sentence
from ..models import Jurisdiction, Letter
from ..models import Response as ResponseRecord
from ..security import Principal
from ..services import documents as service
from ..services import letters, records, responses
from ..text_input import field_errors
from .access import Organizer
from .forms import Once
from .templating import render

# No router-wide CSRF check: an upload's check reads the form, which must wait until the
# larger body limit is granted to a writer (`larger_body_for_writers`); each POST checks it.
# What a page says after an upload, per kind of record (a whole sentence each, for languages
# whose words agree with the kind).
ATTACHED = {
    "letter": N_("{filename} was attached to the letter."),
    "response": N_("{filename} was attached to the response."),
}

router = APIRouter(include_in_schema=False)
PUBLIC_VALUES = {"on", "true", "1"}
# One slash, then printable ASCII without spaces or backslashes: browsers drop tabs and
# line breaks from a URL and read a backslash as a slash, which would make "//elsewhere".
LOCAL_PATH = re.compile(r"/(?![/\\])[!-\[\]-~]*")


@router.get("/responses/{response_id}", response_class=HTMLResponse)
def response_page(
    request: Request, response_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> Response:
    shown = responses.page(session, response_id, principal)
    return render(request, principal, "response.html", page=shown)


@dataclass(frozen=True)
class PageUpload:
    """The upload form as posted: the file, or why there is none to store."""

    filename: str = ""
    data: bytes = b""
    declared_type: str | None = None
    public: bool = False
    back: str = ""
    error: AppError | None = None


async def page_upload(
    request: Request,
    _: Annotated[None, Depends(larger_body_for_writers)],
    principal: Organizer,  # a visitor is sent to sign in before the body is read
    __: Annotated[None, Depends(csrf.verify)],
    settings: SettingsDep,
) -> PageUpload:
    form = await request.form()
    back = form.get("back")
    back = back if isinstance(back, str) and _local(back) else ""
    public = form.get("public") in PUBLIC_VALUES
    try:
        name, data, declared = await read_file(form.get("file"), settings.max_upload_bytes)
    except AppError as exc:
        return PageUpload(public=public, back=back, error=exc)
    return PageUpload(name, data, declared, public=public, back=back)


def _local(path: str) -> bool:
    """A path on this site: never another site's address, which a forged form could send."""
    return LOCAL_PATH.fullmatch(path) is not None


PageUploadDep = Annotated[PageUpload, Depends(page_upload)]


def _store(
    request: Request,
    session: SessionDep,
    principal: Principal,
    once: Once,
    upload: PageUpload,
    settings: SettingsDep,
    record: Letter | ResponseRecord,
) -> Response:
    kind = "letter" if isinstance(record, Letter) else "response"
    try:
        if upload.error is not None:
            raise upload.error
        with session.begin_nested():  # a refused file leaves nothing behind
            document = service.attach(
                session,
                letter=record if isinstance(record, Letter) else None,
                response=record if isinstance(record, ResponseRecord) else None,
                filename=upload.filename,
                data=upload.data,
                public=upload.public,
                declared_type=upload.declared_type,
                actor=principal,
                max_bytes=settings.max_upload_bytes,
            )
    except AppError as exc:
        return _refused(request, session, principal, kind, record, upload, exc)
    back = upload.back or _default_back(kind, record)
    return once.saved(back, Sentence(ATTACHED[kind], filename=document.filename))


def _default_back(kind: str, record: Letter | ResponseRecord) -> str:
    return f"/{kind}s/{record.id}"


def _refused(
    request: Request,
    session: SessionDep,
    principal: Principal,
    kind: str,
    record: Letter | ResponseRecord,
    upload: PageUpload,
    exc: AppError,
) -> Response:
    """The form again, with what was wrong next to the file field."""
    j = records.get(session, Jurisdiction, record.jurisdiction_id)
    listed = (
        service.of_letter(session, record, principal)
        if isinstance(record, Letter)
        else service.of_response(session, record, principal)
    )
    return render(
        request,
        principal,
        "document_form.html",
        status_code=exc.status if exc.status in (413, 409) else 422,
        kind=kind,
        record=record,
        j=j,
        documents=listed,
        back=upload.back,
        public=upload.public,
        errors=field_errors(exc),
    )


@router.post("/letters/{letter_id}/documents", response_class=HTMLResponse)
def upload_to_letter(
    request: Request,
    letter_id: IdPath,
    upload: PageUploadDep,
    session: SessionDep,
    principal: Organizer,
    once: Once,
    settings: SettingsDep,
) -> Response:
    letter = letters.get(session, letter_id)
    return _store(request, session, principal, once, upload, settings, letter)


@router.post("/responses/{response_id}/documents", response_class=HTMLResponse)
def upload_to_response(
    request: Request,
    response_id: IdPath,
    upload: PageUploadDep,
    session: SessionDep,
    principal: Organizer,
    once: Once,
    settings: SettingsDep,
) -> Response:
    answer = responses.get(session, response_id)
    return _store(request, session, principal, once, upload, settings, answer)
