"""CSV: the lists' rows exported in the lists' order, and imported files parsed."""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import sqlalchemy as sa
from sqlmodel import Session

from .errors import InvalidInput
from .schemas import PRIVATE_FIELDS

BATCH = 1_000  # rows fetched at a time, so memory stays flat however long the export
# A spooled file moves from memory to disk beyond this: a client that never reads its
# export holds a file, not memory (a thousand of them would hold a gigabyte at 1 MiB).
SPOOL_IN_MEMORY = 65_536


def columns(names: Iterable[str], *, private: bool) -> list[str]:
    """The CSV header: these columns, with private ones only for callers who may see them."""
    return [c for c in names if private or c not in PRIVATE_FIELDS]


# Spreadsheets also read the fullwidth signs as formulas, and "|" starts a DDE command.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def plain(value: Any) -> str:
    """A value as its cell reads back on import: text, a date as YYYY-MM-DD, "" for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cell(value: Any) -> str:
    text = plain(value)
    # A spreadsheet would run "=HYPERLINK(...)" typed into a name or a note: quote it as text.
    if isinstance(value, str) and _quoted(text):
        return "'" + text
    return text


def _quoted(text: str) -> bool:
    """Whether an export quotes the text: a formula, or an apostrophe before one (so that
    "'=x" typed by someone reads back as "'=x", not as "=x")."""
    return text.lstrip("'").startswith(FORMULA_STARTS)


Row = Callable[[Any], Mapping[str, Any]]  # a result row to its cells' values, as JSON has them


def stream(
    session: Session, statement: sa.Select[*tuple[Any, ...]], to_row: Row, header: list[str]
) -> Iterator[str]:
    """CSV text in chunks, read in batches while the response is being sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in session.execute(statement.execution_options(yield_per=BATCH)):
        data = to_row(row)
        writer.writerow([cell(data.get(c)) for c in header])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def spool(
    session: Session, statement: sa.Select[*tuple[Any, ...]], to_row: Row, header: list[str]
) -> IO[bytes]:
    """The whole CSV in a temporary file (in memory while small), positioned at its start:
    the database is read at its own pace, not at the pace of the client who downloads it."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        for chunk in stream(session, statement, to_row, header):
            out.write(chunk.encode())
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


DELIMITERS = (",", ";", "\t")  # what spreadsheets save with; the first wins a tie


def read(text: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Header and rows of CSV text as spreadsheets save it: comma, semicolon or tab, with or
    without a BOM; a cell an export quoted with an apostrophe reads back as it was.

    The rows are read as they are asked for, so that an import holds a block of them at a
    time; a line that is not CSV raises InvalidInput when its turn comes."""
    text = text.removeprefix("\ufeff")
    # The header row tells the delimiter; quoting is always a spreadsheet's (a quote inside
    # quotes doubled). csv.Sniffer guessed both from the first rows, and text with quoted
    # words ("as we know it") made it guess the quoting wrong.
    header_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(_lines(text), csv.excel, delimiter=delimiter)
    with _readable(reader):
        header = [h.strip() for h in next(reader, [])]
    return header, _rows(reader, header)


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their ends, as io.StringIO(text) gives them, without its copy
    of the whole text at four bytes a character."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start) + 1 or end
        yield text[start:stop]
        start = stop


def _rows(reader: Iterator[list[str]], header: list[str]) -> Iterator[dict[str, str]]:
    with _readable(reader):
        for cells in reader:
            line = "".join(cells)
            if not line.strip():
                continue  # spreadsheets leave blank lines at the end
            row = dict(zip(header, map(str.strip, cells), strict=False))
            if "'" in line:  # only then look at each cell: a Python loop per cell costs
                row = {h: _unquote(c) for h, c in row.items()}
            yield row


@contextmanager
def _readable(reader: Any) -> Iterator[None]:
    try:
        yield
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: {_unreadable(exc)}") from exc


def _unreadable(exc: csv.Error) -> str:
    """csv's reason in the words of someone who saved the file from a spreadsheet."""
    reason = str(exc)
    if reason.startswith("field larger than field limit"):
        return f"a field is longer than {csv.field_size_limit():,} characters"
    if reason.startswith("new-line character seen in unquoted field"):
        return "a line break inside a field that is not in double quotes"
    return f"the CSV cannot be read: {reason}"


def _unquote(text: str) -> str:
    return text[1:] if text.startswith("'") and _quoted(text[1:]) else text
