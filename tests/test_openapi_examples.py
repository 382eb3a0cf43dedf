"""The OpenAPI document's examples are real: each kind's example answer is what the API
answers for that record of the shipped history (ids and timestamps aside), each validates
against its schema, and each request example makes a record."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from optout_tracker.api import examples
from optout_tracker.schemas import KINDS
from tests.conftest import Credentials

API = "/api/v1"
# Where the database, not the history, decides: ids and when the records were written.
ASSIGNED = {"id", "created_at", "updated_at", "version", "as_of"}
REFERENCES = {"jurisdiction_id", "agency_id", "letter_id", "parent_id"}
# How to find each example's record in the history: its list's filters.
FOUND_BY = {
    "jurisdiction": {"fips": "06085"},
    "vote": {"held_on_from": "2010-09-28", "held_on_to": "2010-09-28"},
    "letter": {"sent_on_from": "2010-05-18", "sent_on_to": "2010-05-18"},
    "response": {"received_on_from": "2010-05-25", "received_on_to": "2010-05-25"},
    "announcement": {"announced_on_from": "2011-08-05", "announced_on_to": "2011-08-05"},
    "agency": {"kind": "state_identification_bureau", "state": "CA"},
}


def without(record: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


@pytest.mark.history
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.entity)
def test_each_example_is_what_the_api_answers_for_that_record(client: TestClient, kind) -> None:
    example = examples.answers()[kind.entity]
    kind.public.model_validate(example)
    kind.create.model_validate(examples.request(kind))
    found = client.get(f"{API}/{kind.plural}", params=FOUND_BY[kind.entity]).json()["items"]
    expected = without(example, ASSIGNED | REFERENCES)
    assert expected in [without(record, ASSIGNED | REFERENCES) for record in found]


def test_the_document_carries_them(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for kind in KINDS:
        assert schemas[kind.public.__name__]["examples"] == [examples.answers()[kind.entity]]
        assert schemas[kind.create.__name__]["examples"] == [examples.request(kind)]


def test_a_request_example_makes_a_record(client: TestClient, credentials: Credentials) -> None:
    agency = next(k for k in KINDS if k.entity == "agency")
    body = {**examples.request(agency), "name": "California DOJ (example)"}
    r = client.post(f"{API}/agencies", json=body, headers=credentials.headers("write"))
    assert r.status_code == 201, r.text
