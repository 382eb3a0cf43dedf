"""Request bodies: an anonymous 49 MB import is refused without being taken in; a writer's
multi-MB import still works; a streamed body over the limit is a 413."""

import select
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.config import Settings
from optout_tracker.main import create_app
from tests import factories
from tests.conftest import Credentials
from tests.live import serving
from tests.test_pages import csrf, sign_in

MB = 1_048_576


@pytest.fixture
def port(app_settings: Settings) -> Iterator[int]:
    app = create_app(app_settings)
    with serving(app) as port:
        yield port
    app.state.engine.dispose()


def answer_before_the_body(port: int, path: str, declared: int, headers: str = "") -> str:
    """POST declaring `declared` bytes, send 1 MB of them, and return the status the server
    answers meanwhile (it must not wait for, let alone hold, the rest)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {declared}\r\n{headers}\r\n".encode()
        )
        sock.setblocking(False)
        sent = 0
        try:
            while sent < MB:
                sent += sock.send(b"x" * (MB - sent))
        except BlockingIOError:
            pass  # the server stopped taking it in: fine
        assert select.select([sock], [], [], 5)[0], "the server waited for the whole body"
        sock.setblocking(True)
        return sock.recv(12).decode()[-3:]


def test_an_anonymous_49_mb_import_is_refused_before_its_body_is_read(port: int) -> None:
    assert answer_before_the_body(port, "/api/v1/import/votes", 49 * MB) == "401"
    bearer = "Authorization: Bearer not-a-key\r\n"
    assert answer_before_the_body(port, "/api/v1/import/votes", 49 * MB, bearer) == "401"
    # Over even the import's limit: refused for its declared length, at once.
    assert answer_before_the_body(port, "/api/v1/import/votes", 60 * MB) == "413"
    assert answer_before_the_body(port, "/api/v1/votes", 2 * MB) == "413"


def test_a_reader_cannot_send_an_import_sized_body_either(
    client: TestClient, credentials: Credentials
) -> None:
    r = client.post(
        "/api/v1/import/votes", content=b"x" * (2 * MB), headers=credentials.headers("read")
    )
    assert r.status_code == 403, r.text


NOTES = "Minutes of the meeting. " * 800  # 19,200 characters, under the field's limit
BIG_CSV = "jurisdiction_fips,body,held_on,outcome,public_notes\r\n" + (
    f"06001,Board of Supervisors,2010-09-28,passed,{NOTES}\r\n" * 200
)  # 3.9 MB


def test_a_writer_still_imports_a_multi_megabyte_csv(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    factories.jurisdiction(session, "06001")
    session.commit()
    text = BIG_CSV

    def chunks() -> Iterator[bytes]:  # streamed, without a Content-Length
        data = text.encode()
        for start in range(0, len(data), 64_000):
            yield data[start : start + 64_000]

    assert len(text) > 3 * MB
    for content in (text.encode(), chunks()):
        r = client.post(
            "/api/v1/import/votes", content=content,
            headers={**credentials.headers("write"), "Content-Type": "text/csv"},
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["created"] == 200, r.text[:300]
    upload = client.post(
        "/api/v1/import/votes", files={"file": ("votes.csv", text.encode(), "text/csv")},
        headers=credentials.headers("write"),
    )  # fmt: skip
    assert upload.status_code == 200 and upload.json()["created"] == 200, upload.text[:300]


def test_a_streamed_body_over_the_default_limit_is_a_413_on_other_paths(
    client: TestClient, credentials: Credentials
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 64_000

    r = TestClient(client.app, raise_server_exceptions=False).post(
        "/api/v1/votes", content=chunks(),
        headers={**credentials.headers("write"), "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert "1048576" in r.json()["detail"]


def test_a_signed_in_organizer_uploads_a_multi_megabyte_form_with_its_csrf_token(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    factories.jurisdiction(session, "06001")
    session.commit()
    sign_in(client, credentials, "organizer")
    r = client.post(
        "/api/v1/import/votes", data={"csrf_token": csrf(client, "/login")},
        files={"file": ("votes.csv", BIG_CSV.encode(), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["created"] == 200, r.text[:300]
