"""Follows: the API (the caller's own), the /account page and the Follow buttons."""

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.enums import Scope
from optout_tracker.models import AuditEntry
from optout_tracker.services import accounts
from tests import factories
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_pages import csrf, sign_in

SANTA_CLARA = "06085"


def _key_of(session: Session, credentials: Credentials, email: str) -> dict[str, str]:
    """A write key made by a signed-in user: its follows are that user's."""
    user = credentials.user("organizer", email)
    _, token = accounts.create_api_key(
        session, "phone", Scope.write, accounts.user_principal(user, via_session=False)
    )
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_key_owner_follows_reads_changes_and_stops(
    session: Session, client: TestClient, credentials: Credentials
) -> None:
    mine = _key_of(session, credentials, "ana@example.org")
    theirs = _key_of(session, credentials, "ben@example.org")
    j = factories.jurisdiction(session, SANTA_CLARA)
    body = {"target": "jurisdiction", "jurisdiction_id": j.id, "alerts": "daily"}
    created = client.post("/api/v1/follows", json=body, headers=mine)
    assert created.status_code == 201, created.text
    follow = created.json()
    assert created.headers["Location"].endswith(f"/api/v1/follows/{follow['id']}")
    assert (follow["target"], follow["alerts"], follow["state"]) == ("jurisdiction", "daily", None)
    again = client.post("/api/v1/follows", json=body, headers=mine)
    assert again.status_code == 409 and str(follow["id"]) in again.json()["detail"]
    assert client.post("/api/v1/follows", json=body, headers=theirs).status_code == 201
    assert [f["id"] for f in client.get("/api/v1/follows", headers=mine).json()] == [follow["id"]]
    one = client.get(f"/api/v1/follows/{follow['id']}", headers=mine)
    assert one.status_code == 200 and one.headers["ETag"]
    assert client.get(f"/api/v1/follows/{follow['id']}", headers=theirs).status_code == 404
    stale = {**mine, "If-Match": '"follow-0-v0"'}
    assert (
        client.patch(f"/api/v1/follows/{follow['id']}", json={"alerts": "off"}, headers=stale)
    ).status_code == 412
    changed = client.patch(
        f"/api/v1/follows/{follow['id']}",
        json={"alerts": "weekly"},
        headers={**mine, "If-Match": one.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.json()["alerts"] == "weekly"
    assert client.delete(f"/api/v1/follows/{follow['id']}", headers=theirs).status_code == 404
    assert client.delete(f"/api/v1/follows/{follow['id']}", headers=mine).status_code == 204
    assert client.get("/api/v1/follows", headers=mine).json() == []


def test_follows_are_validated_field_by_field(
    session: Session, client: TestClient, credentials: Credentials
) -> None:
    mine = _key_of(session, credentials, "ana@example.org")

    def errors(body: dict[str, object]) -> list[str]:
        answer = client.post("/api/v1/follows", json=body, headers=mine)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        return sorted(e["field"] for e in answer.json()["errors"])

    assert errors({"target": "jurisdiction"}) == ["jurisdiction_id"]
    assert errors({"target": "state", "state": "CA", "jurisdiction_id": 5}) == ["jurisdiction_id"]
    assert errors({"target": "state"}) == ["state"]
    assert errors({"target": "state", "state": "ZZ"}) == ["state"]
    assert errors({"target": "all", "state": "CA"}) == ["state"]
    assert errors({"target": "jurisdiction", "jurisdiction_id": 999999}) == ["jurisdiction_id"]
    assert errors({"target": "planet"}) == ["target"]
    assert errors({"target": "all", "alerts": "hourly"}) == ["alerts"]
    state = client.post("/api/v1/follows", json={"target": "state", "state": "ca"}, headers=mine)
    assert state.status_code == 201 and state.json()["state"] == "CA"
    assert state.json()["alerts"] == "immediate"


def test_only_a_person_follows(client: TestClient, credentials: Credentials) -> None:
    assert client.get("/api/v1/follows").status_code == 401
    ownerless = client.get("/api/v1/follows", headers=credentials.headers("write"))
    assert ownerless.status_code == 403 and "no owner" in ownerless.json()["detail"]


def test_a_user_follows_from_the_dossier_and_manages_it_on_account(
    session: Session, client: TestClient, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, SANTA_CLARA)
    assert ">Follow</button>" not in client.get(f"/jurisdictions/{j.slug}").text
    assert client.get("/account", follow_redirects=False).status_code == 303
    sign_in(client, credentials, "viewer")
    dossier = client.get(f"/jurisdictions/{j.slug}").text
    assert ">Follow</button>" in dossier and 'href="/account">Account</a>' in dossier
    followed = client.post(
        "/account/follows", data=dict(defaults(dossier, "/account/follows")), follow_redirects=False
    )
    assert (
        followed.status_code == 303 and followed.headers["location"] == f"/jurisdictions/{j.slug}"
    )
    assert "Following" in client.get(f"/jurisdictions/{j.slug}").text
    # Audited, but not in the place's public history: it would tell who follows it.
    entry = session.scalars(sa.select(AuditEntry).where(col(AuditEntry.entity) == "follow")).one()
    assert entry.jurisdiction_id is None and entry.actor_label == "viewer@example.org"
    account = client.get("/account").text
    assert "Santa Clara County, CA" in account and "Mail is off on this server" in account
    follow_id = re.search(r'action="/account/follows/(\d+)"', account)
    assert follow_id
    changed = client.post(
        f"/account/follows/{follow_id[1]}",
        data={**dict(defaults(account, f"/account/follows/{follow_id[1]}")), "alerts": "weekly"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert '<option value="weekly" selected>' in client.get("/account").text
    everything = client.post(
        "/account/follows",
        data=dict(defaults(client.get("/account").text, "/account/follows")),
        follow_redirects=False,
    )
    assert everything.status_code == 303
    account = client.get("/account").text
    assert "Every jurisdiction" in account and "Follow every jurisdiction" not in account
    state_page = client.get("/states/CA").text
    assert ">Follow</button>" in state_page
    stopped = client.post(
        f"/account/follows/{follow_id[1]}/delete",
        data={"csrf_token": csrf(client, "/account")},
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    assert "Santa Clara County" not in client.get("/account").text


def test_account_says_mail_is_on_when_smtp_is_set(
    session: Session, app_settings, credentials: Credentials
) -> None:
    from optout_tracker.main import create_app
    from tests.conftest import use_test_session

    settings = app_settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:2525?tls=off"})
    app = create_app(settings)
    use_test_session(app, session)
    with TestClient(app) as c:
        sign_in(c, credentials, "viewer")
        assert "Mail is on" in c.get("/account").text
    app.state.engine.dispose()
