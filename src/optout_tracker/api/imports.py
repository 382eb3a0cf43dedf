"""/api/v1/import/{kind}: a CSV of records, checked row by row, written all or none: a row
with an id updates its record, one without creates one (services/imports.py).

The body may be far larger than any other request's (`import_max_bytes`), so nothing reads
it before the caller is known to be a writer; it is then spooled to a temporary file.
"""

import hashlib
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from .. import csv_io
from ..enums import Access
from ..errors import FieldError, InvalidInput
from ..http.auth import PrincipalDep, Writer
from ..http.deps import SessionDep, SettingsDep
from ..middleware import grant_larger_body
from ..schemas import BY_PLURAL, ImportReport
from ..services import imports
from .idempotency import IdempotencyDep

router = APIRouter(prefix="/import", tags=["import"])
if TYPE_CHECKING:
    Kind = str
else:  # an enum of the kinds' names in the document
    Kind = Literal[tuple(BY_PLURAL)]


@dataclass(frozen=True)
class Upload:
    text: str
    sha256: str  # of the bytes sent, for Idempotency-Key


async def larger_body_for_writers(request: Request, principal: PrincipalDep) -> None:
    """The import's larger body limit, once the credential shows a writer (a signed-in
    organizer's form is read for its CSRF token next, so this comes first)."""
    if principal.can(Access.write):
        grant_larger_body(request.scope)


async def csv_upload(
    request: Request,
    _: Annotated[None, Depends(larger_body_for_writers)],
    __: Writer,  # checked before anything reads the body
) -> Upload:
    """The CSV as a `text/csv` body or as the `file` field of a multipart upload."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = (await request.form()).get("file")  # Starlette spools the file itself
        if not isinstance(upload, UploadFile):
            raise InvalidInput("no file uploaded", [FieldError("file", "upload the CSV as 'file'")])
        raw = await upload.read()
    else:
        with tempfile.SpooledTemporaryFile(max_size=csv_io.SPOOL_IN_MEMORY) as spooled:
            async for chunk in request.stream():
                spooled.write(chunk)
            spooled.seek(0)
            raw = spooled.read()
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often save a BOM
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "the CSV is not UTF-8", [FieldError("file", f"not UTF-8 at byte {exc.start}")]
        ) from exc
    return Upload(text, hashlib.sha256(raw).hexdigest())


@router.post(
    "/{kind}",
    response_model=ImportReport,
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
def import_records(
    kind: Kind,
    upload: Annotated[Upload, Depends(csv_upload)],
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    response: Response,
    idempotency: IdempotencyDep,
    dry_run: Annotated[
        bool, Query(description="Check every row and say what each would do; write nothing.")
    ] = False,
) -> ImportReport | Response:
    """Import a CSV: rows with an id update their record, others create one; all or none."""

    def make() -> ImportReport:
        return imports.import_csv(
            session, kind, upload.text, principal,
            response_window_days=settings.response_window_days,
            max_rows=settings.import_max_rows, dry_run=dry_run,
        )  # fmt: skip

    # A retry must send the same file (by its hash) and the same dry_run.
    return idempotency.once(f"dry_run={dry_run}\n{upload.sha256}", response, make)
