"""Log lines as OPTOUT_LOG_FORMAT says: text with a UTC timestamp, or one JSON object per
line; one access line per request with everything an operator asks of it, from a real
`serve` and `worker` too."""

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlmodel import Session

from optout_tracker.cli import main
from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine
from optout_tracker.enums import Scope
from optout_tracker.logs import JsonLines, RequestIdFilter, TextLines
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests.conftest import Credentials, DatabaseFactory, make_settings

UTC_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
SECRET = "test-secret-not-for-production-0123456789"
ACCESS_FIELDS = {
    "time", "level", "logger", "message", "method", "path", "route", "status", "latency_ms",
    "request_id", "actor", "client",
}  # fmt: skip


def test_the_log_format_is_text_unless_set_to_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTOUT_LOG_FORMAT", raising=False)
    assert Settings().log_format == "text"
    monkeypatch.setenv("OPTOUT_LOG_FORMAT", " JSON ")
    assert Settings().log_format == "json"


@pytest.mark.parametrize("given", ["xml", "", "jsonl", "plain"])
def test_a_log_format_other_than_text_or_json_is_refused(given: str) -> None:
    with pytest.raises(ValidationError, match="OPTOUT_LOG_FORMAT must be text or json"):
        Settings(log_format=given)


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_serve_and_worker_stop_at_a_bad_log_format_with_one_clear_line(
    tmp_path: Path, command: list[str]
) -> None:
    env = {"OPTOUT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "OPTOUT_LOG_FORMAT": "yaml"}
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1
    assert "OPTOUT_LOG_FORMAT must be text or json (got 'yaml')" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.db").exists()  # stopped before anything was done


@pytest.fixture
def lines() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """What the app's loggers write, through the filter that `logs.configure` installs; the
    test sets the formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("optout_tracker")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream, handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_text_access_line_is_readable_and_has_a_timestamp(
    client: TestClient,
    credentials: Credentials,
    session: Session,
    lines: tuple[io.StringIO, logging.Handler],
) -> None:
    stream, handler = lines
    handler.setFormatter(TextLines())
    headers = {**credentials.headers("read"), "X-Request-ID": "text-line-1"}
    assert client.get("/api/v1/jurisdictions?limit=1", headers=headers).status_code == 200
    key_id = accounts.authenticate_key(session, credentials.token("read")).id
    access = [line for line in stream.getvalue().splitlines() if "optout_tracker.access" in line]
    assert len(access) == 1
    assert re.fullmatch(
        rf"{UTC_TIME} INFO optout_tracker\.access \[text-line-1\] GET "
        rf"/api/v1/jurisdictions\?limit=1 200 \d+\.\d ms api_key:{key_id} testclient",
        access[0],
    ), access[0]


def test_a_failure_logs_json_lines_with_its_request_id_and_one_access_line_of_status_500(
    client: TestClient, lines: tuple[io.StringIO, logging.Handler]
) -> None:
    stream, handler = lines
    handler.setFormatter(JsonLines())

    def broken() -> None:
        raise RuntimeError("a bug")

    client.app.add_api_route("/broken", broken)  # type: ignore[attr-defined]
    failing = TestClient(client.app, raise_server_exceptions=False)
    r = failing.get("/broken", headers={"X-Request-ID": "json-failure-1"})
    assert r.status_code == 500
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [record for record in records if record.get("request_id") == "json-failure-1"]
    crash = next(record for record in mine if record["logger"] == "optout_tracker.http.problems")
    assert crash["level"] == "ERROR" and "RuntimeError: a bug" in crash["exc_info"]
    (access,) = [record for record in mine if record["logger"] == "optout_tracker.access"]
    assert access["status"] == 500 and access["path"] == "/broken"
    assert access["actor"] == "anonymous"  # no route identified anyone
    assert set(access) == ACCESS_FIELDS


def test_a_line_outside_any_request_names_none() -> None:
    record = logging.LogRecord("optout_tracker.mail_worker", logging.WARNING, __file__, 1,
                               "mail %s not sent", ("alert:1",), None)  # fmt: skip
    RequestIdFilter().filter(record)
    line = json.loads(JsonLines().format(record))
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["message"] == "mail alert:1 not sent" and re.fullmatch(UTC_TIME, line["time"])
    assert "[-]" in TextLines().format(record)


# --- the commands, as an operator runs them ------------------------------------------------


def run_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from optout_tracker.cli import main; main()", *args]


def admin_token(url: str) -> tuple[int, str]:
    engine = create_db_engine(make_settings(url))
    try:
        with Session(engine) as session:
            key, token = accounts.create_api_key(session, "prometheus", Scope.admin, CLI)
            session.commit()
            return key.id or 0, token
    finally:
        engine.dispose()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of `text`, each of which must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_serve_logs_each_request_once_as_a_json_line_with_every_field(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.new_seeded_url()
    key_id, token = admin_token(url)
    with socket.socket() as s:  # a port the OS says is free
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPTOUT_DATABASE_URL": url, "OPTOUT_SECRET_KEY": SECRET,
           "OPTOUT_LOG_FORMAT": "json"}  # fmt: skip
    stderr = tmp_path / "stderr"
    with stderr.open("w") as errors:
        server = subprocess.Popen(
            run_command("serve", "--port", str(port)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(f"{base}/healthz")
                break
            except httpx2.TransportError:
                assert server.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.2)
        asked = httpx2.get(
            f"{base}/api/v1/jurisdictions?limit=1", headers={**auth, "X-Request-ID": "json-line-1"}
        )
        assert asked.status_code == 200
        scraped = httpx2.get(f"{base}/metrics", headers=auth)
        assert scraped.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    records = json_lines(stderr.read_text())  # every line: JSON, uvicorn's own too
    assert any(r["logger"] == "uvicorn.error" for r in records)
    mine = [r for r in records if r.get("request_id") == "json-line-1"]
    assert len(mine) == 1, mine  # logged once: uvicorn's access line is gone
    (line,) = mine
    assert set(line) == ACCESS_FIELDS
    assert re.fullmatch(UTC_TIME, line["time"])
    assert (line["level"], line["logger"]) == ("INFO", "optout_tracker.access")
    assert (line["method"], line["path"]) == ("GET", "/api/v1/jurisdictions?limit=1")
    assert (line["route"], line["status"]) == ("/api/v1/jurisdictions", 200)
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert (line["actor"], line["client"]) == (f"api_key:{key_id}", "127.0.0.1")
    assert line["message"].startswith("GET /api/v1/jurisdictions?limit=1 200 ")

    counted = {
        (s.name, s.labels.get("route"), s.labels.get("status")): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }
    assert counted[("optout_http_requests_total", "/api/v1/jurisdictions", "200")] == 1
    assert counted[("optout_http_requests_total", "/healthz", "200")] >= 1


def test_the_worker_logs_json_lines_sql_echo_s_too(databases: DatabaseFactory) -> None:
    env = {**os.environ, "OPTOUT_DATABASE_URL": databases.new_seeded_url(),
           "OPTOUT_LOG_FORMAT": "json", "OPTOUT_WEBHOOK_TIMEOUT_SECOND": "5",
           "OPTOUT_SQL_ECHO": "true"}  # fmt: skip
    done = subprocess.run(
        run_command("worker", "--once"), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("worker: 0 delivered") and len(done.stdout.splitlines()) == 1
    records = json_lines(done.stderr)
    # OPTOUT_SQL_ECHO's statements: in the same format, once (SQLAlchemy's own plain-text
    # handler on stdout is not added).
    statements = [r["message"] for r in records if r["logger"] == "sqlalchemy.engine.Engine"]
    assert any(s.startswith("SELECT") for s in statements)
    # The misspelt setting is warned about once logging is configured: as JSON too.
    (warning,) = [r for r in records if "OPTOUT_WEBHOOK_TIMEOUT_SECOND " in r["message"]]
    assert warning["level"] == "WARNING" and warning["logger"] == "optout_tracker.config"
    assert "did you mean OPTOUT_WEBHOOK_TIMEOUT_SECONDS?" in warning["message"]
    assert re.fullmatch(UTC_TIME, warning["time"]) and "request_id" not in warning
