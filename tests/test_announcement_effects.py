"""What an announcement does to the campaigns in its scope, through the API: the stored
status follows the rules of status.py with the announcements of the database."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.enums import AgencyKind, VoteOutcome
from optout_tracker.models import Agency, Jurisdiction
from tests import factories
from tests.conftest import Credentials


@pytest.fixture
def ice(session: Session) -> Agency:
    return factories.agency(session, AgencyKind.ice)


def announce(client: TestClient, credentials: Credentials, ice: Agency, **fields: Any) -> None:
    body = {
        "agency_id": ice.id,
        "announced_on": "2011-08-05",
        "scope": "national",
        "effect": "opt_out_denied",
        "title": "Participation is mandatory",
        **fields,
    }
    r = client.post("/api/v1/announcements", json=body, headers=credentials.headers("write"))
    assert r.status_code == 201, r.text


def status_of(client: TestClient, j: Jurisdiction) -> dict[str, Any]:
    r = client.get(f"/api/v1/jurisdictions/{j.id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_denial_answers_open_campaigns_in_its_scope_only(
    client: TestClient, session: Session, credentials: Credentials, ice: Agency
) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    factories.vote(session, santa_clara, held_on=date(2010, 9, 28), outcome=VoteOutcome.passed)
    marin = factories.jurisdiction(session, "06041")  # no campaign: nothing to deny
    multnomah = factories.jurisdiction(session, "41051")
    factories.vote(session, multnomah, held_on=date(2010, 9, 1), outcome=VoteOutcome.passed)
    session.commit()

    announce(client, credentials, ice, scope="CA")

    shown = status_of(client, santa_clara)
    assert (shown["status"], shown["status_since"]) == ("denied", "2011-08-05")
    assert "Participation is mandatory" in shown["status_reason"]
    assert status_of(client, marin)["status"] == "no_action"
    assert status_of(client, multnomah)["status"] == "vote_passed"  # Oregon: out of scope


def test_the_end_of_the_program_closes_campaigns_and_their_letters_await_nothing(
    client: TestClient, session: Session, credentials: Credentials, ice: Agency
) -> None:
    arlington = factories.jurisdiction(session, "51013")
    factories.letter(session, arlington, ice, sent_on=date(2010, 9, 1))
    session.commit()
    before = status_of(client, arlington)
    assert before["status"] == "notified" and before["overdue"]

    announce(client, credentials, ice, announced_on="2014-11-20", effect="program_ended",
             title="Secure Communities ends")  # fmt: skip

    after = status_of(client, arlington)
    assert after["status"] == "notified"  # the status stays
    assert after["campaign_closed_on"] == "2014-11-20"
    assert not after["awaiting_response"] and not after["overdue"]
    assert arlington.id not in {
        j["id"]
        for j in client.get("/api/v1/jurisdictions", params={"overdue": True}).json()["items"]
    }
