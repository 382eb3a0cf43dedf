"""Ids are never handed out twice, on SQLite as on PostgreSQL: a partner syncing by id must
never take a new record for a deleted one."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories

API = "/api/v1"


def test_after_deleting_the_newest_vote_the_next_gets_a_new_id_and_etag(
    client: TestClient, session: Session, credentials: Any
) -> None:
    admin = credentials.headers("admin")
    j = factories.jurisdiction(session)
    session.commit()
    vote = {"jurisdiction_id": j.id, "body": "Board of Supervisors", "held_on": "2010-09-28"}
    vote |= {"outcome": "passed"}
    first = client.post(f"{API}/votes", json=vote, headers=admin)
    newest = client.post(f"{API}/votes", json=vote | {"held_on": "2010-10-05"}, headers=admin)
    assert first.status_code == newest.status_code == 201, newest.text
    gone_id = newest.json()["id"]
    gone_etag = client.get(f"{API}/votes/{gone_id}").headers["etag"]
    assert client.delete(f"{API}/votes/{gone_id}", headers=admin).status_code == 204

    again = client.post(f"{API}/votes", json=vote | {"held_on": "2010-11-02"}, headers=admin)
    assert again.status_code == 201, again.text
    assert again.json()["id"] > gone_id
    assert client.get(f"{API}/votes/{gone_id}").status_code == 404
    fresh = client.get(f"{API}/votes/{again.json()['id']}", headers={"If-None-Match": gone_etag})
    assert fresh.status_code == 200 and fresh.headers["etag"] != gone_etag


def test_after_deleting_the_newest_jurisdiction_the_next_gets_a_new_id(
    client: TestClient, credentials: Any
) -> None:
    admin = credentials.headers("admin")
    city = {"name": "Testville", "kind": "city", "state": "CA"}
    made = client.post(f"{API}/jurisdictions", json=city, headers=admin)
    assert made.status_code == 201, made.text
    assert (
        client.delete(f"{API}/jurisdictions/{made.json()['id']}", headers=admin).status_code == 204
    )
    again = client.post(f"{API}/jurisdictions", json=city, headers=admin)
    assert again.status_code == 201, again.text
    assert again.json()["id"] > made.json()["id"]
