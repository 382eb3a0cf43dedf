"""Keys for partners: signed-in viewers and organizers make and revoke their own API keys on
/account and through /api/v1/api-keys, with a scope up to their role; a key never does more
than its owner may now, and stops with its owner's account; admins see and revoke all."""

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.enums import Role, Scope
from optout_tracker.models import ApiKey, User
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests import factories
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_pages import csrf, sign_in

API = "/api/v1"


def own_key(session: Session, user: User, scope: Scope, name: str = "mine") -> str:
    principal = accounts.user_principal(user, via_session=False)
    _, token = accounts.create_api_key(session, name, scope, principal)
    session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_viewer_makes_read_keys_only(client: TestClient, session: Session, credentials):
    viewer = credentials.user("viewer")
    token = own_key(session, viewer, Scope.read)
    r = client.post(
        f"{API}/api-keys", json={"name": "map", "scope": "write"}, headers=bearer(token)
    )
    assert r.status_code == 403, r.text
    assert r.json()["errors"] == [{"field": "scope", "message": "at most read"}]
    r = client.post(f"{API}/api-keys", json={"name": "map", "scope": "read"}, headers=bearer(token))
    assert r.status_code == 201, r.text
    assert r.json()["token"].startswith("optk_") and "no-store" in r.headers["Cache-Control"]
    made = session.get(ApiKey, r.json()["id"])
    assert made is not None and made.created_by_id == viewer.id


def test_each_person_sees_and_revokes_only_their_own_keys(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ana = credentials.user("organizer", "ana@example.org")
    ben = credentials.user("organizer", "ben@example.org")
    anas, bens = own_key(session, ana, Scope.write, "ana's"), own_key(session, ben, Scope.read)
    listed = client.get(f"{API}/api-keys", headers=bearer(anas)).json()
    assert [k["name"] for k in listed] == ["ana's"]
    everyone = client.get(f"{API}/api-keys", headers=credentials.headers("admin")).json()
    assert {"ana's", "mine"} <= {k["name"] for k in everyone}
    bens_id = next(k["id"] for k in everyone if k["name"] == "mine")
    assert client.delete(f"{API}/api-keys/{bens_id}", headers=bearer(anas)).status_code == 404
    assert client.get(f"{API}/api-keys", headers=bearer(bens)).status_code == 200
    r = client.delete(f"{API}/api-keys/{bens_id}", headers=bearer(bens))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert client.get(f"{API}/api-keys", headers=bearer(bens)).status_code == 401


def test_a_key_never_does_more_than_its_owner_may_now(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    owner = credentials.user("organizer")
    token = own_key(session, owner, Scope.write)
    j = factories.jurisdiction(session, "06085")
    session.commit()
    vote = {"jurisdiction_id": j.id, "body": "Board", "held_on": "2010-09-28", "outcome": "passed"}
    assert client.post(f"{API}/votes", json=vote, headers=bearer(token)).status_code == 201
    session.execute(sa.update(User).where(User.id == owner.id).values(role=Role.viewer))
    session.commit()
    assert client.post(f"{API}/votes", json=vote, headers=bearer(token)).status_code == 403
    assert client.get(f"{API}/api-keys", headers=bearer(token)).status_code == 200  # still reads
    accounts.set_active(session, owner.id or 0, False, CLI)
    session.commit()
    r = client.get(f"{API}/votes", headers=bearer(token))
    assert r.status_code == 401 and "owner was deactivated" in r.json()["detail"]


def test_a_key_made_on_the_command_line_has_no_keys_of_its_own(
    client: TestClient, credentials: Credentials
) -> None:
    r = client.get(f"{API}/api-keys", headers=credentials.headers("read"))
    assert r.status_code == 403 and "no owner" in r.json()["detail"]
    r = client.post(f"{API}/api-keys", json={"name": "x", "scope": "read"},
                    headers=credentials.headers("write"))  # fmt: skip
    assert r.status_code == 403 and "no owner" in r.json()["detail"]


def test_on_account_a_viewer_makes_a_key_with_the_form_as_it_comes_then_revokes_it(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "viewer")
    page = client.get("/account").text
    assert "Your API keys" in page and "write: also create" not in page  # a viewer's scopes
    as_it_comes = dict(defaults(page, "/account/api-keys"))
    assert as_it_comes["scope"] == "read" and as_it_comes["name"] == ""
    refused = client.post("/account/api-keys", data=as_it_comes, follow_redirects=False)
    assert refused.status_code == 422 and 'id="e-name"' in refused.text
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0

    form = {**dict(defaults(client.get("/account").text, "/account/api-keys")), "name": "Map"}
    made = client.post("/account/api-keys", data=form, follow_redirects=False)
    assert made.status_code == 200 and "no-store" in made.headers["Cache-Control"]
    token = re.search(r'<code class="token">(optk_[^<]+)</code>', made.text)
    assert token and client.get(f"{API}/api-keys", headers=bearer(token[1])).status_code == 200
    again = client.post("/account/api-keys", data=form, follow_redirects=False)  # a double tap
    assert again.status_code == 303 and again.headers["location"] == "/account"
    assert session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 1
    assert "optk_" in client.get("/account").text and token[1] not in client.get("/account").text

    (key_id,) = session.scalars(sa.select(col(ApiKey.id)))
    revoke = f"/account/api-keys/{key_id}/revoke"
    r = client.post(revoke, data={"csrf_token": csrf(client, "/account")}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"{API}/votes", headers=bearer(token[1])).status_code == 401
