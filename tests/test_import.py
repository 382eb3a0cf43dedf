"""CSV imports: every row checked with the API's rules, all written or none."""

import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.cli import main
from optout_tracker.config import get_settings
from optout_tracker.enums import CampaignStatus
from optout_tracker.models import AuditEntry, JurisdictionStatus, Vote
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
    assert r.status_code == 200
    report = r.json()
    assert len(report["created_ids"]) == 2 and report == {
        "kind": "votes",
        "rows": 2,
        "dry_run": False,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "created_ids": report["created_ids"],
        "updated_ids": [],
        "plan": None,
    }
    contra_costa = factories.jurisdiction(session, "06013")
    status = session.get(JurisdictionStatus, contra_costa.id)
    assert status is not None and status.status is CampaignStatus.vote_passed
    marin = session.get(JurisdictionStatus, factories.jurisdiction(session, "06041").id)
    assert marin is not None and marin.status is CampaignStatus.vote_failed
    votes = sa.select(sa.func.count()).where(col(AuditEntry.entity) == "vote")
    assert session.scalar(votes) == 2  # one entry per record, as any write


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
    assert r.json() == {
        "kind": "votes", "rows": 2, "dry_run": True, "created": 2, "updated": 0, "unchanged": 0,
        "created_ids": [], "updated_ids": [],
        "plan": [
            {"row": 2, "action": "created", "id": None, "changed": []},
            {"row": 3, "action": "created", "id": None, "changed": []},
        ],
    }  # fmt: skip
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
    assert "row 2: created new" in result.output and "2 created, 0 updated" in result.output
    result = runner.invoke(main, ["import", "votes", str(source)])
    assert result.exit_code == 0 and "imported 2 votes" in result.output
    [created] = [line for line in result.output.splitlines() if line.startswith("created: ")]
    first, last = map(int, created.removeprefix("created: ").split("-"))
    assert last == first + 1  # the two new ids, as a range
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
