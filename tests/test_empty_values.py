"""An empty query value means "no filter": what a browser sends for a form's empty fields,
and what a partner's URL template sends for a blank."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from optout_tracker.schemas import JurisdictionFilters
from tests import forms

HTML = {"accept": "text/html"}


def total(client: TestClient, **params: Any) -> int:
    r = client.get("/api/v1/jurisdictions", params=params)
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def test_the_list_form_submitted_as_it_comes_lists_everything(client: TestClient) -> None:
    page = client.get("/jurisdictions", headers=HTML).text
    sent: list[tuple[str, Any]] = [*forms.defaults(page, "/jurisdictions")]
    assert {"q", "state", "kind", "status", "overdue"} <= {name for name, _ in sent}
    r = client.get("/jurisdictions", params=sent, headers=HTML)
    assert r.status_code == 200, r.text
    assert f"{total(client)} jurisdictions" in r.text.replace(",", "")


def test_the_list_form_with_one_field_filled_filters_by_it_alone(client: TestClient) -> None:
    page = client.get("/jurisdictions", headers=HTML).text
    sent: list[tuple[str, Any]] = [
        (n, "Marin" if n == "q" else v) for n, v in forms.defaults(page, "/jurisdictions")
    ]
    r = client.get("/jurisdictions", params=sent, headers=HTML)
    assert r.status_code == 200, r.text
    assert "Marin County" in r.text and "Alameda County" not in r.text


def test_every_empty_filter_of_the_api_is_no_filter(client: TestClient) -> None:
    everything = total(client)
    blank = dict.fromkeys(JurisdictionFilters.model_fields, "")
    assert total(client, **blank) == everything
    marin = total(client, q="Marin")
    assert 0 < marin < everything
    assert total(client, **{**blank, "q": "Marin"}) == marin


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/status/summary?as_of=&state=",
        "/api/v1/status/by-fips?as_of=&state=&kind=&status=",
        "/api/v1/votes?jurisdiction_id=&sort=",
        "/api/v1/export/jurisdictions.csv?state=&kind=",
        "/?as_of=&layer=",
        "/states/CA?as_of=&layer=",
    ],
)
def test_empty_values_elsewhere_are_no_filter(client: TestClient, path: str) -> None:
    bare = path.split("?")[0]
    r = client.get(path, headers=HTML)
    assert r.status_code == 200, r.text
    assert r.content == client.get(bare, headers=HTML).content


def test_a_value_that_is_given_is_still_checked(client: TestClient) -> None:
    r = client.get("/api/v1/jurisdictions?state=CA&kind=nonsense")
    assert r.status_code == 422
    assert "kind" in r.text
