"""Malformed CSV is a 422 naming the line, never a 500 or a traceback; exports neutralise
every formula start a spreadsheet knows, and an import reads them back as they were."""

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker import csv_io
from optout_tracker.cli import main
from optout_tracker.config import get_settings
from optout_tracker.models import Vote
from tests import factories
from tests.conftest import Credentials, DatabaseFactory

HEADER = "jurisdiction_fips,body,held_on,outcome\r\n"
GOOD_ROW = "06013,Board of Supervisors,2010-10-26,passed\r\n"
MALFORMED = {
    "a field over csv's limit": HEADER + GOOD_ROW + "06041,B" + "x" * 140_000 + ",2010-1-1,x\r\n",
    "a bare CR in an unquoted field": HEADER + GOOD_ROW + "06041,Board\rof,2010-11-16,failed\r\n",
}
REASONS = ("longer than 131,072 characters", "line break inside a field")


def vote_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Vote)) or 0


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_csv_through_the_api_is_a_422_naming_the_line(
    client: TestClient, session: Session, credentials: Credentials, text: str
) -> None:
    before = vote_count(session)
    r = client.post(
        "/api/v1/import/votes", content=text.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("line 3: ") and any(reason in detail for reason in REASONS), detail
    assert vote_count(session) == before


def test_malformed_csv_on_the_command_line_is_one_line_not_a_traceback(
    databases: DatabaseFactory, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTOUT_DATABASE_URL", databases.new_url())
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["seed"]).exit_code == 0
        for name, text in MALFORMED.items():
            source = tmp_path / f"{name}.csv"
            source.write_bytes(text.encode())
            result = runner.invoke(main, ["import", "votes", str(source)])
            assert result.exit_code == 1 and result.exception is not None
            assert isinstance(result.exception, SystemExit), result.exception  # not a crash
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: line 3: "), result.output
    finally:
        get_settings.cache_clear()


FORMULAS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "|calc",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_exports_quote_every_formula_start_as_text(value: str) -> None:
    assert csv_io.cell(value) == "'" + value
    assert csv_io.cell("'" + value) == "''" + value  # typed with an apostrophe: kept as typed


def test_an_export_with_formulas_imports_back_as_it_was(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    body, measure = '\uff1dHYPERLINK("http://evil/")', "|cmd /c calc"
    notes = "'=typed with an apostrophe"
    j = factories.jurisdiction(session, "06001")
    factories.vote(session, j, body=body, measure=measure, public_notes=notes)
    session.commit()
    exported = client.get("/api/v1/export/votes.csv", headers=credentials.headers("read")).text
    row = next(csv_io.read(exported)[1])
    assert (row["body"], row["measure"], row["public_notes"]) == (body, measure, notes)
    assert "'\uff1dHYPERLINK" in exported and "'|cmd" in exported and "''=typed" in exported
    # Read back as they were, the cells are no change; as new rows, copies of the same text.
    without_ids = exported.replace(f"\r\n{row['id']},", "\r\n,", 1)
    for text, created, unchanged in ((exported, 0, 1), (without_ids, 1, 0)):
        r = client.post(
            "/api/v1/import/votes", content=text.encode(),
            headers={**credentials.headers("write"), "Content-Type": "text/csv"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["unchanged"], r.json()["updated"]) == (
            created, unchanged, 0
        )  # fmt: skip
    copies = session.scalars(sa.select(Vote).where(col(Vote.measure) == measure)).all()
    assert len(copies) == 2 and {(v.body, v.public_notes) for v in copies} == {(body, notes)}


def test_quoted_words_in_the_first_rows_do_not_confuse_the_reader() -> None:
    """A spreadsheet doubles a quote inside quotes; csv.Sniffer once guessed otherwise from
    text like this, and every later column of the row slid over by one."""
    text = (
        "title,summary,source_url\n"
        'Memo,"""The program, as we know it, will be discontinued""",https://example.org/a\n'
        'Review,"reported as ""Monday""; see ""the state\'s party""",https://example.org/b\n'
    )
    header, read = csv_io.read(text)
    rows = list(read)
    assert header == ["title", "summary", "source_url"]
    assert [r["source_url"] for r in rows] == ["https://example.org/a", "https://example.org/b"]
    assert rows[0]["summary"] == '"The program, as we know it, will be discontinued"'
    assert list(csv_io.read(text.replace(",", ";"))[1])[1]["source_url"] == "https://example.org/b"
