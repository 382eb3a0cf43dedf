"""Many rows into one table at once, for imports of a hundred thousand records."""

import operator
from collections.abc import Collection, Mapping, Sequence
from itertools import chain
from sqlite3 import SQLITE_LIMIT_VARIABLE_NUMBER
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

PARAMETERS = 4_000  # at most, in one SQLite INSERT of many rows (its limit: 32,766 or 999)


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
    if dialect.name == "postgresql":
        # COPY streams the rows; an INSERT per row is a round of parsing and planning each.
        sql = f"COPY {into} FROM STDIN"
        psycopg: Any = connection.connection.driver_connection
        try:
            with psycopg.cursor() as cursor, cursor.copy(sql) as copy:
                for each in values:
                    copy.write_row(each)
        except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy wraps it: IntegrityError...
            raise sa.exc.DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error) from exc
    else:
        # Many rows to an INSERT: executemany steps one statement per row, each reset, bound
        # and run with the GIL given up and taken back, a third of SQLite's time on an import.
        sqlite: Any = connection.connection.driver_connection
        limit = sqlite.getlimit(SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(PARAMETERS, limit) // len(columns))
        marks = f"({', '.join('?' * len(columns))})"
        for start in range(0, len(values), per):
            chunk = values[start : start + per]
            sql = f"INSERT INTO {into} VALUES {', '.join([marks] * len(chunk))}"
            connection.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))


def _converted(process: Any, value: Any) -> Any:
    return process(value) if process else value
