"""SQLite's writers in one process take turns on a lock of ours (db.py), so that the next
starts the moment the last one ends, and a writer that waits too long gets SQLite's own
"database is locked", which the app answers with 503."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from optout_tracker import db
from optout_tracker.db import create_db_engine, unit_of_work
from tests.conftest import make_settings


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = create_db_engine(make_settings(f"sqlite:///{tmp_path / 'turns.db'}"))
    with made.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield made
    made.dispose()


def write(engine: Engine, x: int) -> None:
    with unit_of_work(engine) as session:
        session.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": x})


def held_writer(engine: Engine, until: threading.Event, fail: bool = False) -> threading.Thread:
    """A thread that begins writing, then holds its transaction until `until` is set, then
    commits (or raises, and so rolls back)."""
    began = threading.Event()

    def run() -> None:
        try:
            with unit_of_work(engine) as session:
                session.execute(sa.text("INSERT INTO t VALUES (1)"))
                began.set()
                until.wait(10)
                if fail:
                    raise RuntimeError("the route failed")
        except RuntimeError:
            pass

    thread = threading.Thread(target=run)
    thread.start()
    assert began.wait(10)
    return thread


def count(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return int(session.scalar(sa.text("SELECT count(*) FROM t")) or 0)


def test_a_writer_waits_for_its_turn_and_writes_when_the_last_one_commits(
    engine: Engine,
) -> None:
    done = threading.Event()
    first = held_writer(engine, done)
    second = threading.Thread(target=write, args=(engine, 2))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for its turn
    done.set()
    first.join(10)
    second.join(10)
    assert not second.is_alive() and count(engine) == 2


def test_a_writer_that_waits_past_the_busy_timeout_is_told_the_database_is_locked(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.2)
    done = threading.Event()
    first = held_writer(engine, done)
    start = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        write(engine, 2)
    assert time.monotonic() - start < 2
    done.set()
    first.join(10)
    write(engine, 3)  # the turn is free again
    assert count(engine) == 2


def test_a_rolled_back_writer_ends_its_turn(engine: Engine) -> None:
    failed = threading.Event()
    failed.set()
    held_writer(engine, failed, fail=True).join(10)
    write(engine, 2)
    assert count(engine) == 1


def test_a_connection_invalidated_in_its_transaction_ends_its_turn(engine: Engine) -> None:
    conn = engine.execution_options(**{db.WRITER: True}).connect()
    transaction = conn.begin()
    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    conn.invalidate()
    write(engine, 2)  # before the invalidated transaction is rolled back
    transaction.rollback()
    conn.close()
    assert count(engine) == 1
