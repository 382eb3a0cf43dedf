"""The shipped history, read through the public API, tells the campaigns as issue 12's
table does: their status as of 2011-12-31, and every campaign closed by the program's end."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from optout_tracker.main import create_app
from optout_tracker.services import follow_up
from tests.conftest import make_settings

END_OF_2011 = "2011-12-31"
PROGRAM_ENDED = "2014-11-20"


@pytest.fixture(scope="module")
def demo(history_engine: Engine) -> Iterator[TestClient]:
    """The demo as `optout-tracker demo` leaves it (the run's history database), read only."""
    app = create_app(make_settings(history_engine.url.render_as_string(hide_password=False)))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def jurisdiction(client: TestClient, fips: str, **params: str) -> dict[str, Any]:
    found = client.get("/api/v1/jurisdictions", params={"fips": fips}).json()["items"]
    assert len(found) == 1, fips
    r = client.get(f"/api/v1/jurisdictions/{found[0]['id']}", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def timeline(client: TestClient, fips: str) -> list[dict[str, Any]]:
    j = jurisdiction(client, fips)
    r = client.get(f"/api/v1/jurisdictions/{j['id']}/timeline", params={"limit": 500})
    return list(r.json()["items"])


# (fips, status, status_since, effective_status, via, activated despite opt-out)
TABLE = [
    ("51013", "denied", "2011-03-01", "denied", "own", False),  # Arlington: ICE's letter
    ("06085", "denied", "2011-08-05", "denied", "own", False),  # Santa Clara: vote, then Aug 5
    ("06075", "denied", "2011-08-05", "denied", "own", True),  # San Francisco, on in Jun 2010
    ("17", "denied", "2011-08-05", "denied", "own", False),  # Illinois
    ("36", "denied", "2011-08-05", "denied", "own", False),  # New York: its letter to DHS
    ("25", "denied", "2011-08-05", "denied", "own", False),  # Massachusetts
    ("17031", "no_action", None, "denied", "state", False),  # Cook County, through Illinois
    ("11001", "vote_scheduled", "2010-05-04", "vote_scheduled", "own", False),  # DC
]


@pytest.mark.parametrize(("fips", "status", "since", "effective", "via", "despite"), TABLE)
def test_the_campaigns_as_of_the_end_of_2011(
    demo: TestClient,
    fips: str,
    status: str,
    since: str | None,
    effective: str,
    via: str,
    despite: bool,
) -> None:
    j = jurisdiction(demo, fips, as_of=END_OF_2011)
    assert (j["as_of"], j["status"], j["status_since"]) == (END_OF_2011, status, since)
    assert (j["effective_status"], j["effective_status_via"]) == (effective, via)
    assert j["activated_despite_opt_out"] is despite
    assert j["campaign_closed_on"] is None


def test_the_denials_of_aug_5_2011_are_ices_announcement(demo: TestClient) -> None:
    j = jurisdiction(demo, "36", as_of=END_OF_2011)
    assert j["ice_notified"] and not j["sib_notified"]  # New York wrote to DHS
    assert j["status_reason"] == (
        "ICE Secure Communities announced on August 5, 2011: "
        "ICE ends every state agreement: participation is not optional"
    )
    cook = jurisdiction(demo, "17031", as_of=END_OF_2011)
    assert cook["effective_status_since"] == "2011-08-05"
    sf = jurisdiction(demo, "06075", as_of=END_OF_2011)
    assert sf["activated_on"] == "2010-06-08" and sf["sib_notified"] and sf["ice_notified"]


def test_related_measures_are_on_their_timelines(demo: TestClient) -> None:
    def measures(fips: str) -> list[tuple[str, str, str]]:
        return [
            (e["date"], e["record"]["topic"], e["record"]["outcome"])
            for e in timeline(demo, fips)
            if e["type"] == "vote" and e["record"]["topic"] != "opt_out"
        ]

    assert measures("17031") == [("2011-09-07", "detainer_policy", "passed")]  # Cook County
    assert sorted(measures("11001")) == [  # DC's detainer laws
        ("2012-06-05", "detainer_policy", "passed"),
        ("2012-07-10", "detainer_policy", "passed"),
    ]
    assert ("2011-10-18", "detainer_policy", "passed") in measures("06085")  # Santa Clara, 3–1


def test_as_of_today_every_campaign_is_closed_and_keeps_its_last_status(
    demo: TestClient,
) -> None:
    total, offset = None, 0
    while total is None or offset < total:
        page = demo.get("/api/v1/jurisdictions", params={"limit": 500, "offset": offset}).json()
        total, offset = page["total"], offset + 500
        open_ = [j["slug"] for j in page["items"] if j["campaign_closed_on"] != PROGRAM_ENDED]
        assert not open_
        assert not [j["slug"] for j in page["items"] if j["awaiting_response"] or j["overdue"]]
    by_fips = {row["fips"]: row for row in demo.get("/api/v1/status/by-fips").json()}
    for fips, status, _, effective, via, _ in TABLE:
        if len(fips) == 5:  # the map draws counties (and DC)
            assert (by_fips[fips]["status"], by_fips[fips]["effective_status"]) == (
                status,
                effective,
            )
            assert by_fips[fips]["effective_status_via"] == via


def test_the_follow_up_holds_no_historical_letter(demo: TestClient) -> None:
    with Session(demo.app.state.engine) as session:  # type: ignore[attr-defined]
        assert follow_up.items(session) == []
    home = demo.get("/").text
    section = home[home.index('id="follow-up"') : home.index('id="recent"')]
    assert "Nothing is waiting." in section and "/jurisdictions/" not in section
    assert 'href="/follow-up"' in section
    assert demo.get("/api/v1/follow-up").json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }
    assert "Nothing is waiting." in demo.get("/follow-up").text
