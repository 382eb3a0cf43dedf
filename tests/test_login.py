"""Signing in and out: cookie flags, CSRF on every form, the throttle, session lifetime."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.config import Settings
from optout_tracker.db_types import utcnow
from optout_tracker.main import create_app
from optout_tracker.services import accounts
from tests import factories
from tests.conftest import Credentials, use_test_session

PASSWORD = "correct horse battery"


def csrf_from(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str):
    data = {"email": email, "password": password, "csrf_token": csrf_from(client), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, credentials: Credentials) -> None:
    credentials.user("organizer")
    r = sign_in(client, "Organizer@Example.org", next="/jurisdictions")
    assert r.status_code == 303 and r.headers["location"] == "/jurisdictions"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    assert "secure" not in cookie  # the base URL is http here
    assert "organizer@example.org" in client.get("/").text


def test_the_cookie_is_secure_when_the_site_is_https(
    session: Session, app_settings: Settings, credentials: Credentials
) -> None:
    credentials.user("viewer")
    app = create_app(app_settings.model_copy(update={"base_url": "https://optout.example.org"}))
    use_test_session(app, session)
    with TestClient(app, base_url="https://testserver") as client:
        r = sign_in(client, "viewer@example.org")
    app.state.engine.dispose()
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: TestClient, credentials: Credentials
) -> None:
    credentials.user("viewer")
    wrong = sign_in(client, "viewer@example.org", "not the password")
    unknown = sign_in(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text
    assert "set-cookie" not in wrong.headers


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_site(
    client: TestClient, credentials: Credentials, target: str
) -> None:
    credentials.user("viewer")
    assert sign_in(client, "viewer@example.org", next=target).headers["location"] == "/"


def test_every_form_needs_the_csrf_token(client: TestClient, credentials: Credentials) -> None:
    credentials.user("viewer")
    no_token = client.post("/login", data={"email": "viewer@example.org", "password": PASSWORD})
    assert no_token.status_code == 403
    forged = client.post(
        "/login", data={"email": "viewer@example.org", "password": PASSWORD, "csrf_token": "x"}
    )
    assert forged.status_code == 403
    assert sign_in(client, "viewer@example.org").status_code == 303
    assert client.post("/logout", data={}).status_code == 403
    assert "viewer@example.org" in client.get("/").text  # still signed in


def test_sign_out_ends_the_session(client: TestClient, credentials: Credentials) -> None:
    credentials.user("viewer")
    sign_in(client, "viewer@example.org")
    r = client.post(
        "/logout", data={"csrf_token": csrf_from(client, "/logout")}, follow_redirects=False
    )
    assert r.status_code == 303
    assert "Sign in" in client.get("/").text


def test_failed_sign_ins_are_slowed_then_refused(
    client: TestClient, credentials: Credentials, monkeypatch
) -> None:
    credentials.user("viewer")
    now = utcnow()
    monkeypatch.setattr(accounts, "utcnow", lambda: now)
    for _ in range(accounts.FREE_FAILURES):
        assert sign_in(client, "viewer@example.org", "nope").status_code == 401
    slowed = sign_in(client, "viewer@example.org", PASSWORD)  # even the right password waits
    assert slowed.status_code == 429 and slowed.headers["retry-after"] == "1"

    for n in range(accounts.FREE_FAILURES, accounts.LOCK_FAILURES):
        now += timedelta(seconds=2 ** (n - accounts.FREE_FAILURES) + 1)
        assert sign_in(client, "viewer@example.org", "nope").status_code == 401
    now += timedelta(minutes=5)
    locked = sign_in(client, "viewer@example.org", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 500

    now += accounts.LOCK_WINDOW + timedelta(seconds=1)
    assert sign_in(client, "viewer@example.org", PASSWORD).status_code == 303


def test_a_deactivated_user_is_out_at_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    user = credentials.user("viewer")
    sign_in(client, "viewer@example.org")
    j = factories.jurisdiction(session, "06085")
    assert "private_notes" in client.get(f"/api/v1/jurisdictions/{j.id}").json()
    user.active = False
    session.commit()
    assert "private_notes" not in client.get(f"/api/v1/jurisdictions/{j.id}").json()


def test_sessions_end_after_their_lifetime(
    client: TestClient, session: Session, credentials: Credentials, monkeypatch
) -> None:
    credentials.user("viewer")
    sign_in(client, "viewer@example.org")
    j = factories.jurisdiction(session, "06085")
    monkeypatch.setattr(accounts, "SESSION_LIFETIME", timedelta(seconds=-1))
    assert "private_notes" not in client.get(f"/api/v1/jurisdictions/{j.id}").json()


def test_a_signed_in_organizer_writes_through_the_api_with_the_csrf_header(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    credentials.user("organizer")
    credentials.user("viewer", "viewer@example.org")
    sign_in(client, "organizer@example.org")
    j = factories.jurisdiction(session, "06085")
    body = {"population": 1_936_259}
    assert client.patch(f"/api/v1/jurisdictions/{j.id}", json=body).status_code == 403
    token = csrf_from(client, "/logout")
    r = client.patch(f"/api/v1/jurisdictions/{j.id}", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["population"] == 1_936_259

    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "viewer@example.org")
    token = csrf_from(client, "/logout")
    r = client.patch(f"/api/v1/jurisdictions/{j.id}", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and "organizer" in r.json()["detail"]
