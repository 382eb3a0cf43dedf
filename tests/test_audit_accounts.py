"""Users, API keys and webhook subscriptions are audited like campaign records: who did
what, field by field, and never a password, key, hash or signing secret in the log."""

import json
import re
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.models import ApiKey, AuditEntry, User
from tests.conftest import Credentials
from tests.test_admin_webhooks import post_form as webhook_form
from tests.test_pages import post_form, sign_in

API = "/api/v1"
SECRET = "a-signing-secret-of-the-partner-0123"


def entries(session: Session, entity: str) -> list[AuditEntry]:
    session.expire_all()
    stmt = sa.select(AuditEntry).where(col(AuditEntry.entity) == entity)
    return list(session.scalars(stmt.order_by(col(AuditEntry.id))))


def audit_log(client: TestClient, admin: dict[str, str], entity: str) -> list[dict[str, Any]]:
    r = client.get(f"{API}/audit", params={"entity": entity, "sort": "id"}, headers=admin)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_a_user_made_and_deactivated_on_the_admin_pages_is_audited_without_the_password(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    password = "a long enough password"
    r = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": "New.Organizer@example.org", "role": "organizer", "password": password},
    )
    assert r.status_code == 303, r.text
    made = session.scalars(sa.select(User).filter_by(email="new.organizer@example.org")).one()
    r = post_form(client, f"/admin/users/{made.id}/active", "/admin/users", {"active": "false"})
    assert r.status_code == 303, r.text

    *_, create, update = entries(session, "user")
    assert (create.action, create.actor_label, create.entity_id) == (
        "create", "admin@example.org", made.id,
    )  # fmt: skip
    assert create.changes["email"] == [None, "new.organizer@example.org"]
    assert create.changes["role"] == [None, "organizer"]
    assert create.changes["password_hash"] == [None, "(secret)"]
    assert update.action == "update" and update.changes == {"active": [True, False]}
    logged = json.dumps([e.changes for e in entries(session, "user")])
    assert password not in logged and made.password_hash not in logged


def test_an_api_key_made_and_revoked_is_audited_without_the_key_or_its_hash(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    admin = credentials.headers("admin")
    r = client.post(f"{API}/api-keys", json={"name": "partner", "scope": "read"}, headers=admin)
    assert r.status_code == 201, r.text
    token, key_id = r.json()["token"], r.json()["id"]
    assert client.delete(f"{API}/api-keys/{key_id}", headers=admin).status_code == 200

    log = [e for e in audit_log(client, admin, "api_key") if e["entity_id"] == key_id]
    assert [e["action"] for e in log] == ["create", "update"]
    assert log[0]["actor_label"].startswith("key ") and log[0]["changes"]["name"] == [
        None,
        "partner",
    ]
    assert log[0]["changes"]["key_hash"] == [None, "(secret)"]
    assert list(log[1]["changes"]) == ["revoked_at"]
    key = session.get(ApiKey, key_id)
    assert key is not None
    shown = json.dumps(log)
    assert token not in shown and key.key_hash not in shown and key.prefix not in shown


def test_a_webhook_subscription_made_changed_and_deleted_is_audited_without_its_secret(
    client: TestClient, credentials: Credentials
) -> None:
    admin = credentials.headers("admin")
    hook = {"url": "https://partner.example.org/hook", "secret": SECRET, "events": ["*"]}
    r = client.post(f"{API}/webhooks", json=hook, headers=admin)
    assert r.status_code == 201, r.text
    hook_id = r.json()["id"]
    new_secret = SECRET[::-1]
    r = client.patch(f"{API}/webhooks/{hook_id}", json={"secret": new_secret}, headers=admin)
    assert r.status_code == 200, r.text
    r = client.patch(f"{API}/webhooks/{hook_id}", json={"secret": new_secret}, headers=admin)
    assert r.status_code == 200, r.text  # the same again: nothing changes, nothing logged
    assert client.delete(f"{API}/webhooks/{hook_id}", headers=admin).status_code == 204

    log = audit_log(client, admin, "webhook")
    assert [e["action"] for e in log] == ["create", "update", "delete"]
    assert log[0]["changes"]["url"] == [None, hook["url"]]
    assert log[1]["changes"] == {"secret": ["(secret)", "(secret)"]}  # it changed; to what, no
    assert log[2]["changes"]["url"] == [hook["url"], None]
    shown = json.dumps(log)
    assert SECRET not in shown and new_secret not in shown


def test_a_webhook_subscription_made_changed_and_deleted_on_the_admin_pages_is_audited(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    """The pages call the same service as the API: the same entries, the secret hidden."""
    sign_in(client, credentials, "admin")
    page = "/admin/webhooks"
    url = "https://partner.example.org/hook"
    r = webhook_form(client, page, page, {"url": url, "secret": SECRET, "events": "*"})
    assert r.status_code == 200, r.text
    [made] = entries(session, "webhook")
    hook = f"{page}/{made.entity_id}"
    new_secret = SECRET[::-1]
    edit = {"url": url, "description": "Coalition map", "events": ["vote.created"]}
    r = webhook_form(client, hook, hook, {**edit, "secret": new_secret})
    assert r.status_code == 303, r.text
    r = webhook_form(client, hook, hook, {**edit, "generate_secret": "true"})
    assert r.status_code == 200, r.text  # the generated secret, shown on this answer
    generated = re.search(r'<code class="token">(whsec_[^<]+)</code>', r.text)
    assert generated
    r = webhook_form(client, f"{hook}/active", hook, {"active": "false"})
    assert r.status_code == 303, r.text
    r = webhook_form(client, f"{hook}/delete", hook, {})
    assert r.status_code == 303, r.text

    log = entries(session, "webhook")
    assert [e.action for e in log] == ["create", "update", "update", "update", "delete"]
    assert {e.actor_label for e in log} == {"admin@example.org"}
    assert {e.entity_id for e in log} == {made.entity_id}
    assert log[0].changes["url"] == [None, url] and log[0].changes["secret"] == [None, "(secret)"]
    assert log[1].changes == {
        "description": [None, "Coalition map"],
        "events": [["*"], ["vote.created"]],
        "secret": ["(secret)", "(secret)"],
    }
    assert log[2].changes == {"secret": ["(secret)", "(secret)"]}
    assert log[3].changes == {"active": [True, False]}
    assert log[4].changes["url"] == [url, None] and log[4].changes["secret"] == ["(secret)", None]
    shown = json.dumps([e.changes for e in log])
    assert SECRET not in shown and new_secret not in shown and generated.group(1) not in shown


def test_account_changes_stay_out_of_the_public_activity(
    client: TestClient, credentials: Credentials
) -> None:
    admin = credentials.headers("admin")
    r = client.post(f"{API}/api-keys", json={"name": "quiet", "scope": "read"}, headers=admin)
    assert r.status_code == 201, r.text
    assert "quiet" not in client.get("/activity").text
    assert "quiet" not in client.get("/feeds/activity.atom").text


def test_the_audit_list_filters_and_sorts_by_updated_at_through_created_at(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    """updated_at has no index of its own on the log (an entry is never updated): the list
    reads created_at for it, with the same answers."""
    admin = credentials.headers("admin")
    for name in ("first", "second"):
        r = client.post(f"{API}/api-keys", json={"name": name, "scope": "read"}, headers=admin)
        assert r.status_code == 201, r.text
    made = entries(session, "api_key")
    since = made[-1].created_at.isoformat()
    r = client.get(f"{API}/audit", params={"updated_since": since}, headers=admin)
    assert r.status_code == 200, r.text
    assert [e["id"] for e in r.json()["items"]] == [made[-1].id]
    r = client.get(
        f"{API}/audit", params={"entity": "api_key", "sort": "-updated_at"}, headers=admin
    )
    assert [e["id"] for e in r.json()["items"]] == [e.id for e in reversed(made)]
