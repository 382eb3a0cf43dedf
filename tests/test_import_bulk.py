"""Bulk CSV imports write what the API writes: records, audit entries, webhook events."""

import csv
import gc
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col

from optout_tracker import audit, bulk
from optout_tracker.db_types import utcnow
from optout_tracker.enums import AgencyKind, CampaignStatus
from optout_tracker.errors import InvalidInput, english
from optout_tracker.models import (
    AuditEntry,
    Jurisdiction,
    JurisdictionStatus,
    Vote,
    Webhook,
)
from optout_tracker.schemas import (
    BY_PLURAL,
    AgencyCreate,
    AnnouncementCreate,
    JurisdictionCreate,
    LetterCreate,
    ResponseCreate,
    VoteCreate,
)
from optout_tracker.security import CLI
from optout_tracker.services import (
    agencies,
    announcements,
    imports,
    jurisdictions,
    letters,
    public,
    responses,
    votes,
)
from optout_tracker.text_input import parse
from tests import factories
from tests.conftest import Credentials

MARKER = "PRIVATE-MARKER-import-5d1e"
WINDOW = 30


def import_rows(session: Session, kind: str, rows: list[dict[str, Any]], **options: Any):
    """Import these rows as a CSV file (keys of the first row are the header)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return imports.import_csv(
        session, kind, out.getvalue(), CLI, response_window_days=WINDOW, max_rows=10_000,
        **options,
    )  # fmt: skip


def audit_entries(session: Session, entity: str) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).filter_by(entity=entity).order_by(col(AuditEntry.id))
    return list(session.scalars(stmt))


def test_an_import_publishes_a_created_event_per_record_and_the_status_changes(
    session: Session,
) -> None:
    factories.webhook(session)
    import_rows(
        session,
        "votes",
        [
            {"jurisdiction_fips": "06013", "body": "Board of Supervisors",
             "held_on": "2010-10-26", "outcome": "passed", "private_notes": MARKER},
            {"jurisdiction_fips": "06041", "body": "Board of Supervisors",
             "held_on": "2010-11-16", "outcome": "failed", "private_notes": MARKER},
        ],
    )  # fmt: skip
    session.commit()

    found = factories.deliveries(session)
    assert Counter(d.event for d in found) == {"vote.created": 2, "jurisdiction.status_changed": 2}
    assert not [d.event for d in found if MARKER in d.body]
    bodies = [json.loads(d.body) for d in found]
    for body in (b for b in bodies if b["event"] == "vote.created"):
        vote = session.get(Vote, body["data"]["id"])
        assert vote is not None and vote.private_notes == MARKER
        # What the API's own create publishes: the public shape, without private fields.
        assert body["data"] == public.of(session, vote).hide_private().model_dump(mode="json")
    moves = {
        (b["data"]["jurisdiction"]["fips"], b["data"]["old_status"], b["data"]["new_status"])
        for b in bodies
        if b["event"] == "jurisdiction.status_changed"
    }
    assert moves == {("06013", "no_action", "vote_passed"), ("06041", "no_action", "vote_failed")}


def test_a_dry_run_or_a_bad_file_writes_and_publishes_nothing(session: Session) -> None:
    factories.webhook(session)
    row = {"jurisdiction_fips": "06013", "body": "Board", "held_on": "2010-10-26",
           "outcome": "passed"}  # fmt: skip
    audited = len(audit_entries(session, "vote"))
    report = import_rows(session, "votes", [row], dry_run=True)
    assert report.created == 1 and report.rows == 1 and report.created_ids == []
    with pytest.raises(InvalidInput):
        import_rows(session, "votes", [row, {**row, "outcome": "maybe"}])
    session.commit()
    assert factories.deliveries(session) == [] and len(audit_entries(session, "vote")) == audited


# The audit entry of each kind: what `audit.record` writes when the API creates the same record.


def _world(session: Session) -> dict[str, Any]:
    santa_clara = factories.jurisdiction(session, "06085")
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, santa_clara, sib)
    session.commit()
    return {"j": santa_clara.id, "fips": santa_clara.fips, "sib": sib.id, "letter": letter.id}


KINDS: dict[str, tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[..., SQLModel]]] = {
    "jurisdictions": (
        lambda w: {
            "name": "Testville",
            "kind": "city",
            "state": "CA",
            "population": "1200",
            "private_notes": MARKER,
        },
        lambda s, row: jurisdictions.create(s, parse(JurisdictionCreate, row), CLI),
    ),
    "agencies": (
        lambda w: {
            "name": "Sheriff of Testville",
            "kind": "other",
            "state": "CA",
            "fax": "555-0100",
        },
        lambda s, row: agencies.create(s, parse(AgencyCreate, row), CLI),
    ),
    "votes": (
        lambda w: {
            "jurisdiction_id": str(w["j"]),
            "body": "Board of Supervisors",
            "held_on": "2010-09-28",
            "outcome": "passed",
            "yes": "5",
            "no": "0",
            "private_notes": MARKER,
        },
        lambda s, row: votes.create(s, parse(VoteCreate, row), CLI),
    ),
    "letters": (
        lambda w: {
            "jurisdiction_id": str(w["j"]),
            "agency_id": str(w["sib"]),
            "sent_on": "2010-10-01",
            "purpose": "opt_out_request",
            "channel": "fax",
        },
        lambda s, row: letters.create(s, parse(LetterCreate, row), CLI, WINDOW),
    ),
    "responses": (
        lambda w: {
            "jurisdiction_id": str(w["j"]),
            "agency_id": str(w["sib"]),
            "letter_id": str(w["letter"]),
            "received_on": "2010-11-01",
            "kind": "denied",
            "summary": "No.",
        },
        lambda s, row: responses.create(s, parse(ResponseCreate, row), CLI),
    ),
    "announcements": (
        lambda w: {
            "agency_id": str(w["sib"]),
            "announced_on": "2010-06-01",
            "scope": "CA",
            "effect": "none",
            "title": "The state signs its agreement with ICE",
            "private_notes": MARKER,
        },
        lambda s, row: announcements.create(s, parse(AnnouncementCreate, row), CLI),
    ),
}


def _content(entry: AuditEntry) -> dict[str, Any]:
    """An entry without what differs between two creations of the same record: its id."""
    changes = dict(entry.changes)
    assert changes.pop("id") == [None, entry.entity_id]
    same_id = entry.entity == "jurisdiction" and entry.jurisdiction_id == entry.entity_id
    return {
        "actor": (entry.actor_kind, entry.actor_id, entry.actor_label),
        "action": entry.action,
        "entity": entry.entity,
        "jurisdiction_id": "itself" if same_id else entry.jurisdiction_id,
        "changes": changes,
    }


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_audit_entry_of_an_imported_record_is_the_one_the_api_writes(
    session: Session, kind: str
) -> None:
    row, create = KINDS[kind][0](_world(session)), KINDS[kind][1]
    entity = str(BY_PLURAL[kind].model.__tablename__)
    with session.begin_nested() as savepoint:
        create(session, row)
        session.flush()
        expected = _content(audit_entries(session, entity)[-1])
        savepoint.rollback()

    assert import_rows(session, kind, [row]).created == 1
    entry = audit_entries(session, entity)[-1]
    assert _content(entry) == expected
    record = session.get(BY_PLURAL[kind].model, entry.entity_id)
    assert record is not None and record.version == 1  # type: ignore[attr-defined]
    assert record.created_at == record.updated_at is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_created_records_changes_are_what_audit_diff_makes_of_it(
    session: Session, kind: str
) -> None:
    """The bulk path's JSON text (audit._created_json) says what `diff` of the record's
    snapshot says, secrets hidden as well."""
    body = parse(BY_PLURAL[kind].create, KINDS[kind][0](_world(session)))
    made = json.loads(audit._created_json(body, 7))
    assert made == audit.diff({}, {**audit.snapshot(body), "id": 7})
    assert made["id"] == [None, 7] and all(pair[0] is None for pair in made.values())
    hook = Webhook(url="https://example.org/hook", secret="s" * 32)
    assert json.loads(audit._created_json(hook, 3))["secret"] == [None, audit.HIDDEN]


def test_each_imported_record_gets_its_own_id_across_blocks(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ids come back from bulk inserts (and, on SQLite, are worked out): each audit entry must
    # name the row it describes, in every block.
    monkeypatch.setattr(imports, "BLOCK", 10)
    monkeypatch.setattr(imports, "IDS_AHEAD", 15)
    santa_clara = factories.jurisdiction(session, "06085")
    gone = factories.vote(session, santa_clara)  # the largest id, then deleted
    session.delete(gone)
    session.commit()
    n = imports.BLOCK * 3 + 7
    rows = [
        {"jurisdiction_fips": "06085", "body": f"Board {i}",
         "held_on": (date(2010, 1, 1) + timedelta(days=i)).isoformat(), "outcome": "tabled"}
        for i in range(n)
    ]  # fmt: skip
    import_rows(session, "votes", rows)
    entries = audit_entries(session, "vote")[-n:]
    imported = session.scalars(sa.select(Vote).filter_by(jurisdiction_id=santa_clara.id))
    by_id = {v.id: v for v in imported}
    assert len(by_id) == n and len({e.entity_id for e in entries}) == n
    for entry, row in zip(entries, rows, strict=True):
        vote = by_id[entry.entity_id]
        assert vote.body == row["body"] == entry.changes["body"][1]
        assert vote.held_on.isoformat() == row["held_on"]


def test_an_adjusted_activation_date_moves_the_jurisdiction_with_its_audit_entry(
    session: Session,
) -> None:
    world = _world(session)
    factories.webhook(session)
    import_rows(
        session,
        "responses",
        [
            {"jurisdiction_fips": world["fips"], "agency_id": world["sib"],
             "received_on": "2010-12-01", "kind": "activation_date_adjusted",
             "new_activation_on": "2011-03-01"},
        ],
    )  # fmt: skip
    session.commit()
    j = session.get(Jurisdiction, world["j"])
    assert j is not None and j.scheduled_activation_on == date(2011, 3, 1)
    moved = audit_entries(session, "jurisdiction")[-1]
    assert moved.action == "update" and moved.changes == {
        "scheduled_activation_on": [None, "2011-03-01"]
    }
    status = session.get(JurisdictionStatus, world["j"])
    assert status is not None and status.status is CampaignStatus.delayed
    assert {"response.created", "jurisdiction.updated", "jurisdiction.status_changed"} == {
        d.event for d in factories.deliveries(session)
    }


def test_bad_rows_get_the_apis_messages(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    world = _world(session)
    other = factories.jurisdiction(session, "06001")
    other_letter = factories.letter(session, other, factories.agency(session))
    session.commit()
    good = KINDS["responses"][0](world)
    bad = [
        {**good, "agency_id": "2000000000"},
        {**good, "letter_id": str(other_letter.id)},
        {**good, "received_on": "2010-10-01"},  # before the letter was sent
        {**good, "kind": "activation_date_adjusted"},
        {**good, "received_on": (date.today() + timedelta(days=3)).isoformat()},
    ]
    with pytest.raises(InvalidInput) as raised:
        import_rows(session, "responses", [good, *bad])
    by_row = Counter(e.field.split(":")[0] for e in raised.value.errors)
    assert set(by_row) == {f"row {n}" for n in range(3, 3 + len(bad))}
    for n, body in enumerate(bad, start=3):
        r = client.post(
            "/api/v1/responses",
            json={k: int(v) if k.endswith("_id") else v for k, v in body.items()},
            headers=credentials.headers("write"),
        )
        assert r.status_code == 422, r.text
        api = {(e["field"], e["message"]) for e in r.json()["errors"]}
        imported = {
            (e.field.removeprefix(f"row {n}: "), english(e.message))
            for e in raised.value.errors
            if e.field.startswith(f"row {n}: ")
        }
        assert imported == api


def test_the_queries_of_an_import_do_not_grow_with_its_rows(session: Session, count_queries):
    counts = []
    for fips, n in (("06013", 5), ("06041", 50)):
        row = {"jurisdiction_fips": fips, "body": "Board", "held_on": "2010-10-26",
               "outcome": "passed"}  # fmt: skip
        with count_queries() as queries:
            import_rows(session, "votes", [row] * n)
        counts.append(queries.count)
    assert counts[0] == counts[1]


def test_a_bulk_insert_refuses_rows_that_leave_columns_to_defaults(session: Session) -> None:
    # Column defaults are not applied on this path: a forgotten column must not become NULL.
    j = factories.jurisdiction(session, "06085")
    row = {"jurisdiction_id": j.id, "body": "Board", "held_on": date(2010, 1, 5)}
    with pytest.raises(ValueError, match="rows for vote lack .*created_at.*outcome"):
        bulk.insert_many(session, Vote.__table__, [row], {})  # type: ignore[attr-defined]


def test_status_change_payloads_load_their_jurisdictions_together(
    session: Session, count_queries
) -> None:
    # Each changed jurisdiction is shown in its event: read one by one at commit, a large
    # import's thousands of changes would cost two queries each.
    factories.webhook(session)
    california = sa.select(col(Jurisdiction.fips)).filter_by(state="CA", kind="county")
    counties = sorted(fips or "" for fips in session.scalars(california))
    counts, changes = [], []
    for places in (counties[:3], counties[3:33]):
        rows = [{"jurisdiction_fips": fips, "body": "Board", "held_on": "2010-10-26",
                 "outcome": "passed"} for fips in places]  # fmt: skip
        before = len(factories.deliveries(session))
        with count_queries() as queries:
            import_rows(session, "votes", rows)
            session.commit()
        counts.append(queries.count)
        changes.append(
            [d.event for d in factories.deliveries(session)[before:]].count(
                "jurisdiction.status_changed"
            )
        )
    assert changes == [3, 30]
    assert counts[0] == counts[1]


def test_a_bulk_insert_that_breaks_a_constraint_raises_what_sqlalchemy_raises(
    session: Session,
) -> None:
    # On PostgreSQL the rows go through COPY, past SQLAlchemy: its error must still become
    # an IntegrityError, which the API answers with a 409.
    vote = factories.vote(session, factories.jurisdiction(session, "06085"))
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        bulk.insert_many(session, Vote.__table__, [vote.model_dump()], {})  # type: ignore[attr-defined]


def _vote_rows(jurisdiction_id: int | None, n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"jurisdiction_id": jurisdiction_id, "body": f"Board {start + i}",
         "held_on": date(2010, 1, 5),
         "outcome": "passed", "measure": None, "yes": None, "no": None, "abstain": None,
         "absent": None, "source_url": None, "public_notes": None, "private_notes": None,
         "topic": "opt_out"}
        for i in range(n)
    ]  # fmt: skip


def _stamps() -> dict[str, Any]:
    now = utcnow()
    return {"created_at": now, "updated_at": now, "version": 1}


def test_rows_written_behind_are_there_for_the_next_statement(session: Session) -> None:
    # Stored on another thread while the import goes on: whatever the session asks next
    # (a query, a flush, the savepoint's end) sees them, in their order.
    table = Vote.__table__  # type: ignore[attr-defined]
    place = factories.jurisdiction(session, "06085").id
    rows = _vote_rows(place, 3_000)
    with session.begin_nested(), bulk.written_behind(session):
        bulk.insert_many(session, table, rows[:1_500], _stamps())
        bulk.insert_many(session, table, rows[1_500:], _stamps())  # waits for the first
        bodies = session.scalars(sa.select(col(Vote.body)).order_by(col(Vote.id))).all()
        assert bodies == [r["body"] for r in rows]
        bulk.insert_many(session, table, _vote_rows(place, 10, 3_000), _stamps())
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 3_010


def test_a_failed_write_behind_raises_at_the_next_statement_and_rolls_back(
    session: Session,
) -> None:
    table = Vote.__table__  # type: ignore[attr-defined]
    place = factories.jurisdiction(session, "06085").id
    taken = factories.vote(session, session.get_one(Jurisdiction, place))
    clash = {**_vote_rows(place, 1)[0], "id": taken.id}
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        with bulk.written_behind(session):
            bulk.insert_many(session, table, _vote_rows(place, 5), _stamps())
            bulk.insert_many(session, table, [clash], _stamps())
            session.scalar(sa.select(sa.func.count()).select_from(Vote))  # raises here
            pytest.fail("the failed write went unnoticed")
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    # Nothing in flight is left behind: a failure found only at the block's end raises too.
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        with bulk.written_behind(session):
            bulk.insert_many(session, table, [clash], _stamps())
    assert bulk.BEHIND not in session.info


def test_the_cycle_collector_is_back_on_when_the_last_import_ends(session: Session) -> None:
    row = {"jurisdiction_fips": "06013", "body": "Board", "held_on": "2010-10-26"}
    with pytest.raises(InvalidInput):  # no outcome
        import_rows(session, "votes", [row])
    assert gc.isenabled()
    pause = imports._CyclesUncollected()
    with pause:
        with pause:  # imports in two threads of one server overlap
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_new_records_ids_are_taken_ahead_and_never_twice(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Taken a few blocks' worth at a time (asking waits for the rows written behind); what
    # is left of one batch is used before the next is asked for, and nothing is given twice.
    monkeypatch.setattr(imports, "IDS_AHEAD", 5)
    table = Vote.__table__  # type: ignore[attr-defined]
    ids = imports._Ids(session, table)
    taken = [ids.take(3), ids.take(1), ids.take(4), ids.take(9)]
    flat = [i for batch in taken for i in batch]
    assert [len(batch) for batch in taken] == [3, 1, 4, 9]
    assert flat == sorted(set(flat))  # increasing, each once
    assert flat[:4] == list(range(flat[0], flat[0] + 4))  # one batch of five, in order
