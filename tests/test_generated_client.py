"""A partner's generated client: openapi-python-client builds a Python package from the
/openapi.json the server serves, unmodified, and a scripted round trip runs with it against
the live server: list, get, create with a key, PATCH with the ETag the create answered
with, and the timeline."""

import importlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import pytest

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import Scope
from optout_tracker.main import create_app
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests import factories
from tests.conftest import DatabaseFactory, make_settings
from tests.live import seeded_database, serving

PACKAGE = "optout_client"


@pytest.fixture
def live(databases: DatabaseFactory) -> Iterator[tuple[str, str, int]]:
    """The server's base URL, a write key and Santa Clara County's id."""
    url = seeded_database(databases)
    engine = create_db_engine(make_settings(url))
    with unit_of_work(engine) as session:
        county = factories.jurisdiction(session, "06085")
        _, token = accounts.create_api_key(session, "partner", Scope.write, CLI)
        county_id = county.id or 0
    engine.dispose()
    app = create_app(make_settings(url))
    with serving(app) as port:
        yield f"http://127.0.0.1:{port}", token, county_id
    app.state.engine.dispose()


def generated(base: str, where: Path) -> ModuleType:
    """The client package generated from the served document, imported."""
    spec = where / "openapi.json"
    spec.write_bytes(httpx2.get(f"{base}/openapi.json").content)
    tool = Path(sys.executable).with_name("openapi-python-client")
    bin_dir = str(Path(sys.executable).parent)  # its formatter (ruff) is in the same venv
    done = subprocess.run(
        [str(tool), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(where / PACKAGE)],
        capture_output=True, text=True, timeout=300, env={"PATH": bin_dir},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # The one thing it skips is the CSV body of the import, which it also takes as a file.
    warnings = re.findall(r"WARNING parsing (\S+ \S+)", done.stdout)
    assert warnings in ([], ["POST /api/v1/import/{kind}"]), done.stdout
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


def call(module: str, **arguments: Any) -> Any:
    response = importlib.import_module(f"{PACKAGE}.api.{module}").sync_detailed(**arguments)
    assert 200 <= response.status_code < 300, response.content
    return response


def test_a_generated_client_runs_a_round_trip(live: tuple[str, str, int], tmp_path: Path) -> None:
    base, token, county_id = live
    client_package = generated(base, tmp_path)
    models = importlib.import_module(f"{PACKAGE}.models")
    try:
        anyone = client_package.Client(base_url=base)
        partner = client_package.AuthenticatedClient(base_url=base, token=token)

        listed = call("jurisdictions.list_jurisdictions", client=anyone, fips="06085").parsed
        assert [j.id for j in listed.items] == [county_id]
        county = call("jurisdictions.get_jurisdiction", jurisdiction_id=county_id, client=anyone)
        assert county.parsed.name == "Santa Clara County" and county.headers["etag"]

        vote = models.VoteCreate(
            jurisdiction_id=county_id,
            body="Board of Supervisors",
            held_on=date(2010, 9, 28),
            outcome=models.VoteOutcome.PASSED,
            yes=3,
            no=2,
        )
        made = call("votes.create_vote", client=partner, body=vote, idempotency_key="sc-2010")
        assert made.status_code == 201 and made.parsed.outcome == models.VoteOutcome.PASSED
        changed = call(
            "votes.update_vote",
            vote_id=made.parsed.id,
            client=partner,
            body=models.VoteUpdate(yes=4, no=1),
            if_match=made.headers["etag"],
        )
        assert (changed.parsed.yes, changed.parsed.version) == (4, 2)
        stale = importlib.import_module(f"{PACKAGE}.api.votes.update_vote").sync_detailed(
            vote_id=made.parsed.id, client=partner, body=models.VoteUpdate(yes=5),
            if_match=made.headers["etag"],
        )  # fmt: skip
        assert stale.status_code == 412 and "changed since you read it" in stale.parsed.detail

        timeline = call(
            "jurisdictions.get_jurisdiction_timeline", jurisdiction_id=county_id, client=anyone
        ).parsed
        assert [(e.type_.value, e.record.id) for e in timeline.items] == [("vote", made.parsed.id)]
        assert isinstance(timeline.items[0].record, models.VotePublic)
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]
        shutil.rmtree(tmp_path / PACKAGE, ignore_errors=True)
