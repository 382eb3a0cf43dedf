"""Announcements: what ICE, DHS or a state said to every campaign in a scope at once, as a
record kind like the others (API, audit, webhooks, CSV, the organizers' form, timelines)."""

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.cli import main
from optout_tracker.clock import today
from optout_tracker.config import get_settings
from optout_tracker.db import create_db_engine
from optout_tracker.enums import ActorKind, AgencyKind, AnnouncementEffect
from optout_tracker.models import Agency, Announcement, AuditEntry, Jurisdiction
from optout_tracker.services import status_projection
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings
from tests.test_pages import csrf, post_form, sign_in

API = "/api/v1"
MARKER = "PRIVATE-MARKER-announce-41c2"
FORM = "/announcements/new"


def count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Announcement)) or 0


def ids_in(session: Session, state: str | None = None) -> set[int]:
    where = [col(Jurisdiction.state) == state] if state else []
    return set(session.scalars(sa.select(col(Jurisdiction.id)).where(*where)))


@pytest.fixture
def ice(session: Session) -> Agency:
    return factories.agency(session, AgencyKind.ice)


@pytest.fixture
def write(credentials: Credentials) -> dict[str, str]:
    return credentials.headers("write")


def body(agency: Agency, **fields: Any) -> dict[str, Any]:
    return {
        "agency_id": agency.id,
        "announced_on": "2011-08-05",
        "scope": "national",
        "effect": "opt_out_denied",
        "title": "Participation in Secure Communities is mandatory",
        "summary": "ICE ended every state agreement.",
        "source_url": "https://www.ice.gov/secure-communities",
        "private_notes": MARKER,
        **fields,
    }


@pytest.fixture
def refreshed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[set[int]]]:
    """The jurisdiction ids of each status refresh, the refresh still done."""
    calls: list[set[int]] = []
    refresh = status_projection.refresh

    def recording(session: Session, jurisdiction_ids: Any) -> Any:
        ids = set(jurisdiction_ids)
        calls.append(ids)
        return refresh(session, ids)

    monkeypatch.setattr(status_projection, "refresh", recording)
    yield calls


# The API


def test_the_api_creates_reads_changes_and_deletes_with_audit_and_events(
    client: TestClient, session: Session, credentials: Credentials, ice: Agency, write: dict
) -> None:
    factories.webhook(session)
    r = client.post(f"{API}/announcements", json=body(ice), headers=write)
    assert r.status_code == 201, r.text
    made = r.json()
    path = f"{API}/announcements/{made['id']}"
    assert r.headers["location"].endswith(path)
    assert made["version"] == 1 and made["private_notes"] == MARKER
    assert (made["scope"], made["effect"]) == ("national", "opt_out_denied")

    seen = client.get(path)  # anonymous: the public fields only
    assert seen.status_code == 200 and "private_notes" not in seen.json()
    assert seen.json()["title"] == made["title"]
    tag = client.get(path, headers=write).headers["etag"]
    assert client.get(path, headers={**write, "If-None-Match": tag}).status_code == 304

    listed = client.get(
        f"{API}/announcements",
        params={"scope": "national", "effect": "opt_out_denied", "agency_id": ice.id,
                "announced_on_from": "2011-08-01", "announced_on_to": "2011-08-31"},
    ).json()  # fmt: skip
    assert [a["id"] for a in listed["items"]] == [made["id"]] and listed["total"] == 1
    assert client.get(f"{API}/announcements", params={"scope": "CA"}).json()["total"] == 0

    stale = client.patch(path, json={"title": "x"}, headers={**write, "If-Match": '"stale"'})
    assert stale.status_code == 412
    r = client.patch(
        path, json={"summary": "Every state agreement ended."}, headers={**write, "If-Match": tag}
    )
    assert r.status_code == 200 and r.json()["version"] == 2

    assert client.delete(path, headers=write).status_code == 403  # deleting is for admins
    assert client.delete(path, headers=credentials.headers("admin")).status_code == 204
    assert client.get(path).status_code == 404

    entries = session.scalars(
        sa.select(AuditEntry)
        .where(col(AuditEntry.entity) == "announcement", col(AuditEntry.entity_id) == made["id"])
        .order_by(col(AuditEntry.id))
    ).all()
    assert [e.action.value for e in entries] == ["create", "update", "delete"]
    assert entries[0].changes["scope"] == [None, "national"]
    assert entries[1].changes == {
        "summary": ["ICE ended every state agreement.", "Every state agreement ended."]
    }
    assert all(e.actor_kind is ActorKind.api_key and e.jurisdiction_id is None for e in entries)

    found = factories.deliveries(session)
    events = Counter(d.event for d in found if d.event.startswith("announcement."))
    assert events == {"announcement.created": 1, "announcement.updated": 1,
                      "announcement.deleted": 1}  # fmt: skip
    assert not [d.event for d in found if MARKER in d.body]
    created = next(json.loads(d.body) for d in found if d.event == "announcement.created")
    assert created["data"]["id"] == made["id"] and "private_notes" not in created["data"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"announced_on": "FUTURE"}, "announced_on"),
        ({"scope": "ZZ"}, "scope"),
        ({"scope": "nationwide"}, "scope"),
        ({"scope": "C1"}, "scope"),
        ({"scope": ""}, "scope"),
        ({"agency_id": 999_999}, "agency_id"),
        ({"effect": "ended"}, "effect"),
        ({"title": " "}, "title"),
        ({"source_url": "ftp://example.org/x"}, "source_url"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    client: TestClient, session: Session, ice: Agency, write: dict, fields: dict, field: str
) -> None:
    if fields.get("announced_on") == "FUTURE":
        fields = {"announced_on": (today() + timedelta(days=1)).isoformat()}
    before = count(session)
    r = client.post(f"{API}/announcements", json=body(ice, **fields), headers=write)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json()["errors"]}
    assert count(session) == before


def test_a_patch_is_checked_by_the_same_rules(
    client: TestClient, session: Session, ice: Agency, write: dict
) -> None:
    said = factories.announcement(session, ice)
    session.commit()
    path = f"{API}/announcements/{said.id}"
    future = (today() + timedelta(days=3)).isoformat()
    refused = [
        ({"announced_on": future}, "announced_on"),
        ({"scope": "XX"}, "scope"),
        ({"effect": None}, "effect"),
        ({"agency_id": 999_999}, "agency_id"),
    ]
    for change, field in refused:
        r = client.patch(path, json=change, headers=write)
        assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}, r.text
    session.refresh(said)
    assert said.version == 1


def test_a_state_code_is_taken_in_either_case_and_stored_upper_case(
    client: TestClient, ice: Agency, write: dict
) -> None:
    r = client.post(f"{API}/announcements", json=body(ice, scope="ca"), headers=write)
    assert r.status_code == 201 and r.json()["scope"] == "CA"
    assert client.get(f"{API}/announcements", params={"scope": "ca"}).json()["total"] == 1


def test_an_agency_with_announcements_is_not_deleted(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    dhs = factories.agency(session, AgencyKind.dhs)
    factories.announcement(session, dhs, effect=AnnouncementEffect.program_ended)
    session.commit()
    r = client.delete(f"{API}/agencies/{dhs.id}", headers=credentials.headers("admin"))
    assert r.status_code == 409 and "1 announcement record" in r.json()["detail"]
    assert session.get(Agency, dhs.id) is not None


def test_the_operations_are_documented_like_the_other_kinds(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    ids = {
        (method, path): op["operationId"]
        for path, ops in paths.items()
        if path.startswith(f"{API}/announcements")
        for method, op in ops.items()
    }
    assert ids == {
        ("get", f"{API}/announcements"): "list_announcements",
        ("post", f"{API}/announcements"): "create_announcement",
        ("get", f"{API}/announcements/{{announcement_id}}"): "get_announcement",
        ("patch", f"{API}/announcements/{{announcement_id}}"): "update_announcement",
        ("delete", f"{API}/announcements/{{announcement_id}}"): "delete_announcement",
    }
    assert "export_announcements" in json.dumps(paths[f"{API}/export/announcements.csv"])


# The derived status of every jurisdiction in scope is refreshed with each change.


def test_each_change_refreshes_the_jurisdictions_in_its_scope(
    client: TestClient,
    session: Session,
    credentials: Credentials,
    ice: Agency,
    write: dict,
    refreshed: list[set[int]],
) -> None:
    r = client.post(f"{API}/announcements", json=body(ice, scope="CA"), headers=write)
    path = f"{API}/announcements/{r.json()['id']}"
    california, oregon = ids_in(session, "CA"), ids_in(session, "OR")
    assert len(california) == 59  # the state and its 58 counties
    assert refreshed == [california]

    refreshed.clear()
    r = client.patch(path, json={"public_notes": "Read at the meeting."}, headers=write)
    assert r.status_code == 200
    assert refreshed == []  # nothing the campaign rules read has changed
    client.patch(path, json={"scope": "OR"}, headers=write)
    assert refreshed == [california | oregon]  # left one state, now speaks to another

    refreshed.clear()
    client.patch(path, json={"scope": "national"}, headers=write)
    assert refreshed == [ids_in(session)]

    refreshed.clear()
    client.delete(path, headers=credentials.headers("admin"))
    assert refreshed == [ids_in(session)]


# CSV


def test_csv_export_then_import_round_trips(
    client: TestClient, session: Session, credentials: Credentials, ice: Agency,
    refreshed: list[set[int]],
) -> None:  # fmt: skip
    factories.announcement(session, ice, private_notes=MARKER)
    factories.announcement(
        session, factories.agency(session, AgencyKind.state_identification_bureau, "CA"),
        announced_on=today() - timedelta(days=400), scope="CA",
        effect=AnnouncementEffect.none, title="The state signs its agreement with ICE",
    )  # fmt: skip
    session.commit()
    anonymous = client.get(f"{API}/export/announcements.csv")
    assert anonymous.status_code == 200 and MARKER not in anonymous.text
    assert "private_notes" not in anonymous.text.splitlines()[0]
    exported = client.get(
        f"{API}/export/announcements.csv", headers=credentials.headers("read")
    ).text
    assert MARKER in exported and exported.splitlines()[0].startswith("id,")
    only_ca = client.get(f"{API}/export/announcements.csv", params={"scope": "CA"}).text
    assert len(only_ca.splitlines()) == 2

    # Imported back as it is, it changes nothing; without its ids, it is two new records.
    r = client.post(
        f"{API}/import/announcements", content=exported.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["unchanged"] == 2 and count(session) == 2, r.text
    header, *lines = exported.splitlines()
    copies = "\r\n".join([header, *("," + line.split(",", 1)[1] for line in lines)])
    refreshed.clear()
    r = client.post(
        f"{API}/import/announcements", content=copies.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    assert count(session) == 4
    # Derived once, at the end: one national and one Californian, so all of them.
    assert refreshed[-1] == ids_in(session)
    again = client.get(f"{API}/export/announcements.csv", headers=credentials.headers("read"))
    made = ("id", "created_at", "updated_at")
    rows = [
        tuple((k, v) for k, v in row.items() if k not in made)
        for row in csv.DictReader(io.StringIO(again.text))
    ]
    assert len(rows) == 4 and Counter(rows) == dict.fromkeys(rows, 2)  # each one copied
    imported = session.scalars(
        sa.select(AuditEntry).where(
            col(AuditEntry.entity) == "announcement", col(AuditEntry.action) == "create"
        )
    ).all()
    assert len(imported) == 2  # the factories' rows were not audited; the imported ones are


def test_a_bad_row_is_named_and_nothing_is_imported(
    client: TestClient, session: Session, credentials: Credentials, ice: Agency
) -> None:
    future = (today() + timedelta(days=5)).isoformat()
    text = (
        "agency_id,announced_on,scope,effect,title\r\n"
        f"{ice.id},2011-08-05,national,opt_out_denied,Participation is mandatory\r\n"
        f"{ice.id},{future},TX,none,Not yet\r\n"
        f"{ice.id},2012-01-01,QQ,none,Nowhere\r\n"
    )
    r = client.post(
        f"{API}/import/announcements", content=text.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"row 3: announced_on", "row 4: scope"}
    assert count(session) == 0


def test_the_command_line_imports_and_exports_announcements(
    databases: DatabaseFactory, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = databases.new_url()
    monkeypatch.setenv("OPTOUT_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    engine = create_db_engine(make_settings(url))
    try:
        assert runner.invoke(main, ["seed"]).exit_code == 0
        with Session(engine) as session:
            dhs = factories.agency(session, AgencyKind.dhs)
        source = tmp_path / "announcements.csv"
        source.write_text(
            "agency_id,announced_on,scope,effect,title\n"
            f"{dhs.id},2014-11-20,national,program_ended,Secure Communities is discontinued\n",
            encoding="utf-8",
        )
        result = runner.invoke(main, ["import", "announcements", str(source)])
        assert result.exit_code == 0, result.output
        assert "imported 1 announcements" in result.output
        out = tmp_path / "out.csv"
        assert runner.invoke(main, ["export", "announcements", "--out", str(out)]).exit_code == 0
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 and "program_ended" in lines[1] and "private_notes" in lines[0]
    finally:
        engine.dispose()
        get_settings.cache_clear()


# Timelines


def test_an_announcement_is_on_the_timeline_of_each_jurisdiction_in_scope(
    client: TestClient, session: Session, ice: Agency
) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    multnomah = factories.jurisdiction(session, "41051")
    vote = factories.vote(session, santa_clara, held_on=date(2011, 8, 5))
    national = factories.announcement(session, ice, private_notes=MARKER)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    californian = factories.announcement(
        session, sib, announced_on=date(2010, 1, 5), scope="CA",
        effect=AnnouncementEffect.none, title="The state signs its agreement with ICE",
    )  # fmt: skip
    session.commit()

    timeline = client.get(f"{API}/jurisdictions/{santa_clara.id}/timeline").json()
    assert timeline["total"] == 3
    assert [(e["type"], e["record"]["id"]) for e in timeline["items"]] == [
        ("announcement", californian.id),
        ("vote", vote.id),
        ("announcement", national.id),  # on the same date, after the jurisdiction's own events
    ]
    said = timeline["items"][2]
    assert said["stage"] is None and said["agency_id"] == ice.id
    assert said["description"] == f"{ice.name} announced nationwide: {national.title}"
    assert "private_notes" not in said["record"]
    assert timeline["items"][0]["description"].endswith(f"announced in CA: {californian.title}")

    elsewhere = client.get(f"{API}/jurisdictions/{multnomah.id}/timeline").json()
    assert [(e["type"], e["record"]["id"]) for e in elsewhere["items"]] == [
        ("announcement", national.id)
    ]
    paged = client.get(f"{API}/jurisdictions/{santa_clara.id}/timeline?limit=1&offset=2").json()
    assert [e["record"]["id"] for e in paged["items"]] == [national.id] and paged["total"] == 3

    page = client.get("/jurisdictions/ca-santa-clara-county").text
    assert (
        national.title in page and "Said to every jurisdiction; its effect: opt out denied" in page
    )
    assert "Said to every jurisdiction in CA." in page and MARKER not in page


# The organizers' form


def test_the_form_is_for_organizers(client: TestClient, credentials: Credentials) -> None:
    r = client.get(FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fannouncements%2Fnew"
    sign_in(client, credentials, "viewer")
    assert client.get(FORM).status_code == 403
    assert 'href="/announcements/new"' not in client.get("/").text
    client.post("/logout", data={"csrf_token": csrf(client, "/logout")})
    sign_in(client, credentials, "organizer")
    page = client.get(FORM).text
    assert 'href="/announcements/new"' in page  # the site's menu offers it to organizers
    agencies = re.search(r'<select id="f-agency_id".*?</select>', page, re.S)
    assert agencies
    names = re.findall(r'<option value="\d+">([^<]+)</option>', agencies.group(0))
    assert names[:2] == ["ICE Secure Communities", "U.S. Department of Homeland Security"]
    bureaus = names[2:]  # then each state's bureau, by state
    assert len(bureaus) == 51 and all(re.search(r" \([A-Z]{2}\)$", n) for n in bureaus)
    scopes = re.search(r'<select id="f-scope".*?</select>', page, re.S)
    assert scopes and '<option value="national">' in scopes.group(0)
    assert '<option value="CA">California</option>' in scopes.group(0)
    r = client.post(FORM, data={"title": "x"}, headers={"accept": "text/html"})
    assert r.status_code == 403 and "CSRF" in r.text


def test_the_form_submitted_as_it_comes_shows_each_error_beside_its_field(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    defaults = {"agency_id": "", "announced_on": "", "scope": "", "effect": "none",
                "title": "", "summary": "", "source_url": ""}  # fmt: skip
    r = post_form(client, FORM, FORM, defaults)
    assert r.status_code == 422
    for field in ("agency_id", "announced_on", "scope", "title"):
        assert f'id="e-{field}"' in r.text, field
    assert 'id="e-effect"' not in r.text and count(session) == 0

    future = (today() + timedelta(days=2)).isoformat()
    ice = factories.agency(session, AgencyKind.ice)
    session.commit()
    r = post_form(client, FORM, FORM, {**defaults, "agency_id": str(ice.id), "scope": "national",
                                       "announced_on": future, "title": "Soon"})  # fmt: skip
    assert r.status_code == 422 and 'id="e-announced_on"' in r.text and "future" in r.text
    assert 'value="Soon"' in r.text  # the input is kept
    assert count(session) == 0


def test_the_filled_form_saves_the_announcement_with_its_audit_entry(
    client: TestClient, session: Session, credentials: Credentials, ice: Agency
) -> None:
    session.commit()
    sign_in(client, credentials, "organizer")
    r = post_form(client, FORM, FORM, {
        "agency_id": str(ice.id), "announced_on": "2014-11-20", "scope": "national",
        "effect": "program_ended", "title": "Secure Communities is discontinued",
        "summary": "Replaced by the Priority Enforcement Program.",
        "source_url": "https://www.dhs.gov/", "private_notes": MARKER,
    })  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == FORM
    assert "The announcement was logged." in client.get(FORM).text
    (saved,) = session.scalars(sa.select(Announcement)).all()
    assert saved.effect is AnnouncementEffect.program_ended and saved.private_notes == MARKER
    (entry,) = session.scalars(
        sa.select(AuditEntry).where(col(AuditEntry.entity) == "announcement")
    ).all()
    assert entry.action.value == "create" and entry.entity_id == saved.id
    assert (entry.actor_kind, entry.actor_label) == (ActorKind.user, "organizer@example.org")


def test_the_webhook_form_offers_the_announcement_events(
    client: TestClient, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    page = client.get("/admin/webhooks")
    assert page.status_code == 200
    for event in ("announcement.created", "announcement.updated", "announcement.deleted"):
        assert f'name="events" value="{event}"' in page.text
