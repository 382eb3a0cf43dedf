"""Documents attached to letters and responses: checked by their bytes, capped in size,
private by default, served so that no browser runs them (services/documents.py)."""

import hashlib
import re
import select
import socket
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import AgencyKind, AuditAction, Scope
from optout_tracker.errors import Conflict, InvalidInput, TooLarge
from optout_tracker.main import create_app
from optout_tracker.models import AuditEntry, Document, Letter, Response
from optout_tracker.security import CLI
from optout_tracker.services import accounts, documents, letters, responses
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings, use_test_session
from tests.forms import defaults
from tests.live import seeded_database, serving
from tests.test_pages import csrf, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20) + b"\xff\xd9"
TEXT = "Board of Supervisors, minutes: the motion to opt out passed 4–1.\n".encode()
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
FILES = {
    "scan.pdf": (PDF, "application/pdf"),
    "envelope.png": (PNG, "image/png"),
    "photo.jpg": (JPEG, "image/jpeg"),
    "minutes.txt": (TEXT, "text/plain"),
}
SECRET_NAME = "confidential-minutes-7731.pdf"  # a private file's name, looked for everywhere


@pytest.fixture
def records(session: Session) -> tuple[Letter, Response]:
    j = factories.jurisdiction(session)
    ice = factories.agency(session, AgencyKind.ice)
    letter = factories.letter(session, j, ice, subject="Request to opt out")
    answer = factories.response(session, j, ice, letter_id=letter.id, summary="Opt-out denied")
    session.commit()
    return letter, answer


def attach(session: Session, record: Letter | Response, name: str, data: bytes, public=False):
    letter = record if isinstance(record, Letter) else None
    response = record if isinstance(record, Response) else None
    document = documents.attach(
        session, letter=letter, response=response, filename=name, data=data, public=public,
        actor=CLI,
    )  # fmt: skip
    session.commit()
    return document


# The service: what a file is, and what its name may say.


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (TEXT, "text/plain")],
)
def test_the_type_is_told_by_the_bytes(data: bytes, content_type: str) -> None:
    assert documents.detect(data).content_type == content_type


@pytest.mark.parametrize(
    ("name", "data", "declared", "said"),
    [
        ("letter.pdf", HTML, None, "holds HTML or other markup"),
        ("letter.pdf", TEXT, None, "is named .pdf (PDF) but holds plain text"),
        ("scan.png", PDF, "image/png", "is named .png (PNG image) but holds PDF"),
        ("scan", PDF, "text/html", "was sent as text/html but holds PDF"),
        ("archive.zip", b"PK\x03\x04" + bytes(60), None, "holds MS Office Open XML"),
        ("blob.bin", b"\x00\x01\x02\x03binary", None, "binary data starting with 00 01 02 03"),
        ("empty.pdf", b"", None, "is empty"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_saying_what_was_found(
    name: str, data: bytes, declared: str | None, said: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        found = documents.detect(data)
        documents.check_declared(found, name, declared)
    assert said in str(refused.value.detail)
    assert refused.value.errors[0].field == "file"


def test_text_declared_as_another_text_type_is_plain_text() -> None:
    for declared in ("text/csv", "text/markdown; charset=utf-8", "text/plain"):
        documents.check_declared(documents.TEXT, "notes.csv", declared)
    with pytest.raises(InvalidInput, match="sent as text/html"):
        documents.check_declared(documents.TEXT, "notes", "text/html")
    assert documents.clean_filename("notes.csv", documents.TEXT) == "notes.csv.txt"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("scan.pdf", "scan.pdf"),
        ("C:\\Users\\ana\\Desktop\\Carta al ICE.pdf", "Carta al ICE.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("evil\u202egpj.pdf", "evil gpj.pdf"),
        ("line\r\nbreak.pdf", "line break.pdf"),
        ("letter v1.2", "letter v1.2.pdf"),
        ("", "document.pdf"),
        ("...", "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 114 + ".pdf"),
    ],
)
def test_a_filename_is_kept_without_paths_controls_or_excess(given: str, kept: str) -> None:
    assert documents.clean_filename(given, documents.PDF) == kept


def test_attaching_stores_size_and_sha256_audits_and_publishes_in_one_transaction(
    session: Session, records: tuple[Letter, Response]
) -> None:
    letter, _ = records
    factories.webhook(session, events=["document.created", "document.deleted"])
    document = attach(session, letter, "scan.pdf", PDF)
    assert (document.size, document.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert document.content_type == "application/pdf" and document.public is False
    entry = session.scalars(
        sa.select(AuditEntry).where(
            col(AuditEntry.entity) == "document", col(AuditEntry.entity_id) == document.id
        )
    ).one()
    assert entry.action is AuditAction.create
    assert entry.jurisdiction_id == letter.jurisdiction_id  # in the dossier's history
    assert "content" not in entry.changes and entry.changes["sha256"][1] == document.sha256
    [delivery] = factories.deliveries(session)
    assert delivery.event == "document.created"
    # A private document's event says only which record it belongs to.
    assert SECRET_NAME not in delivery.body and '"filename"' not in delivery.body
    assert f'"letter_id":{letter.id}' in delivery.body

    documents.delete(session, document, CLI)
    session.commit()
    assert session.get(Document, document.id) is None
    events = [d.event for d in factories.deliveries(session)]
    assert events == ["document.created", "document.deleted"]
    actions = session.scalars(
        sa.select(col(AuditEntry.action)).where(
            col(AuditEntry.entity) == "document", col(AuditEntry.entity_id) == document.id
        )
    ).all()
    assert list(actions) == [AuditAction.create, AuditAction.delete]


def test_a_public_documents_event_carries_its_metadata(
    session: Session, records: tuple[Letter, Response]
) -> None:
    _, answer = records
    factories.webhook(session, events=["document.created"])
    attach(session, answer, "minutes.txt", TEXT, public=True)
    [delivery] = factories.deliveries(session)
    assert (
        '"filename":"minutes.txt"' in delivery.body
        and '"content_type":"text/plain"' in delivery.body
    )


def test_a_letter_or_response_with_documents_is_not_deleted_and_the_409_names_them(
    session: Session, records: tuple[Letter, Response]
) -> None:
    _, answer = records
    attach(session, answer, "denial.pdf", PDF)
    with pytest.raises(Conflict, match=r"denial\.pdf"):
        responses.delete(session, answer, CLI)
    session.rollback()
    j = factories.jurisdiction(session)
    chaser = factories.letter(session, j, factories.agency(session), subject="Second request")
    attach(session, chaser, "request.pdf", PDF)
    with pytest.raises(Conflict, match=r"request\.pdf\): delete them first"):
        letters.delete(session, chaser, CLI)


def test_the_service_refuses_more_than_the_limit(
    session: Session, records: tuple[Letter, Response]
) -> None:
    letter, _ = records
    with pytest.raises(TooLarge):
        documents.attach(
            session, letter=letter, filename="big.txt", data=b"a" * 2049, public=False,
            actor=CLI, max_bytes=2048,
        )  # fmt: skip


# The API.


def upload(client: TestClient, path: str, name: str, content: bytes, kind: str, **extra):
    return client.post(path, files={"file": (name, content, kind)}, **extra)


@pytest.mark.parametrize("name", list(FILES))
def test_each_type_is_uploaded_to_a_letter_and_a_response_through_the_api(
    client: TestClient, credentials: Credentials, records: tuple[Letter, Response], name: str
) -> None:
    letter, answer = records
    data, kind = FILES[name]
    writer = credentials.headers("write")
    for path in (
        f"/api/v1/letters/{letter.id}/documents",
        f"/api/v1/responses/{answer.id}/documents",
    ):
        r = upload(client, path, name, data, kind, data={"public": "true"}, headers=writer)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["filename"] == name and body["content_type"] == kind
        assert body["size"] == len(data) and body["sha256"] == hashlib.sha256(data).hexdigest()
        assert body["public"] is True
        assert r.headers["location"].endswith(f"/api/v1/documents/{body['id']}")
        assert body["url"].endswith(f"/api/v1/documents/{body['id']}/file")
        assert client.get(body["url"]).content == data  # public: anyone fetches it
        listed = client.get(path).json()
        assert body["id"] in [d["id"] for d in listed["items"]]


def test_a_pdf_name_with_html_bytes_is_refused_by_the_api(
    client: TestClient, session: Session, credentials: Credentials, records: tuple[Letter, Response]
) -> None:
    letter, _ = records
    r = upload(
        client, f"/api/v1/letters/{letter.id}/documents", "letter.pdf", HTML, "application/pdf",
        headers=credentials.headers("write"),
    )  # fmt: skip
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "file"
    assert "HTML" in r.json()["detail"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_an_empty_file_a_missing_file_and_a_bad_public_flag_are_refused(
    client: TestClient, credentials: Credentials, records: tuple[Letter, Response]
) -> None:
    letter, _ = records
    path, writer = f"/api/v1/letters/{letter.id}/documents", credentials.headers("write")
    empty = upload(client, path, "scan.pdf", b"", "application/pdf", headers=writer)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    missing = client.post(
        path, data={"public": "true"}, files={"other": ("x", b"x")}, headers=writer
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"
    flag = upload(client, path, "scan.pdf", PDF, "application/pdf", data={"public": "maybe"},
                  headers=writer)  # fmt: skip
    assert flag.status_code == 422 and flag.json()["errors"][0]["field"] == "public"


def test_uploading_needs_scope_write(
    client: TestClient, credentials: Credentials, records: tuple[Letter, Response]
) -> None:
    letter, _ = records
    path = f"/api/v1/letters/{letter.id}/documents"
    assert upload(client, path, "scan.pdf", PDF, "application/pdf").status_code == 401
    read = upload(client, path, "scan.pdf", PDF, "application/pdf",
                  headers=credentials.headers("read"))  # fmt: skip
    assert read.status_code == 403
    assert client.post("/api/v1/letters/999999/documents", files={"file": ("a.pdf", PDF)},
                       headers=credentials.headers("write")).status_code == 404  # fmt: skip


@pytest.fixture
def small_client(session: Session, app_settings) -> Iterator[TestClient]:
    """The app with a 4 KiB upload limit."""
    url = app_settings.database_url
    app = create_app(make_settings(url, max_upload_bytes=4096))
    use_test_session(app, session)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.engine.dispose()


def test_an_oversized_upload_is_refused_without_reading_the_whole_body(
    small_client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, _ = records
    path, writer = f"/api/v1/letters/{letter.id}/documents", credentials.headers("write")
    boundary = "optout-boundary"
    declared = small_client.post(
        path, content=b"a" * 200_000,
        headers={**writer, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    assert declared.status_code == 413  # a Content-Length over the limit: refused unread
    # Over the file's limit, within the body's room for the form around it.
    near = upload(small_client, path, "big.txt", b"a" * 5000, "text/plain", headers=writer)
    assert near.status_code == 413 and near.json()["errors"][0]["field"] == "file"
    fits = upload(small_client, path, "fits.txt", b"a" * 4096, "text/plain", headers=writer)
    assert fits.status_code == 201, fits.text
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1


MB = 1_048_576


def test_a_streamed_upload_is_cut_off_at_the_limit(databases: DatabaseFactory) -> None:
    """A body without a length, sent by a real client to a real server: the answer comes
    while the client is still sending, and the server took in a small part of it."""
    url = seeded_database(databases)
    engine = create_db_engine(make_settings(url))
    with unit_of_work(engine) as s:
        j = factories.jurisdiction(s)
        letter = factories.letter(s, j, factories.agency(s))
        _, token = accounts.create_api_key(s, "uploader", Scope.write, CLI)
        letter_id = letter.id
    engine.dispose()
    app = create_app(make_settings(url, max_upload_bytes=4096))
    boundary = "optout-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"'
        "\r\nContent-Type: text/plain\r\n\r\n"
    ).encode()
    chunk = b"a" * 65_536
    with serving(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST /api/v1/letters/{letter_id}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode()
            + f"{len(head):x}\r\n".encode() + head + b"\r\n"
        )  # fmt: skip
        sock.setblocking(False)
        sent = 0
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            while sent < 256 * MB and not select.select([sock], [], [], 0)[0]:
                sent += sock.send(framed)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass  # the server stopped taking it in
        assert select.select([sock], [], [], 10)[0], "the server waited for the whole body"
        sock.setblocking(True)
        assert sock.recv(12).decode()[-3:] == "413"
    assert sent < 64 * MB  # what the kernel's buffers held, not a quarter of a gigabyte
    app.state.engine.dispose()


def test_the_bytes_are_served_so_that_no_browser_runs_them(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, answer = records
    public = attach(session, letter, "Carta de Peña – 7 oct.pdf", PDF, public=True)
    private = attach(session, answer, "minutes.txt", TEXT)
    r = client.get(f"/api/v1/documents/{public.id}/file")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == (
        'attachment; filename="Carta de Pena _ 7 oct.pdf"; '
        "filename*=UTF-8''Carta%20de%20Pe%C3%B1a%20%E2%80%93%207%20oct.pdf"
    )
    assert "sandbox" in r.headers["content-security-policy"]
    assert r.headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert "public" in r.headers["cache-control"]
    again = client.get(r.request.url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and not again.content

    assert client.get(f"/api/v1/documents/{private.id}/file").status_code == 404
    assert client.get(f"/api/v1/documents/{private.id}").status_code == 404
    reader = client.get(f"/api/v1/documents/{private.id}/file", headers=credentials.headers("read"))
    assert reader.status_code == 200 and reader.content == TEXT
    assert reader.headers["content-type"] == "text/plain; charset=utf-8"
    assert reader.headers["cache-control"].startswith("private")


def test_metadata_and_delete_with_if_match(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, _ = records
    document = attach(session, letter, "scan.pdf", PDF)
    admin = credentials.headers("admin")
    r = client.get(f"/api/v1/documents/{document.id}", headers=admin)
    assert r.status_code == 200
    body = r.json()
    expected = {"id", "letter_id", "response_id", "filename", "content_type", "size", "sha256",
                "public", "created_at", "url"}  # fmt: skip
    assert expected <= body.keys() and "content" not in body
    path = f"/api/v1/documents/{document.id}"
    writer = credentials.headers("write")
    assert client.delete(path, headers=writer).status_code == 403
    stale = client.delete(path, headers={**admin, "If-Match": '"document-1-v99-private"'})
    assert stale.status_code == 412
    gone = client.delete(path, headers={**admin, "If-Match": r.headers["etag"]})
    assert gone.status_code == 204
    assert client.get(path, headers=admin).status_code == 404


def test_an_upload_answers_with_the_etag_its_delete_takes(
    client: TestClient, credentials: Credentials, records: tuple[Letter, Response]
) -> None:
    letter, _ = records
    writer, admin = credentials.headers("write"), credentials.headers("admin")
    made = upload(client, f"/api/v1/letters/{letter.id}/documents", "scan.pdf", PDF,
                  "application/pdf", headers=writer)  # fmt: skip
    assert made.status_code == 201, made.text
    path = made.headers["Location"]
    assert made.headers["ETag"] == client.get(path, headers=writer).headers["ETag"]
    assert (
        client.delete(path, headers={**admin, "If-Match": made.headers["ETag"]}).status_code == 204
    )


def test_the_openapi_document_describes_the_multipart_upload(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/letters/{letter_id}/documents",
        "/api/v1/responses/{response_id}/documents",
    ):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        assert body["schema"]["properties"]["file"]["format"] == "binary"
        assert "get" in spec["paths"][path]
    assert "delete" in spec["paths"]["/api/v1/documents/{document_id}"]
    assert (
        "application/pdf"
        in (
            spec["paths"]["/api/v1/documents/{document_id}/file"]["get"]["responses"]["200"][
                "content"
            ]
        )
    )
    assert "DocumentPublic" in spec["components"]["schemas"]


# Private documents, for anonymous readers, exist nowhere.


def test_a_private_document_is_invisible_to_anonymous_readers_everywhere(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, answer = records
    hidden = attach(session, letter, SECRET_NAME, PDF)
    attach(session, answer, "public-denial.pdf", PDF, public=True)
    slug = "ca-santa-clara-county"
    places = [
        f"/jurisdictions/{slug}",
        f"/responses/{answer.id}",
        f"/api/v1/letters/{letter.id}/documents",
        f"/api/v1/responses/{answer.id}/documents",
        f"/api/v1/letters/{letter.id}",
        f"/api/v1/jurisdictions/{letter.jurisdiction_id}/timeline",
        "/activity",
        "/feeds/activity.atom",
        f"/feeds/jurisdictions/{slug}.atom",
        "/calendar.ics",
        "/calendar.ics?state=CA",
        "/api/v1/export/letters.csv",
        "/api/v1/export/responses.csv",
        "/api/v1/audit",
    ]
    for path in places:
        r = client.get(path)
        assert SECRET_NAME not in r.text, path
        assert f"/api/v1/documents/{hidden.id}/" not in r.text, path
    assert client.get(f"/api/v1/letters/{letter.id}/documents").json()["total"] == 0
    assert "public-denial.pdf" in client.get(f"/jurisdictions/{slug}").text
    assert "public-denial.pdf" in client.get(f"/responses/{answer.id}").text
    # Signed-in readers and keys see it.
    reader = credentials.headers("read")
    listed = client.get(f"/api/v1/letters/{letter.id}/documents", headers=reader).json()
    assert [d["filename"] for d in listed["items"]] == [SECRET_NAME]
    sign_in(client, credentials, "viewer")
    assert SECRET_NAME in client.get(f"/jurisdictions/{slug}").text


# The pages.


@pytest.mark.parametrize("kind", ["letter", "response"])
def test_an_organizer_uploads_each_type_from_the_letter_or_response_page(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response], kind: str,
) -> None:  # fmt: skip
    record = records[0] if kind == "letter" else records[1]
    sign_in(client, credentials, "organizer")
    page = f"/{kind}s/{record.id}"
    action = f"/{kind}s/{record.id}/documents"
    for name, (data, content_type) in FILES.items():
        form = dict(defaults(client.get(page).text, action))
        r = client.post(
            action, data=form, files={"file": (name, data, content_type)}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        assert r.headers["location"] == page
    shown = client.get(page).text
    assert all(name in shown for name in FILES) and "private" in shown
    owner = col(Document.letter_id if kind == "letter" else Document.response_id)
    stored = session.scalars(sa.select(Document).where(owner == record.id)).all()
    assert len(stored) == len(FILES) and {d.public for d in stored} == {False}


def test_the_letter_form_goes_back_where_it_came_from_and_marks_public(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, _ = records
    sign_in(client, credentials, "organizer")
    token = csrf(client, "/login")
    action = f"/letters/{letter.id}/documents"
    for back, lands in (
        (
            "/jurisdictions/ca-santa-clara-county#documents",
            "/jurisdictions/ca-santa-clara-county#documents",
        ),
        ("https://evil.example/", f"/letters/{letter.id}"),
        ("//evil.example/", f"/letters/{letter.id}"),
        ("/\t/evil.example/", f"/letters/{letter.id}"),
        ("/\\evil.example/", f"/letters/{letter.id}"),
    ):
        r = client.post(
            action, data={"csrf_token": token, "back": back, "public": "on"},
            files={"file": ("scan.pdf", PDF, "application/pdf")}, follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == lands
    stored = session.scalars(sa.select(Document).where(col(Document.letter_id) == letter.id)).all()
    assert len(stored) == 5 and all(d.public for d in stored)


def test_the_page_form_shows_a_missing_or_refused_file_as_a_form_error(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, answer = records
    sign_in(client, credentials, "organizer")
    page, action = f"/responses/{answer.id}", f"/responses/{answer.id}/documents"
    empty_choice = ("", b"", "application/octet-stream")  # what a browser sends with no file chosen
    r = client.post(action, data=dict(defaults(client.get(page).text, action)),
                    files={"file": empty_choice})  # fmt: skip
    assert r.status_code == 422
    assert "The file is missing: choose one to upload" in r.text
    assert f'action="{action}"' in r.text and 'enctype="multipart/form-data"' in r.text
    r = client.post(action, data=dict(defaults(client.get(page).text, action)),
                    files={"file": ("letter.pdf", HTML, "application/pdf")})  # fmt: skip
    assert r.status_code == 422 and "HTML" in r.text and 'aria-invalid="true"' in r.text
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    letter_action = f"/letters/{letter.id}/documents"
    r = client.post(letter_action, data={"csrf_token": csrf(client, page)},
                    files={"file": ("empty.txt", b"", "text/plain")})  # fmt: skip
    assert r.status_code == 422 and "The file is empty" in r.text


def test_visitors_are_sent_to_sign_in_and_viewers_may_not_upload(
    client: TestClient, credentials: Credentials, records: tuple[Letter, Response]
) -> None:
    _, answer = records
    action = f"/responses/{answer.id}/documents"
    r = client.post(action, files={"file": ("scan.pdf", PDF)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert '<form class="upload"' not in client.get(f"/responses/{answer.id}").text
    sign_in(client, credentials, "viewer")
    r = client.post(action, data={"csrf_token": csrf(client, "/login")},
                    files={"file": ("scan.pdf", PDF)})  # fmt: skip
    assert r.status_code == 403


def test_the_response_page_shows_the_answer_and_the_letter_it_answers(
    client: TestClient, records: tuple[Letter, Response]
) -> None:
    letter, answer = records
    r = client.get(f"/responses/{answer.id}")
    assert r.status_code == 200
    assert "Opt-out denied" in r.text and "denied" in r.text
    assert f"/letters/{letter.id}" in r.text and "Request to opt out" in r.text
    assert re.search(r"Mar 1, 2011|2011-03-01|March 1, 2011", r.text)
    assert client.get("/responses/999999").status_code == 404
    assert date(2011, 3, 1) == answer.received_on


def test_a_double_tap_on_the_upload_form_stores_the_file_once(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    _, answer = records
    sign_in(client, credentials, "organizer")
    page, action = f"/responses/{answer.id}", f"/responses/{answer.id}/documents"
    form = dict(defaults(client.get(page).text, action))
    for _ in range(2):
        r = client.post(action, data=form, files={"file": ("scan.pdf", PDF, "application/pdf")},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == page
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1


def test_the_pages_listing_documents_ask_the_same_queries_for_one_or_many(
    client: TestClient, session: Session, credentials: Credentials, count_queries,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    letter, answer = records
    sign_in(client, credentials, "viewer")
    attach(session, letter, "one.pdf", PDF)
    attach(session, answer, "two.pdf", PDF)
    paths = ("/jurisdictions/ca-santa-clara-county", f"/responses/{answer.id}")
    counts = {}
    for path in paths:
        client.get(path)  # warm: today's statuses, the session's user
        with count_queries() as q:
            assert client.get(path).status_code == 200
        counts[path] = q.count
    for n in range(6):
        attach(session, letter if n % 2 else answer, f"more-{n}.txt", TEXT, public=n % 3 == 0)
    for path in paths:
        with count_queries() as q:
            r = client.get(path)
        assert "more-4.txt" in r.text  # on the response, so on both
        assert q.count == counts[path], path


def test_deleting_a_response_with_documents_from_its_page_says_which_are_in_the_way(
    client: TestClient, session: Session, credentials: Credentials,
    records: tuple[Letter, Response],
) -> None:  # fmt: skip
    _, answer = records
    attach(session, answer, "ice-denial.pdf", PDF)
    sign_in(client, credentials, "admin")
    form = f"/jurisdictions/ca-santa-clara-county/response/{answer.id}/delete"
    r = client.post(form, data=dict(defaults(client.get(form).text, form)))
    assert r.status_code == 409 and "ice-denial.pdf" in r.text
    session.expire_all()
    assert session.get(Response, answer.id) is not None
