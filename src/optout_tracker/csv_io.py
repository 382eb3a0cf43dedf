"""CSV exports: the lists' rows, streamed from the database in the lists' order."""

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session

from .schemas import PRIVATE_FIELDS

BATCH = 1_000  # rows fetched at a time, so memory stays flat however long the export


def columns(model: type[BaseModel], *, private: bool) -> list[str]:
    """The CSV header: the API's fields, with private ones only for callers who may see them."""
    return [c for c in model.model_fields if private or c not in PRIVATE_FIELDS]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A spreadsheet would run "=HYPERLINK(...)" typed into a name or a note: quote it as text.
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def stream(
    session: Session,
    statement: sa.Select[*tuple[Any, ...]],
    to_record: Callable[[Any], BaseModel],
    header: list[str],
) -> Iterator[str]:
    """CSV text in chunks, read in batches while the response is being sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in session.execute(statement.execution_options(yield_per=BATCH)):
        data = to_record(row).model_dump(mode="json")
        writer.writerow([cell(data.get(c)) for c in header])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def read(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of CSV text as spreadsheets save it: comma, semicolon or tab, with or
    without a BOM; a cell an export quoted with an apostrophe reads back as it was."""
    text = text.removeprefix("\ufeff")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip() for h in next(reader, [])]
    rows = []
    for cells in reader:
        line = "".join(cells)
        if not line.strip():
            continue  # spreadsheets leave blank lines at the end
        row = dict(zip(header, map(str.strip, cells), strict=False))
        if "'" in line:  # only then look at each cell: a Python loop per cell costs
            row = {h: _unquote(c) for h, c in row.items()}
        rows.append(row)
    return header, rows


def _unquote(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
