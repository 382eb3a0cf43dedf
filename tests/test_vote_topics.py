"""Vote topics and the `introduced` outcome; notice letters go to a SIB, ICE or DHS.

The contract's status table: only a vote on an opt-out measure sets a stage (introduced or
scheduled: "Measure pending"); votes on other topics are related measures on the timeline.
"""

import csv
import io
import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker import migrate
from optout_tracker.clock import today
from optout_tracker.db import create_db_engine
from optout_tracker.enums import (
    STATUS_LABELS,
    AgencyKind,
    CampaignStatus,
    LetterPurpose,
    VoteOutcome,
    VoteTopic,
)
from optout_tracker.models import JurisdictionStatus, Vote
from optout_tracker.status import LetterFact, VoteFact, derive_status, describe, stage_of
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings
from tests.test_pages import csrf, post_form, sign_in

API = "/api/v1"
D = date(2011, 9, 7)
S = CampaignStatus
O = VoteOutcome  # noqa: E741
T = VoteTopic


def vote(
    outcome: VoteOutcome, topic: VoteTopic = T.opt_out, on: date = D, id: int = 1, **kw: Any
) -> VoteFact:
    return VoteFact(id, on, outcome, "Board of Commissioners", topic=topic, **kw)


def letter(
    to: AgencyKind, purpose: LetterPurpose = LetterPurpose.opt_out_request, id: int = 1
) -> LetterFact:
    return LetterFact(id, D, purpose, to, "An agency", D + timedelta(days=30))


# The rules, pure


TOPIC_OUTCOME_STAGE = [
    (T.opt_out, O.introduced, S.vote_scheduled),
    (T.opt_out, O.scheduled, S.vote_scheduled),
    (T.opt_out, O.passed, S.vote_passed),
    (T.opt_out, O.failed, S.vote_failed),
    (T.opt_out, O.tabled, None),
    (T.opt_out, O.withdrawn, None),
    *((topic, outcome, None) for topic in (T.detainer_policy, T.other_related) for outcome in O),
]


@pytest.mark.parametrize(("topic", "outcome", "stage"), TOPIC_OUTCOME_STAGE)
def test_only_a_vote_on_opting_out_sets_a_stage(
    topic: VoteTopic, outcome: VoteOutcome, stage: CampaignStatus | None
) -> None:
    fact = vote(outcome, topic)
    assert stage_of(fact) == stage
    state = derive_status([fact], [], [], [], D)
    assert (state.status, state.status_since) == ((stage, D) if stage else (S.no_action, None))


def test_the_table_covers_every_topic_and_outcome() -> None:
    assert {(t, o) for t, o, _ in TOPIC_OUTCOME_STAGE} == {(t, o) for t in T for o in O}


def test_a_pending_measure_reads_measure_pending() -> None:
    assert STATUS_LABELS[S.vote_scheduled] == "Measure pending"
    assert S.vote_scheduled.label == "Measure pending"


def test_a_related_measure_never_moves_the_campaign() -> None:
    opt_out = vote(O.passed, on=date(2010, 5, 4), yes=5, no=0)
    later = vote(O.passed, T.detainer_policy, on=date(2011, 9, 7), id=2, measure="Ordinance 11")
    state = derive_status([opt_out, later], [], [], [], D)
    assert (state.status, state.status_since) == (S.vote_passed, date(2010, 5, 4))
    assert str(state.status_reason) == "Board of Commissioners voted 5–0 to opt out"


def test_sentences_of_introduced_and_related_measures() -> None:
    introduced = derive_status([vote(O.introduced, measure="Bill 18-0490")], [], [], [], D)
    assert str(introduced.status_reason) == "Bill 18-0490 was introduced in Board of Commissioners"
    assert str(describe(vote(O.introduced))) == (
        "An opt-out measure was introduced in Board of Commissioners"
    )
    assert str(
        describe(vote(O.passed, T.detainer_policy, measure="Ordinance 11-O-73", yes=10, no=5))
    ) == (
        "Related measure (detainer policy): Board of Commissioners passed Ordinance 11-O-73 (10–5)"
    )
    assert str(describe(vote(O.introduced, T.other_related))) == (
        "Related measure: A related measure was introduced in Board of Commissioners"
    )
    assert str(describe(vote(O.failed, T.detainer_policy))) == (
        "Related measure (detainer policy): Board of Commissioners rejected a detainer policy"
    )
    for topic in T:
        for outcome in O:
            assert str(describe(vote(outcome, topic)))


NOTIFYING = {AgencyKind.state_identification_bureau, AgencyKind.ice, AgencyKind.dhs}


@pytest.mark.parametrize("to", list(AgencyKind))
@pytest.mark.parametrize("purpose", list(LetterPurpose))
def test_a_letter_notifies_only_a_sib_ice_or_dhs(to: AgencyKind, purpose: LetterPurpose) -> None:
    notice = purpose in {LetterPurpose.opt_out_request, LetterPurpose.activation_delay_request}
    notifies = notice and to in NOTIFYING
    state = derive_status([], [letter(to, purpose)], [], [], D)
    assert stage_of(letter(to, purpose)) == (S.notified if notifies else None)
    assert state.status == (S.notified if notifies else S.no_action)
    assert state.awaiting_response == notifies
    assert state.sib_notified == (notifies and to is AgencyKind.state_identification_bureau)
    assert state.ice_notified == (notifies and to in {AgencyKind.ice, AgencyKind.dhs})


@pytest.mark.parametrize("to", [AgencyKind.other, AgencyKind.governor, AgencyKind.fbi])
def test_a_letter_to_another_agency_sets_no_stage_and_notifies_no_one(to: AgencyKind) -> None:
    state = derive_status([vote(O.passed, on=date(2010, 1, 5))], [letter(to)], [], [], D)
    assert (state.status, state.status_since) == (S.vote_passed, date(2010, 1, 5))
    assert not (state.sib_notified or state.ice_notified or state.awaiting_response)
    assert state.next_response_due_on is None


def test_a_letter_to_dhs_counts_as_ice_notice() -> None:
    sib, dhs = letter(AgencyKind.state_identification_bureau), letter(AgencyKind.dhs, id=2)
    state = derive_status([], [sib, dhs], [], [], D)
    assert state.status is S.notified and state.ice_notified and state.notice_complete


# The API, the webhooks, OpenAPI


def detainer_vote(jid: int, **fields: Any) -> dict[str, Any]:
    return {
        "jurisdiction_id": jid,
        "body": "Board of Commissioners",
        "held_on": "2011-09-07",
        "measure": "Ordinance 11-O-73: detainers",
        "topic": "detainer_policy",
        "outcome": "passed",
        "yes": 10,
        "no": 5,
        **fields,
    }


def test_the_topic_round_trips_through_the_api(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    write = credentials.headers("write")
    cook = factories.jurisdiction(session, "17031")
    hook = factories.webhook(session, secret="receiver-shared-secret-0123456789")
    r = client.post(f"{API}/votes", json=detainer_vote(cook.id or 0), headers=write)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["topic"] == "detainer_policy"
    assert client.get(f"{API}/votes/{created['id']}").json()["topic"] == "detainer_policy"
    sent = [json.loads(d.body) for d in factories.deliveries(session) if d.webhook_id == hook.id]
    assert [b["data"]["topic"] for b in sent if b["event"] == "vote.created"] == ["detainer_policy"]

    listed = client.get(f"{API}/votes", params={"topic": "detainer_policy", "state": "IL"})
    assert [v["id"] for v in listed.json()["items"]] == [created["id"]]
    assert client.get(f"{API}/votes", params={"topic": "other_related"}).json()["total"] == 0

    # A related measure leaves the campaign where it was, and its timeline entry sets nothing.
    assert client.get(f"{API}/jurisdictions/{cook.id}").json()["status"] == "no_action"
    (entry,) = client.get(f"{API}/jurisdictions/{cook.id}/timeline").json()["items"]
    assert entry["stage"] is None and entry["record"]["topic"] == "detainer_policy"
    assert entry["description"] == (
        "Related measure (detainer policy): Board of Commissioners passed "
        "Ordinance 11-O-73: detainers (10–5)"
    )

    # Turned into an opt-out vote, it sets its stage; a vote sent without a topic is one.
    r = client.patch(f"{API}/votes/{created['id']}", json={"topic": "opt_out"}, headers=write)
    assert r.status_code == 200 and r.json()["topic"] == "opt_out"
    assert client.get(f"{API}/jurisdictions/{cook.id}").json()["status"] == "vote_passed"
    plain = {k: v for k, v in detainer_vote(cook.id or 0).items() if k != "topic"}
    r = client.post(f"{API}/votes", json=plain, headers=write)
    assert r.status_code == 201 and r.json()["topic"] == "opt_out"

    for bad in ({"topic": "zoning"}, {"topic": None}):
        r = client.patch(f"{API}/votes/{created['id']}", json=bad, headers=write)
        assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"topic"}


def test_introduced_may_lie_in_the_future_passed_may_not(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    write = credentials.headers("write")
    dc = factories.jurisdiction(session, "06085")
    ahead = (today() + timedelta(days=7)).isoformat()
    body = {"jurisdiction_id": dc.id, "body": "Council", "held_on": ahead}
    r = client.post(f"{API}/votes", json={**body, "outcome": "introduced"}, headers=write)
    assert r.status_code == 201, r.text
    state = client.get(f"{API}/jurisdictions/{dc.id}").json()
    # Upcoming: it decides nothing today (design.md, "Time"), it is the next vote.
    assert (state["status"], state["status_reason"], state["next_vote_on"]) == (
        "no_action",
        None,
        ahead,
    )

    r = client.post(f"{API}/votes", json={**body, "outcome": "passed"}, headers=write)
    assert r.status_code == 422
    problem = r.json()
    assert problem["detail"] == "only an introduced or scheduled vote may lie in the future"
    assert problem["errors"] == [
        {
            "field": "held_on",
            "message": "is in the future, so outcome must be introduced or scheduled, not passed",
        }
    ]


def test_openapi_describes_topics_and_the_introduced_outcome(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["VoteTopic"]["enum"] == ["opt_out", "detainer_policy", "other_related"]
    assert schemas["VoteOutcome"]["enum"][0] == "introduced"
    for shape in ("VoteCreate", "VotePublic"):
        assert "topic" in schemas[shape]["properties"], shape
    assert schemas["VoteCreate"]["properties"]["topic"]["default"] == "opt_out"
    parameters = spec["paths"][f"{API}/votes"]["get"]["parameters"]
    assert "topic" in {p["name"] for p in parameters}


def test_the_calendar_names_a_related_measure_ahead(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    cook = factories.jurisdiction(session, "17031")
    ahead = (today() + timedelta(days=10)).isoformat()
    body = detainer_vote(cook.id or 0, held_on=ahead, outcome="scheduled", measure=None)
    r = client.post(f"{API}/votes", json=body, headers=credentials.headers("write"))
    assert r.status_code == 201, r.text
    calendar = icalendar.Calendar.from_ical(client.get("/calendar.ics?state=IL").content)
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == [
        "Cook County: Board of Commissioners votes on a detainer policy"
    ]


# CSV


def test_a_detainer_policy_vote_imports_and_exports_with_its_topic(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    text = (
        "jurisdiction_fips,body,held_on,measure,topic,outcome,yes,no\r\n"
        "17031,Board of Commissioners,2011-09-07,Ordinance 11-O-73,detainer_policy,passed,10,5\r\n"
        "17031,Board of Commissioners,2011-06-01,,,introduced,,\r\n"
    )
    r = client.post(
        f"{API}/import/votes",
        content=text.encode(),
        headers={**credentials.headers("write"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    cook = factories.jurisdiction(session, "17031")
    imported = session.scalars(sa.select(Vote).where(col(Vote.jurisdiction_id) == cook.id)).all()
    assert sorted((v.topic, v.outcome) for v in imported) == [
        (T.detainer_policy, O.passed),
        (T.opt_out, O.introduced),  # an empty cell is the default
    ]
    status = session.get(JurisdictionStatus, cook.id)
    assert status is not None
    assert (status.status, status.status_since) == (S.vote_scheduled, date(2011, 6, 1))

    exported = client.get(f"{API}/export/votes.csv", params={"topic": "detainer_policy"})
    assert exported.status_code == 200
    (row,) = csv.DictReader(io.StringIO(exported.text))
    assert (row["topic"], row["outcome"], row["measure"]) == (
        "detainer_policy",
        "passed",
        "Ordinance 11-O-73",
    )


# Pages and the form


class _Defaults(HTMLParser):
    """What a browser submits for the selects of a form left as they are."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None:
            if self._select not in self.values or "selected" in a:
                self.values[self._select] = a["value"] or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def test_the_vote_form_left_at_its_defaults_saves_an_opt_out_vote(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    base = "/jurisdictions/ca-alameda-county"
    page = client.get(f"{base}/log/vote").text
    assert re.search(r'<select id="f-topic" name="topic" required>', page)
    assert '<option value="detainer_policy">detainer policy</option>' in page
    assert '<option value="introduced">introduced</option>' in page
    defaults = _Defaults()
    defaults.feed(page)
    assert defaults.values == {"topic": "opt_out", "outcome": "introduced"}

    typed = {"body": "Board of Supervisors", "held_on": "2010-10-19"}
    r = post_form(client, f"{base}/log/vote", f"{base}/log/vote", {**defaults.values, **typed})
    assert r.status_code == 303, r.text
    j = factories.jurisdiction(session, "06001")
    (saved,) = session.scalars(sa.select(Vote).where(col(Vote.jurisdiction_id) == j.id)).all()
    assert (saved.topic, saved.outcome) == (T.opt_out, O.introduced)
    dossier = client.get(base).text
    assert "Measure pending" in dossier
    assert "An opt-out measure was introduced in Board of Supervisors" in dossier


def test_the_form_logs_a_related_measure_shown_as_such(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    base = "/jurisdictions/ca-alameda-county"
    r = client.post(
        f"{base}/log/vote",
        data={
            "body": "Board of Supervisors", "held_on": "2010-10-19", "topic": "detainer_policy",
            "outcome": "passed", "measure": "Detainer policy", "yes": "4", "no": "1",
            "csrf_token": csrf(client, f"{base}/log/vote"),
        },
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    dossier = client.get(base).text
    assert (
        "Related measure (detainer policy): Board of Supervisors passed Detainer policy (4–1)"
        in dossier
    )
    assert 'aria-hidden="true"></span>No action</span>' in dossier
    assert "sets <em>" not in dossier  # the timeline's only event sets no stage


# Migrations


BEFORE = "cd889d141a0f"  # the revision before topics


def test_the_migration_fills_existing_votes_and_goes_back(databases: DatabaseFactory) -> None:
    engine = create_db_engine(make_settings(databases.new_url()))
    now = "2024-01-01 00:00:00+00:00"
    try:
        migrate.upgrade(engine, BEFORE)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO jurisdiction (name, kind, slug, state, created_at, updated_at, "
                f"version) VALUES ('X', 'county', 'ca-x', 'CA', '{now}', '{now}', 1)"
            )
            jid = conn.exec_driver_sql("SELECT id FROM jurisdiction").scalar_one()
            for outcome in ("scheduled", "passed"):
                conn.exec_driver_sql(_vote_insert(jid, outcome, now))

        migrate.upgrade(engine)
        with engine.begin() as conn:
            rows = conn.exec_driver_sql("SELECT topic, outcome FROM vote ORDER BY id").all()
            assert [tuple(r) for r in rows] == [("opt_out", "scheduled"), ("opt_out", "passed")]
            conn.exec_driver_sql(_vote_insert(jid, "introduced", now))
        _refused(engine, _vote_insert(jid, "approved", now))
        _refused(engine, _vote_insert(jid, "passed", now, topic="zoning"))

        migrate.downgrade(engine, BEFORE)
        assert "topic" not in {c["name"] for c in sa.inspect(engine).get_columns("vote")}
        with engine.begin() as conn:
            outcomes = conn.exec_driver_sql("SELECT outcome FROM vote ORDER BY id").scalars()
            assert list(outcomes) == ["scheduled", "passed", "scheduled"]
        _refused(engine, _vote_insert(jid, "introduced", now))

        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def _vote_insert(jid: int, outcome: str, now: str, topic: str | None = None) -> str:
    column, value = (", topic", f", '{topic}'") if topic else ("", "")
    return (
        f"INSERT INTO vote (jurisdiction_id, body, held_on, outcome{column}, created_at, "
        f"updated_at, version) VALUES ({jid}, 'Board', '2010-01-01', '{outcome}'{value}, "
        f"'{now}', '{now}', 1)"
    )


def _refused(engine: sa.Engine, statement: str) -> None:
    with pytest.raises(sa.exc.DBAPIError):  # a CHECK, or a value too long for its column
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
