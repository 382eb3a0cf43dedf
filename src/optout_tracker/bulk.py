"""Many rows into one table in one statement, for imports of a hundred thousand records."""

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session


def insert_many(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    same: Mapping[str, Any],
) -> None:
    """Insert `rows` into `table`, each with the values of `same` as well.

    Every column is converted as SQLAlchemy converts it (its type's bind processor for this
    database), but the driver gets plain tuples: SQLAlchemy's executemany builds a dict per
    row and converts each value, also the timestamps and actor that all rows share, which
    costs several times what SQLite takes to store the rows. The rows must name every
    column they set, and the same columns each: column defaults are not applied here.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = [*rows[0], *same]
    statement = sa.insert(table).compile(dialect=dialect, column_keys=names)
    order = statement.positiontup if statement.positional else list(statement.params)
    if order is None or sorted(order) != sorted(names):
        raise ValueError(f"insert into {table.name} needs the columns {sorted(order or [])}")
    convert = {name: _processor(table.c[name].type, dialect) for name in names}
    fixed = {name: _converted(convert[name], value) for name, value in same.items()}
    pick = operator.itemgetter(*order)  # a row's values in the statement's order, at C speed
    varying = [(i, p) for i, name in enumerate(order) if name not in fixed and (p := convert[name])]
    values = []
    for row in rows:
        value = list(pick({**row, **fixed}))
        for i, process in varying:
            value[i] = process(value[i])
        values.append(tuple(value))
    if statement.positional:
        connection.exec_driver_sql(statement.string, values)
    else:  # PostgreSQL's driver takes named parameters
        named = [dict(zip(order, v, strict=True)) for v in values]
        connection.exec_driver_sql(statement.string, named)


def _processor(column_type: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Any:
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _converted(process: Any, value: Any) -> Any:
    return process(value) if process else value
