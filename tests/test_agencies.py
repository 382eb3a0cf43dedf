"""The agency directory: the shipped file, its loading (idempotent, never over an edit), the
response window, each agency's record of letters and answers, and the contacts form."""

import csv
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind, AuditAction, LetterPurpose
from optout_tracker.errors import InvalidInput
from optout_tracker.history import load_history
from optout_tracker.models import Agency, AuditEntry, Jurisdiction, JurisdictionStatus, Letter
from optout_tracker.refdata import AGENCIES_CSV, reference_agencies, state_codes
from optout_tracker.schemas import AgencyCreate, AgencyUpdate, LetterCreate
from optout_tracker.security import CLI
from optout_tracker.seed import RETIRED_NOTES, seed
from optout_tracker.services import agencies, imports, letters
from optout_tracker.wording import day
from tests import factories, legacy_history
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_pages import csrf, sign_in

CONTACTS = ("email", "fax", "postal_address", "website")
PLACEHOLDER = sorted(RETIRED_NOTES)[1]  # "Placeholder name from the reference data: ..."


def bureau(session: Session, state: str) -> Agency:
    found = agencies.state_bureau(session, state)
    assert found is not None
    return found


def new_agency(session: Session, **fields: object) -> Agency:
    data = AgencyCreate.model_validate({"name": "Test Bureau", "kind": "other", **fields})
    return agencies.create(session, data, CLI)


# The shipped file


def test_the_file_has_one_bureau_per_state_and_dc_and_the_federal_agencies() -> None:
    rows = reference_agencies()
    sibs = [r.state for r in rows if r.kind == AgencyKind.state_identification_bureau]
    states_and_dc = {s for s in state_codes() if s not in {"PR", "GU", "VI", "AS", "MP"}}
    assert len(sibs) == len(set(sibs)) == 51 and set(sibs) == states_and_dc
    assert sorted(r.kind for r in rows if r.kind != "state_identification_bureau") == [
        "dhs",
        "fbi",
        "ice",
    ]
    with AGENCIES_CSV.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == [
        "kind",
        "state",
        "name",
        "email",
        "fax",
        "postal_address",
        "website",
        "contact_source_url",
        "contact_checked_on",
        "note",
    ]


def test_every_contact_in_the_file_has_its_source_and_the_day_it_was_read() -> None:
    for r in reference_agencies():
        if r.contact_source_url is None:  # unconfirmed: nothing but the generic name
            assert not any(getattr(r, c) for c in CONTACTS), r
            assert r.contact_checked_on is None and r.notes and "Unconfirmed" in r.notes
            assert r.name.endswith("State Identification Bureau"), r
            continue
        assert re.match(r"https?://\S+$", r.contact_source_url), r
        assert r.contact_checked_on is not None and r.contact_checked_on <= today(), r
        assert r.notes, f"{r.name}: say what the source confirmed"
        AgencyCreate.model_validate(  # the API's own checks, e.g. a fax's characters
            {"kind": r.kind, "state": r.state, "name": r.name}
            | {c: getattr(r, c) for c in CONTACTS if getattr(r, c)}
            | {"contact_source_url": r.contact_source_url}
        )
    named = {r.state: r.name for r in reference_agencies() if r.contact_source_url and r.state}
    assert named["CA"].startswith("California Department of Justice")


# Loading


def snapshot(session: Session) -> list[tuple[object, ...]]:
    session.expire_all()
    return [
        tuple(a.model_dump().values())
        for a in session.scalars(sa.select(Agency).order_by(col(Agency.id)))
    ]


def test_loading_twice_changes_nothing(session: Session) -> None:
    before = snapshot(session)
    report = seed(session)
    assert (report.agencies, report.agencies_filled_in) == (0, 0)
    assert snapshot(session) == before
    ca = bureau(session, "CA")
    assert ca.name.startswith("California Department of Justice") and ca.contact_source_url
    assert bureau(session, "AR").name == "Arkansas State Police, Identification Bureau"
    fbi = session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.fbi)).one()
    assert fbi.postal_address and "Clarksburg, WV" in fbi.postal_address


def test_an_edited_agency_survives_a_new_load(session: Session) -> None:
    ca = bureau(session, "CA")
    agencies.update(session, ca, AgencyUpdate(fax="916-555-0100", name="CA DOJ"), CLI)
    ak = bureau(session, "AK")
    agencies.update(session, ak, AgencyUpdate(notes="Asked by phone"), CLI)  # notes only
    report = seed(session)
    assert report.agencies_filled_in == 0
    session.expire_all()
    assert (ca.name, ca.fax, ca.version) == ("CA DOJ", "916-555-0100", 2)
    assert (ak.notes, ak.version) == ("Asked by phone", 2)


def test_an_old_placeholder_row_is_upgraded_and_a_missing_agency_added(session: Session) -> None:
    ca = bureau(session, "CA")
    j = factories.jurisdiction(session, "06085")
    factories.letter(session, j, ca)
    # As the loader of before left it: the placeholder, and a line the demo added since.
    session.execute(
        sa.update(Agency)
        .where(col(Agency.id) == ca.id)
        .values(
            name="California State Identification Bureau",
            postal_address=None,
            contact_source_url=None,
            contact_checked_on=None,
            notes=f"{PLACEHOLDER}\nSanta Clara: a line of the demo dataset",
            version=1,
        )
    )
    session.execute(sa.delete(Agency).where(col(Agency.kind) == AgencyKind.fbi))
    session.expire_all()
    report = seed(session)
    assert (report.agencies, report.agencies_filled_in) == (1, 1)
    session.expire_all()
    shipped = next(r for r in reference_agencies() if r.state == "CA")
    assert ca.name == shipped.name and ca.postal_address == shipped.postal_address
    assert ca.contact_checked_on == shipped.contact_checked_on and ca.version == 2
    assert ca.notes == f"{shipped.notes}\nSanta Clara: a line of the demo dataset"
    assert session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.fbi)).one()
    assert not session.scalars(sa.select(AuditEntry).filter_by(entity="agency")).first()
    status = factories.jurisdiction(session, "06085")
    session.expire_all()
    reason = session.scalars(
        sa.select(col(JurisdictionStatus.status_reason)).filter_by(jurisdiction_id=status.id)
    ).one()
    assert shipped.name in str(reason)  # the status reason names the bureau anew
    assert seed(session).agencies_filled_in == 0  # and the next load leaves it


# Checks and the response window


def test_contacts_cannot_be_checked_in_the_future_nor_a_window_be_out_of_range(
    session: Session,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_agency(session, contact_checked_on=today() + timedelta(days=1))
    assert refused.value.errors and refused.value.errors[0].field == "contact_checked_on"
    for days in (0, 366):
        with pytest.raises(ValueError):
            AgencyCreate.model_validate(
                {"name": "X", "kind": "other", "response_window_days": days}
            )
    assert new_agency(session, response_window_days=365).response_window_days == 365


def test_the_recipients_window_sets_when_an_answer_is_due(session: Session) -> None:
    j = factories.jurisdiction(session, "06085")
    quick = new_agency(session, response_window_days=14)
    usual = new_agency(session, name="Other Bureau")
    sent = date(2010, 10, 7)

    def due(to: Agency) -> date | None:
        body = LetterCreate.model_validate(
            {"jurisdiction_id": j.id, "agency_id": to.id, "sent_on": sent}
            | {"channel": "mail", "purpose": LetterPurpose.other}
        )
        return letters.prepare(session, body, response_window_days=30).response_due_on

    assert due(quick) == sent + timedelta(days=14)
    assert due(usual) == sent + timedelta(days=30)


# Letters received and answered


def test_an_agencys_record_counts_answers_and_lists_what_awaits_one(session: Session) -> None:
    to = new_agency(session)
    santa_clara, marin = (factories.jurisdiction(session, f) for f in ("06085", "06041"))
    sent = date(2010, 10, 1)
    fast = factories.letter(session, santa_clara, to, sent_on=sent)
    slow = factories.letter(session, marin, to, sent_on=sent)
    waiting_new = factories.letter(session, santa_clara, to, sent_on=date(2011, 2, 1))
    waiting_old = factories.letter(session, marin, to, sent_on=date(2010, 5, 1))
    factories.response(
        session, santa_clara, to, letter_id=fast.id, received_on=sent + timedelta(10)
    )
    factories.response(session, marin, to, letter_id=slow.id, received_on=sent + timedelta(30))
    # A second answer to the same letter: only the first counts for the delay.
    factories.response(session, marin, to, letter_id=slow.id, received_on=sent + timedelta(90))
    factories.response(session, marin, to)  # an answer to no letter

    found = agencies.stats(session, to.id or 0)
    assert (found.letters_received, found.answers_given, found.letters_answered) == (4, 4, 2)
    assert found.median_days_to_answer == 20  # between 10 and 30
    assert [a.letter_id for a in found.awaiting] == [waiting_old.id, waiting_new.id]
    assert found.awaiting_total == 2
    assert [a.jurisdiction_slug for a in found.awaiting] == [
        "ca-marin-county",
        "ca-santa-clara-county",
    ]

    third = factories.letter(session, marin, to, sent_on=sent)
    factories.response(session, marin, to, letter_id=third.id, received_on=sent + timedelta(100))
    assert agencies.stats(session, to.id or 0).median_days_to_answer == 30  # the middle of 3

    # The program ended for Marin's campaign: its letter of before no longer awaits an answer,
    # one sent after (a new campaign) does.
    later = factories.letter(session, marin, to, sent_on=date(2015, 1, 5))
    session.execute(  # as a program_ended announcement would leave the derived status
        sa.update(JurisdictionStatus)
        .where(col(JurisdictionStatus.jurisdiction_id) == marin.id)
        .values(campaign_closed_on=date(2014, 11, 20))
    )
    closed = agencies.stats(session, to.id or 0)
    assert [a.letter_id for a in closed.awaiting] == [waiting_new.id, later.id]
    assert closed.awaiting_total == 2

    nobody = new_agency(session, name="Quiet Bureau")
    quiet = agencies.stats(session, nobody.id or 0)
    assert (quiet.letters_received, quiet.median_days_to_answer, quiet.awaiting) == (0, None, [])


def test_the_record_takes_a_few_queries_whatever_the_letters(
    session: Session, count_queries
) -> None:
    to = new_agency(session)
    j = factories.jurisdiction(session, "06085")
    for n in range(12):
        letter = factories.letter(session, j, to, sent_on=date(2010, 1, 1) + timedelta(n))
        if n % 2:
            factories.response(session, j, to, letter_id=letter.id, received_on=date(2010, 6, 1))
    session.flush()
    with count_queries() as counter:
        agencies.stats(session, to.id or 0)
    assert counter.count <= 6


# Pages


def test_the_directory_groups_agencies_and_shows_what_is_known(
    client: TestClient, session: Session
) -> None:
    page = client.get("/agencies").text
    assert page.count('<h2 id="kind-') == 4  # ICE, DHS, FBI, then the bureaus
    assert page.index('id="kind-ice"') < page.index('id="kind-state_identification_bureau"')
    assert "California Department of Justice" in page and "unconfirmed" not in page
    new_agency(session, name="County Records Office")  # no source yet
    session.flush()
    assert '<span class="flag">unconfirmed</span>' in client.get("/agencies").text
    only_ca = client.get("/agencies", params={"kind": "", "state": "ca"}).text
    assert "California Department of Justice" in only_ca and "Alaska" not in only_ca
    assert client.get("/agencies", params={"kind": "nonsense"}).status_code == 422
    assert 'href="/agencies"' in client.get("/").text  # in the site's menu


def test_an_agency_page_shows_each_contact_with_its_source_or_asks_for_it(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ca, ak = bureau(session, "CA"), bureau(session, "AK")
    page = client.get(f"/agencies/{ca.id}").text
    assert ca.contact_source_url and ca.contact_source_url in page
    assert f"checked {day(ca.contact_checked_on)}" in page
    assert "Edit the contacts" not in page  # not for a visitor, who is asked to sign in first
    add_email = f'unknown — <a href="/agencies/{ca.id}/edit#f-email">add it</a>'
    assert add_email in page
    r = client.get(f"/agencies/{ca.id}/edit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    sign_in(client, credentials, "viewer")  # who may not edit: no link that would refuse
    assert add_email not in client.get(f"/agencies/{ca.id}").text
    client.post("/logout", data={"csrf_token": csrf(client, "/logout")})
    sign_in(client, credentials, "organizer")
    page = client.get(f"/agencies/{ak.id}").text
    assert f'href="/agencies/{ak.id}/edit#f-email">add it</a>' in page
    assert client.get("/agencies/999999").status_code == 404


# The contacts form


def test_the_form_saves_an_audited_change_with_its_webhook_event(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ak = bureau(session, "AK")
    factories.webhook(session, events=["agency.updated"])
    sign_in(client, credentials, "organizer")
    action = f"/agencies/{ak.id}/edit"
    page = client.get(action).text
    fields = dict(defaults(page, action)) | {
        "name": "Alaska Department of Public Safety",
        "contact_source_url": "https://dps.alaska.gov/",
        "contact_checked_on": "2026-12-01",
        "response_window_days": "21",
    }
    saved = client.post(action, data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/agencies/{ak.id}"
    session.expire_all()
    assert (ak.name, ak.response_window_days, ak.version) == (
        "Alaska Department of Public Safety",
        21,
        2,
    )
    entry = session.scalars(sa.select(AuditEntry).filter_by(entity="agency", entity_id=ak.id)).one()
    assert entry.action is AuditAction.update and entry.actor_label == "organizer@example.org"
    assert [d.event for d in factories.deliveries(session)] == ["agency.updated"]
    again = client.post(action, data=fields, follow_redirects=False)  # a double tap
    assert again.status_code == 303 and ak.version == 2


def test_the_form_shows_both_versions_when_someone_saved_in_between(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ak = bureau(session, "AK")
    sign_in(client, credentials, "organizer")
    action = f"/agencies/{ak.id}/edit"
    fields = dict(defaults(client.get(action).text, action)) | {"fax": "907-555-0101"}
    agencies.update(session, ak, AgencyUpdate(fax="907-555-0199"), CLI)
    session.commit()
    refused = client.post(action, data=fields, follow_redirects=False)
    assert refused.status_code == 409
    assert "Saved meanwhile: <q>907-555-0199</q>" in refused.text
    assert 'value="907-555-0101"' in refused.text  # theirs shown, ours kept
    session.expire_all()
    assert ak.fax == "907-555-0199"


def test_the_form_submitted_as_it_comes_or_emptied(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ca = bureau(session, "CA")
    sign_in(client, credentials, "organizer")
    action = f"/agencies/{ca.id}/edit"
    as_it_comes = dict(defaults(client.get(action).text, action))
    assert client.post(action, data=as_it_comes, follow_redirects=False).status_code == 303
    session.expire_all()
    assert ca.version == 1  # nothing changed, nothing written
    emptied = {
        k: ("" if k in {"name", "email", "postal_address"} else v)
        for k, v in dict(defaults(client.get(action).text, action)).items()
    }
    refused = client.post(action, data=emptied, follow_redirects=False)
    assert refused.status_code == 422 and "cannot be null" in refused.text
    session.expire_all()
    assert ca.postal_address  # nothing half-written
    emptied["name"] = ca.name
    assert client.post(action, data=emptied, follow_redirects=False).status_code == 303
    session.expire_all()
    assert ca.postal_address is None and ca.version == 2
    bad = dict(defaults(client.get(action).text, action)) | {
        "contact_checked_on": (today() + timedelta(days=2)).isoformat(),
        "response_window_days": "0",
    }
    refused = client.post(action, data=bad, follow_redirects=False)
    assert refused.status_code == 422 and 'id="e-response_window_days"' in refused.text


def test_visitors_and_viewers_cannot_edit(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ak = bureau(session, "AK")
    assert client.get(f"/agencies/{ak.id}/edit", follow_redirects=False).status_code == 303
    sign_in(client, credentials, "viewer")
    assert client.get(f"/agencies/{ak.id}/edit").status_code == 403


def test_the_api_carries_the_new_fields(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    ca = bureau(session, "CA")
    body = client.get(f"/api/v1/agencies/{ca.id}").json()
    assert body["contact_source_url"] == ca.contact_source_url
    assert body["contact_checked_on"] == str(ca.contact_checked_on)
    assert body["response_window_days"] is None
    headers = credentials.headers("write")
    late = {"contact_checked_on": (today() + timedelta(days=1)).isoformat()}
    r = client.patch(f"/api/v1/agencies/{ca.id}", json=late, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contact_checked_on"
    r = client.patch(f"/api/v1/agencies/{ca.id}", json={"response_window_days": 0}, headers=headers)
    assert r.status_code == 422
    r = client.patch(
        f"/api/v1/agencies/{ca.id}", json={"response_window_days": 45}, headers=headers
    )
    assert r.status_code == 200 and r.json()["response_window_days"] == 45
    j = factories.jurisdiction(session, "06085")
    letter = {
        "jurisdiction_id": j.id,
        "agency_id": ca.id,
        "channel": "mail",
        "purpose": "opt_out_request",
        "sent_on": "2010-10-07",
    }
    r = client.post("/api/v1/letters", json=letter, headers=headers)
    assert r.status_code == 201 and r.json()["response_due_on"] == "2010-11-21"
    assert session.get(Letter, r.json()["id"]) is not None


def test_the_pages_run_as_many_queries_for_30_letters_as_for_3(
    client: TestClient, session: Session, count_queries
) -> None:
    to = new_agency(session)
    santa_clara = factories.jurisdiction(session, "06085")
    session.commit()

    def counts() -> dict[str, int]:
        found = {}
        for url in ("/agencies", f"/agencies/{to.id}"):
            session.expunge_all()
            with count_queries() as q:
                assert client.get(url).status_code == 200
            found[url] = q.count
        return found

    def add_letters(n: int) -> None:
        for i in range(n):
            letter = factories.letter(session, santa_clara, to, sent_on=date(2010, 1, 1 + i))
            if i % 2:
                factories.response(
                    session, santa_clara, to, letter_id=letter.id, received_on=date(2010, 6, 1)
                )
        session.commit()

    add_letters(3)
    few = counts()
    add_letters(27)
    assert counts() == few


def test_csv_export_and_import_carry_the_contacts_source_and_window(session: Session) -> None:
    ak = bureau(session, "AK")
    header = (
        "id,version,name,kind,state,website,contact_source_url,contact_checked_on,"
        "response_window_days"
    )
    row = (
        f"{ak.id},{ak.version},Alaska Department of Public Safety,state_identification_bureau,AK,"
        "https://dps.alaska.gov/,https://dps.alaska.gov/,2026-11-30,21"
    )
    report = imports.import_csv(
        session, "agencies", f"{header}\n{row}\n", CLI, response_window_days=30, max_rows=10
    )
    assert report.updated == 1
    session.expire_all()
    assert (ak.website, ak.contact_checked_on, ak.response_window_days) == (
        "https://dps.alaska.gov/",
        date(2026, 11, 30),
        21,
    )
    late = row.replace("2026-11-30", (today() + timedelta(days=3)).isoformat())
    late = late.replace(f",{ak.version - 1},", f",{ak.version},")
    with pytest.raises(InvalidInput) as refused:
        imports.import_csv(
            session, "agencies", f"{header}\n{late}\n", CLI, response_window_days=30, max_rows=10
        )
    assert "contact_checked_on" in str(refused.value.errors)


def test_the_export_has_the_new_columns(client: TestClient) -> None:
    r = client.get("/api/v1/export/agencies.csv", params={"state": "CA"})
    assert r.status_code == 200
    rows = list(csv.DictReader(r.text.splitlines()))
    assert [row["contact_checked_on"] for row in rows] == ["2026-12-03"]
    assert rows[0]["contact_source_url"].startswith("https://oag.ca.gov/")
    assert "response_window_days" in rows[0] and "website" in rows[0]


def test_a_demo_database_of_the_earlier_release_upgrades_cleanly(session: Session) -> None:
    """Agencies as the loader of before left them (placeholder bureaus, no FBI), the demo of
    the earlier release loaded on them: a new load fills the bureaus in, keeps what the demo
    wrote, and the new demo and loads after it change nothing more."""
    old_note = next(n for n in RETIRED_NOTES if n.startswith("Placeholder"))
    ice_note = next(n for n in RETIRED_NOTES if n.startswith("U.S. Immigration"))
    blank = dict.fromkeys(
        ("email", "fax", "postal_address", "website", "contact_source_url", "contact_checked_on")
    )
    for code, state in session.execute(
        sa.select(col(Jurisdiction.state), col(Jurisdiction.name)).where(
            col(Jurisdiction.kind).in_(["state", "federal_district"])
        )
    ):
        session.execute(
            sa.update(Agency)
            .where(col(Agency.kind) == AgencyKind.state_identification_bureau)
            .where(col(Agency.state) == code)
            .values(name=f"{state} State Identification Bureau", notes=old_note, version=1, **blank)
        )
    session.execute(
        sa.update(Agency)
        .where(col(Agency.kind) == AgencyKind.ice)
        .values(name="ICE Secure Communities", notes=ice_note, version=1, **blank)
    )
    session.execute(
        sa.update(Agency)
        .where(col(Agency.kind) == AgencyKind.dhs)
        .values(notes=None, version=1, **blank)
    )
    session.execute(sa.delete(Agency).where(col(Agency.kind) == AgencyKind.fbi))
    session.expire_all()
    legacy_history.load_history(session, 30)  # writes lines into ICE's notes
    session.flush()

    report = seed(session)

    assert (report.agencies, report.agencies_filled_in) == (1, 52)  # the FBI; bureaus and DHS
    ca, ar = bureau(session, "CA"), bureau(session, "AR")
    assert ca.name.startswith("California Department of Justice") and ca.postal_address
    assert ar.name == "Arkansas State Police, Identification Bureau" and ar.notes
    assert old_note not in ar.notes
    ice = session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.ice)).one()
    assert "Setting the Record Straight" in (ice.notes or "")  # the demo's lines stay
    load_history(session, 30)
    again = seed(session)
    assert (again.agencies, again.agencies_filled_in) == (0, 0)
