"""/api/v1/…/documents: files attached to letters and responses (services/documents.py)."""

import hashlib
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import Response as RawResponse
from sqlmodel import Session

from ..errors import FieldError, InvalidInput
from ..http.auth import Admin, PrincipalDep, Writer
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..http.uploads import larger_body_for_writers, read_file
from ..models import Document
from ..schemas import MAX_ID, DocumentPublic, Page, PageParams
from ..security import Principal
from ..services import documents as service
from ..services import letters, responses
from .conventions import CREATED, IfMatchDep, IfNoneMatch, IfNoneMatchDep, page, record_tag, tagged
from .idempotency import IdempotencyDep

router = APIRouter(tags=["documents"])
SANDBOX = "sandbox; default-src 'none'"  # an uploaded file never runs as a page of the site
TRUE, FALSE = {"true", "on", "1", "yes"}, {"", "false", "off", "0", "no"}
MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, PNG, JPEG or UTF-8 text, told by its bytes; "
                            "at most OPTOUT_MAX_UPLOAD_BYTES.",
                        },
                        "public": {
                            "type": "boolean",
                            "default": False,
                            "description": "True: anyone may see it; false: only signed-in "
                            "users and API keys.",
                        },
                    },
                }
            }
        },
    }
}
FILE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes, as an attachment.",
        "content": {t.content_type: {} for t in service.TYPES},
    }
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    declared_type: str | None
    public: bool

    @property
    def request(self) -> str:
        """What a retry with the same Idempotency-Key must send again."""
        digest = hashlib.sha256(self.data).hexdigest()
        return f"{self.filename}\n{self.declared_type}\n{self.public}\n{digest}"


def public_flag(value: object) -> bool:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise InvalidInput("public must be true or false", [FieldError("public", "true or false")])


async def uploaded(
    request: Request,
    _: Annotated[None, Depends(larger_body_for_writers)],
    __: Writer,  # checked before anything reads the body
    settings: SettingsDep,
) -> Upload:
    """The multipart form's `file` and `public` fields."""
    form = await request.form()
    name, data, declared = await read_file(form.get("file"), settings.max_upload_bytes)
    return Upload(name, data, declared, public_flag(form.get("public", "")))


UploadDep = Annotated[Upload, Depends(uploaded)]


def shown(request: Request, document: Document) -> DocumentPublic:
    url = str(request.url_for("get_document_file", document_id=document.id))
    return service.public_shape(document, url)


def _list(
    request: Request, response: Response, params: PageParams, found: list[Document]
) -> Page[DocumentPublic]:
    chosen = found[params.offset : params.offset + params.limit]
    return page(request, response, [shown(request, d) for d in chosen], len(found), params)


def _attach(
    request: Request,
    response: Response,
    upload: Upload,
    idempotency: Any,
    principal: Principal,
    attach: Callable[[], Document],
) -> DocumentPublic | Response:
    def make() -> DocumentPublic:
        document = attach()
        return tagged(response, record_tag(document), shown(request, document), principal)

    return idempotency.once(
        upload.request,
        response,
        make,
        status=201,
        location=lambda body: str(request.url_for("get_document", document_id=body.id)),
    )


def _upload_to(
    session: SessionDep, upload: Upload, principal: Principal, settings: Any, **record: Any
) -> Document:
    return service.attach(
        session,
        **record,
        filename=upload.filename,
        data=upload.data,
        public=upload.public,
        declared_type=upload.declared_type,
        actor=principal,
        max_bytes=settings.max_upload_bytes,
    )


@dataclass(frozen=True)
class Owner:
    """A kind of record that documents attach to."""

    name: str  # "letter": its path is /<name>s/{<name>_id}/documents
    get: Callable[[Session, int], Any]
    documents: Callable[[Session, Any, Principal], list[Document]]


OWNERS = (
    Owner("letter", letters.get, service.of_letter),
    Owner("response", responses.get, service.of_response),
)


def _add_routes(owner: Owner) -> None:
    """GET and POST /<owner>s/{<owner>_id}/documents: its documents, and an upload."""
    path = f"/{owner.name}s/{{{owner.name}_id}}/documents"
    OwnerId = Annotated[
        int, Path(alias=f"{owner.name}_id", ge=1, le=MAX_ID, description="The record's id.")
    ]

    def list_documents(
        owner_id: OwnerId,
        request: Request,
        response: Response,
        session: SessionDep,
        principal: PrincipalDep,
        params: Annotated[PageParams, Query()],
    ) -> Page[DocumentPublic]:
        record = owner.get(session, owner_id)
        return _list(request, response, params, owner.documents(session, record, principal))

    def create_document(
        owner_id: OwnerId,
        upload: UploadDep,
        request: Request,
        response: Response,
        session: SessionDep,
        settings: SettingsDep,
        principal: Writer,
        idempotency: IdempotencyDep,
    ) -> DocumentPublic | Response:
        record = owner.get(session, owner_id)
        return _attach(
            request,
            response,
            upload,
            idempotency,
            principal,
            lambda: _upload_to(session, upload, principal, settings, **{owner.name: record}),
        )

    list_documents.__name__ = f"list_{owner.name}_documents"  # the operation's id
    list_documents.__doc__ = (
        f"The documents of a {owner.name} (private ones only for signed-in users and API keys)."
    )
    create_document.__name__ = f"create_{owner.name}_document"
    create_document.__doc__ = (
        f"Attach a file to a {owner.name}: multipart `file` (PDF, PNG, JPEG, text) and `public`."
    )
    router.add_api_route(path, list_documents, methods=["GET"])
    router.add_api_route(
        path,
        create_document,
        methods=["POST"],
        status_code=201,
        response_model=DocumentPublic,
        responses=CREATED,
        openapi_extra=MULTIPART,
    )


for _owner in OWNERS:
    _add_routes(_owner)


@router.get("/documents/{document_id}", response_model=DocumentPublic)
def get_document(
    document_id: IdPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> DocumentPublic | Response:
    """A document's metadata; its bytes are at `url`."""
    document = service.get(session, document_id, principal)
    return if_none_match.answer(
        response, record_tag(document), principal, lambda: shown(request, document)
    )


@router.delete("/documents/{document_id}", status_code=204, response_class=RawResponse)
def delete_document(
    document_id: IdPath,
    request: Request,
    session: SessionDep,
    principal: Admin,
    if_match: IfMatchDep,
) -> None:
    """Delete a document (admins only); If-Match is honoured."""
    document = service.get(session, document_id, principal)
    if_match.check(record_tag(document), principal, shown(request, document))
    service.delete(session, document, principal)


@router.get(
    "/documents/{document_id}/file",
    response_class=RawResponse,
    responses=FILE_ANSWER,
)
def get_document_file(
    document_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: IfNoneMatchDep,
) -> Response:
    """The document's bytes, as an attachment (a private one: 404 for anonymous callers)."""
    document = service.get(session, document_id, principal)
    return file_response(if_none_match, document, lambda: service.content(session, document))


def file_response(
    if_none_match: IfNoneMatch, document: Document, data: Callable[[], bytes]
) -> Response:
    """The bytes with headers that keep a browser from running them as a page: the detected
    type, never sniffed, always downloaded, and sandboxed should it be opened anyway."""
    headers = {
        "ETag": f'"{document.sha256}"',  # strong: the same bytes, byte for byte
        "Content-Disposition": content_disposition(document.filename),
        "Content-Security-Policy": SANDBOX,
        "Cache-Control": "public, max-age=3600" if document.public else "private, no-store",
    }
    held = {t.strip() for t in (if_none_match.header or "").split(",")}
    if headers["ETag"] in held or "*" in held:  # the bytes are not even read
        return Response(status_code=304, headers=headers)
    return Response(data(), media_type=document.content_type, headers=headers)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 one (RFC 6266, RFC 5987)."""
    stem, extension = posixpath.splitext(filename)
    # Accents fall off their letters ("Peña" -> "Pena"); anything else not plain becomes _.
    letters = (c for c in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(c))
    ascii_stem = re.sub(r"[^A-Za-z0-9 ._()-]", "_", "".join(letters)).strip(" ._") or "document"
    ascii_name = ascii_stem + re.sub(r"[^A-Za-z0-9.]", "", extension)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
