"""Organizers add a city from the pages; its FIPS code and OCD id are checked against its
state, and it appears in the list, the search and its state's page."""

import re
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.models import AuditEntry, Jurisdiction
from tests import forms
from tests.conftest import Credentials
from tests.test_pages import HTML, sign_in

FORM = "/jurisdictions/new"


def submit(client: TestClient, path: str = FORM, **filled: str) -> Any:
    """The form as the page offers it, with `filled` typed in."""
    sent = [(n, filled.pop(n, v)) for n, v in forms.defaults(client.get(path).text, FORM)]
    return client.post(FORM, data=dict(sent) | filled, follow_redirects=False)


def cities(session: Session) -> list[Jurisdiction]:
    session.expire_all()
    return list(session.scalars(sa.select(Jurisdiction).where(col(Jurisdiction.kind) == "city")))


def test_an_organizer_adds_a_city_that_then_appears_everywhere(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    assert 'href="/jurisdictions/new?state=CA"' in client.get("/states/CA").text
    r = submit(client, f"{FORM}?state=CA", name="Berkeley", fips="0606000")
    assert r.status_code == 303 and r.headers["location"] == "/jurisdictions/ca-berkeley"

    (city,) = cities(session)
    california = session.scalars(sa.select(Jurisdiction).filter_by(slug="ca")).one()
    assert (city.name, city.state, city.fips, city.parent_id) == (
        "Berkeley", "CA", "0606000", california.id,
    )  # fmt: skip
    entry = session.scalars(sa.select(AuditEntry).filter_by(entity="jurisdiction")).one()
    assert entry.action == "create" and entry.actor_label == "organizer@example.org"

    assert "Berkeley" in client.get(r.headers["location"], headers=HTML).text
    assert "Berkeley" in client.get("/jurisdictions?q=berk", headers=HTML).text
    assert "Berkeley" in client.get("/jurisdictions?state=CA&kind=city", headers=HTML).text
    state_page = client.get("/states/CA").text
    assert re.search(r'id="cities".*href="/jurisdictions/ca-berkeley">Berkeley<', state_page, re.S)


def test_the_form_as_it_comes_says_what_is_missing_and_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    r = submit(client)
    assert r.status_code == 422
    assert 'id="e-name"' in r.text and 'id="e-state"' in r.text
    assert cities(session) == []


def test_a_fips_code_or_ocd_id_of_another_state_is_refused(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    wrong_state = submit(client, name="Berkeley", state="CA", fips="3606000")
    assert wrong_state.status_code == 422
    assert "a FIPS code in California begins with 06" in wrong_state.text
    assert 'value="Berkeley"' in wrong_state.text  # the input is kept
    too_short = submit(client, name="Berkeley", state="CA", fips="06060")
    assert too_short.status_code == 422 and "7-digit" in too_short.text
    ocd = submit(
        client, name="Berkeley", state="CA", ocd_id="ocd-division/country:us/state:ny/place:x"
    )
    assert ocd.status_code == 422
    assert "an OCD id in California begins with ocd-division/country:us/state:ca/" in ocd.text
    assert cities(session) == []


def test_the_api_checks_a_county_against_its_state_too(
    client: TestClient, credentials: Credentials
) -> None:
    county = {"name": "Nowhere County", "kind": "county", "state": "CA", "fips": "36999"}
    r = client.post("/api/v1/jurisdictions", json=county, headers=credentials.headers("write"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["fips"]


def test_a_double_tap_adds_the_city_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    sent = dict(forms.defaults(client.get(FORM).text, FORM)) | {"name": "Oakland", "state": "CA"}
    first = client.post(FORM, data=sent, follow_redirects=False)
    second = client.post(FORM, data=sent, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"] == "/jurisdictions/ca-oakland"
    assert [c.name for c in cities(session)] == ["Oakland"]


def test_only_organizers_add_cities(client: TestClient, credentials: Credentials) -> None:
    assert client.get(FORM, follow_redirects=False).status_code == 303  # to /login
    sign_in(client, credentials, "viewer")
    assert client.get(FORM, headers=HTML).status_code == 403
    assert "Add a city" not in client.get("/jurisdictions", headers=HTML).text
