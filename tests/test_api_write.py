"""The write API under /api/v1: a whole campaign, the rules, bad input, ETags,
Idempotency-Key, the audit log and API keys, all through HTTP with API keys."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind
from optout_tracker.models import (
    Agency,
    AuditEntry,
    IdempotencyKey,
    Jurisdiction,
    Letter,
    Response,
    Vote,
)
from optout_tracker.schemas import KINDS, RecordKind
from tests import factories

API = "/api/v1"
PROBLEM = "application/problem+json"
ALAMEDA, SANTA_CLARA, ALPINE = "06001", "06085", "06003"
HOW_TO = "api-keys create"


# Helpers


def lenient(client: TestClient) -> TestClient:
    """A client that answers 500 instead of re-raising, to see what a user would get."""
    return TestClient(client.app, raise_server_exceptions=False)


def jurisdiction_id(client: TestClient, fips: str) -> int:
    r = client.get(f"{API}/jurisdictions", params={"fips": fips})
    (item,) = r.json()["items"]
    return int(item["id"])


def agency_id(client: TestClient, kind: str, state: str | None = None) -> int:
    params = {"kind": kind, **({"state": state} if state else {})}
    items = client.get(f"{API}/agencies", params=params).json()["items"]
    assert len(items) == 1, items
    return int(items[0]["id"])


def created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    return dict(r.json())


def get(client: TestClient, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.get(API + path, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = dict(r.json())
    assert body["status"] == status and body["detail"]
    return body


def invalid_fields(r: Any) -> set[str]:
    return {e["field"] for e in problem(r, 422)["errors"]}


COUNTED = (Jurisdiction, Agency, Vote, Letter, Response, AuditEntry, IdempotencyKey)


def counts(session: Session) -> dict[str, int]:
    """Rows per table, plus the sum of versions, to see that a failure wrote nothing."""
    out = {
        str(m.__tablename__): session.scalar(sa.select(sa.func.count()).select_from(m)) or 0
        for m in COUNTED
    }
    out["jurisdiction versions"] = session.scalar(sa.select(sa.func.sum(Jurisdiction.version))) or 0
    return out


def key_id(client: TestClient, credentials: Any, scope: str) -> int:
    """The id of the test credentials' key of this scope, found by its token's prefix."""
    prefix = credentials.token(scope).split("_")[1]
    keys = client.get(f"{API}/api-keys", headers=credentials.headers("admin")).json()
    return next(int(k["id"]) for k in keys if k["prefix"] == prefix)


def audit(client: TestClient, credentials: Any, **params: Any) -> list[dict[str, Any]]:
    r = client.get(
        f"{API}/audit", params={"limit": 500, **params}, headers=credentials.headers("admin")
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def campaign_state(client: TestClient, jid: int) -> dict[str, Any]:
    j = get(client, f"/jurisdictions/{jid}")
    keys = (
        "status",
        "status_since",
        "sib_notified",
        "ice_notified",
        "notice_complete",
        "awaiting_response",
    )
    return {k: j[k] for k in keys}


def state(status: str, since: date | None, sib: bool, ice: bool, awaiting: bool) -> dict[str, Any]:
    return {
        "status": status,
        "status_since": since.isoformat() if since else None,
        "sib_notified": sib,
        "ice_notified": ice,
        "notice_complete": sib and ice,
        "awaiting_response": awaiting,
    }


@pytest.fixture
def write(credentials: Any) -> dict[str, str]:
    return credentials.headers("write")


@pytest.fixture
def admin(credentials: Any) -> dict[str, str]:
    return credentials.headers("admin")


@pytest.fixture
def alameda(client: TestClient) -> int:
    return jurisdiction_id(client, ALAMEDA)


def vote_body(jid: int, **fields: Any) -> dict[str, Any]:
    return {
        "jurisdiction_id": jid,
        "body": "Board of Supervisors",
        "held_on": "2010-09-28",
        "measure": "Resolution 2010-52: request to opt out of Secure Communities",
        "outcome": "passed",
        "yes": 4,
        "no": 1,
        **fields,
    }


# The whole campaign


def test_alameda_campaign_from_scheduled_vote_to_opted_out(client, write):
    jid = jurisdiction_id(client, ALAMEDA)
    ca_sib = agency_id(client, "state_identification_bureau", "CA")
    ice = agency_id(client, "ice")
    assert campaign_state(client, jid) == state("no_action", None, False, False, False)

    meeting_day = today() + timedelta(days=14)
    vote = created(
        client.post(
            f"{API}/votes",
            json=vote_body(
                jid, held_on=meeting_day.isoformat(), outcome="scheduled", yes=None, no=None
            ),
            headers=write,
        )
    )
    assert vote["version"] == 1
    # Upcoming: it decides nothing today (design.md, "Time"); it is the next vote.
    assert campaign_state(client, jid) == state("no_action", None, False, False, False)
    assert get(client, f"/jurisdictions/{jid}")["next_vote_on"] == meeting_day.isoformat()

    # The vote cannot pass while its date lies ahead.
    r = client.patch(
        f"{API}/votes/{vote['id']}", json={"outcome": "passed", "yes": 4, "no": 1}, headers=write
    )
    assert invalid_fields(r) == {"held_on"}

    r = client.patch(f"{API}/votes/{vote['id']}", json={"held_on": "2010-09-28"}, headers=write)
    assert r.status_code == 200, r.text
    assert campaign_state(client, jid) == state(
        "vote_scheduled", date(2010, 9, 28), False, False, False
    )
    r = client.patch(
        f"{API}/votes/{vote['id']}", json={"outcome": "passed", "yes": 4, "no": 1}, headers=write
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    assert campaign_state(client, jid) == state(
        "vote_passed", date(2010, 9, 28), False, False, False
    )
    assert (
        get(client, f"/jurisdictions/{jid}")["status_reason"]
        == "Board of Supervisors voted 4–1 to opt out"
    )

    sib_letter = created(
        client.post(
            f"{API}/letters",
            json={
                "jurisdiction_id": jid,
                "agency_id": ca_sib,
                "channel": "email",
                "sent_on": "2010-10-05",
                "purpose": "opt_out_request",
                "signed_by": "Chair, Board of Supervisors",
                "subject": "Alameda County opts out of Secure Communities",
            },
            headers=write,
        )
    )
    assert sib_letter["response_due_on"] == "2010-11-04"
    assert campaign_state(client, jid) == state("notified", date(2010, 10, 5), True, False, True)

    ice_letter = created(
        client.post(
            f"{API}/letters",
            json={
                "jurisdiction_id": jid,
                "agency_id": ice,
                "channel": "fax",
                "sent_on": "2010-10-06",
                "purpose": "opt_out_request",
                "signed_by": "Chair, Board of Supervisors",
            },
            headers=write,
        )
    )
    assert campaign_state(client, jid) == state("notified", date(2010, 10, 6), True, True, True)

    def answer(kind: str, received_on: str, **fields: Any) -> dict[str, Any]:
        body = {"jurisdiction_id": jid, "agency_id": ice, "received_on": received_on, "kind": kind}
        return created(client.post(f"{API}/responses", json={**body, **fields}, headers=write))

    answer("acknowledged", "2010-10-20", letter_id=ice_letter["id"], channel="email")
    # The SIB has not answered its letter yet.
    assert campaign_state(client, jid) == state("notified", date(2010, 10, 20), True, True, True)
    assert get(client, f"/jurisdictions/{jid}")["next_response_due_on"] == "2010-11-04"

    answer("meeting_requested", "2010-11-10")
    assert campaign_state(client, jid) == state(
        "in_negotiation", date(2010, 11, 10), True, True, True
    )

    answer("activation_date_adjusted", "2010-12-01", new_activation_on="2011-03-01")
    assert campaign_state(client, jid) == state("delayed", date(2010, 12, 1), True, True, True)
    j = get(client, f"/jurisdictions/{jid}")
    assert j["scheduled_activation_on"] == "2011-03-01"
    assert j["status_reason"] == "ICE Secure Communities moved activation to March 1, 2011"

    answer("denied", "2011-02-15")
    assert campaign_state(client, jid) == state("denied", date(2011, 2, 15), True, True, True)
    answer("notifications_only", "2011-03-10")
    assert campaign_state(client, jid) == state(
        "notifications_only", date(2011, 3, 10), True, True, True
    )
    answer("removed_from_deployment_plan", "2011-04-01")
    assert campaign_state(client, jid) == state("opted_out", date(2011, 4, 1), True, True, True)
    assert get(client, f"/jurisdictions/{jid}")["status_reason"] == (
        "ICE Secure Communities removed the jurisdiction from the deployment plan"
    )
    timeline = get(client, f"/jurisdictions/{jid}/timeline")
    assert [e["type"] for e in timeline["items"]] == ["vote", "letter", "letter", *["response"] * 6]


# Rules: each a 422 naming the field, and nothing written


@pytest.fixture
def world(session: Session) -> dict[str, int]:
    """Alameda with a letter to ICE (sent October 6, 2010), Santa Clara with a letter to ICE."""
    alameda = factories.jurisdiction(session, ALAMEDA)
    santa_clara = factories.jurisdiction(session, SANTA_CLARA)
    ice = factories.agency(session, AgencyKind.ice)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, alameda, ice, sent_on=date(2010, 10, 6))
    other = factories.letter(session, santa_clara, ice, sent_on=date(2010, 6, 9))
    session.commit()
    ids = {
        "alameda": alameda.id,
        "ice": ice.id,
        "sib": sib.id,
        "letter": letter.id,
        "other_letter": other.id,
    }
    return {k: int(v or 0) for k, v in ids.items()}


FUTURE = "FUTURE"  # replaced by a date after today


def _letter(w: dict[str, int], **fields: Any) -> dict[str, Any]:
    body = {
        "jurisdiction_id": w["alameda"],
        "agency_id": w["sib"],
        "sent_on": "2010-10-05",
        "purpose": "opt_out_request",
    }
    return {**body, **fields}


def _response(w: dict[str, int], **fields: Any) -> dict[str, Any]:
    body = {
        "jurisdiction_id": w["alameda"],
        "agency_id": w["ice"],
        "received_on": "2010-11-10",
        "kind": "meeting_requested",
    }
    return {**body, **fields}


RULES: list[tuple[str, str, Any, str]] = [
    (
        "only a scheduled vote may lie in the future",
        "votes",
        lambda w: vote_body(w["alameda"], held_on=FUTURE),
        "held_on",
    ),
    ("negative tally", "votes", lambda w: vote_body(w["alameda"], no=-1), "no"),
    ("bad vote outcome", "votes", lambda w: vote_body(w["alameda"], outcome="approved"), "outcome"),
    ("unknown jurisdiction", "votes", lambda w: vote_body(2_000_000_000), "jurisdiction_id"),
    ("letter sent in the future", "letters", lambda w: _letter(w, sent_on=FUTURE), "sent_on"),
    (
        "answer due before sending",
        "letters",
        lambda w: _letter(w, response_due_on="2010-10-04"),
        "response_due_on",
    ),
    ("unknown agency", "letters", lambda w: _letter(w, agency_id=2_000_000_000), "agency_id"),
    ("bad channel", "letters", lambda w: _letter(w, channel="carrier_pigeon"), "channel"),
    ("bad purpose", "letters", lambda w: _letter(w, purpose="opt_out"), "purpose"),
    (
        "letter of another jurisdiction",
        "responses",
        lambda w: _response(w, letter_id=w["other_letter"]),
        "letter_id",
    ),
    (
        "answer before the letter",
        "responses",
        lambda w: _response(w, letter_id=w["letter"], received_on="2010-10-05"),
        "received_on",
    ),
    ("unknown letter", "responses", lambda w: _response(w, letter_id=2_000_000_000), "letter_id"),
    (
        "adjusted without a date",
        "responses",
        lambda w: _response(w, kind="activation_date_adjusted"),
        "new_activation_on",
    ),
    ("bad response kind", "responses", lambda w: _response(w, kind="refused"), "kind"),
    (
        "response in the future",
        "responses",
        lambda w: _response(w, received_on=FUTURE),
        "received_on",
    ),
    (
        "SIB without state",
        "agencies",
        lambda w: {
            "name": "California DOJ Bureau of Criminal Identification",
            "kind": "state_identification_bureau",
        },
        "state",
    ),
    (
        "bad agency kind",
        "agencies",
        lambda w: {"name": "Sheriff", "kind": "sheriff", "state": "CA"},
        "kind",
    ),
]


@pytest.mark.parametrize(
    ("path", "make", "field"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_rule_violations_are_422_naming_the_field(client, session, write, world, path, make, field):
    body = {
        k: (today() + timedelta(days=1)).isoformat() if v == FUTURE else v
        for k, v in make(world).items()
    }
    before = counts(session)
    r = lenient(client).post(f"{API}/{path}", json=body, headers=write)
    assert field in invalid_fields(r)
    assert counts(session) == before


def test_rule_violations_on_patch(client, session, write, world):
    alameda, letter = world["alameda"], world["letter"]
    vote = created(client.post(f"{API}/votes", json=vote_body(alameda), headers=write))
    answer = _response(world, letter_id=letter, received_on="2010-10-20")
    response = created(client.post(f"{API}/responses", json=answer, headers=write))
    cases = [
        (f"votes/{vote['id']}", {"held_on": (today() + timedelta(days=3)).isoformat()}, "held_on"),
        (f"votes/{vote['id']}", {"yes": -4}, "yes"),
        (f"votes/{vote['id']}", {"jurisdiction_id": 2_000_000_000}, "jurisdiction_id"),
        (f"letters/{letter}", {"response_due_on": "2010-10-01"}, "response_due_on"),
        (f"letters/{letter}", {"sent_on": "2010-10-25"}, "sent_on"),  # after its answer came
        (f"responses/{response['id']}", {"letter_id": world["other_letter"]}, "letter_id"),
        (f"responses/{response['id']}", {"kind": "activation_date_adjusted"}, "new_activation_on"),
        (f"agencies/{world['sib']}", {"state": None}, "state"),
        (f"agencies/{world['ice']}", {"kind": "state_identification_bureau"}, "state"),
        (f"jurisdictions/{alameda}", {"fips": "0600100"}, "fips"),  # a county has 5 digits
        (f"jurisdictions/{alameda}", {"kind": "city"}, "fips"),  # 06001 is no place code
        # Setting a required field to null.
        (f"jurisdictions/{alameda}", {"name": None}, "name"),
        (f"votes/{vote['id']}", {"body": None}, "body"),
        (f"votes/{vote['id']}", {"outcome": None}, "outcome"),
        (f"letters/{letter}", {"sent_on": None}, "sent_on"),
        (f"letters/{letter}", {"response_due_on": None}, "response_due_on"),
        (f"responses/{response['id']}", {"kind": None}, "kind"),
        (f"agencies/{world['ice']}", {"name": None}, "name"),
    ]
    before = counts(session)
    for path, body, field in cases:
        r = lenient(client).patch(f"{API}/{path}", json=body, headers=write)
        assert invalid_fields(r) == {field}, (path, body)
    assert counts(session) == before
    assert get(client, f"/votes/{vote['id']}")["version"] == 1
    assert get(client, f"/letters/{letter}")["version"] == 1


def test_response_due_on_defaults_to_thirty_days_or_takes_a_given_date(client, write, world):
    default = created(
        client.post(f"{API}/letters", json=_letter(world, sent_on="2011-01-31"), headers=write)
    )
    assert default["response_due_on"] == "2011-03-02"
    given = created(
        client.post(
            f"{API}/letters", json=_letter(world, response_due_on="2010-10-05"), headers=write
        )
    )
    assert given["response_due_on"] == "2010-10-05"  # the same day is allowed


def test_duplicate_slug_fips_and_ocd_id_are_409_naming_the_field(client, session, write, alameda):
    santa_clara = get(client, f"/jurisdictions/{jurisdiction_id(client, SANTA_CLARA)}")
    before = counts(session)
    for field in ("slug", "fips", "ocd_id"):
        r = client.patch(
            f"{API}/jurisdictions/{alameda}", json={field: santa_clara[field]}, headers=write
        )
        assert [e["field"] for e in problem(r, 409)["errors"]] == [field]
        new = {
            "name": "Santa Clara County",
            "kind": "county",
            "state": "CA",
            field: santa_clara[field],
        }
        if field != "fips":
            new["fips"] = "06999"
        r = client.post(f"{API}/jurisdictions", json=new, headers=write)
        assert [e["field"] for e in problem(r, 409)["errors"]] == [field]
    assert counts(session) == before


def test_deleting_records_still_in_use_is_409_saying_why(client, session, admin, world):
    alameda, ice, letter = world["alameda"], world["ice"], world["letter"]
    client.post(f"{API}/responses", json=_response(world, letter_id=letter), headers=admin)
    before = counts(session)

    detail = problem(client.delete(f"{API}/jurisdictions/{alameda}", headers=admin), 409)["detail"]
    assert "Alameda County still has" in detail and "letter" in detail and "response" in detail
    detail = problem(client.delete(f"{API}/agencies/{ice}", headers=admin), 409)["detail"]
    assert "letter" in detail and "response" in detail
    detail = problem(client.delete(f"{API}/letters/{letter}", headers=admin), 409)["detail"]
    assert "answer this letter" in detail
    # A state still has its counties.
    california = jurisdiction_id(client, "06")
    assert (
        "jurisdiction records"
        in problem(client.delete(f"{API}/jurisdictions/{california}", headers=admin), 409)["detail"]
    )
    assert counts(session) == before


def test_deleting_unused_records(client, session, admin, write, world):
    alpine = jurisdiction_id(client, ALPINE)
    assert client.delete(f"{API}/jurisdictions/{alpine}", headers=admin).status_code == 204
    assert client.get(f"{API}/jurisdictions/{alpine}").status_code == 404
    # Once the answer is gone, the letter can go.
    response = created(
        client.post(
            f"{API}/responses", json=_response(world, letter_id=world["letter"]), headers=write
        )
    )
    assert client.delete(f"{API}/responses/{response['id']}", headers=admin).status_code == 204
    assert client.delete(f"{API}/letters/{world['letter']}", headers=admin).status_code == 204
    assert client.get(f"{API}/letters/{world['letter']}").status_code == 404
    fbi = created(
        client.post(
            f"{API}/agencies", json={"name": "FBI CJIS Division", "kind": "fbi"}, headers=write
        )
    )
    assert client.delete(f"{API}/agencies/{fbi['id']}", headers=admin).status_code == 204


def test_patch_changes_only_the_fields_sent(client, write, alameda):
    vote = created(
        client.post(
            f"{API}/votes",
            json=vote_body(alameda, source_url="https://www.acgov.org/board/"),
            headers=write,
        )
    )
    r = client.patch(f"{API}/votes/{vote['id']}", json={"abstain": 0, "absent": 0}, headers=write)
    assert r.status_code == 200, r.text
    after = get(client, f"/votes/{vote['id']}", write)
    assert after == r.json()
    assert after["version"] == vote["version"] + 1
    unchanged = {"abstain", "absent", "version", "updated_at"}
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in vote.items() if k not in unchanged
    }
    assert (after["abstain"], after["absent"]) == (0, 0)

    j = get(client, f"/jurisdictions/{alameda}", write)
    r = client.patch(
        f"{API}/jurisdictions/{alameda}", json={"population": 1_510_271}, headers=write
    )
    assert r.status_code == 200, r.text
    after = get(client, f"/jurisdictions/{alameda}", write)
    assert after["population"] == 1_510_271 and after["version"] == j["version"] + 1
    unchanged = {"population", "version", "updated_at"}
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in j.items() if k not in unchanged
    }


def test_moving_a_vote_refreshes_both_jurisdictions(client, write, world):
    alameda, santa_clara = world["alameda"], jurisdiction_id(client, SANTA_CLARA)
    vote = created(
        client.post(f"{API}/votes", json=vote_body(alameda, held_on="2010-10-12"), headers=write)
    )
    assert get(client, f"/jurisdictions/{alameda}")["status"] == "vote_passed"
    r = client.patch(
        f"{API}/votes/{vote['id']}",
        json={"jurisdiction_id": santa_clara, "held_on": "2011-06-01"},
        headers=write,
    )
    assert r.status_code == 200, r.text
    assert campaign_state(client, alameda) == state(
        "notified", date(2010, 10, 6), False, True, True
    )
    assert get(client, f"/jurisdictions/{santa_clara}")["status_since"] == "2011-06-01"


def test_editing_an_agency_refreshes_the_status_of_its_jurisdictions(client, write, world):
    office = created(
        client.post(f"{API}/agencies", json={"name": "CA DOJ", "kind": "other"}, headers=write)
    )
    body = _letter(world, agency_id=office["id"], sent_on="2010-10-20")
    created(client.post(f"{API}/letters", json=body, headers=write))
    assert campaign_state(client, world["alameda"])["sib_notified"] is False
    fix = {"kind": "state_identification_bureau", "state": "CA", "name": "California DOJ"}
    assert (
        client.patch(f"{API}/agencies/{office['id']}", json=fix, headers=write).status_code == 200
    )
    j = get(client, f"/jurisdictions/{world['alameda']}")
    assert (j["sib_notified"], j["notice_complete"]) == (True, True)
    assert j["status_reason"] == "Opt-out request sent to California DOJ"


# Jurisdictions created without slug or parent


def test_new_city_gets_slug_and_parent_derived(client, session, write):
    maryland = jurisdiction_id(client, "24")
    body = {
        "name": "Takoma Park",
        "kind": "city",
        "state": "MD",
        "fips": "2477075",
        "population": 16_715,
    }
    r = client.post(f"{API}/jurisdictions", json=body, headers=write)
    assert r.status_code == 201, r.text
    city = r.json()
    assert (city["slug"], city["parent_id"], city["status"]) == (
        "md-takoma-park",
        maryland,
        "no_action",
    )
    assert r.headers["Location"].endswith(f"/api/v1/jurisdictions/{city['id']}")
    again = client.post(
        f"{API}/jurisdictions",
        json={"name": "Takoma Park", "kind": "city", "state": "MD"},
        headers=write,
    )
    assert again.status_code == 201, again.text
    assert again.json()["slug"] == "md-takoma-park-2"


# Bad input: 4xx problems, never a 500, nothing written


def _raw(text: str) -> bytes:
    return text.encode()


BAD_BODIES: list[Any] = [
    pytest.param(
        _raw('{"jurisdiction_id": 1, "body": "Board of'), 422, "body", id="malformed JSON"
    ),
    pytest.param(
        _raw('{"jurisdiction_id": "Alameda"}'), 422, "jurisdiction_id", id="string for an id"
    ),
    pytest.param({"body": ["Board of Supervisors"]}, 422, "body", id="list for a string"),
    pytest.param({"yes": "four"}, 422, "yes", id="word for a tally"),
    pytest.param({"yes": 4.5}, 422, "yes", id="fraction for a tally"),
    pytest.param({"held_on": "2011-02-30"}, 422, "held_on", id="impossible date"),
    pytest.param({"held_on": "09/28/2010"}, 422, "held_on", id="US date format"),
    pytest.param({"yes": 10**30}, 422, "yes", id="huge number"),
    pytest.param({"source_url": "javascript:alert(1)"}, 422, "source_url", id="not a web address"),
    pytest.param({"measure": "Resolution\x00 2010-52"}, 422, "measure", id="NUL character"),
    pytest.param(_raw("[]"), 422, "body", id="JSON array"),
    pytest.param(_raw('"vote"'), 422, "body", id="JSON string"),
    pytest.param(_raw("null"), 422, "body", id="JSON null"),
    pytest.param(_raw(""), 422, "body", id="empty body"),
    pytest.param(
        {"yes": True},
        422,
        "yes",
        id="boolean for a tally",
    ),
    pytest.param(
        b'{"body": "Board of Supervisors \xff"}',
        422,
        "body",
        id="invalid UTF-8",
    ),
]


@pytest.mark.parametrize(("payload", "status", "field"), BAD_BODIES)
def test_bad_input_is_a_problem_never_a_500(
    client, session, write, alameda, payload, status, field
):
    before = counts(session)
    if isinstance(payload, dict):
        payload = vote_body(alameda, **payload)
    kwargs = {"json": payload} if isinstance(payload, dict) else {"content": payload}
    r = lenient(client).post(
        f"{API}/votes", headers={**write, "Content-Type": "application/json"}, **kwargs
    )
    assert field in invalid_fields(r)
    assert counts(session) == before


def test_unknown_fields_are_refused_by_name(client, session, write, alameda):
    before = counts(session)
    r = client.post(f"{API}/votes", json=vote_body(alameda, votes_cast=5), headers=write)
    assert problem(r, 422)["errors"] == [{"field": "votes_cast", "message": "unknown field"}]
    r = client.patch(f"{API}/jurisdictions/{alameda}", json={"status": "opted_out"}, headers=write)
    assert problem(r, 422)["errors"] == [{"field": "status", "message": "unknown field"}]
    assert counts(session) == before


def test_body_over_the_limit_is_413(client, session, write, alameda):
    before = counts(session)
    huge = vote_body(alameda, public_notes="Minutes of the meeting. " * 50_000)  # about 1.2 MB
    body = problem(lenient(client).post(f"{API}/votes", json=huge, headers=write), 413)
    assert "1048576" in body["detail"]
    assert counts(session) == before
    # Just under the limit is read (and refused for its own reasons, not its size).
    small = vote_body(alameda, public_notes="x" * 10_000)
    assert client.post(f"{API}/votes", json=small, headers=write).status_code == 201


def test_streamed_body_over_the_limit_is_413(client, session, write, alameda):
    before = counts(session)

    def chunks() -> Iterator[bytes]:
        yield b'{"jurisdiction_id": %d, "body": "Board of Supervisors", "public_notes": "' % alameda
        for _ in range(12):
            yield b"Minutes of the meeting. " * 4_000
        yield b'", "held_on": "2010-09-28", "outcome": "passed"}'

    r = lenient(client).post(
        f"{API}/votes", content=chunks(), headers={**write, "Content-Type": "application/json"}
    )
    assert counts(session) == before
    problem(r, 413)


def test_longest_allowed_texts_are_stored_not_a_500(client, write, alameda):
    measure = "Resolution requesting that the County opt out of Secure Communities; " * 8
    held_on = today()  # today's, not upcoming: it decides today's status (design.md, "Time")
    body = vote_body(
        alameda,
        body=("Board of Supervisors of the County of Alameda, " * 5)[:200],
        measure=measure[:500],
        outcome="scheduled",
        held_on=held_on.isoformat(),
        yes=None,
        no=None,
    )
    r = lenient(client).post(f"{API}/votes", json=body, headers=write)
    assert r.status_code == 201, r.text
    j = get(client, f"/jurisdictions/{alameda}")
    assert j["status"] == "vote_scheduled"
    assert j["status_reason"].startswith("Board of Supervisors of the County of Alameda")


# Concurrency: ETags and If-Match


def test_if_match_on_votes(client, session, write, admin, alameda):
    vote = created(client.post(f"{API}/votes", json=vote_body(alameda), headers=write))
    path = f"{API}/votes/{vote['id']}"
    first = client.get(path).headers["ETag"]
    r = client.patch(path, json={"abstain": 0}, headers={**write, "If-Match": first})
    assert r.status_code == 200, r.text
    current = client.get(path).headers["ETag"]
    assert current != first
    # The writer sees private notes, so its view of the record has a tag of its own.
    current_for_writer = client.get(path, headers=write).headers["ETag"]

    # A second editor still holding the first ETag.
    r = client.patch(path, json={"yes": 5, "no": 0}, headers={**write, "If-Match": first})
    assert current_for_writer in problem(r, 412)["detail"]
    r = client.delete(path, headers={**admin, "If-Match": first})
    problem(r, 412)
    after = get(client, f"/votes/{vote['id']}")
    assert (after["yes"], after["no"], after["version"]) == (4, 1, 2)

    r = client.patch(path, json={"absent": 0}, headers={**write, "If-Match": f"{first}, {current}"})
    assert r.status_code == 200, r.text
    r = client.patch(
        path,
        json={"public_notes": "Minutes approved October 12"},
        headers={**write, "If-Match": "*"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 4
    assert (
        client.delete(
            path, headers={**admin, "If-Match": client.get(path).headers["ETag"]}
        ).status_code
        == 204
    )
    assert client.get(path).status_code == 404


def test_if_match_on_jurisdictions_and_letters(client, write, admin, world):
    path = f"{API}/jurisdictions/{world['alameda']}"
    tag = client.get(path).headers["ETag"]
    # An answer changes the jurisdiction's derived status, and so its ETag.
    created(client.post(f"{API}/responses", json=_response(world), headers=write))
    assert get(client, f"/jurisdictions/{world['alameda']}")["status"] == "in_negotiation"
    r = client.patch(path, json={"population": 1_510_271}, headers={**write, "If-Match": tag})
    problem(r, 412)
    assert get(client, f"/jurisdictions/{world['alameda']}")["population"] is None
    r = client.patch(
        path,
        json={"population": 1_510_271},
        headers={**write, "If-Match": client.get(path).headers["ETag"]},
    )
    assert r.status_code == 200, r.text

    letter = f"{API}/letters/{world['letter']}"
    tag = client.get(letter).headers["ETag"]
    assert (
        client.patch(
            letter, json={"channel": "mail"}, headers={**write, "If-Match": tag}
        ).status_code
        == 200
    )
    problem(client.patch(letter, json={"channel": "fax"}, headers={**write, "If-Match": tag}), 412)
    problem(client.delete(letter, headers={**admin, "If-Match": tag}), 412)
    assert get(client, f"/letters/{world['letter']}")["channel"] == "mail"
    assert client.delete(letter, headers={**admin, "If-Match": "*"}).status_code == 204


WRITES = {  # a kind's path: a body to create one, a change to make
    "votes": (lambda w: vote_body(w["alameda"]), {"abstain": 0}),
    "letters": (_letter, {"channel": "mail"}),
    "responses": (lambda w: _response(w, letter_id=w["letter"]), {"summary": "By phone"}),
    "agencies": (
        lambda w: {"name": "FBI CJIS Division", "kind": "fbi", "email": "cjis@fbi.example"},
        {"email": "cjis-desk@fbi.example"},
    ),
    "announcements": (
        lambda w: {
            "agency_id": w["ice"],
            "announced_on": "2011-08-05",
            "scope": "national",
            "effect": "opt_out_denied",
            "title": "ICE terminates the memoranda of agreement",
        },
        {"title": "ICE ends the agreements with the states"},
    ),
    "jurisdictions": (
        lambda w: {"name": "Berkeley", "kind": "city", "state": "CA"},
        {"population": 124_321},
    ),
}


@pytest.mark.parametrize("kind", WRITES)
def test_writes_answer_with_the_etag_a_get_gives(client, write, world, kind):
    """A client edits what it just made without reading it again: the POST's and the
    PATCH's ETag are the record's, as its GET gives it (for a writer: the private view)."""
    body, change = WRITES[kind]
    headers = {**write, "Idempotency-Key": f"etag-{kind}"}
    made = client.post(f"{API}/{kind}", json=body(world), headers=headers)
    assert made.status_code == 201, made.text
    path = made.headers["Location"]
    assert made.headers["ETag"] == client.get(path, headers=write).headers["ETag"]
    again = client.post(f"{API}/{kind}", json=body(world), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == made.headers["ETag"]

    r = client.patch(path, json=change, headers={**write, "If-Match": made.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] != made.headers["ETag"]
    assert r.headers["ETag"] == client.get(path, headers=write).headers["ETag"]
    r = client.patch(path, json=change, headers={**write, "If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text
    # The replayed answer is the first one, tag and all: stale now, as its body is.
    problem(
        client.patch(path, json=change, headers={**write, "If-Match": again.headers["ETag"]}), 412
    )


# Idempotency-Key


def test_idempotency_key_replays_the_first_answer(client, session, credentials, alameda):
    write = {**credentials.headers("write"), "Idempotency-Key": "alameda-vote-2010-09-28"}
    first = client.post(f"{API}/votes", json=vote_body(alameda), headers=write)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = client.post(f"{API}/votes", json=vote_body(alameda), headers=write)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(f"{API}/votes", params={"jurisdiction_id": alameda}).json()["total"] == 1

    # The same key for another body or another path is a mistake by the caller.
    before = counts(session)
    r = client.post(f"{API}/votes", json=vote_body(alameda, yes=5, no=0), headers=write)
    assert invalid_fields(r) == {"Idempotency-Key"}
    letter = {
        "jurisdiction_id": alameda,
        "agency_id": agency_id(client, "ice"),
        "sent_on": "2010-10-06",
        "purpose": "opt_out_request",
    }
    assert invalid_fields(client.post(f"{API}/letters", json=letter, headers=write)) == {
        "Idempotency-Key"
    }
    assert counts(session) == before

    # Another caller's key of the same name is their own.
    admin = {**credentials.headers("admin"), "Idempotency-Key": "alameda-vote-2010-09-28"}
    other = client.post(f"{API}/votes", json=vote_body(alameda), headers=admin)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    assert client.get(f"{API}/votes", params={"jurisdiction_id": alameda}).json()["total"] == 2


def test_idempotency_key_on_every_kind_of_post(client, session, write, world):
    bodies = {
        "votes": vote_body(world["alameda"]),
        "letters": _letter(world),
        "responses": _response(world, letter_id=world["letter"]),
        "agencies": {"name": "FBI CJIS Division", "kind": "fbi", "email": "cjis@fbi.example"},
    }
    for path, body in bodies.items():
        headers = {**write, "Idempotency-Key": f"retry-{path}"}
        first = created(client.post(f"{API}/{path}", json=body, headers=headers))
        before = counts(session)
        r = client.post(f"{API}/{path}", json=body, headers=headers)
        assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true"
        assert r.json() == first
        assert counts(session) == before


def test_failed_post_does_not_use_up_its_idempotency_key(client, write, alameda):
    headers = {**write, "Idempotency-Key": "7b0c7f0e-alameda"}
    r = client.post(
        f"{API}/votes",
        json=vote_body(alameda, held_on=(today() + timedelta(days=2)).isoformat()),
        headers=headers,
    )
    problem(r, 422)
    r = client.post(f"{API}/votes", json=vote_body(alameda), headers=headers)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


# Audit


def _only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


def test_every_change_leaves_one_audit_entry(client, credentials, world):
    write, admin = credentials.headers("write"), credentials.headers("admin")
    writer, admin_key = key_id(client, credentials, "write"), key_id(client, credentials, "admin")
    alameda = world["alameda"]

    vote = created(
        client.post(
            f"{API}/votes",
            json=vote_body(alameda, outcome="scheduled", yes=None, no=None),
            headers=write,
        )
    )
    entry = _only(audit(client, credentials, entity="vote", entity_id=vote["id"]))
    assert (entry["actor_kind"], entry["actor_id"], entry["action"]) == (
        "api_key",
        writer,
        "create",
    )
    assert entry["jurisdiction_id"] == alameda
    assert entry["changes"]["outcome"] == [None, "scheduled"]
    assert entry["changes"]["held_on"] == [None, "2010-09-28"]
    assert all(before is None for before, _ in entry["changes"].values())
    assert "yes" not in entry["changes"]  # null before and after

    r = client.patch(
        f"{API}/votes/{vote['id']}",
        json={"outcome": "passed", "yes": 4, "no": 1, "body": "Board of Supervisors"},
        headers=write,
    )
    assert r.status_code == 200, r.text
    updates = audit(client, credentials, entity="vote", entity_id=vote["id"], action="update")
    assert _only(updates)["changes"] == {
        "outcome": ["scheduled", "passed"],
        "yes": [None, 4],
        "no": [None, 1],
    }
    assert _only(updates)["actor_id"] == writer

    assert client.delete(f"{API}/votes/{vote['id']}", headers=admin).status_code == 204
    deleted = _only(
        audit(client, credentials, entity="vote", entity_id=vote["id"], action="delete")
    )
    assert (deleted["actor_kind"], deleted["actor_id"]) == ("api_key", admin_key)
    assert deleted["changes"]["outcome"] == ["passed", None]
    assert deleted["jurisdiction_id"] == alameda
    assert len(audit(client, credentials, entity="vote", entity_id=vote["id"])) == 3

    # Letters, responses, agencies and jurisdictions alike.
    answer = created(client.post(f"{API}/responses", json=_response(world), headers=write))
    client.patch(
        f"{API}/responses/{answer['id']}", json={"summary": "Meeting on December 2"}, headers=write
    )
    client.delete(f"{API}/responses/{answer['id']}", headers=admin)
    entries = audit(client, credentials, entity="response", entity_id=answer["id"])
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert entries[1]["changes"] == {"summary": [None, "Meeting on December 2"]}

    letter = created(client.post(f"{API}/letters", json=_letter(world), headers=write))
    client.patch(f"{API}/letters/{letter['id']}", json={"channel": "mail"}, headers=write)
    letter_entries = audit(client, credentials, entity="letter", entity_id=letter["id"])
    assert [e["action"] for e in letter_entries] == ["update", "create"]
    assert letter_entries[0]["changes"] == {"channel": [None, "mail"]}
    assert letter_entries[1]["changes"]["response_due_on"] == [None, "2010-11-04"]

    agency = created(
        client.post(
            f"{API}/agencies", json={"name": "FBI CJIS Division", "kind": "fbi"}, headers=write
        )
    )
    client.patch(f"{API}/agencies/{agency['id']}", json={"fax": "304-625-5394"}, headers=write)
    client.delete(f"{API}/agencies/{agency['id']}", headers=admin)
    assert [
        e["action"] for e in audit(client, credentials, entity="agency", entity_id=agency["id"])
    ] == ["delete", "update", "create"]

    alpine = jurisdiction_id(client, ALPINE)
    client.patch(
        f"{API}/jurisdictions/{alpine}",
        json={"population": 1175, "name": "Alpine County"},
        headers=write,
    )
    client.delete(f"{API}/jurisdictions/{alpine}", headers=admin)
    entries = audit(client, credentials, entity="jurisdiction", entity_id=alpine)
    assert [e["action"] for e in entries] == ["delete", "update"]
    assert entries[1]["changes"] == {"population": [None, 1175]}
    assert entries[0]["changes"]["fips"] == [ALPINE, None]


def test_adjusted_activation_is_audited_on_the_response_and_the_jurisdiction(
    client, credentials, world
):
    write = credentials.headers("write")
    alameda = world["alameda"]
    body = _response(
        world,
        kind="activation_date_adjusted",
        new_activation_on="2011-03-01",
        received_on="2010-12-01",
    )
    response = created(client.post(f"{API}/responses", json=body, headers=write))
    entry = _only(audit(client, credentials, entity="response", entity_id=response["id"]))
    assert entry["changes"]["new_activation_on"] == [None, "2011-03-01"]
    moved = _only(audit(client, credentials, entity="jurisdiction", entity_id=alameda))
    assert moved["action"] == "update"
    assert moved["changes"] == {"scheduled_activation_on": [None, "2011-03-01"]}
    assert moved["actor_id"] == key_id(client, credentials, "write")
    assert get(client, f"/jurisdictions/{alameda}")["version"] == 2


def test_audit_filters(client, credentials, world):
    write = credentials.headers("write")
    alameda = world["alameda"]
    santa_clara = jurisdiction_id(client, SANTA_CLARA)
    vote = created(client.post(f"{API}/votes", json=vote_body(alameda), headers=write))
    other = created(
        client.post(
            f"{API}/votes",
            json=vote_body(santa_clara, body="Board of Supervisors", yes=5, no=0),
            headers=write,
        )
    )
    letter = created(client.post(f"{API}/letters", json=_letter(world), headers=write))
    client.patch(f"{API}/votes/{vote['id']}", json={"abstain": 0}, headers=write)

    # The test's own keys are made (and audited) by the CLI; the API key made the rest.
    everything = audit(client, credentials, actor_kind="api_key")
    assert len(everything) == 4
    assert [e["entity_id"] for e in audit(client, credentials, entity="vote")] == [
        vote["id"],
        other["id"],
        vote["id"],
    ]
    assert len(audit(client, credentials, entity="vote", entity_id=vote["id"])) == 2
    assert {e["entity"] for e in audit(client, credentials, jurisdiction_id=alameda)} == {
        "vote",
        "letter",
    }
    assert len(audit(client, credentials, jurisdiction_id=alameda)) == 3
    assert (
        _only(audit(client, credentials, jurisdiction_id=santa_clara))["entity_id"] == other["id"]
    )
    assert len(audit(client, credentials, actor_kind="api_key")) == 4
    assert audit(client, credentials, actor_kind="user") == []
    assert _only(audit(client, credentials, action="update"))["entity_id"] == vote["id"]
    assert _only(audit(client, credentials, entity="letter"))["entity_id"] == letter["id"]

    # created_at bounds are inclusive, to the microsecond.
    times = sorted(
        datetime.fromisoformat(e["created_at"].replace("Z", "+00:00")) for e in everything
    )
    second = times[1]
    assert (
        len(audit(client, credentials, actor_kind="api_key", created_at_from=second.isoformat()))
        == 3
    )
    assert (
        len(audit(client, credentials, actor_kind="api_key", created_at_to=second.isoformat())) == 2
    )
    just_after = (second + timedelta(microseconds=1)).isoformat()
    assert len(audit(client, credentials, actor_kind="api_key", created_at_from=just_after)) == 2
    both = audit(
        client,
        credentials,
        actor_kind="api_key",
        created_at_from=second.isoformat(),
        created_at_to=second.isoformat(),
    )
    assert len(both) == 1
    assert (
        audit(
            client,
            credentials,
            actor_kind="api_key",
            created_at_to=(times[0] - timedelta(seconds=1)).isoformat(),
        )
        == []
    )
    # Naive timestamps are UTC.
    assert (
        len(
            audit(
                client,
                credentials,
                actor_kind="api_key",
                created_at_from=second.replace(tzinfo=None).isoformat(),
            )
        )
        == 3
    )


@pytest.mark.parametrize(("scope", "status"), [(None, 401), ("read", 403), ("write", 403)])
def test_audit_is_for_admins(client, credentials, scope, status):
    r = client.get(f"{API}/audit", headers=credentials.headers(scope))
    problem(r, status)


# API keys


def test_both_ways_of_sending_a_key_work(client, credentials, alameda):
    token = credentials.token("write")
    created(
        client.post(
            f"{API}/votes", json=vote_body(alameda), headers={"Authorization": f"Bearer {token}"}
        )
    )
    created(
        client.post(
            f"{API}/votes",
            json=vote_body(alameda, body="Board of Supervisors"),
            headers={"X-API-Key": token},
        )
    )
    assert client.get(f"{API}/votes", params={"jurisdiction_id": alameda}).json()["total"] == 2


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no key"),
        pytest.param(
            {"Authorization": "Bearer optk_000000000000_not-a-real-key"}, id="unknown key"
        ),
        pytest.param({"X-API-Key": "hunter2"}, id="malformed key"),
        pytest.param({"Authorization": "Basic b3JnYW5pemVyOnB3"}, id="basic auth"),
    ],
)
def test_writes_without_a_valid_key_are_401_explaining_how_to_get_one(
    client, session, alameda, headers
):
    before = counts(session)
    for method, path, body in [
        ("POST", "/votes", vote_body(alameda)),
        ("PATCH", f"/jurisdictions/{alameda}", {"population": 1}),
        ("DELETE", f"/jurisdictions/{alameda}", None),
    ]:
        r = client.request(method, API + path, json=body, headers=headers)
        assert HOW_TO in problem(r, 401)["detail"]
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(session) == before


def test_a_revoked_key_stops_working_at_once(client, session, credentials, alameda):
    admin = credentials.headers("admin")
    new = created(
        client.post(
            f"{API}/api-keys",
            json={"name": "Alameda coalition phone", "scope": "write"},
            headers=admin,
        )
    )
    mine = {"X-API-Key": new["token"]}
    created(client.post(f"{API}/votes", json=vote_body(alameda), headers=mine))

    r = client.delete(f"{API}/api-keys/{new['id']}", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None
    before = counts(session)
    r = client.post(f"{API}/votes", json=vote_body(alameda, yes=5, no=0), headers=mine)
    detail = problem(r, 401)["detail"]
    assert "revoked" in detail and HOW_TO in detail
    assert counts(session) == before
    # Reading with it is refused too: a bad key is never silently anonymous.
    problem(client.get(f"{API}/votes", headers=mine), 401)


def test_too_small_a_scope_is_403(client, session, credentials, world):
    read, write = credentials.headers("read"), credentials.headers("write")
    credentials.token("admin")  # made (and audited) before counting, for key_id below
    before = counts(session)
    problem(client.post(f"{API}/votes", json=vote_body(world["alameda"]), headers=read), 403)
    problem(
        client.patch(f"{API}/letters/{world['letter']}", json={"channel": "fax"}, headers=read), 403
    )
    # Deletes and keys need admin.
    problem(client.delete(f"{API}/letters/{world['letter']}", headers=write), 403)
    problem(
        client.delete(f"{API}/jurisdictions/{jurisdiction_id(client, ALPINE)}", headers=write), 403
    )
    problem(
        client.post(f"{API}/api-keys", json={"name": "mine", "scope": "admin"}, headers=write), 403
    )
    problem(client.get(f"{API}/api-keys", headers=write), 403)
    problem(
        client.delete(f"{API}/api-keys/{key_id(client, credentials, 'read')}", headers=write), 403
    )
    assert counts(session) == before
    assert get(client, f"/letters/{world['letter']}")["channel"] is None


def test_last_used_at_is_set_after_use(client, credentials, alameda):
    credentials.token("write")
    writer = key_id(client, credentials, "write")

    def last_used() -> Any:
        keys = client.get(f"{API}/api-keys", headers=credentials.headers("admin")).json()
        return next(k["last_used_at"] for k in keys if k["id"] == writer)

    assert last_used() is None
    created(
        client.post(f"{API}/votes", json=vote_body(alameda), headers=credentials.headers("write"))
    )
    used = last_used()
    assert used is not None
    assert abs(datetime.fromisoformat(used) - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_new_key_is_shown_once(client, credentials, alameda):
    admin = credentials.headers("admin")
    r = client.post(
        f"{API}/api-keys", json={"name": "ACLU NorCal sync", "scope": "write"}, headers=admin
    )
    new = created(r)
    assert new["token"].startswith("optk_") and new["scope"] == "write"
    assert new["revoked_at"] is None and "key_hash" not in new
    assert r.headers["Cache-Control"] == "private, no-store"

    listing = client.get(f"{API}/api-keys", headers=admin)
    assert new["token"] not in listing.text
    mine = next(k for k in listing.json() if k["id"] == new["id"])
    assert "token" not in mine and "key_hash" not in mine
    assert mine["name"] == "ACLU NorCal sync"
    # The token works as a write key.
    created(
        client.post(
            f"{API}/votes",
            json=vote_body(alameda),
            headers={"Authorization": f"Bearer {new['token']}"},
        )
    )


def test_api_key_input_is_checked(client, credentials):
    admin = credentials.headers("admin")
    assert invalid_fields(
        client.post(f"{API}/api-keys", json={"name": "x", "scope": "root"}, headers=admin)
    ) == {"scope"}
    assert invalid_fields(
        client.post(f"{API}/api-keys", json={"name": "  ", "scope": "read"}, headers=admin)
    ) == {"name"}
    problem(client.delete(f"{API}/api-keys/2000000000", headers=admin), 404)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.plural)
def test_a_null_in_a_patch_reaches_no_validator_of_its_field(kind: RecordKind) -> None:
    """A field's validators check a value; a null is records.changes_of's to refuse or
    store. (The scope's validator once got None and answered 500.)"""
    for name in kind.update.model_fields:
        assert getattr(kind.update.model_validate({name: None}), name) is None


def test_a_null_scope_on_an_announcement_is_422(client, write, world):
    body = {"agency_id": world["ice"], "announced_on": "2011-08-05", "scope": "CA",
            "effect": "none", "title": "Memo"}  # fmt: skip
    made = created(client.post(f"{API}/announcements", json=body, headers=write))
    r = lenient(client).patch(f"{API}/announcements/{made['id']}", json={"scope": None},
                              headers=write)  # fmt: skip
    assert invalid_fields(r) == {"scope"}
