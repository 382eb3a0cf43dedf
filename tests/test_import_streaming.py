"""Large imports read, check and write a block of rows at a time, and still write all rows
or none: what a block wrote is undone when a later row fails."""

import csv
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from optout_tracker.errors import FieldError, InvalidInput, english
from optout_tracker.models import AuditEntry, JurisdictionStatus, Letter, Vote, WebhookDelivery
from optout_tracker.security import CLI
from optout_tracker.services import imports
from tests import factories

COUNTIES = ("06001", "06013", "06041", "06075", "06085")


def csv_of(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def votes(n: int) -> list[dict[str, Any]]:
    """n votes spread over a few Bay Area counties, each on its own day."""
    return [
        {"jurisdiction_fips": COUNTIES[i % len(COUNTIES)], "body": "Board of Supervisors",
         "held_on": (date(2010, 1, 1) + timedelta(days=i % 1500)).isoformat(),
         "outcome": "tabled" if i % 7 else "passed"}
        for i in range(n)
    ]  # fmt: skip


def import_text(session: Session, kind: str, text: str, max_rows: int = 100_000, **options: Any):
    return imports.import_csv(
        session, kind, text, CLI, response_window_days=30, max_rows=max_rows, **options
    )


def count(session: Session, *where: Any, model: Any = Vote) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_a_bad_row_after_blocks_were_written_leaves_nothing_and_is_named(
    session: Session,
) -> None:
    rows = votes(10_000)
    rows[8_999]["held_on"] = "2010-02-30"  # the 9,000th row: line 9,001 after the header
    factories.webhook(session)
    before = (count(session), count(session, model=AuditEntry))
    with pytest.raises(InvalidInput) as raised:
        import_text(session, "votes", csv_of(rows))
    assert 9_000 > 2 * imports.BLOCK  # several blocks were written before it
    assert [e.field for e in raised.value.errors] == ["row 9001: held_on"]
    assert "1 of 10000 rows are invalid" in str(raised.value.detail)
    session.commit()
    assert (count(session), count(session, model=AuditEntry)) == before
    assert factories.deliveries(session) == []


def test_every_imported_record_gets_its_audit_entry_and_events(session: Session) -> None:
    n = 2 * imports.BLOCK + 321
    factories.webhook(session)
    report = import_text(session, "votes", csv_of(votes(n)))
    session.commit()
    assert report.created == len(report.created_ids) == len(set(report.created_ids)) == n
    entries = sa.select(col(AuditEntry.entity_id)).filter_by(entity="vote", action="create")
    assert sorted(session.scalars(entries)) == sorted(report.created_ids)
    events = Counter(d.event for d in factories.deliveries(session))
    assert events == {"vote.created": n, "jurisdiction.status_changed": len(COUNTIES)}
    # The statuses were derived once, at the end, from every block's votes.
    for fips in COUNTIES:
        status = session.get(JurisdictionStatus, factories.jurisdiction(session, fips).id)
        assert status is not None and status.status == "vote_passed"


def test_a_dry_run_of_many_blocks_reports_every_row_and_writes_nothing(
    session: Session,
) -> None:
    n = imports.BLOCK + 5
    report = import_text(session, "votes", csv_of(votes(n)), dry_run=True)
    assert (report.rows, report.created, report.created_ids) == (n, n, [])
    assert report.plan is not None and [p["row"] for p in report.plan] == list(range(2, n + 2))
    assert count(session) == 0 and count(session, model=WebhookDelivery) == 0


def test_a_file_over_the_row_limit_is_refused_whole_with_its_count(session: Session) -> None:
    with pytest.raises(InvalidInput, match="3000 rows is over the limit of 2500"):
        import_text(session, "votes", csv_of(votes(3_000)), max_rows=2_500)
    assert count(session) == 0


def test_an_unreadable_line_late_in_the_file_undoes_the_blocks_before_it(
    session: Session,
) -> None:
    text = csv_of(votes(imports.BLOCK + 10)) + '06001,Board,"2010-01-01,tabled\r\n'
    with pytest.raises(InvalidInput, match=r"^line \d+: "):
        import_text(session, "votes", text + "x" * 200_000)
    assert count(session) == 0


def test_an_imported_record_never_takes_a_deleted_records_id(session: Session) -> None:
    j = factories.jurisdiction(session, "06085")
    gone = factories.vote(session, j)
    session.flush()
    gone_id = gone.id
    session.delete(gone)
    session.commit()
    report = import_text(session, "votes", csv_of(votes(3)))
    assert gone_id is not None and min(report.created_ids) > gone_id


def test_rows_cannot_name_the_records_their_own_file_creates(session: Session) -> None:
    # Not in a dry run (nothing is written), nor after a block was written: the same answer.
    j = factories.jurisdiction(session, "06085")
    ice = factories.agency(session)
    session.commit()
    letter = {"jurisdiction_id": j.id, "agency_id": ice.id, "sent_on": "2010-10-01",
              "purpose": "opt_out_request", "follows_letter_id": ""}  # fmt: skip
    before = count(session, model=Letter)
    first = _next_id(session, "letter")
    rows = [dict(letter) for _ in range(imports.BLOCK)]
    rows.append({**letter, "sent_on": "2010-11-01", "follows_letter_id": first})
    for dry_run in (True, False):
        with pytest.raises(InvalidInput) as raised:
            import_text(session, "letters", csv_of(rows), dry_run=dry_run)
        [error] = raised.value.errors
        said = FieldError(error.field, english(error.message))  # as the API and the CLI say it
        assert said == FieldError(
            f"row {imports.BLOCK + 2}: follows_letter_id", f"no letter with id {first}"
        )
        assert count(session, model=Letter) == before


def _next_id(session: Session, table: str) -> int:
    """The id the next record of `table` gets (PostgreSQL: gives the one before it away)."""
    if session.get_bind().dialect.name == "postgresql":
        taken = sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))")
        return int(session.scalar(taken, {"t": table})) + 1
    largest = session.scalar(sa.text(f"SELECT max(id) FROM {table}")) or 0
    given = sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t")
    return max(largest, session.scalar(given, {"t": table}) or 0) + 1
