"""Editing, deleting and restoring votes, letters and responses from the pages, and the
one-time token every writing form carries: submitted as a browser does (tests/forms.py)."""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import (
    AgencyKind,
    AuditAction,
    CampaignStatus,
    Channel,
    ResponseKind,
    Role,
)
from optout_tracker.errors import Conflict
from optout_tracker.main import create_app
from optout_tracker.models import (
    Announcement,
    AuditEntry,
    JurisdictionStatus,
    Letter,
    Response,
    User,
    Vote,
)
from optout_tracker.security import CLI
from optout_tracker.services import accounts, restore
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings
from tests.forms import defaults
from tests.live import seeded_database
from tests.test_pages import sign_in
from tests.test_security_idempotency import race

BASE = "/jurisdictions/ca-alameda-county"
ALAMEDA = "06001"


def submit(client: TestClient, page_path: str, action: str, **changed: str):
    """Open the page, and submit its form posting to `action` as a browser would: what the
    form holds, with `changed` typed over it."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    fields = dict(defaults(page.text, action)) | changed
    return client.post(action, data=fields, follow_redirects=False), fields


def count(session: Session, model: type[SQLModel]) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def entries(session: Session, entity: str, entity_id: int) -> list[AuditEntry]:
    session.expire_all()
    stmt = sa.select(AuditEntry).where(
        col(AuditEntry.entity) == entity, col(AuditEntry.entity_id) == entity_id
    )
    return list(session.scalars(stmt.order_by(col(AuditEntry.id))))


def status_of(session: Session, fips: str = ALAMEDA) -> CampaignStatus:
    session.expire_all()
    found = session.get(JurisdictionStatus, factories.jurisdiction(session, fips).id)
    assert found is not None
    return found.status


# One-time tokens


def test_a_double_tap_on_save_logs_one_vote_and_lands_on_it(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    before = count(session, Vote)
    action = f"{BASE}/log/vote"
    page = client.get(action).text
    fields = dict(defaults(page, action)) | {
        "body": "Board of Supervisors",
        "held_on": "2010-10-19",
        "outcome": "passed",
    }
    assert fields["form_token"]  # the form carries it
    first = client.post(action, data=fields, follow_redirects=False)
    second = client.post(action, data=fields, follow_redirects=False)  # the same token
    assert count(session, Vote) == before + 1
    vote = session.scalars(sa.select(Vote).order_by(col(Vote.id).desc())).first()
    assert vote is not None
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == f"{BASE}#vote-{vote.id}"
    landed = client.get(second.headers["location"]).text
    assert "already saved" in landed and f'id="vote-{vote.id}"' in landed
    # A new rendering of the form has a new token, which saves again.
    again, _ = submit(client, action, action, body="City Council", held_on="2010-11-02")
    assert again.status_code == 303 and count(session, Vote) == before + 2


def test_a_double_tap_on_an_edit_changes_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, ALAMEDA)
    vote = factories.vote(session, j, measure="Resolution 10-1")
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"{BASE}/vote/{vote.id}/edit"
    first, fields = submit(client, action, action, measure="Resolution 10-12")
    second = client.post(action, data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == f"{BASE}#vote-{vote.id}"
    session.refresh(vote)
    assert vote.measure == "Resolution 10-12" and vote.version == 2  # one change, not a 409
    assert [e.action for e in entries(session, "vote", vote.id or 0)] == [AuditAction.update]


def test_a_double_tap_on_an_admin_form_creates_one_user(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    page = client.get("/admin/users").text
    fields = dict(defaults(page, "/admin/users")) | {
        "email": "new.organizer@example.org",
        "role": "organizer",
        "password": "a long enough password",
    }
    first = client.post("/admin/users", data=fields, follow_redirects=False)
    second = client.post("/admin/users", data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    made = session.scalars(sa.select(User).where(col(User.email) == "new.organizer@example.org"))
    assert len(made.all()) == 1
    assert "already saved" in client.get(second.headers["location"]).text


def test_a_double_tap_on_the_jurisdiction_and_announcement_forms_saves_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ice = factories.agency(session, AgencyKind.ice)
    j = factories.jurisdiction(session, ALAMEDA)
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"{BASE}/edit"
    first, fields = submit(client, action, action, population="1510271")
    second = client.post(action, data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303  # not a 409 for the second
    session.refresh(j)
    assert j.population == 1_510_271 and j.version == 2

    before = count(session, Announcement)
    action = "/announcements/new"
    first, fields = submit(
        client, action, action, agency_id=str(ice.id), announced_on="2011-08-05",
        scope="national", title="Participation is mandatory",
    )  # fmt: skip
    second = client.post(action, data=fields, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert count(session, Announcement) == before + 1
    assert "already saved" in client.get(second.headers["location"]).text


def test_a_form_token_is_tied_to_the_signed_in_user(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    action = f"{BASE}/log/vote"
    theirs = dict(defaults(client.get(action).text, action))["form_token"]
    sign_in(client, credentials, "admin")  # another user, another session
    before = count(session, Vote)
    for token in (theirs, "forged.token", theirs.split(".")[0] + ".AAAA"):
        fields = dict(defaults(client.get(action).text, action))
        fields |= {"body": "Board", "held_on": "2010-10-19", "form_token": token}
        r = client.post(action, data=fields, follow_redirects=False)
        assert r.status_code == 403 and "another sign-in" in r.text
    assert count(session, Vote) == before


def test_a_refused_form_can_be_corrected_and_saved(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    """Empty fields as the form comes: errors beside them; the page that comes back has a
    new token, and the first submit with it saves."""
    sign_in(client, credentials, "organizer")
    before = count(session, Vote)
    action = f"{BASE}/log/vote"
    r, _ = submit(client, action, action)  # nothing typed in
    assert r.status_code == 422 and 'id="e-body"' in r.text and 'id="e-held_on"' in r.text
    fields = dict(defaults(r.text, action)) | {"body": "Board", "held_on": "2010-10-19"}
    assert client.post(action, data=fields, follow_redirects=False).status_code == 303
    assert count(session, Vote) == before + 1


WRITING_PAGES = [
    f"{BASE}",
    f"{BASE}/edit",
    f"{BASE}/log/vote",
    f"{BASE}/log/letter",
    f"{BASE}/log/response",
    "/announcements/new",
    "/jurisdictions/new",
    "/admin/users",
    "/admin/api-keys",
    "/admin/webhooks",
]


def test_every_form_that_writes_carries_a_one_time_token(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    """Sign-in and sign-out are the exceptions: they save no record, and a second tap of
    either does nothing the first did not."""
    j = factories.jurisdiction(session, ALAMEDA)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    vote = factories.vote(session, j)
    letter = factories.letter(session, j, sib)
    answer = factories.response(session, j, sib, letter_id=letter.id)
    gone = factories.vote(session, j, measure="Withdrawn resolution")
    hook = factories.webhook(session)
    session.commit()
    sign_in(client, credentials, "admin")
    confirmed_delete(client, f"{BASE}/vote/{gone.id}/delete")
    pages = [
        *WRITING_PAGES,
        f"/admin/webhooks/{hook.id}",
        *(
            f"{BASE}/{kind}/{record.id}/{what}"
            for kind, record in (("vote", vote), ("letter", letter), ("response", answer))
            for what in ("edit", "delete")
        ),
    ]
    seen = 0
    for path in pages:
        page = client.get(path).text
        for form in re.findall(r'<form method="post".*?</form>', page, re.S):
            action = re.search(r'action="([^"]+)"', form)
            assert action and 'name="form_token"' in form, (path, form[:120])
            seen += 1
    assert seen >= len(pages) + 3  # the dossier's Restore, the admin lists' row buttons
    assert "/restore" in client.get(BASE).text
    for path in ("/login", "/logout"):
        assert 'name="form_token"' not in client.get(path).text


def confirmed_delete(client: TestClient, path: str):
    """Open the delete confirmation at `path` and press its button."""
    fields = dict(defaults(client.get(path).text, path))
    return client.post(path, data=fields, follow_redirects=False)


# Editing


def test_an_organizer_edits_a_vote_from_the_dossier(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, ALAMEDA)
    vote = factories.vote(session, j, outcome="failed", yes=2, no=3)
    hook = factories.webhook(session, events=["vote.updated"])
    assert status_of(session) is CampaignStatus.vote_failed
    sign_in(client, credentials, "organizer")
    dossier = client.get(BASE).text
    action = f"{BASE}/vote/{vote.id}/edit"
    assert f'href="{action}"' in dossier
    assert "/delete" not in dossier  # deleting is for admins
    form = client.get(action).text
    prefilled = dict(defaults(form, action))
    assert prefilled["body"] == "Board of Supervisors" and prefilled["outcome"] == "failed"
    assert prefilled["held_on"] == "2010-09-28" and prefilled["version"] == "1"
    r, _ = submit(client, action, action, outcome="passed", yes="3", no="2")
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}#vote-{vote.id}"
    session.refresh(vote)
    assert (vote.outcome, vote.yes, vote.no, vote.version) == ("passed", 3, 2, 2)
    assert status_of(session) is CampaignStatus.vote_passed  # the status follows
    (entry,) = entries(session, "vote", vote.id or 0)
    assert entry.action is AuditAction.update and entry.actor_label == "organizer@example.org"
    assert entry.changes["outcome"] == ["failed", "passed"]
    assert [d.event for d in factories.deliveries(session) if d.webhook_id == hook.id] == [
        "vote.updated"
    ]
    assert "The vote was saved." in client.get(r.headers["location"]).text


@pytest.mark.parametrize("kind", ["letter", "response"])
def test_letters_and_responses_edit_with_their_defaults(
    client: TestClient, session: Session, credentials: Credentials, kind: str
) -> None:
    """Submitted as they come, nothing changes; a field emptied that may be empty is cleared."""
    j = factories.jurisdiction(session, ALAMEDA)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, j, sib, subject="Opting out", channel=Channel.fax)
    answer = factories.response(
        session, j, sib, letter_id=letter.id, kind=ResponseKind.acknowledged, channel=Channel.mail
    )
    session.commit()
    record: Letter | Response = letter if kind == "letter" else answer
    sign_in(client, credentials, "organizer")
    action = f"{BASE}/{kind}/{record.id}/edit"
    r, _ = submit(client, action, action)
    assert r.status_code == 303
    session.refresh(record)
    assert record.version == 1 and entries(session, kind, record.id or 0) == []
    r, _ = submit(client, action, action, channel="")
    assert r.status_code == 303
    session.refresh(record)
    assert record.channel is None and record.version == 2


def test_edit_errors_show_beside_their_fields_and_keep_the_input(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, ALAMEDA)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, j, sib, sent_on=date(2010, 10, 7))
    factories.response(session, j, sib, letter_id=letter.id, received_on=date(2010, 11, 1))
    vote = factories.vote(session, j)
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"{BASE}/vote/{vote.id}/edit"
    r, _ = submit(client, action, action, body="", measure="Kept text")
    assert r.status_code == 422 and 'id="e-body"' in r.text and "cannot be null" in r.text
    assert 'value="Kept text"' in r.text
    r, _ = submit(client, action, action, yes="-1", measure="Kept text")
    assert r.status_code == 422 and 'id="e-yes"' in r.text and 'value="Kept text"' in r.text
    # The API's own rules: a letter cannot move after the answer it got.
    action = f"{BASE}/letter/{letter.id}/edit"
    r, _ = submit(client, action, action, sent_on="2010-11-03")
    assert r.status_code == 422 and 'id="e-sent_on"' in r.text and "2010-11-03" in r.text
    session.refresh(vote)
    session.refresh(letter)
    assert vote.version == 1 and letter.sent_on == date(2010, 10, 7)


def test_an_edit_conflict_shows_both_versions_and_overwrites_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, ALAMEDA)
    vote = factories.vote(session, j, measure="Resolution 10-1")
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"{BASE}/vote/{vote.id}/edit"
    fields = dict(defaults(client.get(action).text, action))
    vote.measure = "Resolution 2010-12"  # someone else saves meanwhile
    session.add(vote)
    session.commit()
    r = client.post(action, data={**fields, "measure": "Resolution 10-9"}, follow_redirects=False)
    assert r.status_code == 409 and "Someone saved this vote" in r.text
    assert "Saved meanwhile: <q>Resolution 2010-12</q>" in r.text
    assert 'value="Resolution 10-9"' in r.text  # theirs below, mine kept in the form
    session.refresh(vote)
    assert vote.measure == "Resolution 2010-12" and vote.version == 2
    # The page that says so carries the new version: saving from it is deliberate.
    fields = dict(defaults(r.text, action))
    assert fields["version"] == "2" and fields["measure"] == "Resolution 10-9"
    assert client.post(action, data=fields, follow_redirects=False).status_code == 303
    session.refresh(vote)
    assert vote.measure == "Resolution 10-9" and vote.version == 3


def test_records_are_edited_only_under_their_own_jurisdiction_by_organizers(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    vote = factories.vote(session, factories.jurisdiction(session, "06085"))  # Santa Clara
    session.commit()
    sign_in(client, credentials, "organizer")
    assert client.get(f"{BASE}/vote/{vote.id}/edit").status_code == 404
    assert client.get(f"{BASE}/memo/{vote.id}/edit").status_code == 404
    assert client.get(f"{BASE}/vote/{vote.id}/delete").status_code == 403  # admins only
    sign_in(client, credentials, "viewer")
    assert "/edit" not in client.get("/jurisdictions/ca-santa-clara-county").text
    path = f"/jurisdictions/ca-santa-clara-county/vote/{vote.id}/edit"
    assert client.get(path).status_code == 403


# Deleting and restoring


def test_an_admin_deletes_a_vote_after_confirming_and_restores_it(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, ALAMEDA)
    vote = factories.vote(session, j, measure="Resolution 2010-12", private_notes="whip count")
    hook = factories.webhook(session, events=["vote.created", "vote.deleted"])
    old_id = vote.id or 0
    kept = vote.model_dump(exclude={"id", "created_at", "updated_at", "version"})
    sign_in(client, credentials, "admin")
    path = f"{BASE}/vote/{old_id}/delete"
    assert f'href="{path}"' in client.get(BASE).text
    confirm = client.get(path).text
    assert "Delete this vote?" in confirm
    assert "Board of Supervisors voted 5–0 to opt out" in confirm  # what goes, in words
    r = confirmed_delete(client, path)
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}#history"
    assert session.get(Vote, old_id) is None
    assert status_of(session) is CampaignStatus.no_action
    (deleted,) = entries(session, "vote", old_id)
    assert deleted.action is AuditAction.delete

    dossier = client.get(BASE).text
    restore_action = f"{BASE}/history/{deleted.id}/restore"
    assert f"deleted vote {old_id}" in dossier and restore_action in dossier
    fields = dict(defaults(dossier, restore_action))
    first = client.post(restore_action, data=fields, follow_redirects=False)
    second = client.post(restore_action, data=fields, follow_redirects=False)  # a double tap
    back = session.scalars(sa.select(Vote).where(col(Vote.jurisdiction_id) == j.id)).one()
    assert back.id != old_id and (back.id or 0) > old_id  # a new id: ids are never reused
    assert back.model_dump(exclude={"id", "created_at", "updated_at", "version"}) == kept
    assert first.headers["location"] == second.headers["location"] == f"{BASE}#vote-{back.id}"
    assert status_of(session) is CampaignStatus.vote_passed
    (created,) = entries(session, "vote", back.id or 0)
    assert created.action is AuditAction.create and created.actor_label == "admin@example.org"
    assert created.changes[restore.RESTORED_FROM] == [None, deleted.id]
    assert created.changes["measure"] == [None, "Resolution 2010-12"]
    events = [d.event for d in factories.deliveries(session) if d.webhook_id == hook.id]
    assert events == ["vote.deleted", "vote.created"]
    dossier = client.get(BASE).text
    assert f"restored from entry {deleted.id}" in dossier
    assert restore_action not in dossier  # restored once: no second button


def test_a_refused_delete_says_why_on_the_page(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, ALAMEDA)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, j, sib)
    answer = factories.response(session, j, sib, letter_id=letter.id)
    session.commit()
    sign_in(client, credentials, "admin")
    path = f"{BASE}/letter/{letter.id}/delete"
    r = confirmed_delete(client, path)
    assert r.status_code == 409
    assert "It was not deleted" in r.text and f"responses {answer.id} answer this letter" in r.text
    assert session.get(Letter, letter.id) is not None
    assert [e.action for e in entries(session, "letter", letter.id or 0)] == []


def test_a_restore_is_refused_when_what_it_referred_to_is_gone(
    session: Session,
) -> None:
    """The service alone, without HTTP."""
    j = factories.jurisdiction(session, ALAMEDA)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, j, sib)
    answer = factories.response(session, j, sib, letter_id=letter.id)
    from optout_tracker.services import letters, responses

    responses.delete(session, answer, CLI)
    letters.delete(session, letter, CLI)
    by_entity = {
        e.entity: e
        for e in session.scalars(
            sa.select(AuditEntry).where(col(AuditEntry.action) == AuditAction.delete)
        )
    }
    with pytest.raises(Conflict, match="the letter it answered .* was deleted since"):
        restore.restore(session, by_entity["response"].id or 0, CLI, response_window_days=30)
    kind, back = restore.restore(session, by_entity["letter"].id or 0, CLI, response_window_days=30)
    assert kind.entity == "letter" and isinstance(back, Letter) and back.id != letter.id
    assert back.response_due_on == letter.response_due_on  # as it was, not defaulted again
    with pytest.raises(Conflict, match="restored already"):
        restore.restore(session, by_entity["letter"].id or 0, CLI, response_window_days=30)
    not_a_delete = entries(session, "letter", back.id or 0)[0]
    with pytest.raises(Conflict, match="only those can be restored"):
        restore.restore(session, not_a_delete.id or 0, CLI, response_window_days=30)
    assert restore.restorable(session, by_entity.values()) == {by_entity["response"].id}


def test_two_taps_at_the_same_moment_save_once_on_both_databases(
    databases: DatabaseFactory,
) -> None:
    """The real app on a database of its own, every request committed: the second tap waits
    for the first one's transaction and then lands on what it saved."""
    url = seeded_database(databases)
    engine = create_db_engine(make_settings(url))
    with unit_of_work(engine) as s:
        accounts.create_user(s, "racer@example.org", Role.organizer, "correct horse battery", CLI)
    app = create_app(make_settings(url))
    try:
        with TestClient(app) as client:
            page = client.get("/login").text
            login = dict(defaults(page, "/login"))
            login |= {"email": "racer@example.org", "password": "correct horse battery"}
            assert client.post("/login", data=login, follow_redirects=False).status_code == 303
            action = "/jurisdictions/ca-santa-clara-county/log/vote"
            for round_ in range(4):
                fields = dict(defaults(client.get(action).text, action))
                fields |= {"body": f"Board {round_}", "held_on": "2010-09-28"}
                answers = race(lambda f=fields: client.post(action, data=f, follow_redirects=False))
                assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
                assert answers[0].headers["location"] == answers[1].headers["location"]
        with Session(engine) as s:
            assert count(s, Vote) == 4
    finally:
        app.state.engine.dispose()
        engine.dispose()
