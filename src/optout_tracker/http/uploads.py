"""Files uploaded to a letter or a response: the larger body a writer may send, and the
file read from the form without ever holding more than the limit."""

import re

from fastapi import Request
from starlette.datastructures import UploadFile

from ..enums import Access
from ..errors import FieldError, InvalidInput, TooLarge
from ..i18n import Sentence
from ..middleware import grant_larger_body
from .auth import PrincipalDep

# The paths that take an upload, for BodyLimit: the API's and the pages' forms.
UPLOAD_PATHS = r"(/api/v1)?/(letters|responses)/\d+/documents$"
# Room in the body for the multipart framing and the small fields beside the file.
FORM_OVERHEAD = 65_536
CHUNK = 65_536


def upload_limit(max_upload_bytes: int) -> int:
    return max_upload_bytes + FORM_OVERHEAD


async def larger_body_for_writers(request: Request, principal: PrincipalDep) -> None:
    """The upload's larger body limit once the credential shows a writer: declared before
    the access check, whose CSRF check reads a signed-in organizer's form."""
    if principal.can(Access.write):
        grant_larger_body(request.scope)


async def read_file(upload: object, max_bytes: int) -> tuple[str, bytes, str | None]:
    """The name, bytes and declared type of the form's `file`, read a chunk at a time and
    refused as soon as it passes `max_bytes`."""
    if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
        raise InvalidInput(
            "no file uploaded", [FieldError("file", Sentence("is missing: choose one to upload"))]
        )
    data = bytearray()
    while chunk := await upload.read(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise TooLarge(
                Sentence("file is over the limit of {limit} bytes", limit=str(max_bytes)),
                [
                    FieldError(
                        "file",
                        Sentence("is over the limit of {limit} bytes", limit=str(max_bytes)),
                    )
                ],
            )
    return upload.filename or "", bytes(data), upload.content_type


def is_upload_path(path: str) -> bool:
    return re.match(UPLOAD_PATHS, path) is not None
