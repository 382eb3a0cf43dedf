"""CSV imports: every row checked with the API's rules, all written or none."""

import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.cli import main
from optout_tracker.config import get_settings
from optout_tracker.enums import CampaignStatus
from optout_tracker.history import load_history
from optout_tracker.models import AuditEntry, Jurisdiction, JurisdictionStatus, Letter, Vote
from tests import factories
from tests.conftest import Credentials, DatabaseFactory

API = "/api/v1/import"
VOTES = (
    "jurisdiction_fips,jurisdiction_slug,body,held_on,outcome,yes,no\r\n"
    "06013,,Board of Supervisors,2010-10-26,passed,3,2\r\n"
    ",ca-marin-county,Board of Supervisors,2010-11-16,failed,2,3\r\n"
)


def count(session: Session, model: type) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def post(client: TestClient, credentials: Credentials, kind: str, text: str, **params: str):
    return client.post(
        f"{API}/{kind}", params=params, content=text.encode("utf-8"),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip


def test_votes_import_with_references_by_fips_or_slug(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    r = post(client, credentials, "votes", VOTES)
    assert r.status_code == 200 and r.json() == {
        "kind": "votes",
        "rows": 2,
        "created": 2,
        "dry_run": False,
    }
    contra_costa = factories.jurisdiction(session, "06013")
    status = session.get(JurisdictionStatus, contra_costa.id)
    assert status is not None and status.status is CampaignStatus.vote_passed
    marin = session.get(JurisdictionStatus, factories.jurisdiction(session, "06041").id)
    assert marin is not None and marin.status is CampaignStatus.vote_failed
    assert count(session, AuditEntry) == 2  # one entry per record, as any write


def test_one_bad_row_writes_nothing_and_is_named(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    bad = (
        VOTES
        + "06041,,Board of Supervisors,2010-02-30,passed,-1,0\r\nzz,,Board,2010-01-01,maybe,1,1\r\n"
    )
    before = count(session, Vote)
    r = post(client, credentials, "votes", bad)
    assert r.status_code == 422
    fields = [e["field"] for e in r.json()["errors"]]
    assert "row 4: held_on" in fields and "row 4: yes" in fields
    assert "row 5: jurisdiction_fips" in fields
    assert "2 of 4 rows are invalid" in r.json()["detail"]
    assert count(session, Vote) == before


def test_a_dry_run_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    before = count(session, Vote)
    r = post(client, credentials, "votes", VOTES, dry_run="true")
    assert r.json() == {"kind": "votes", "rows": 2, "created": 0, "dry_run": True}
    assert count(session, Vote) == before


def test_spreadsheet_files_with_a_bom_and_semicolons_import(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    text = "\ufeff" + VOTES.replace(",", ";")
    r = client.post(
        f"{API}/votes", files={"file": ("votes.csv", text.encode("utf-8"), "text/csv")},
        headers=credentials.headers("write"),
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["created"] == 2


def test_unknown_columns_and_non_utf8_are_refused(
    client: TestClient, credentials: Credentials
) -> None:
    r = post(client, credentials, "votes", "jurisdiction_fips,colour\r\n06013,red\r\n")
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "row 1: colour",
        "message": "unknown column",
    }
    r = client.post(
        f"{API}/votes",
        content="body\n\xe9".encode("latin-1"),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]


def test_import_needs_write_access_and_respects_the_row_cap(
    client: TestClient, credentials: Credentials, monkeypatch
) -> None:
    assert client.post(f"{API}/votes", content=VOTES.encode()).status_code == 401
    r = client.post(f"{API}/votes", content=VOTES.encode(), headers=credentials.headers("read"))
    assert r.status_code == 403
    client.app.state.settings = client.app.state.settings.model_copy(update={"import_max_rows": 1})  # type: ignore[attr-defined]
    r = post(client, credentials, "votes", VOTES)
    assert r.status_code == 422 and "over the limit of 1" in r.json()["detail"]


def test_export_then_import_round_trips(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    load_history(session, 30)
    session.commit()
    letters_before = count(session, Letter)
    exported = client.get("/api/v1/export/letters.csv", headers=credentials.headers("read")).text
    r = post(client, credentials, "letters", exported)
    assert r.status_code == 200, r.text
    assert count(session, Letter) == 2 * letters_before
    jurisdictions = client.get("/api/v1/export/jurisdictions.csv?fips=06085").text
    again = post(client, credentials, "jurisdictions", jurisdictions)
    assert again.status_code == 409 or again.status_code == 422  # Santa Clara exists already
    assert count(session, Jurisdiction) == 3192


def test_import_and_export_from_the_command_line(
    databases: DatabaseFactory, tmp_path, monkeypatch
) -> None:
    url = databases.new_url()
    monkeypatch.setenv("OPTOUT_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(main, ["seed"]).exit_code == 0
    source = tmp_path / "votes.csv"
    source.write_text(VOTES, encoding="utf-8")
    result = runner.invoke(main, ["import", "votes", str(source), "--dry-run"])
    assert result.exit_code == 0 and "would import 2 votes" in result.output
    result = runner.invoke(main, ["import", "votes", str(source)])
    assert result.exit_code == 0 and "imported 2 votes" in result.output
    out = tmp_path / "export.csv"
    result = runner.invoke(main, ["export", "votes", "--out", str(out)])
    assert result.exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith("public_notes,private_notes") and len(lines) == 3
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "jurisdiction_fips,body,held_on,outcome\n06013,Board,2010-13-01,passed\n", encoding="utf-8"
    )
    result = runner.invoke(main, ["import", "votes", str(bad)])
    assert result.exit_code == 1 and "row 2: held_on" in result.output
    get_settings.cache_clear()
