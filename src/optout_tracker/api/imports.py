"""/api/v1/import/{kind}: a CSV of records, checked row by row, written all or none."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from ..errors import FieldError, InvalidInput
from ..services import imports
from .auth import Writer
from .deps import SessionDep, SettingsDep

router = APIRouter(prefix="/import", tags=["import"])
Kind = Literal["jurisdictions", "agencies", "votes", "letters", "responses"]


class ImportResult(BaseModel):
    kind: str
    rows: int
    created: int
    dry_run: bool


async def csv_text(request: Request) -> str:
    """The CSV as a `text/csv` body or as the `file` field of a multipart upload."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("no file uploaded", [FieldError("file", "upload the CSV as 'file'")])
        raw = await upload.read()
    else:
        raw = await request.body()
    try:
        return raw.decode("utf-8-sig")  # spreadsheets often save a BOM
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "the CSV is not UTF-8", [FieldError("file", f"not UTF-8 at byte {exc.start}")]
        ) from exc


@router.post(
    "/{kind}",
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
    text: Annotated[str, Depends(csv_text)],
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    dry_run: Annotated[bool, Query(description="Check every row, write nothing.")] = False,
) -> ImportResult:
    """Import a CSV: every row checked with the API's rules, then all written, or none."""
    report = imports.import_csv(
        session, kind, text, principal, response_window_days=settings.response_window_days,
        max_rows=settings.import_max_rows, dry_run=dry_run,
    )  # fmt: skip
    return ImportResult(kind=kind, rows=report.rows, created=report.created, dry_run=dry_run)
