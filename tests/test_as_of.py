"""Status as of any day through the API: a jurisdiction, the list, exports, the summary and
by-FIPS answer for the day asked, from the facts, and agree with each other and with today's
stored answer."""

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind, VoteOutcome
from optout_tracker.models import Jurisdiction, JurisdictionStatus
from optout_tracker.services import status_as_of
from tests import factories
from tests.conftest import Credentials

API = "/api/v1"
VOTED = date(2010, 9, 28)  # Santa Clara's opt-out vote
WROTE = date(2010, 10, 7)
ACTIVATED = date(2011, 6, 1)


@pytest.fixture
def santa_clara(session: Session) -> Jurisdiction:
    """A county that voted, wrote to ICE and was then activated: a different answer on each
    of four days."""
    j = factories.jurisdiction(session, "06085")
    j.activated_on = ACTIVATED
    factories.vote(session, j, held_on=VOTED)
    factories.letter(session, j, factories.agency(session, AgencyKind.ice), sent_on=WROTE)
    session.commit()
    return j


def get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(f"{API}{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("day", "status", "activated", "despite"),
    [
        (VOTED - timedelta(days=1), "no_action", False, False),
        (VOTED, "vote_passed", False, False),
        (WROTE, "notified", False, False),
        (ACTIVATED, "notified", True, True),
    ],
)
def test_a_jurisdiction_as_of_a_day(
    client: TestClient,
    santa_clara: Jurisdiction,
    day: date,
    status: str,
    activated: bool,
    despite: bool,
) -> None:
    shown = get(client, f"/jurisdictions/{santa_clara.id}", as_of=day.isoformat())
    assert shown["as_of"] == day.isoformat()
    assert (shown["status"], shown["activated"], shown["activated_despite_opt_out"]) == (
        status,
        activated,
        despite,
    )
    listed = get(client, "/jurisdictions", as_of=day.isoformat(), status=status, state="CA")
    assert santa_clara.id in [item["id"] for item in listed["items"]]
    assert [i for i in listed["items"] if i["id"] == santa_clara.id] == [shown]
    fips = get(client, "/status/by-fips", as_of=day.isoformat(), state="CA")
    row = next(r for r in fips if r["fips"] == "06085")
    assert (row["status"], row["activated_despite_opt_out"]) == (status, despite)
    assert row["rollout"] == ("activated_despite_opt_out" if despite else "not_activated")


def test_without_as_of_the_answer_is_todays(client: TestClient, santa_clara: Jurisdiction) -> None:
    stored = get(client, f"/jurisdictions/{santa_clara.id}")
    asked = get(client, f"/jurisdictions/{santa_clara.id}", as_of=today().isoformat())
    assert stored == asked
    assert stored["as_of"] == today().isoformat()


def test_a_day_before_any_event_counts_nothing_in_the_list_or_summary(
    client: TestClient, santa_clara: Jurisdiction
) -> None:
    before = get(client, "/jurisdictions", as_of="2000-01-01", status="notified")
    assert before["total"] == 0
    summary = get(client, "/status/summary", as_of="2000-01-01")
    assert summary["as_of"] == "2000-01-01"
    assert summary["overall"]["counts"]["notified"] == 0
    assert summary["effective"]["overall"]["activated_despite_opt_out"] == 0
    later = get(client, "/status/summary", as_of=ACTIVATED.isoformat())
    assert later["by_state"]["CA"]["counts"]["notified"] >= 1
    assert later["effective"]["by_state"]["CA"]["activated_despite_opt_out"] >= 1


def test_list_filters_and_sorts_on_the_days_statuses(
    client: TestClient, santa_clara: Jurisdiction
) -> None:
    day = WROTE.isoformat()
    first = get(client, "/jurisdictions", as_of=day, state="CA", sort="-status", limit=1)
    assert first["items"][0]["id"] == santa_clara.id
    waiting = get(client, "/jurisdictions", as_of=day, awaiting_response="true", state="CA")
    assert [i["id"] for i in waiting["items"]] == [santa_clara.id]
    overdue_then = (WROTE + timedelta(days=31)).isoformat()
    overdue = get(client, "/jurisdictions", as_of=overdue_then, overdue="true", state="CA")
    assert [i["id"] for i in overdue["items"]] == [santa_clara.id]
    not_yet = get(client, "/jurisdictions", as_of=day, overdue="true", state="CA")
    assert not_yet["total"] == 0


def test_export_as_of_a_day(
    client: TestClient, santa_clara: Jurisdiction, credentials: Credentials
) -> None:
    r = client.get(
        f"{API}/export/jurisdictions.csv",
        params={"as_of": VOTED.isoformat(), "state": "CA", "kind": "county"},
    )
    assert r.status_code == 200, r.text
    rows = {row["fips"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["06085"]["status"] == "vote_passed"
    assert rows["06085"]["as_of"] == VOTED.isoformat()


def test_etag_is_per_day_and_revalidates(client: TestClient, santa_clara: Jurisdiction) -> None:
    path = f"{API}/jurisdictions/{santa_clara.id}"
    then = client.get(path, params={"as_of": VOTED.isoformat()})
    now = client.get(path)
    assert then.headers["etag"] != now.headers["etag"]
    again = client.get(
        path, params={"as_of": VOTED.isoformat()}, headers={"If-None-Match": then.headers["etag"]}
    )
    assert again.status_code == 304


def test_an_event_written_into_the_past_changes_that_days_answer(
    client: TestClient, santa_clara: Jurisdiction, credentials: Credentials
) -> None:
    """The answer for a past day is kept per data version: a vote dated back then, which
    leaves today's status alone, still changes it (and its ETag)."""
    day = "2009-06-30"
    path = f"/jurisdictions/{santa_clara.id}"
    before = client.get(f"{API}{path}", params={"as_of": day})
    summary = get(client, "/status/summary", as_of=day)
    assert before.json()["status"] == "no_action"
    r = client.post(
        f"{API}/votes",
        json={
            "jurisdiction_id": santa_clara.id,
            "body": "Board of Supervisors",
            "held_on": "2009-06-01",
            "outcome": VoteOutcome.failed,
        },
        headers=credentials.headers("write"),
    )
    assert r.status_code == 201, r.text
    after = client.get(f"{API}{path}", params={"as_of": day})
    assert after.json()["status"] == "vote_failed"
    assert after.headers["etag"] != before.headers["etag"]
    counted = get(client, "/status/summary", as_of=day)
    assert (
        counted["overall"]["counts"]["vote_failed"]
        == summary["overall"]["counts"]["vote_failed"] + 1
    )
    assert get(client, path)["status"] == "notified"  # today's is unchanged


def test_todays_derived_answer_is_the_stored_one(
    session: Session, santa_clara: Jurisdiction
) -> None:
    """The stored projection and the derivation from the facts agree for today, for every
    jurisdiction (the two ways of reading a day must never tell two stories)."""
    derived = status_as_of.all_derived(session, today())
    stored = {s.jurisdiction_id: s for s in session.scalars(sa.select(JurisdictionStatus))}
    assert derived.keys() == stored.keys()
    for i, values in derived.items():
        assert {k: getattr(stored[i], k) for k in values} == values, i


def test_a_bad_day_is_a_clear_error(client: TestClient, santa_clara: Jurisdiction) -> None:
    for path in (f"/jurisdictions/{santa_clara.id}", "/jurisdictions", "/status/by-fips"):
        r = client.get(f"{API}{path}", params={"as_of": "2011-13-45"})
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "as_of"


def test_nothing_as_of_is_stored(
    session: Session, client: TestClient, santa_clara: Jurisdiction
) -> None:
    """Reading another day writes nothing to the stored projection."""
    rows = lambda: [  # noqa: E731
        (s.jurisdiction_id, s.status, s.revision)
        for s in session.scalars(
            sa.select(JurisdictionStatus).order_by(col(JurisdictionStatus.jurisdiction_id))
        )
    ]
    before = rows()
    get(client, "/status/by-fips", as_of=VOTED.isoformat())
    get(client, "/jurisdictions", as_of=VOTED.isoformat())
    session.expire_all()
    assert rows() == before


def test_the_dossier_as_of_a_day_with_its_next_steps(
    client: TestClient, santa_clara: Jurisdiction
) -> None:
    then = client.get(f"/jurisdictions/{santa_clara.slug}", params={"as_of": VOTED.isoformat()})
    assert then.status_code == 200
    assert "As of <strong>Sep 28, 2010</strong>" in then.text
    assert "Vote passed" in then.text
    assert "Send the written notice to the state identification bureau and to ICE" in then.text
    now = client.get(f"/jurisdictions/{santa_clara.slug}").text
    assert "As of <strong>" not in now
    assert "Send the notice to the state identification bureau too" in now
    assert "Chase the overdue answer" in now
    assert "Activated despite opting out" in now
    assert client.get(f"/jurisdictions/{santa_clara.slug}?as_of=soon").status_code == 422
