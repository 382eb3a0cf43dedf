"""The real app on a database of its own, as in production: under uvicorn in a thread on a
free port of 127.0.0.1, or with a TestClient whose every request commits."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.conftest import DatabaseFactory


def seeded_database(databases: DatabaseFactory) -> str:
    """The URL of a new database with the reference data (some 3,300 jurisdictions)."""
    return databases.new_seeded_url()


@contextmanager
def serving(app: FastAPI) -> Iterator[int]:
    """Serve `app` until the block ends; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
