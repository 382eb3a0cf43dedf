"""Coverage through the state and activation despite opting out, through the API: a county
or city with no campaign of its own is covered by its state's, and is activated despite
opting out against the campaign that covers it."""

import json
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.enums import STATUS_CHANGED, AgencyKind, JurisdictionKind, VoteOutcome
from optout_tracker.models import Agency, Jurisdiction, WebhookDelivery
from tests import factories
from tests.conftest import Credentials

API = "/api/v1"


@pytest.fixture
def write(credentials: Credentials) -> dict[str, str]:
    return credentials.headers("write")


@pytest.fixture
def california(session: Session) -> Jurisdiction:
    return factories.jurisdiction(session, "06")


@pytest.fixture
def sib(session: Session) -> Agency:
    return factories.agency(session, AgencyKind.state_identification_bureau, "CA")


def shown(client: TestClient, j: Jurisdiction) -> dict[str, Any]:
    r = client.get(f"{API}/jurisdictions/{j.id}")
    assert r.status_code == 200, r.text
    return r.json()


def coverage(client: TestClient, j: Jurisdiction) -> tuple[Any, ...]:
    s = shown(client, j)
    return (
        s["status"],
        s["effective_status"],
        s["effective_status_since"],
        s["effective_status_via"],
    )


def state_vote(
    client: TestClient, state: Jurisdiction, write: dict[str, str], **fields: Any
) -> int:
    body = {
        "jurisdiction_id": state.id,
        "body": "State Assembly",
        "held_on": "2010-09-01",
        "outcome": "passed",
        "yes": 50,
        "no": 20,
        **fields,
    }
    r = client.post(f"{API}/votes", json=body, headers=write)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def patch(client: TestClient, j: Jurisdiction, write: dict[str, str], **fields: Any) -> None:
    r = client.patch(f"{API}/jurisdictions/{j.id}", json=fields, headers=write)
    assert r.status_code == 200, r.text


def test_a_county_without_a_campaign_of_its_own_is_covered_by_its_states(
    client: TestClient, session: Session, california: Jurisdiction, write: dict[str, str]
) -> None:
    marin = factories.jurisdiction(session, "06041")
    santa_clara = factories.jurisdiction(session, "06085")
    factories.vote(session, santa_clara, held_on=date(2010, 6, 1), outcome=VoteOutcome.failed)
    session.commit()
    assert coverage(client, marin) == ("no_action", "no_action", None, "own")

    # One request: the state's vote re-derives its counties.
    state_vote(client, california, write)

    assert coverage(client, california) == ("vote_passed", "vote_passed", "2010-09-01", "own")
    assert coverage(client, marin) == ("no_action", "vote_passed", "2010-09-01", "state")
    # A campaign of its own decides, whatever the state's.
    assert coverage(client, santa_clara) == ("vote_failed", "vote_failed", "2010-06-01", "own")
    oregon_county = factories.jurisdiction(session, "41051")
    assert coverage(client, oregon_county) == ("no_action", "no_action", None, "own")


def test_a_county_left_without_events_falls_back_to_its_states_campaign(
    client: TestClient,
    session: Session,
    credentials: Credentials,
    california: Jurisdiction,
    write: dict[str, str],
) -> None:
    state_vote(client, california, write)
    santa_clara = factories.jurisdiction(session, "06085")
    r = client.post(
        f"{API}/votes",
        json={
            "jurisdiction_id": santa_clara.id,
            "body": "Board of Supervisors",
            "held_on": "2010-10-01",
            "outcome": "failed",
        },
        headers=write,
    )
    assert r.status_code == 201, r.text
    assert coverage(client, santa_clara) == ("vote_failed", "vote_failed", "2010-10-01", "own")

    # Refreshing the county alone reads its state's campaign too.
    admin = client.delete(f"{API}/votes/{r.json()['id']}", headers=credentials.headers("admin"))
    assert admin.status_code == 204, admin.text
    assert coverage(client, santa_clara) == ("no_action", "vote_passed", "2010-09-01", "state")


def test_a_new_county_is_covered_from_the_start(
    client: TestClient, california: Jurisdiction, write: dict[str, str]
) -> None:
    state_vote(client, california, write)
    r = client.post(
        f"{API}/jurisdictions",
        json={"name": "Yerba Buena", "kind": "city", "state": "CA"},
        headers=write,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["effective_status"], made["effective_status_via"]) == ("vote_passed", "state")


def test_the_states_campaign_announces_only_its_own_status_change(
    client: TestClient, session: Session, california: Jurisdiction, write: dict[str, str]
) -> None:
    factories.webhook(session, events=[STATUS_CHANGED])
    state_vote(client, california, write)
    changed = session.scalars(
        sa.select(WebhookDelivery).where(col(WebhookDelivery.event) == STATUS_CHANGED)
    ).all()
    assert [json.loads(d.body)["data"]["jurisdiction"]["id"] for d in changed] == [california.id]


def test_activated_despite_its_own_opt_out(
    client: TestClient, session: Session, write: dict[str, str]
) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    factories.vote(session, santa_clara, held_on=date(2010, 9, 28), outcome=VoteOutcome.passed)
    session.commit()
    assert shown(client, santa_clara)["activated_despite_opt_out"] is False  # not activated

    for activated_on, despite in [("2011-01-01", True), ("2010-09-28", False), (None, False)]:
        patch(client, santa_clara, write, activated_on=activated_on)
        assert shown(client, santa_clara)["activated_despite_opt_out"] is despite, activated_on


def test_activated_despite_its_states_notice(
    client: TestClient,
    session: Session,
    california: Jurisdiction,
    sib: Agency,
    write: dict[str, str],
) -> None:
    marin = factories.jurisdiction(session, "06041")
    alameda = factories.jurisdiction(session, "06001")
    santa_clara = factories.jurisdiction(session, "06085")
    # A campaign of its own that never opposed activation: the state's notice is not its.
    factories.vote(session, santa_clara, held_on=date(2010, 3, 1), outcome=VoteOutcome.failed)
    session.commit()
    patch(client, marin, write, activated_on="2010-06-01")
    patch(client, alameda, write, activated_on="2010-04-01")
    patch(client, santa_clara, write, activated_on="2010-06-01")
    assert shown(client, marin)["activated_despite_opt_out"] is False  # nothing opposed yet

    r = client.post(
        f"{API}/letters",
        json={
            "jurisdiction_id": california.id,
            "agency_id": sib.id,
            "sent_on": "2010-05-01",
            "purpose": "opt_out_request",
            "signed_by": "Governor",
        },
        headers=write,
    )
    assert r.status_code == 201, r.text

    assert (
        shown(client, marin)["effective_status_via"],
        shown(client, marin)["activated_despite_opt_out"],
    ) == ("state", True)
    assert shown(client, alameda)["activated_despite_opt_out"] is False  # activated before
    assert shown(client, santa_clara)["activated_despite_opt_out"] is False  # its own campaign
    assert shown(client, california)["activated_despite_opt_out"] is False  # never activated


def test_filters_counts_and_by_fips(
    client: TestClient,
    session: Session,
    california: Jurisdiction,
    write: dict[str, str],
) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    marin = factories.jurisdiction(session, "06041")
    factories.vote(session, santa_clara, held_on=date(2010, 6, 1), outcome=VoteOutcome.failed)
    session.commit()
    state_vote(client, california, write)
    patch(client, marin, write, activated_on="2011-01-01")
    in_california = session.scalar(
        sa.select(sa.func.count()).where(col(Jurisdiction.state) == "CA")
    )
    counties = session.scalar(
        sa.select(sa.func.count()).where(
            col(Jurisdiction.state) == "CA", col(Jurisdiction.kind) != JurisdictionKind.state
        )
    )
    assert in_california and counties

    def total(**query: Any) -> int:
        r = client.get(f"{API}/jurisdictions", params={"state": "CA", "limit": 1, **query})
        assert r.status_code == 200, r.text
        return int(r.json()["total"])

    assert total(effective_status="vote_passed") == in_california - 1  # all but Santa Clara
    assert total(effective_status="vote_failed") == 1
    assert total(effective_status_via="state") == counties - 1
    assert total(effective_status_via="own", effective_status="vote_passed") == 1  # the state
    assert total(activated_despite_opt_out="true") == 1
    assert total(activated_despite_opt_out="false") == in_california - 1
    despite = client.get(f"{API}/jurisdictions", params={"activated_despite_opt_out": "true"})
    assert [j["id"] for j in despite.json()["items"]] == [marin.id]
    assert (
        client.get(f"{API}/jurisdictions", params={"effective_status_via": "x"}).status_code == 422
    )

    summary = client.get(f"{API}/status/summary").json()
    own, effective = summary["by_state"]["CA"], summary["effective"]["by_state"]["CA"]
    assert own["counts"]["vote_passed"] == 1 and own["counts"]["no_action"] == in_california - 2
    assert effective["counts"]["vote_passed"] == in_california - 1
    assert effective["counts"]["vote_failed"] == 1
    assert effective["activated_despite_opt_out"] == 1
    overall = summary["effective"]["overall"]
    assert overall["activated_despite_opt_out"] == 1
    assert sum(overall["counts"].values()) == summary["overall"]["total"]
    states = client.get(f"{API}/status/summary", params={"kind": "state"}).json()
    assert states["effective"]["by_state"]["CA"]["counts"]["vote_passed"] == 1
    assert states["effective"]["overall"]["activated_despite_opt_out"] == 0

    by_fips = {row["fips"]: row for row in client.get(f"{API}/status/by-fips").json()}
    assert {
        k: by_fips["06041"][k] for k in ("status", "effective_status", "effective_status_via")
    } == {
        "status": "no_action",
        "effective_status": "vote_passed",
        "effective_status_via": "state",
    }
    assert by_fips["06041"]["activated_despite_opt_out"] is True
    assert by_fips["06085"]["effective_status_via"] == "own"
    assert by_fips["06085"]["activated_despite_opt_out"] is False


def test_sorting_by_effective_status_follows_the_stages(
    client: TestClient, session: Session, california: Jurisdiction, write: dict[str, str]
) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    factories.vote(session, santa_clara, held_on=date(2010, 6, 1), outcome=VoteOutcome.failed)
    session.commit()
    state_vote(client, california, write)
    r = client.get(
        f"{API}/jurisdictions", params={"state": "CA", "sort": "effective_status", "limit": 1}
    )
    assert [j["id"] for j in r.json()["items"]] == [santa_clara.id]  # failed < passed
