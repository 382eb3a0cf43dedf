"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

Each backend gets a database of its own (migrated, seeded, with the historical dataset), so
the generated writes commit for real without touching the other tests. Every operation gets
valid (positive) and invalid (negative) requests from an admin API key; each answer must not
be a server error and must match the document: status code, content type, body, headers.
Generation is derandomized, so CI runs the same cases every time.
"""

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from sqlmodel import Session, col

from optout_tracker.db import create_db_engine
from optout_tracker.enums import AgencyKind, DeliveryState, FollowTarget, ResponseKind, Role, Scope
from optout_tracker.main import create_app
from optout_tracker.models import (
    Agency,
    Announcement,
    ApiKey,
    Document,
    Follow,
    Jurisdiction,
    Letter,
    Response,
    Vote,
    Webhook,
    WebhookDelivery,
)
from optout_tracker.schemas import WebhookCreate
from optout_tracker.security import CLI
from optout_tracker.services import accounts, documents, webhooks
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, copy_of_history, make_settings

API = "/api/v1"
# Examples per operation and generation mode: about 60 operations x (15 + 6), some 1,200
# cases in the suite; `make fuzz` runs the long campaign.
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 6}
MIN_CASES = 500
RETRY_EXAMPLES = 120  # for an operation that never succeeded in its first 15
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Parameters and body fields that name a record or a state: positive cases use real values
# half of the time, so that generated reads and writes reach records instead of 404 or 422.
ID_TABLES: dict[str, Any] = {
    "jurisdiction_id": Jurisdiction,
    "parent_id": Jurisdiction,
    "agency_id": Agency,
    "vote_id": Vote,
    "letter_id": Letter,
    "response_id": Response,
    "announcement_id": Announcement,
    "api_key_id": ApiKey,
    "webhook_id": Webhook,
    "delivery_id": WebhookDelivery,
    "document_id": Document,
    "follow_id": Follow,
}
SCAN = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"  # an upload that can succeed
IMPORTABLE_VOTES = (
    "jurisdiction_fips,body,held_on,outcome\r\n06085,Board of Supervisors,2010-09-28,passed\r\n"
)
STATES = ("CA", "VA", "DC", "NY", "TX", "IL", "WA")
# Failures to tolerate, as (operation, failure) -> why; empty: any failure fails the run.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


@dataclass
class Target:
    app: FastAPI
    headers: dict[str, str]
    own_key_id: int
    ids: dict[str, list[int]]


@dataclass
class Run:
    cases: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: dict[tuple[str, str], str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def target(databases: DatabaseFactory, history_engine: sa.Engine) -> Iterator[Target]:
    """A database of this module's own: migrated, seeded, with history (a copy of the shared
    history database) and an admin key."""
    app_settings = make_settings(copy_of_history(databases, history_engine))
    engine = create_db_engine(app_settings)
    with Session(engine) as session:
        # For the generated deletions: the history's letters, answers and announcements use
        # 42 of the 53 agencies, which cannot be deleted; spares that can, about as many.
        session.add_all(
            Agency(name=f"Sheriff's office {n}", kind=AgencyKind.other) for n in range(44)
        )
        # The key of an admin, whose follows the /follows operations read and write.
        owner = accounts.create_user(
            session, "schemathesis@example.org", Role.admin, "correct horse battery", CLI
        )
        as_owner = accounts.user_principal(owner, via_session=False)
        key, token = accounts.create_api_key(session, "schemathesis", Scope.admin, as_owner)
        session.add_all(
            Follow(user_id=owner.id or 0, target=FollowTarget.state, state=code)
            for code in ("CA", "VA", "DC")
        )
        for n in range(5):  # for the generated revocations: the run's own key is spared
            accounts.create_api_key(session, f"spare {n}", Scope(("read", "write")[n % 2]), CLI)
        # One subscription, so that every generated delivery id belongs to the webhook id.
        webhook = webhooks.create(session, WebhookCreate(url="https://partner.example/hook"), CLI)
        for _ in range(3):
            webhooks.send_test(session, webhook)
        # Spare answers for the generated deletions, as many as the uploads that may land on
        # them first (a record with documents cannot be deleted). Of kind `other`: no stage.
        answered = session.scalars(sa.select(Response).order_by(col(Response.id))).first()
        assert answered is not None
        session.add_all(
            Response(
                jurisdiction_id=answered.jurisdiction_id,
                agency_id=answered.agency_id,
                received_on=date(2012, 6, 5),
                kind=ResponseKind.other,
                summary=f"Spare {n}",
            )  # fmt: skip
            for n in range(40)
        )
        # Documents to read and delete, public and private, on one letter and one answer.
        letter = session.scalars(sa.select(Letter).order_by(col(Letter.id))).first()
        answer = session.scalars(sa.select(Response).order_by(col(Response.id))).first()
        for n in range(3):
            documents.attach(session, letter=letter, filename=f"letter-{n}.pdf", data=SCAN,
                             public=n % 2 == 0, actor=CLI)  # fmt: skip
            documents.attach(session, response=answer, filename=f"answer-{n}.txt",
                             data=b"Received.", public=n % 2 == 0, actor=CLI)  # fmt: skip
        session.commit()
        # Every delivery (the documents' events too, written at that commit) finished, as the
        # worker leaves them: a generated redelivery may take any of them.
        session.execute(
            sa.update(WebhookDelivery).values(state=DeliveryState.failed, next_attempt_at=None)
        )
        session.commit()
        ids = {
            name: list(session.scalars(sa.select(table.id).order_by(table.id).limit(200)))
            for name, table in ID_TABLES.items()
        }
        ids["api_key_id"].remove(key.id)
        own_key_id = key.id or 0
    engine.dispose()
    assert all(ids.values()), {name: len(found) for name, found in ids.items()}
    app = create_app(app_settings)
    yield Target(app, {"Authorization": f"Bearer {token}"}, own_key_id, ids)
    app.state.engine.dispose()


def _failure_key(failure: Failure) -> str:
    status = getattr(failure, "status_code", None)
    return type(failure).__name__ + (f" {status}" if status is not None else "")


def _sent(response: Any) -> str:
    """The request as it went out, and the start of the answer."""
    request = response.request
    body = (
        request.body.decode(errors="replace") if isinstance(request.body, bytes) else request.body
    )
    return (
        f"  request: {request.method} {request.url}\n  body: {body}\n"
        f"  answer: {response.status_code} {response.content[:300].decode(errors='replace')}"
    )


def _realistic(
    target: Target, strategy: st.SearchStrategy[Any], label: str
) -> st.SearchStrategy[Any]:
    """Cases that name records that exist: always in bodies, half of the time elsewhere."""
    values: dict[str, st.SearchStrategy[Any]] = {
        name: st.sampled_from(ids) for name, ids in target.ids.items()
    }
    values["state"] = st.sampled_from(STATES)
    if "/announcements" in label:  # its scope; an API key's `scope` is another field
        values["scope"] = st.sampled_from(["national", *STATES])
    # Event dates in the past (the rules refuse future ones) and, for responses, sometimes no
    # letter (one of another jurisdiction is refused): otherwise writes rarely get through.
    # Letters on the earliest date of the history and answers after its last letter, so that
    # an answer is never received before the letter it answers.
    values.update(
        held_on=st.sampled_from(["2010-09-28", "2011-10-18"]),
        sent_on=st.just("2010-05-18"),
        received_on=st.just("2012-06-05"),
        response_due_on=st.just("2012-12-31"),
        announced_on=st.just("2011-08-05"),  # a generated day is mostly in the future: a 422
        contact_checked_on=st.just("2010-06-01"),
    )
    # A webhook on a public https address: generated ones are mostly internal or malformed.
    values["url"] = st.just("https://coalition.example.org/hooks/optout")
    ALWAYS = {"held_on", "received_on"}
    values["letter_id"] = st.one_of(st.none(), values["letter_id"])

    @st.composite
    def cases(draw: st.DrawFn) -> Any:
        case = draw(strategy)
        for part in (case.path_parameters, case.query, case.body):
            if isinstance(part, dict):
                for name in sorted(part.keys() & values.keys()):
                    # Bodies always get real references (invalid ones are the negative
                    # cases' job); paths and queries keep random ids half of the time, for 404s.
                    if part is case.body or name in ALWAYS or draw(st.booleans()):
                        part[name] = draw(values[name])
        if "{delivery_id}" in label and draw(st.booleans()):
            # A delivery is found only under its own webhook: both ids right at once, often.
            for name in ("webhook_id", "delivery_id"):
                case.path_parameters[name] = draw(values[name])
        if label.endswith("/documents") and isinstance(case.body, dict) and draw(st.booleans()):
            case.body["file"] = SCAN  # random bytes are rarely a PDF, an image or text
        if (case.path_parameters or {}).get("kind") and draw(st.booleans()):
            # A CSV import that can succeed: random text is rarely a valid CSV.
            case.path_parameters["kind"] = "votes"
            if isinstance(case.body, dict):
                case.body["file"] = IMPORTABLE_VOTES.encode()
            else:
                case.body = IMPORTABLE_VOTES
        return case

    return cases()


def _fuzz(
    target: Target, operation: Any, mode: GenerationMode, run: Run, examples: int = 0
) -> None:
    strategy = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE:
        strategy = _realistic(target, strategy, operation.label)
    # Revoking the key this run uses would turn every later case into a 401.
    strategy = strategy.filter(
        lambda case: (case.path_parameters or {}).get("api_key_id") != target.own_key_id
    )

    @given(case=strategy)
    @settings(
        max_examples=examples or EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        run.cases += 1
        response = case.call(headers=target.headers)
        run.statuses[operation.label][response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=target.headers)
        except (Failure, FailureGroup) as error:
            found = error.exceptions if isinstance(error, FailureGroup) else (error,)
            for failure in found:
                run.failures.setdefault((operation.label, _failure_key(failure)), _sent(response))

    try:
        check()
    except Unsatisfiable:
        # Nothing to generate: e.g. no invalid request exists for an operation without inputs.
        assert mode is GenerationMode.NEGATIVE, operation.label


def test_api_conforms_to_its_openapi(target: Target) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), [r for r in results if not isinstance(r, Ok)]
    assert len(operations) >= 30
    # Deletes last, so that the other operations find the records they would remove.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    run = Run()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(target, operation, mode, run)
    elapsed = time.monotonic() - started

    summary = "\n".join(f"  {op}: {dict(codes)}" for op, codes in sorted(run.statuses.items()))
    print(f"\n{run.cases} cases in {elapsed:.1f}s\n{summary}")
    assert run.cases >= MIN_CASES, f"only {run.cases} generated cases"
    assert {op.label for op in operations} == set(run.statuses), "operations never called"
    new = {key: text for key, text in run.failures.items() if key not in KNOWN_BUGS}
    assert not new, "\n\n".join(f"{op}: {kind}\n{text}" for (op, kind), text in new.items())
    # Guard against a run that only ever meets 404 and 422: each operation succeeded sometimes.
    # One whose every field must be right at once (an announcement's PATCH) can miss in its
    # 15 cases: it gets more (the same ones first, derandomized) before the verdict.
    for operation in operations:
        if operation.label in _never_succeeded(run):
            _fuzz(target, operation, GenerationMode.POSITIVE, run, examples=RETRY_EXAMPLES)
    new = {key: text for key, text in run.failures.items() if key not in KNOWN_BUGS}
    assert not new, "\n\n".join(f"{op}: {kind}\n{text}" for (op, kind), text in new.items())
    summary = "\n".join(f"  {op}: {dict(codes)}" for op, codes in sorted(run.statuses.items()))
    missed = _never_succeeded(run)
    assert not missed, f"no generated case succeeded on {missed}\n{summary}"


def _never_succeeded(run: Run) -> list[str]:
    return [op for op, codes in run.statuses.items() if not any(200 <= c < 300 for c in codes)]


# Gaps between the answers and the document, each shown on one request.


@dataclass
class Seeded:
    santa_clara: int
    alameda: int
    agency: int
    letter: int
    vote: int


@pytest.fixture
def seeded(session: Session) -> Seeded:
    santa_clara = factories.jurisdiction(session)
    ice = factories.agency(session, AgencyKind.ice)
    letter = factories.letter(session, santa_clara, ice)
    factories.response(session, santa_clara, ice, letter_id=letter.id)
    vote = factories.vote(session, santa_clara)
    session.commit()
    alameda = factories.jurisdiction(session, "06001")
    return Seeded(*(int(x.id or 0) for x in (santa_clara, alameda, ice, letter, vote)))


GAPS = [
    # (method, path template, path, body, extra headers, status answered)
    (
        "POST",
        "/jurisdictions",
        "/jurisdictions",
        {"name": "Santa Clara County", "kind": "county", "state": "CA", "fips": "06085"},
        {},
        409,
    ),
    (
        "PATCH",
        "/jurisdictions/{jurisdiction_id}",
        "/jurisdictions/{alameda}",
        {"fips": "06085"},
        {},
        409,
    ),
    ("DELETE", "/jurisdictions/{jurisdiction_id}", "/jurisdictions/{santa_clara}", None, {}, 409),
    ("DELETE", "/agencies/{agency_id}", "/agencies/{agency}", None, {}, 409),
    (
        "PATCH",
        "/letters/{letter_id}",
        "/letters/{letter}",
        {"jurisdiction_id": "{alameda}"},
        {},
        409,
    ),
    ("DELETE", "/letters/{letter_id}", "/letters/{letter}", None, {}, 409),
    ("PATCH", "/votes/{vote_id}", "/votes/{vote}", {}, {"If-Match": '"stale"'}, 412),
    ("DELETE", "/votes/{vote_id}", "/votes/{vote}", None, {"If-Match": '"stale"'}, 412),
    (
        "GET",
        "/jurisdictions/{jurisdiction_id}",
        "/jurisdictions/{santa_clara}",
        None,
        {"If-None-Match": "*"},
        304,
    ),
]


@pytest.mark.parametrize(
    ("method", "template", "path", "body", "headers", "status"),
    [
        pytest.param(
            *gap,
            id=f"{gap[5]} on {gap[0]} {gap[1]}",
        )
        for gap in GAPS
    ],
)
def test_every_status_the_api_answers_is_documented(
    client: TestClient,
    credentials: Credentials,
    seeded: Seeded,
    method: str,
    template: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    status: int,
) -> None:
    ids = vars(seeded)
    if body is not None:
        body = {
            k: int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v
            for k, v in body.items()
        }
    r = client.request(
        method,
        API + path.format(**ids),
        headers={**credentials.headers("admin"), **headers},
        json=body,
    )
    assert r.status_code == status, r.text
    spec = cast(FastAPI, client.app).openapi()
    documented = spec["paths"][API + template][method.lower()]["responses"]
    assert str(status) in documented, (
        f"{method} {API}{template} answers {status}; documented: {sorted(documented)}"
    )


HEADERS = [
    ("POST", "/votes", "Idempotency-Key"),
    ("PATCH", "/votes/{vote_id}", "If-Match"),
    ("DELETE", "/votes/{vote_id}", "If-Match"),
    ("GET", "/votes/{vote_id}", "If-None-Match"),
]


@pytest.mark.parametrize(
    ("method", "template", "header"),
    [
        pytest.param(
            *h,
            id=f"{h[2]} on {h[0]} {h[1]}",
        )
        for h in HEADERS
    ],
)
def test_honoured_request_headers_are_documented(
    client: TestClient, method: str, template: str, header: str
) -> None:
    operation = cast(FastAPI, client.app).openapi()["paths"][API + template][method.lower()]
    documented = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    assert header.lower() in documented, f"{method} {API}{template} documents {documented}"
