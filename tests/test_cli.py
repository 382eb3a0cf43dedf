"""The `optout-tracker` command: migrations, reference data, the demo dataset, clear errors."""

import os
from collections.abc import Callable, Iterator
from typing import Any

import click
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from optout_tracker import migrate
from optout_tracker.cli import main, prepare
from optout_tracker.config import get_settings
from optout_tracker.db import create_db_engine
from tests.conftest import DatabaseFactory, make_settings

SEEDED = {
    "jurisdiction": 3192,
    "agency": 54,
}  # 50 states, DC, 3,141 counties; 51 SIBs, ICE, DHS, FBI
TABLES = (
    "jurisdiction",
    "jurisdiction_status",
    "agency",
    "vote",
    "letter",
    "response",
    "announcement",
)

Run = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """`run(url, "db", "current", OPTOUT_X="y")`: the command with only these OPTOUT_ settings."""
    runner = CliRunner()

    def invoke(url: str, *args: str, **env: str) -> Result:
        for key in [k for k in os.environ if k.startswith("OPTOUT_")]:
            monkeypatch.delenv(key)
        monkeypatch.setenv("OPTOUT_DATABASE_URL", url)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()  # settings are cached per process
        return runner.invoke(main, list(args))

    yield invoke
    get_settings.cache_clear()


def engine_for(url: str) -> sa.Engine:
    return create_db_engine(make_settings(url))


def counts(url: str) -> dict[str, int]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) or 0 for t in TABLES}
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, Any]:
    """Every value seed or demo might touch, to prove a second run changes nothing."""
    engine = engine_for(url)
    queries = {
        "jurisdiction": "SELECT id, name, slug, version, updated_at, activated_on, public_notes "
        "FROM jurisdiction ORDER BY id",
        "status": "SELECT jurisdiction_id, status, status_since, revision "
        "FROM jurisdiction_status ORDER BY jurisdiction_id",
        "agency": "SELECT id, name, version, notes FROM agency ORDER BY id",
        "vote": "SELECT id, jurisdiction_id, held_on, outcome, version FROM vote ORDER BY id",
        "letter": "SELECT id, jurisdiction_id, agency_id, sent_on, version FROM letter ORDER BY id",
        "response": "SELECT id, letter_id, received_on, kind, version FROM response ORDER BY id",
        "announcement": "SELECT id, agency_id, announced_on, scope, effect, version "
        "FROM announcement ORDER BY id",
    }
    try:
        with engine.connect() as conn:
            return {k: [tuple(r) for r in conn.execute(sa.text(q))] for k, q in queries.items()}
    finally:
        engine.dispose()


def head() -> str:
    revision = migrate.head_revision()
    assert revision
    return revision


def assert_clean_error(result: Result, *fragments: str) -> None:
    """Exit code 1, no traceback, one line on stderr that names the problem."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith("Error: ")
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message


# --- db upgrade | downgrade | current ----------------------------------------------------


def test_db_upgrade_then_current_shows_head(run, databases: DatabaseFactory):
    url = databases.new_url()
    empty = run(url, "db", "current")
    assert empty.exit_code == 1
    assert "current: none (empty database)" in empty.stdout

    upgraded = run(url, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at {head()} (head)" in upgraded.stdout

    current = run(url, "db", "current")
    assert current.exit_code == 0, current.output
    lines = current.stdout.splitlines()
    assert lines[0].split() == ["current:", head()]
    assert lines[1].split() == ["head:", head()]
    assert current.stderr == ""

    again = run(url, "db", "upgrade")  # nothing left to do, and no harm in asking
    assert again.exit_code == 0
    assert run(url, "db", "current").exit_code == 0


def test_db_downgrade_base_then_current_fails(run, databases: DatabaseFactory):
    url = databases.new_url()
    assert run(url, "db", "upgrade").exit_code == 0

    downgraded = run(url, "db", "downgrade", "base")
    assert downgraded.exit_code == 0, downgraded.output
    assert "database at base" in downgraded.stdout
    engine = engine_for(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()

    current = run(url, "db", "current")
    assert current.exit_code == 1
    assert "current: none (empty database)" in current.stdout
    assert head() in current.stdout
    assert "optout-tracker db upgrade" in current.stderr

    assert run(url, "db", "upgrade").exit_code == 0  # and back up again
    assert run(url, "db", "current").exit_code == 0


def test_db_downgrade_minus_one_steps_back_one_migration(run, databases: DatabaseFactory):
    url = databases.new_url()
    assert run(url, "db", "upgrade").exit_code == 0
    script = ScriptDirectory.from_config(migrate.alembic_config())
    previous = script.get_revision(head()).down_revision

    downgraded = run(url, "db", "downgrade", "-1")
    assert downgraded.exit_code == 0, downgraded.output
    assert f"database at {previous}" in downgraded.stdout
    assert run(url, "db", "upgrade").exit_code == 0


def test_db_downgrade_to_an_unknown_revision(run, databases: DatabaseFactory):
    url = databases.new_url()
    assert run(url, "db", "upgrade").exit_code == 0
    assert_clean_error(run(url, "db", "downgrade", "no-such-revision"), "no-such-revision")
    assert run(url, "db", "current").exit_code == 0


# --- seed and demo ----------------------------------------------------------------------------


def test_seed_twice_is_idempotent(run, databases: DatabaseFactory):
    url = databases.new_url()
    first = run(url, "seed")
    assert first.exit_code == 0, first.output
    assert "added 3192 jurisdictions and 54 agencies" in first.stdout
    seeded = counts(url)
    assert {t: seeded[t] for t in SEEDED} == SEEDED
    assert seeded["jurisdiction_status"] == SEEDED["jurisdiction"]
    before = snapshot(url)

    second = run(url, "seed")
    assert second.exit_code == 0, second.output
    assert "added 0 jurisdictions and 0 agencies" in second.stdout
    assert counts(url) == seeded
    assert snapshot(url) == before


def test_seed_never_overwrites_edited_records(run, databases: DatabaseFactory):
    url = databases.new_url()
    assert run(url, "seed").exit_code == 0
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE jurisdiction SET name = 'County of Santa Clara', version = 2 "
                    "WHERE fips = '06085'"
                )
            )
            conn.execute(
                sa.text(
                    "UPDATE agency SET name = 'California Department of Justice', "
                    "email = 'sc-optout@doj.ca.gov', version = 2 "
                    "WHERE kind = 'state_identification_bureau' AND state = 'CA'"
                )
            )
    finally:
        engine.dispose()
    before = snapshot(url)

    result = run(url, "seed")
    assert result.exit_code == 0, result.output
    assert "added 0 jurisdictions and 0 agencies" in result.stdout
    assert snapshot(url) == before
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            name = conn.scalar(sa.text("SELECT name FROM jurisdiction WHERE fips = '06085'"))
            sib = conn.execute(sa.text("SELECT name, email FROM agency WHERE state = 'CA'")).one()
    finally:
        engine.dispose()
    assert name == "County of Santa Clara"
    assert tuple(sib) == ("California Department of Justice", "sc-optout@doj.ca.gov")


NEW_YORK = "SELECT status, ice_notified FROM jurisdiction_status WHERE jurisdiction_id = " \
    "(SELECT id FROM jurisdiction WHERE fips = '36')"  # fmt: skip


def test_demo_twice_adds_nothing_then_db_upgrade_derives_the_stored_statuses_again(
    run, databases: DatabaseFactory
):
    url = databases.new_url()
    first = run(url, "demo")  # migrates and seeds on its own
    assert first.exit_code == 0, first.output
    loaded = counts(url)
    assert {t: loaded[t] for t in SEEDED} == SEEDED
    assert loaded["vote"] > 0 and loaded["letter"] > 0 and loaded["response"] > 0
    assert loaded["announcement"] > 0
    before = snapshot(url)
    assert any(row[5] for row in before["jurisdiction"])  # activation dates were set
    assert any(row[6] for row in before["jurisdiction"])  # sourced notes were written

    second = run(url, "demo")
    assert second.exit_code == 0, second.output
    assert "added 0 jurisdictions and 0 agencies" in second.stdout
    assert (
        "set 0 activation dates; added 0 votes, 0 letters, 0 responses, 0 announcements "
        "and 0 notes" in second.stdout
    )
    assert counts(url) == loaded
    assert snapshot(url) == before

    # The same demo database (a second load of the history would cost seconds): a release
    # whose rules differ from those that stored the derived statuses corrects them when the
    # database is upgraded (and at every start, which upgrades first).
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            derived = tuple(conn.execute(sa.text(NEW_YORK)).one())
            # As an older release stored it: its letter went to DHS, which did not count.
            conn.execute(
                sa.text(
                    "UPDATE jurisdiction_status SET status = 'vote_passed', ice_notified = false "
                    "WHERE jurisdiction_id = (SELECT id FROM jurisdiction WHERE fips = '36')"
                )
            )

        upgraded = run(url, "db", "upgrade")
        assert upgraded.exit_code == 0, upgraded.output
        assert "the rules of this release changed 1 derived statuses" in upgraded.stdout
        with engine.connect() as conn:
            assert tuple(conn.execute(sa.text(NEW_YORK)).one()) == derived
        assert bool(derived[1])  # DHS counts as ICE

        again = run(url, "db", "upgrade")
        assert again.exit_code == 0 and "derived statuses" not in again.stdout
    finally:
        engine.dispose()


# --- help ------------------------------------------------------------------------------------


def command_paths(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_every_command_is_reachable_for_help():
    paths = {" ".join(p) for p in command_paths()}
    assert {"db upgrade", "db downgrade", "db current", "seed", "demo", "serve"} <= paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "main")
def test_help_of_every_command(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage: ")
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    first_line = (command.help or "").split("\n")[0].strip()
    assert first_line
    assert first_line in " ".join(result.stdout.split())  # the help text, however wrapped


# --- clear errors --------------------------------------------------------------------------

COMMANDS = [("db", "upgrade"), ("db", "current"), ("seed",), ("demo",)]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("where", ["missing directory", "parent is a file"])
def test_unwritable_sqlite_path(run, tmp_path, command, where):
    if where == "missing directory":
        path = tmp_path / "no-such-dir" / "optout.db"
    else:
        (tmp_path / "minutes.txt").write_text("Board of Supervisors, 2010-09-28\n")
        path = tmp_path / "minutes.txt" / "optout.db"
    result = run(f"sqlite:///{path}", *command)
    assert_clean_error(result, "cannot open the database", str(path), "writable")
    assert not path.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql+pymysql://organizer@localhost/optout", "unsupported database 'mysql'"),
        ("mongodb://localhost/optout", "unsupported database 'mongodb'"),
        ("optout-tracker.db", "not a database URL"),
    ],
)
def test_unsupported_database_url(run, command, url, fragment):
    assert_clean_error(run(url, *command), fragment)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_file_that_is_no_database(run, tmp_path, command):
    path = tmp_path / "minutes.db"
    path.write_text("Board of Supervisors, 2010-09-28\n" * 10)
    assert_clean_error(run(f"sqlite:///{path}", *command), "file is not a database")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_unreachable_postgres(run, command):
    result = run("postgresql+psycopg://organizer:s3cret@127.0.0.1:1/optout", *command)
    assert_clean_error(result, "cannot open the database", "127.0.0.1:1", "server is running")
    assert "s3cret" not in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("days", ["thirty", "0", "366", "-5"])
def test_invalid_response_window(run, tmp_path, command, days):
    url = f"sqlite:///{tmp_path / 'optout.db'}"
    result = run(url, *command, OPTOUT_RESPONSE_WINDOW_DAYS=days)
    assert_clean_error(result, "response_window_days")
    assert not (tmp_path / "optout.db").exists()


# --- prepare (what `serve` runs before serving) ---------------------------------------------


def test_prepare_with_demo_migrates_seeds_and_loads_history_once(databases, capsys):
    url = databases.new_url()
    settings = make_settings(url)
    engine = create_db_engine(settings)
    try:
        prepare(settings, engine, demo=True)
        out = capsys.readouterr().out
        assert [line.split(":")[0] for line in out.splitlines()] == ["seed", "demo"]
        assert migrate.current_revision(engine) == head()
        loaded = counts(url)
        assert {t: loaded[t] for t in SEEDED} == SEEDED
        assert loaded["vote"] > 0 and loaded["letter"] > 0 and loaded["response"] > 0
        assert loaded["announcement"] > 0
        before = snapshot(url)

        prepare(settings, engine, demo=True)
        assert capsys.readouterr().out == ""
        assert counts(url) == loaded
        assert snapshot(url) == before
    finally:
        engine.dispose()


def test_prepare_loads_the_history_only_into_a_database_without_events(databases, capsys):
    url = databases.new_url()
    settings = make_settings(url)
    engine = create_db_engine(settings)
    try:
        prepare(settings, engine, demo=False)
        assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == ["seed"]
        assert counts(url)["vote"] == 0

        prepare(settings, engine, demo=True)
        assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == ["demo"]
        loaded = counts(url)
        assert loaded["vote"] > 0

        prepare(settings, engine, demo=True)
        assert capsys.readouterr().out == ""
        assert counts(url) == loaded
    finally:
        engine.dispose()


def test_serve_on_postgresql_needs_a_secret(run: Run) -> None:
    result = run("postgresql+psycopg://optout@127.0.0.1:1/optout", "serve")
    assert_clean_error(result, "OPTOUT_SECRET_KEY must be set")
    result = run("postgresql+psycopg://optout@127.0.0.1:1/optout", "serve", OPTOUT_SECRET_KEY="x")
    assert_clean_error(result, "OPTOUT_SECRET_KEY must be at least 32")


def test_users_and_api_keys_from_the_command_line(run: Run, tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    runner_input = "a long enough password\n"
    create = ["users", "create", "Organizer@Example.org", "--role", "organizer", "--password-stdin"]
    result = CliRunner().invoke(main, create, input=runner_input, env={"OPTOUT_DATABASE_URL": url})
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "created organizer organizer@example.org" in result.output
    duplicate = CliRunner().invoke(
        main, ["users", "create", "organizer@example.org", "--role", "admin", "--password-stdin"],
        input=runner_input, env={"OPTOUT_DATABASE_URL": url},
    )  # fmt: skip
    get_settings.cache_clear()
    assert duplicate.exit_code == 1 and "exists" in duplicate.output

    created = run(url, "api-keys", "create", "Coalition map", "--scope", "read")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("optk_")
    listed = run(url, "api-keys", "list")
    assert "Coalition map\tread" in listed.output and token not in listed.output
    revoked = run(url, "api-keys", "revoke", "1")
    assert revoked.exit_code == 0 and "revoked API key 1" in revoked.output
    assert "revoked" in run(url, "api-keys", "list").output
    assert_clean_error(run(url, "api-keys", "revoke", "99"), "no API key with id 99")
