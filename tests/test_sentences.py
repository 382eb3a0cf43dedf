"""Changes told in sentences, as /activity and the feeds show them."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker import sentences
from optout_tracker.enums import AgencyKind, AuditAction
from tests import factories
from tests.conftest import Credentials

AGENCIES = {7: "ICE Secure Communities", 9: "California Department of Justice"}
CREATE, UPDATE, DELETE = AuditAction.create, AuditAction.update, AuditAction.delete


def new(**values: object) -> dict[str, list[object]]:
    return {k: [None, v] for k, v in values.items()}


def test_each_new_record_reads_as_what_happened() -> None:
    letter = new(agency_id=7, purpose="opt_out_request", sent_on="2010-10-07")
    assert sentences.title("letter", CREATE, letter, "Marin County", AGENCIES) == (
        "Marin County sent an opt-out request to ICE Secure Communities (Oct 7, 2010)"
    )
    vote = new(body="County Board", outcome="passed", topic="opt_out", yes=5, no=0)
    assert sentences.title("vote", CREATE, vote | new(held_on="2010-09-28"), "Arlington County",
                           AGENCIES) == (
        "Arlington County: County Board passed an opt-out measure 5–0 (Sep 28, 2010)"
    )  # fmt: skip
    detainer = new(body="County Board", outcome="passed", topic="detainer_policy")
    assert "passed a detainer policy" in sentences.title("vote", CREATE, detainer, "Cook", {})
    answer = new(agency_id=7, kind="denied", received_on="2011-03-01")
    assert sentences.title("response", CREATE, answer, "Arlington County", AGENCIES) == (
        "ICE Secure Communities answered Arlington County: opt-out denied (Mar 1, 2011)"
    )
    said = new(agency_id=9, scope="CA", title="No county may opt out", announced_on="2010-05-25")
    assert sentences.title("announcement", CREATE, said, None, AGENCIES) == (
        "California Department of Justice announced in CA: No county may opt out (May 25, 2010)"
    )
    city = new(name="Berkeley", state="CA")
    assert sentences.title("jurisdiction", CREATE, city, "Berkeley", {}) == "Berkeley, CA was added"


def test_changes_and_deletions_name_the_record_and_each_field_in_words() -> None:
    gone = {"held_on": ["2010-09-28", None], "outcome": ["passed", None]}
    assert sentences.title("vote", DELETE, gone, "Santa Clara County", {}) == (
        "Santa Clara County's vote of Sep 28, 2010 was deleted"
    )
    changed: dict[str, list[object]] = {
        "agency_id": [None, 7],
        "purpose": ["other", "opt_out_request"],
    }
    changed |= {"response_due_on": ["2010-11-06", None]}
    assert sentences.title("letter", UPDATE, changed, "Marin County", AGENCIES) == (
        "Marin County's letter was changed"
    )
    assert sentences.lines(changed, AGENCIES) == [
        "Agency: (empty) → ICE Secure Communities.",
        "Purpose: other → opt out request.",
        "Response due: Nov 6, 2010 → (empty).",
    ]


def test_the_activity_page_tells_changes_in_sentences(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    marin = factories.jurisdiction(session, "06041")
    ice = factories.agency(session, AgencyKind.ice)
    session.commit()
    letter = {"jurisdiction_id": marin.id, "agency_id": ice.id, "sent_on": "2010-12-01"}
    letter |= {"purpose": "opt_out_request"}
    r = client.post("/api/v1/letters", json=letter, headers=credentials.headers("write"))
    assert r.status_code == 201, r.text
    page = client.get("/activity").text
    assert f"Marin County sent an opt-out request to {ice.name} (Dec 1, 2010)" in page
    assert "agency_id" not in page
