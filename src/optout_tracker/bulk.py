"""Many rows into one table at once, for imports of a hundred thousand records."""

import operator
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from itertools import chain
from sqlite3 import SQLITE_LIMIT_VARIABLE_NUMBER
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

PARAMETERS = 16_000  # at most, in one SQLite INSERT of many rows (its limit: 32,766 or 999)
BEHIND = "optout_written_behind"  # session info: the rows' thread, within written_behind


def insert_many(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    same: Mapping[str, Any],
    *,
    encoded: Collection[str] = (),
) -> None:
    """Insert `rows` into `table` in the session's transaction, each with the values of
    `same` as well. Together they give every column (the primary key may be left out).
    The values of the `encoded` columns are already what the database takes (a JSON
    column's text), and are not converted.

    Each value is converted as SQLAlchemy converts it (its column type's bind processor), but
    the values shared by all rows (timestamps, actor) once, and the driver gets plain tuples:
    SQLAlchemy's own executemany builds and converts a dict per row, which costs several
    times what SQLite takes to store them. PostgreSQL gets them through COPY.

    Within `written_behind`, the rows are stored on a thread of their own while the caller
    goes on.
    """
    if not rows:
        return
    own = [name for name in rows[0] if name not in same]
    columns = [*own, *same]
    missing = {c.name for c in table.c if not c.primary_key} - set(columns)
    if missing:
        raise ValueError(f"rows for {table.name} lack {', '.join(sorted(missing))}")
    connection = session.connection()
    dialect = connection.dialect
    convert = {
        name: None
        if name in encoded
        else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in columns
    }
    tail = [_converted(convert[name], value) for name, value in same.items()]
    # A row's own values at C speed (itemgetter of one key gives the value, not a tuple).
    pick = operator.itemgetter(*own) if len(own) > 1 else lambda row: (row[own[0]],)
    varying = [(i, p) for i, name in enumerate(own) if (p := convert[name])]
    values = []
    for row in rows:
        value = [*pick(row), *tail]
        for i, process in varying:
            value[i] = process(value[i])
        values.append(tuple(value))
    quote = dialect.identifier_preparer.quote
    into = f"{quote(table.name)} ({', '.join(map(quote, columns))})"
    store = partial(_store, dialect, connection.connection.driver_connection, into, values)
    behind: _Behind | None = session.info.get(BEHIND)
    if behind is None:
        store()
    else:
        behind.submit(store)


def _store(dialect: sa.Dialect, driver: Any, into: str, values: list[tuple[Any, ...]]) -> None:
    """The rows sent to the database by its driver, as insert_many prepared them."""
    error: Any = dialect.loaded_dbapi.Error
    sql = ""
    try:
        if dialect.name == "postgresql":
            sql = f"COPY {into} FROM STDIN"
            # COPY streams the rows; an INSERT per row is a round of parsing and planning each.
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for each in values:
                    copy.write_row(each)
            return
        # Many rows to an INSERT: executemany steps one statement per row, each reset, bound
        # and run with the GIL given up and taken back, a third of SQLite's time on an import.
        limit = driver.getlimit(SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(PARAMETERS, limit) // len(values[0]))
        marks = f"({', '.join('?' * len(values[0]))})"
        for start in range(0, len(values), per):
            chunk = values[start : start + per]
            sql = f"INSERT INTO {into} VALUES {', '.join([marks] * len(chunk))}"
            driver.execute(sql, tuple(chain.from_iterable(chunk)))
    except error as exc:  # as SQLAlchemy wraps it: IntegrityError...
        raise sa.exc.DBAPIError.instance(sql, None, exc, error) from exc


class _Behind:
    """Stores insert_many's rows on a thread of its own, in order, while the session's
    thread checks and prepares the next: the database's part of an import (SQLite stepping
    its INSERTs, PostgreSQL taking the COPY) runs without the GIL, beside Python's.

    The connection is the session's: whatever else it is asked to do (a query, a flush, a
    savepoint, the commit) first waits for the rows in flight, so the statements keep their
    order and the connection is never used by two threads at once. At most IN_FLIGHT calls'
    rows wait to be stored, so that memory holds a few blocks of an import, not the file.
    """

    IN_FLIGHT = 4  # two of an import's blocks: each its records, then their audit entries

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="written-behind")
        self._running: deque[Future[None]] = deque()

    def submit(self, store: Callable[[], None]) -> None:
        if len(self._running) == self.IN_FLIGHT:
            self._next()
        self._running.append(self._thread.submit(store))

    def wait(self, *_event: Any) -> None:
        """Until the rows in flight are stored; raises what storing them raised first."""
        while self._running:
            self._next()

    def _next(self) -> None:
        oldest = self._running.popleft()
        try:
            oldest.result()
        except BaseException:
            self.settle()  # those after it ran in a failed transaction: their errors are moot
            raise

    def settle(self, *_event: Any) -> None:
        """Until nothing is in flight, whatever became of it: before a rollback."""
        while self._running:
            self._running.popleft().exception()  # undone by the rollback

    def close(self) -> None:
        self.settle()
        self._thread.shutdown()


@contextmanager
def written_behind(session: Session) -> Iterator[None]:
    """insert_many's rows stored on a thread of their own while the block goes on (`_Behind`);
    all of them stored when it ends, or the first error storing them raised then, if not
    before (at the next statement of the session's)."""
    connection = session.connection()
    behind = _Behind()
    listeners = (
        ("before_cursor_execute", behind.wait),
        ("commit", behind.wait),
        ("rollback", behind.settle),
    )
    for name, listener in listeners:
        sa.event.listen(connection, name, listener)
    session.info[BEHIND] = behind
    try:
        yield
        behind.wait()
    finally:
        del session.info[BEHIND]
        for name, listener in listeners:
            sa.event.remove(connection, name, listener)
        behind.close()


def _converted(process: Any, value: Any) -> Any:
    return process(value) if process else value
