"""/api/v1/changes: a partner keeps a copy in sync, deletions included, by polling one
public, cursor-paged feed; an edit of private notes alone is no change for anonymous
callers; accounts, keys and webhooks never appear."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories
from tests.conftest import Credentials

API = "/api/v1"
PLURAL = {"vote": "votes", "letter": "letters", "jurisdiction": "jurisdictions"}


def feed(client: TestClient, after: str | None = None, **params: Any) -> dict[str, Any]:
    r = client.get(f"{API}/changes", params={**({"after": after} if after else {}), **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_partner_keeps_a_copy_in_sync_deletions_included(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    write, admin = credentials.headers("write"), credentials.headers("admin")
    j = factories.jurisdiction(session, "06085")
    session.commit()
    start = feed(client)["next_cursor"]
    body = {"jurisdiction_id": j.id, "body": "Board", "held_on": "2010-09-28", "outcome": "passed"}
    kept = client.post(f"{API}/votes", json=body, headers=write).json()
    gone = client.post(f"{API}/votes", json={**body, "measure": "Second"}, headers=write).json()
    client.patch(f"{API}/votes/{kept['id']}", json={"yes": 3}, headers=write)
    client.patch(f"{API}/votes/{kept['id']}", json={"private_notes": "ask Chan"}, headers=write)
    client.delete(f"{API}/votes/{gone['id']}", headers=admin)
    client.post(f"{API}/webhooks", json={"url": "https://example.org/h", "secret": "s" * 32},
                headers=admin)  # fmt: skip

    page = feed(client, start)
    seen = [(c["entity"], c["id"], c["action"]) for c in page["items"]]
    assert seen == [
        ("vote", kept["id"], "created"),
        ("vote", gone["id"], "created"),
        ("vote", kept["id"], "updated"),  # the private note's edit is not shown to anyone
        ("vote", gone["id"], "deleted"),
    ]
    assert all(c["jurisdiction_id"] == j.id for c in page["items"])
    cursors = [int(c["cursor"]) for c in page["items"]]
    assert cursors == sorted(cursors) and page["next_cursor"] == page["items"][-1]["cursor"]
    with_key = feed(TestClient(client.app, headers=credentials.headers("read")), start)
    assert len(with_key["items"]) == 5  # a reader sees the private edit too

    copy: dict[tuple[str, int], dict[str, Any]] = {}
    for change in page["items"]:
        key = (change["entity"], change["id"])
        if change["action"] == "deleted":
            copy.pop(key, None)
        else:
            record = client.get(f"{API}/{PLURAL[change['entity']]}/{change['id']}")
            copy[key] = record.json()
    listed = client.get(f"{API}/votes", params={"jurisdiction_id": j.id}).json()["items"]
    assert copy == {("vote", v["id"]): v for v in listed}

    # Nothing new: no items, and the same cursor to come back with.
    again = feed(client, page["next_cursor"])
    assert again == {"items": [], "next_cursor": page["next_cursor"]}


def test_pages_follow_each_other_without_gaps_or_repeats(
    client: TestClient, credentials: Credentials
) -> None:
    for n in range(5):
        agency = {"name": f"Sheriff's office {n}", "kind": "other"}
        r = client.post(f"{API}/agencies", json=agency, headers=credentials.headers("write"))
        assert r.status_code == 201, r.text
    everything = feed(client, limit=1000)["items"]
    pages, cursor = [], None
    while True:
        page = feed(client, cursor, limit=2)
        pages += page["items"]
        cursor = page["next_cursor"]
        if len(page["items"]) < 2:
            break
    assert pages == everything and len(everything) >= 5


def test_a_bad_cursor_or_limit_is_a_422_naming_it(client: TestClient) -> None:
    for params, field in [({"after": "abc"}, "after"), ({"limit": "0"}, "limit")]:
        r = client.get(f"{API}/changes", params=params)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == [field]
