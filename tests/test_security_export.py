"""Attacks on the connection pool: clients that never read an export, a pool that stays busy.

Each test runs the real app on a database of its own with a tiny pool (2 connections, no
overflow, 1 s wait), on both databases.
"""

import json
import select
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from optout_tracker.db import create_db_engine
from optout_tracker.main import create_app
from optout_tracker.models import Jurisdiction
from tests.conftest import DatabaseFactory, make_settings
from tests.live import seeded_database, serving

TINY_POOL = {"db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout_seconds": 1}
EXPORT = "/api/v1/export/jurisdictions.csv"


@pytest.fixture(scope="module")
def database_url(databases: DatabaseFactory) -> str:
    url = seeded_database(databases)
    engine = create_db_engine(make_settings(url))
    with engine.begin() as conn:  # 3,192 jurisdictions x 5 KB: an export no buffer holds
        conn.execute(sa.update(Jurisdiction).values(public_notes="Campaign notes. " * 320))
    engine.dispose()
    return url


@contextmanager
def tiny_pool_app(url: str, **overrides: Any) -> Iterator[FastAPI]:
    app = create_app(make_settings(url, **{**TINY_POOL, **overrides}))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[FastAPI]:
    with tiny_pool_app(database_url) as app:
        yield app


def never_reading_client(port: int, path: str) -> socket.socket:
    """A socket that asks for `path` and then reads nothing: the server's sends back up."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a tiny window
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def test_clients_that_never_read_an_export_do_not_starve_the_pool(app: FastAPI) -> None:
    with serving(app) as port:
        stalled = [never_reading_client(port, EXPORT) for _ in range(15)]
        try:
            # Wait until the server has answered each one (without reading the answers).
            for sock in stalled:
                assert select.select([sock], [], [], 10)[0], "no answer to an export"
            statuses = [sock.recv(12, socket.MSG_PEEK).decode()[-3:] for sock in stalled]
            assert set(statuses) <= {"200", "503"} and statuses.count("200") >= 2, statuses
            started = time.monotonic()
            url = f"http://127.0.0.1:{port}/api/v1/jurisdictions?limit=1"
            with urllib.request.urlopen(url, timeout=10) as r:  # 503 raises HTTPError
                assert r.status == 200 and json.load(r)["total"] > 3000
            assert time.monotonic() - started < 0.9  # never waited for the pool (1 s)
        finally:
            for sock in stalled:
                sock.close()


def test_a_request_that_gets_no_connection_in_time_is_a_503_with_retry_after(
    app: FastAPI,
) -> None:
    engine = app.state.engine
    with engine.connect(), engine.connect():  # every pooled connection, held
        client = TestClient(app, raise_server_exceptions=False)
        r = client.get("/api/v1/jurisdictions?limit=1")
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5" and "try again" in r.json()["detail"]
        assert client.get(EXPORT).status_code == 503
    assert client.get("/api/v1/jurisdictions?limit=1").status_code == 200


def test_exports_beyond_the_concurrency_are_refused_at_once(database_url: str) -> None:
    # A pool timeout well above what a busy machine takes to refuse, so "at once" is
    # told from "after the pool's wait" without racing the scheduler.
    with tiny_pool_app(database_url, export_concurrency=1, db_pool_timeout_seconds=4) as app:
        client = TestClient(app, raise_server_exceptions=False)
        engine = app.state.engine
        # Once before the pool is held: the process's first request of the day derives
        # today's statuses again, which needs a connection before any route runs.
        assert client.get(EXPORT).status_code == 200
        with engine.connect(), engine.connect():
            # The first export takes the one slot and waits for a connection...
            first: list[int] = []
            waiting = threading.Thread(target=lambda: first.append(client.get(EXPORT).status_code))
            waiting.start()
            slots = app.state.export_slots
            deadline = time.monotonic() + 5
            while slots.acquire(blocking=False):  # free yet: the first has not taken it
                slots.release()
                assert time.monotonic() < deadline, "the first export never took its slot"
                time.sleep(0.005)
            started = time.monotonic()
            second = client.get(EXPORT)  # ...so the second is refused without waiting
            elapsed = time.monotonic() - started
            waiting.join()
        assert second.status_code == 503 and second.headers["retry-after"] == "5"
        assert "exports" in second.json()["detail"] and elapsed < 2
        assert first == [503]  # the pool's own timeout
        r = client.get(EXPORT)
        assert r.status_code == 200 and r.text.count("\r\n") > 3000  # the slot is free again
