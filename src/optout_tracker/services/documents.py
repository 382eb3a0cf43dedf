"""Documents: scans and files attached to a letter or a response, stored in the database.

A file's type is told by its bytes, never by its name: PDF, PNG, JPEG or plain UTF-8 text,
and a name or declared type that says otherwise is refused. A private document (the
default) is seen only by signed-in users and API keys; for anyone else it does not exist.
Deleting a letter or a response that has documents is refused (409, naming them): their
bytes are not in the audit log, so a restored record could not bring them back.
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, NoReturn, cast

import puremagic
import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from .. import audit
from ..enums import Access, AuditAction
from ..errors import Conflict, FieldError, InvalidInput, Message, NotFound, TooLarge
from ..i18n import N_, Sentence
from ..models import Document, Letter, Response
from ..schemas import DocumentPublic
from ..security import Principal
from . import outbox

MAX_FILENAME = 120  # characters: enough for a descriptive name, short enough for any disk
FALLBACK_NAME = "document"
WITHOUT_BYTES = defer(cast(Any, Document.content))  # metadata only: bytes are read when served
FIELD = "file"  # the upload's form field, named in errors


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    extensions: tuple[str, ...]  # the first is added to a name that has none of them


PDF = FileType("application/pdf", N_("PDF"), (".pdf",))
PNG = FileType("image/png", N_("PNG image"), (".png",))
JPEG = FileType("image/jpeg", N_("JPEG image"), (".jpg", ".jpeg", ".jpe", ".jfif"))
TEXT = FileType("text/plain", N_("plain text"), (".txt", ".text"))
TYPES = (PDF, PNG, JPEG, TEXT)
BY_EXTENSION = {ext: t for t in TYPES for ext in t.extensions}
# What browsers and scanners declare for the same types.
DECLARED = {
    "application/pdf": PDF,
    "application/x-pdf": PDF,
    "image/png": PNG,
    "image/jpeg": JPEG,
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "text/plain": TEXT,
}
UNDECLARED = {"", "application/octet-stream"}  # a client that does not say
ACCEPTED = Sentence("PDF, PNG, JPEG or plain UTF-8 text")
# Text that a browser would take for a page or a script if it ever rendered it.
MARKUP = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<svg|<\?xml|<iframe)", re.I)


def refuse(
    message: Sentence, status: type[InvalidInput] | type[TooLarge] = InvalidInput
) -> NoReturn:
    raise status(Sentence("file {refusal}", refusal=message), [FieldError(FIELD, message)])


def detect(data: bytes) -> FileType:
    """The file's type by its first bytes; refused (saying what was found) if not accepted."""
    if not data:
        refuse(Sentence("is empty"))
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if MARKUP.match(data[:512].lstrip(b"\xef\xbb\xbf")):
        refuse(
            Sentence(
                "holds HTML or other markup, which is not accepted: upload {accepted}",
                accepted=ACCEPTED,
            )
        )
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return TEXT
    refuse(
        Sentence(
            "holds {found}, which is not accepted: upload {accepted}",
            found=describe(data),
            accepted=ACCEPTED,
        )
    )


def describe(data: bytes) -> Message:
    """What the bytes seem to be, for an error message: a named format, or their first bytes."""
    try:
        found = puremagic.magic_string(data[:4096])
    except (puremagic.PureError, ValueError):
        found = []
    if found and found[0].name:
        return f"{found[0].name} ({found[0].extension or 'no extension'})"
    return Sentence("binary data starting with {bytes}", bytes=data[:8].hex(" "))


def check_declared(found: FileType, filename: str, declared_type: str | None) -> None:
    """Refuse bytes that the name's extension or the declared content type contradicts."""
    extension = PurePosixPath(filename.lower()).suffix
    named = BY_EXTENSION.get(extension)
    if named is not None and named is not found:
        refuse(
            Sentence(
                "is named {extension} ({named}) but holds {found}",
                extension=extension,
                named=Sentence(named.label),
                found=Sentence(found.label),
            )
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared in UNDECLARED:
        return
    said = DECLARED.get(declared)
    if said is None and found is TEXT and declared.startswith("text/") and "html" not in declared:
        return  # text/csv, text/markdown: text all the same, stored as plain text
    if said is not found:
        refuse(
            Sentence(
                "was sent as {declared} but holds {found}",
                declared=declared,
                found=Sentence(found.label),
            )
        )


def clean_filename(filename: str, found: FileType) -> str:
    """The name without any path, control or formatting characters, kept short, ending in
    an extension of its type; a plain fallback when nothing is left."""
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", filename)[-1])
    name = "".join(" " if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c for c in name)
    name = " ".join(name.split()).strip(" .")
    stem, extension = name, ""
    if PurePosixPath(name.lower()).suffix in found.extensions:
        stem, extension = name[: -len(PurePosixPath(name).suffix)], PurePosixPath(name).suffix
    stem = stem.strip(" .")[: MAX_FILENAME - 6] or FALLBACK_NAME
    return stem + (extension or found.extensions[0])


def attach(
    session: Session,
    *,
    letter: Letter | None = None,
    response: Response | None = None,
    filename: str,
    data: bytes,
    public: bool,
    actor: Principal,
    declared_type: str | None = None,
    max_bytes: int | None = None,
) -> Document:
    """Store `data` as a document of the letter or the response, checked by its bytes."""
    if (letter is None) == (response is None):
        raise ValueError("attach to a letter or to a response")
    if max_bytes is not None and len(data) > max_bytes:
        refuse(Sentence("is over the limit of {limit} bytes", limit=str(max_bytes)), TooLarge)
    found = detect(data)
    check_declared(found, filename, declared_type)
    document = Document(
        letter_id=letter.id if letter else None,
        response_id=response.id if response else None,
        filename=clean_filename(filename, found),
        content_type=found.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        public=public,
        content=data,
    )
    session.add(document)
    session.flush()
    parent = letter if letter is not None else response
    assert parent is not None  # one of them, checked above
    _audit(session, actor, AuditAction.create, document, None, parent.jurisdiction_id)
    outbox.publish(session, "document.created", lambda _: event_data(document))
    return document


def event_data(document: Document) -> dict[str, Any]:
    """A document as webhook events show it: the metadata of a public one; of a private one
    only which record it belongs to, since payloads leave the building."""
    shown = public_shape(document, url=f"/api/v1/documents/{document.id}/file")
    data = shown.model_dump(mode="json")
    if document.public:
        return data
    return {k: data[k] for k in ("id", "letter_id", "response_id", "public")}


def public_shape(document: Document, url: str) -> DocumentPublic:
    """The document's metadata (never its bytes) with where to fetch them."""
    fields = {f: getattr(document, f) for f in DocumentPublic.model_fields if f != "url"}
    return DocumentPublic(**fields, url=url)


def _audit(
    session: Session,
    actor: Principal,
    action: AuditAction,
    document: Document,
    before: dict[str, Any] | None,
    jurisdiction_id: int | None,
) -> None:
    entry = audit.record(session, actor, action, document, before)
    entry.jurisdiction_id = jurisdiction_id  # in its jurisdiction's change history


def may_see(principal: Principal, document: Document) -> bool:
    return document.public or principal.can(Access.read)


def get(session: Session, document_id: int, principal: Principal) -> Document:
    """The document if this caller may see it; a private one is a 404 for anyone else."""
    document = session.get(Document, document_id, options=[WITHOUT_BYTES])
    if document is None or not may_see(principal, document):
        raise NotFound(Sentence("no document with id {id}", id=str(document_id)))
    return document


def content(session: Session, document: Document) -> bytes:
    """The bytes, loaded only when served."""
    return (
        session.scalar(sa.select(col(Document.content)).where(col(Document.id) == document.id))
        or b""
    )


def _visible(principal: Principal) -> list[Any]:
    return [] if principal.can(Access.read) else [col(Document.public)]


def listed(session: Session, principal: Principal, *where: Any) -> list[Document]:
    """The documents matching `where` that this caller may see, oldest first, without bytes."""
    stmt = (
        sa.select(Document)
        .options(WITHOUT_BYTES)
        .where(*where, *_visible(principal))
        .order_by(col(Document.id))
    )
    return list(session.scalars(stmt))


def of_letter(session: Session, letter: Letter, principal: Principal) -> list[Document]:
    return listed(session, principal, col(Document.letter_id) == letter.id)


def of_response(session: Session, response: Response, principal: Principal) -> list[Document]:
    return listed(session, principal, col(Document.response_id) == response.id)


def of_jurisdiction(session: Session, jurisdiction_id: int, principal: Principal) -> list[Document]:
    """Every document of the jurisdiction's letters and responses this caller may see."""
    letters = sa.select(col(Letter.id)).where(col(Letter.jurisdiction_id) == jurisdiction_id)
    answers = sa.select(col(Response.id)).where(col(Response.jurisdiction_id) == jurisdiction_id)
    return listed(
        session,
        principal,
        sa.or_(col(Document.letter_id).in_(letters), col(Document.response_id).in_(answers)),
    )


def delete(session: Session, document: Document, actor: Principal) -> None:
    before = audit.snapshot(document)
    parent: Letter | Response | None = (
        session.get(Letter, document.letter_id)
        if document.letter_id
        else session.get(Response, document.response_id or 0)
    )
    _audit(
        session,
        actor,
        AuditAction.delete,
        document,
        before,
        parent.jurisdiction_id if parent else None,
    )
    gone = event_data(document)
    outbox.publish(session, "document.deleted", lambda _: gone)
    session.delete(document)
    session.flush()


def refuse_if_attached(session: Session, record: Letter | Response) -> None:
    """409 naming the documents of a letter or response about to be deleted."""
    column = Document.letter_id if isinstance(record, Letter) else Document.response_id
    stmt = sa.select(col(Document.id), col(Document.filename)).where(col(column) == record.id)
    found = session.execute(stmt.order_by(col(Document.id))).all()
    if found:
        names = ", ".join(f"{i} ({name})" for i, name in found)
        kind = record.__tablename__
        refusal = N_("this letter has documents {names}: delete them first")
        if kind == "response":
            refusal = N_("this response has documents {names}: delete them first")
        raise Conflict(
            Sentence(refusal, names=names),
            [FieldError("documents", Sentence("delete documents {names} first", names=names))],
        )
