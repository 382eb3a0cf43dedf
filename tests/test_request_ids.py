"""Every answer carries X-Request-ID: the caller's (a proxy's) when it is a plausible id,
else a new one; a failure's log line and problem name it, so a report can be matched."""

import logging
import re

import pytest
from fastapi.testclient import TestClient

NEW_ID = re.compile(r"[0-9a-f]{32}")


def test_each_answer_gets_an_id_of_its_own_cached_or_not(client: TestClient) -> None:
    ids = []
    for path in ("/", "/", "/api/v1/status/summary", "/no-such-page"):
        r = client.get(path, headers={"Accept": "text/html"})
        assert NEW_ID.fullmatch(r.headers["x-request-id"]), path
        ids.append(r.headers["x-request-id"])
    assert len(set(ids)) == len(ids)  # the second `/` came from the cache, with its own id


@pytest.mark.parametrize("given", ["req-42", "0af7651916cd43dd8448eb211c80319c", "a/b:c=d+e_f.g"])
def test_the_caller_s_id_is_kept(client: TestClient, given: str) -> None:
    for path in ("/", "/api/v1/jurisdictions?limit=1"):
        r = client.get(path, headers={"X-Request-ID": given})
        assert r.headers.get_list("x-request-id") == [given]


@pytest.mark.parametrize("given", ["two words", "x" * 129, "line\\nbreak", "tab\there", ""])
def test_an_id_that_could_break_a_log_line_is_replaced(client: TestClient, given: str) -> None:
    r = client.get("/api/v1/status/summary", headers={"X-Request-ID": given})
    assert NEW_ID.fullmatch(r.headers["x-request-id"])


def test_a_failure_names_its_request_in_the_log_and_the_problem(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    client.app.add_api_route("/broken", broken)  # type: ignore[attr-defined]
    failing = TestClient(client.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="optout_tracker.http.problems"):
        r = failing.get("/broken", headers={"X-Request-ID": "support-ticket-7"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "support-ticket-7"
    assert "request support-ticket-7" in r.json()["detail"]
    assert any("(request support-ticket-7)" in m for m in caplog.messages)
