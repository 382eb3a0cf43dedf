"""The record kinds are listed once (schemas.KINDS), and a record is created one way."""

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker import cli
from optout_tracker.enums import PAST_TENSE, ActorKind, AuditAction
from optout_tracker.history import load_history
from optout_tracker.models import AuditEntry
from optout_tracker.schemas import BY_PLURAL, ENTITIES, KINDS, RECORD_EVENTS
from optout_tracker.services import outbox
from optout_tracker.services.kinds import AGGREGATES
from tests.test_import_bulk import KINDS as ROWS
from tests.test_import_bulk import _content, _world, audit_entries, import_rows

PLURALS = [k.plural for k in KINDS]


def test_every_kind_has_its_service_module() -> None:
    assert list(AGGREGATES) == PLURALS
    for plural, module in AGGREGATES.items():
        assert module.KIND is BY_PLURAL[plural]
        # Found by name, not imported where mypy would check them: what imports, exports and
        # the dossier's forms call on every kind.
        assert callable(module.prepare) and callable(module.ordered)


def test_the_export_routes_are_the_kinds(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    exports = {p: v["get"] for p, v in paths.items() if p.startswith("/api/v1/export/")}
    assert set(exports) == {f"/api/v1/export/{p}.csv" for p in PLURALS}
    for kind in KINDS:
        operation = exports[f"/api/v1/export/{kind.plural}.csv"]
        assert operation["operationId"] == f"export_{kind.plural}"
        assert operation["description"] == kind.export_summary
        query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert query == set(kind.filters.model_fields)


def test_the_import_kinds_are_the_kinds(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/import/{kind}"]["post"]
    (kind,) = [p for p in operation["parameters"] if p["name"] == "kind"]
    assert kind["schema"]["enum"] == PLURALS


def test_the_cli_kinds_are_the_kinds() -> None:
    assert list(cli.KIND.choices) == PLURALS


def test_webhook_events_and_feed_entries_are_of_the_kinds() -> None:
    assert ENTITIES == ("jurisdiction", "agency", "vote", "letter", "response", "announcement")
    assert list(ENTITIES) == [str(k.model.__tablename__) for k in KINDS]
    assert set(RECORD_EVENTS) == {f"{e}.{p}" for e in ENTITIES for p in PAST_TENSE.values()}


def _created_event(session: Session, entity: str) -> dict[str, Any]:
    """The data of the one `<entity>.created` event pending, as the commit would make it,
    without what differs between two creations of the same record."""
    pending = session.info.get(outbox.PENDING, [])
    (event,) = [e for e in pending if e.name == f"{entity}.created"]
    (data,) = event.shown(session, list(event.ids))  # new records are published in batches
    for key in ("id", "created_at", "updated_at"):
        data.pop(key)
    return data


@pytest.mark.parametrize("kind", PLURALS)
def test_the_api_create_and_the_import_write_the_same_entry_and_event(
    session: Session, kind: str
) -> None:
    row, create = ROWS[kind][0](_world(session)), ROWS[kind][1]
    entity = BY_PLURAL[kind].entity
    with session.begin_nested() as savepoint:
        create(session, row)
        session.flush()
        entry = _content(audit_entries(session, entity)[-1])
        event = _created_event(session, entity)
        savepoint.rollback()
    assert not session.info.get(outbox.PENDING)

    with session.begin_nested() as savepoint:
        assert import_rows(session, kind, [row]).created == 1
        assert _content(audit_entries(session, entity)[-1]) == entry
        assert _created_event(session, entity) == event
        savepoint.rollback()


def test_the_demo_history_is_created_by_the_cli_with_entries_and_events(
    session: Session,
) -> None:
    session.info.pop(outbox.PENDING, None)
    report = load_history(session, 30)
    made = {
        entity: list(
            session.scalars(
                sa.select(AuditEntry).where(
                    col(AuditEntry.entity) == entity,
                    col(AuditEntry.action) == AuditAction.create,
                )
            )
        )
        for entity in ("vote", "letter", "response", "announcement")
    }
    counts = {e: len(entries) for e, entries in made.items()}
    assert counts == {
        "vote": report.votes,
        "letter": report.letters,
        "response": report.responses,
        "announcement": report.announcements,
    }
    assert all(counts.values())
    assert {(e.actor_kind, e.actor_label) for es in made.values() for e in es} == {
        (ActorKind.cli, cli.CLI.label)
    }
    events = [  # a batch publishes the event for each of its records
        e.name for e in session.info.get(outbox.PENDING, []) for _ in getattr(e, "ids", [0])
    ]
    for entity, count in counts.items():
        assert events.count(f"{entity}.created") == count


@pytest.mark.history  # the history is loaded (and committed): this test loads it again
def test_loading_the_demo_again_creates_nothing_and_audits_nothing(session: Session) -> None:
    entries = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    session.info.pop(outbox.PENDING, None)

    again = load_history(session, 30)

    assert (again.votes, again.letters, again.responses, again.announcements) == (0, 0, 0, 0)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries
    assert not session.info.get(outbox.PENDING)
