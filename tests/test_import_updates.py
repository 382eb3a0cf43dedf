"""CSV round trips: an export edited in a spreadsheet and imported again updates the records
it names by id (jurisdictions also by FIPS or slug), creates the rows without, and leaves the
rest alone; a stale `version` or an unknown id refuses the file."""

import csv
import io
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.cli import main
from optout_tracker.config import get_settings
from optout_tracker.enums import CampaignStatus
from optout_tracker.models import AuditEntry, Jurisdiction, JurisdictionStatus, Letter, Vote
from optout_tracker.schemas import BY_PLURAL, ENTITIES, KINDS
from tests import factories
from tests.conftest import Credentials, DatabaseFactory


def export(client: TestClient, credentials: Credentials, kind: str, query: str = "") -> str:
    r = client.get(f"/api/v1/export/{kind}.csv?{query}", headers=credentials.headers("read"))
    assert r.status_code == 200, r.text
    return r.text


def parsed(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def written(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def imported(
    client: TestClient, credentials: Credentials, kind: str, text: str, **params: str
) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/import/{kind}", params=params, content=text.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def refused(client: TestClient, credentials: Credentials, kind: str, text: str) -> set[tuple]:
    r = client.post(
        f"/api/v1/import/{kind}", content=text.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    return {(e["field"], e["message"]) for e in r.json()["errors"]}


def audited(session: Session) -> int:
    """Audit entries of campaign records (the test's API keys and webhooks have theirs)."""
    stmt = sa.select(sa.func.count()).where(col(AuditEntry.entity).in_(ENTITIES))
    return session.scalar(stmt) or 0


def versions(session: Session, model: Any) -> dict[int, int]:
    session.expire_all()
    return dict(session.execute(sa.select(model.id, model.version)).all())


@pytest.mark.history
@pytest.mark.parametrize("kind", [k.plural for k in KINDS])
def test_an_unedited_export_imports_back_as_all_unchanged(
    client: TestClient, session: Session, credentials: Credentials, kind: str
) -> None:
    factories.announcement(session, factories.agency(session))  # the history has none
    session.commit()
    factories.webhook(session)
    model = BY_PLURAL[kind].model
    before = versions(session, model)
    audit_before, deliveries_before = audited(session), len(factories.deliveries(session))
    text = export(client, credentials, kind)
    rows = len(parsed(text))
    assert rows == len(before) and rows > 0
    report = imported(client, credentials, kind, text)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, rows)
    assert report["created_ids"] == report["updated_ids"] == []
    assert versions(session, model) == before
    assert audited(session) == audit_before
    assert len(factories.deliveries(session)) == deliveries_before  # no webhook event queued


def test_one_edited_cell_is_one_update_with_its_audit_entry_and_events(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    santa_clara, alameda = (
        factories.jurisdiction(session, "06085"),
        factories.jurisdiction(session, "06001"),
    )
    edited = factories.vote(session, santa_clara)
    factories.vote(session, alameda)
    session.commit()
    factories.webhook(session)
    rows = parsed(export(client, credentials, "votes"))
    target = next(r for r in rows if r["id"] == str(edited.id))
    target["outcome"] = "failed"
    report = imported(client, credentials, "votes", written(rows))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert report["updated_ids"] == [edited.id]
    session.expire_all()
    vote = session.get(Vote, edited.id)
    assert vote is not None and vote.outcome == "failed" and vote.version == 2
    entry = session.scalars(sa.select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None and (entry.action, entry.entity, entry.entity_id) == (
        "update", "vote", edited.id
    )  # fmt: skip
    assert entry.changes == {"outcome": ["passed", "failed"]}
    status = session.get(JurisdictionStatus, santa_clara.id)
    assert status is not None and status.status is CampaignStatus.vote_failed
    events = sorted(d.event for d in factories.deliveries(session))
    assert events == ["jurisdiction.status_changed", "vote.updated"]


def test_a_stale_version_refuses_that_row_and_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    first, second = factories.vote(session, j), factories.vote(session, j, body="City Council")
    session.commit()
    rows = parsed(export(client, credentials, "votes"))
    r = client.patch(
        f"/api/v1/votes/{second.id}", json={"yes": 4}, headers=credentials.headers("write")
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    for row in rows:
        row["no"] = "1"  # both edited in the spreadsheet meanwhile
    audit_before = audited(session)
    errors = refused(client, credentials, "votes", written(rows))
    stale = next(n for n, row in enumerate(rows, start=2) if row["id"] == str(second.id))
    assert errors == {
        (
            f"row {stale}: version",
            "version 1 is stale, the record is at version 2: export it again and redo the change",
        )
    }
    assert versions(session, Vote) == {first.id: 1, second.id: 2}  # the good row neither
    assert audited(session) == audit_before


def test_an_unknown_or_repeated_id_is_refused(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    vote = factories.vote(session, factories.jurisdiction(session, "06085"))
    session.commit()
    [row] = parsed(export(client, credentials, "votes"))
    errors = refused(
        client,
        credentials,
        "votes",
        written([{**row, "id": "2000000000"}, {**row, "id": "x"}, row, {**row, "no": "2"}]),
    )
    assert errors == {
        ("row 2: id", "no vote with id 2000000000: leave it empty to create one"),
        ("row 3: id", "must be a whole number"),
        ("row 5: id", f"vote {vote.id} is already in row 4"),
    }
    assert versions(session, Vote) == {vote.id: 1}


def test_a_jurisdictions_export_updates_by_id_fips_or_slug(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    text = export(client, credentials, "jurisdictions", "state=CA&kind=county&sort=fips")
    rows = parsed(text)[:3]
    by_id, by_fips, by_slug = (dict(r) for r in rows)
    by_id["population"] = "1781642"
    by_fips |= {"id": "", "public_notes": "Opted out by letter"}
    by_slug |= {"id": "", "fips": "", "version": "", "population": "1"}
    report = imported(client, credentials, "jurisdictions", written([by_id, by_fips, by_slug]))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 3, 0)
    assert report["updated_ids"] == [int(r["id"]) for r in rows]
    session.expire_all()
    found = [session.get(Jurisdiction, int(r["id"])) for r in rows]
    assert [(j.population, j.public_notes, j.fips, j.version) for j in found if j] == [
        (1781642, None, rows[0]["fips"], 2),
        (int(rows[1]["population"] or 0) or None, "Opted out by letter", rows[1]["fips"], 2),
        (1, None, None, 2),  # an empty cell clears the field, as null in a PATCH
    ]
    assert session.scalar(sa.select(sa.func.count()).select_from(Jurisdiction)) == 3192


def test_a_new_row_next_to_existing_ones_is_created(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    factories.vote(session, j)
    session.commit()
    [row] = parsed(export(client, credentials, "votes"))
    new = {**dict.fromkeys(row, ""), "jurisdiction_fips": "06041", "body": "Board of Supervisors",
           "held_on": "2010-11-16", "outcome": "failed"}  # fmt: skip
    report = imported(client, credentials, "votes", written([row, new]))
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 0, 1)
    [created] = report["created_ids"]
    vote = session.get(Vote, created)
    assert vote is not None and vote.jurisdiction_id == factories.jurisdiction(session, "06041").id


def test_the_dry_run_says_what_each_row_would_do_and_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    kept, edited = factories.vote(session, j), factories.vote(session, j, body="City Council")
    session.commit()
    factories.webhook(session)
    rows = sorted(parsed(export(client, credentials, "votes")), key=lambda r: int(r["id"]))
    rows[1] |= {"yes": "3", "measure": "Resolution 2010-77"}
    rows.append({**rows[0], "id": "", "version": "", "body": "Sheriff's advisory board"})
    audit_before, votes_before = audited(session), versions(session, Vote)
    report = imported(client, credentials, "votes", written(rows), dry_run="true")
    assert report["plan"] == [
        {"row": 2, "action": "unchanged", "id": kept.id, "changed": []},
        {"row": 3, "action": "updated", "id": edited.id, "changed": ["measure", "yes"]},
        {"row": 4, "action": "created", "id": None, "changed": []},
    ]
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 1, 1)
    assert report["created_ids"] == report["updated_ids"] == []
    assert versions(session, Vote) == votes_before and audited(session) == audit_before
    assert factories.deliveries(session) == []


def test_updates_get_the_checks_of_a_patch(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06085")
    ice = factories.agency(session)
    letter = factories.letter(session, j, ice, sent_on=date(2010, 10, 7))
    factories.response(session, j, ice, letter_id=letter.id, received_on=date(2010, 11, 1))
    session.commit()
    [row] = parsed(export(client, credentials, "letters"))
    row["sent_on"] = "2010-12-01"  # after the answer came
    errors = refused(client, credentials, "letters", written([row]))
    r = client.patch(
        f"/api/v1/letters/{letter.id}", json={"sent_on": "2010-12-01"},
        headers=credentials.headers("write"),
    )  # fmt: skip
    assert r.status_code == 422
    assert errors == {(f"row 2: {e['field']}", e["message"]) for e in r.json()["errors"]}
    session.expire_all()
    assert session.get(Letter, letter.id).sent_on == date(2010, 10, 7)  # type: ignore[union-attr]


def test_the_label_columns_are_exported_beside_their_ids_and_ignored_on_import(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06041")
    ice = factories.agency(session)
    factories.letter(session, j, ice)
    factories.announcement(session, ice)
    session.commit()
    text = export(client, credentials, "letters")
    header = text.splitlines()[0].split(",")
    at = header.index("jurisdiction_id")
    assert header[at : at + 3] == ["jurisdiction_id", "jurisdiction_name", "jurisdiction_fips"]
    assert header[header.index("agency_id") + 1] == "agency_name"
    [row] = parsed(text)
    assert (row["jurisdiction_name"], row["jurisdiction_fips"], row["agency_name"]) == (
        "Marin County", "06041", ice.name
    )  # fmt: skip
    [said] = parsed(export(client, credentials, "announcements"))
    assert said["agency_name"] == ice.name and "jurisdiction_name" not in said
    for kind in ("jurisdictions", "agencies"):
        first = export(client, credentials, kind, "limit=1").splitlines()[0]
        assert "_name" not in first and "jurisdiction_fips" not in first
    # Edited, they change nothing: the ids say what the row refers to.
    row |= {"jurisdiction_name": "Nowhere", "jurisdiction_fips": "06001", "agency_name": "FBI"}
    report = imported(client, credentials, "letters", written([row]))
    assert (report["updated"], report["unchanged"]) == (0, 1)


def test_an_anonymous_export_leaves_the_private_notes_alone(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    vote = factories.vote(
        session, factories.jurisdiction(session, "06085"), private_notes="Chan is persuadable"
    )
    session.commit()
    text = client.get("/api/v1/export/votes.csv").text
    assert "private_notes" not in text
    report = imported(client, credentials, "votes", text.replace(",5,0,", ",4,0,"))
    assert report["updated_ids"] == [vote.id]
    session.expire_all()
    stored = session.get(Vote, vote.id)
    assert stored is not None and (stored.yes, stored.private_notes) == (4, "Chan is persuadable")


def test_the_queries_of_a_reimport_do_not_grow_with_its_rows(
    client: TestClient, session: Session, credentials: Credentials, count_queries
) -> None:
    from optout_tracker.security import CLI
    from optout_tracker.services import imports

    j = factories.jurisdiction(session, "06085")
    counts = []
    for n in (5, 50):
        made = [factories.vote(session, j, body=f"Board {i}") for i in range(n)]
        session.commit()
        ids = ",".join(str(v.id) for v in made)
        text = export(client, credentials, "votes", f"jurisdiction_id={j.id}")
        text = "\r\n".join(
            line for line in text.splitlines() if line.split(",")[0] in ids.split(",") + ["id"]
        )
        with count_queries() as queries:
            report = imports.import_csv(
                session, "votes", text, CLI, response_window_days=30, max_rows=1000
            )
        assert report.unchanged == n
        counts.append(queries.count)
    assert counts[0] == counts[1]


def test_a_round_trip_on_the_command_line(
    databases: DatabaseFactory, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("OPTOUT_DATABASE_URL", databases.new_url())
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["seed"]).exit_code == 0
        exported = tmp_path / "agencies.csv"
        assert runner.invoke(main, ["export", "agencies", "--out", str(exported)]).exit_code == 0
        rows = parsed(exported.read_text(encoding="utf-8"))
        rows[0]["notes"] = "Fax confirmed by phone"
        edited = tmp_path / "edited.csv"
        edited.write_text(written(rows), encoding="utf-8")
        result = runner.invoke(main, ["import", "agencies", str(edited), "--dry-run"])
        assert result.exit_code == 0, result.output
        assert f"row 2: updated {rows[0]['id']} (notes)" in result.output
        assert f"row 3: unchanged {rows[1]['id']}" in result.output
        assert f"1 updated, {len(rows) - 1} unchanged" in result.output
        result = runner.invoke(main, ["import", "agencies", str(edited)])
        assert result.exit_code == 0 and "0 created, 1 updated" in result.output
        assert f"updated: {rows[0]['id']}\n" in result.output
        # The same file again: its version 1 is stale now, but it would change nothing.
        again = runner.invoke(main, ["import", "agencies", str(edited)])
        assert again.exit_code == 0 and f"0 updated, {len(rows)} unchanged" in again.output
    finally:
        get_settings.cache_clear()


def test_a_row_naming_its_jurisdiction_by_fips_moves_the_record_when_that_changes(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    vote = factories.vote(session, factories.jurisdiction(session, "06085"))
    session.commit()
    [row] = parsed(export(client, credentials, "votes"))
    del row["jurisdiction_id"], row["jurisdiction_name"]  # a file that names it by FIPS only
    assert imported(client, credentials, "votes", written([row]))["unchanged"] == 1
    row["jurisdiction_fips"] = "06041"
    report = imported(client, credentials, "votes", written([row]))
    assert report["updated_ids"] == [vote.id]
    session.expire_all()
    moved = session.get(Vote, vote.id)
    assert (
        moved is not None and moved.jurisdiction_id == factories.jurisdiction(session, "06041").id
    )


def test_text_with_spaces_at_either_end_or_empty_reads_back_as_unchanged(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    # Cells are read without the spaces around them, and empty as nothing: what the API stored
    # with spaces, or as "", is still no change.
    factories.vote(
        session, factories.jurisdiction(session, "06085"), public_notes="  minutes p. 4 \n",
        measure="", source_url=None,
    )  # fmt: skip
    session.commit()
    report = imported(client, credentials, "votes", export(client, credentials, "votes"))
    assert (report["updated"], report["unchanged"]) == (0, 1)
