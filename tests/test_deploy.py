"""The deployment kit (deploy/) agrees with the code: its commands are ones the CLI takes,
its settings are settings, and the SQLite backup script copies a live database and puts it
back. deploy/smoke.sh runs the whole of it against PostgreSQL (CI runs it after the tests)."""

import os
import re
import shlex
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml  # type: ignore[import-untyped]

from optout_tracker.cli import main
from optout_tracker.config import Settings, unknown_variables

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SECRET = "s" * 40


def parse_command(args: list[str]) -> click.Context:
    """Parse `optout-tracker ARGS` as the CLI would, raising on an unknown command or option."""
    command: click.Command = main
    name, parent = "optout-tracker", None
    while isinstance(command, click.Group):
        parent = click.Context(command, info_name=name, parent=parent)
        name, args = args[0], args[1:]
        found = command.get_command(parent, name)
        assert found is not None, f"optout-tracker has no command {name!r}"
        command = found
    return command.make_context(name, list(args), parent=parent)


def unit_commands() -> list[list[str]]:
    found = []
    for unit in UNITS:
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                argv = shlex.split(line.partition("=")[2])
                if argv[0].endswith("/bin/optout-tracker"):
                    found.append(argv[1:])
    return found


def test_the_units_run_the_server_and_the_worker_with_options_the_cli_takes() -> None:
    commands = unit_commands()
    assert {args[0] for args in commands} == {"serve", "worker"}
    for args in commands:
        parse_command(args)
    (serve,) = (args for args in commands if args[0] == "serve")
    assert parse_command(serve).params["host"] == "127.0.0.1"  # only the proxy reaches it


def test_a_bad_option_is_caught_by_the_parse() -> None:
    with pytest.raises(click.UsageError):
        parse_command(["serve", "--proxy-headers"])
    with pytest.raises(AssertionError, match="no command"):
        parse_command(["db", "migrate"])


def test_the_proxy_forwards_to_where_the_server_listens() -> None:
    (serve,) = (args for args in unit_commands() if args[0] == "serve")
    params = parse_command(serve).params
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert re.search(rf"reverse_proxy {params['host']}:{params['port']} ", caddyfile)
    assert "health_uri /readyz" in caddyfile
    # The app compresses and tags each encoding's ETag; a proxy's re-encoding would break If-Match.
    assert not re.search(r"^\s*encode\b", caddyfile, re.M)
    server_unit = (DEPLOY / "systemd" / "optout-tracker.service").read_text()
    assert f"FORWARDED_ALLOW_IPS={params['host']}" in server_unit


def test_every_unit_reads_the_environment_file_and_runs_unprivileged() -> None:
    for unit in UNITS:
        text = unit.read_text()
        assert "EnvironmentFile=/etc/optout-tracker/env\n" in text, unit.name
        assert "User=optout-tracker\n" in text, unit.name
        assert "NoNewPrivileges=yes\n" in text, unit.name


def env_file_settings(text: str) -> dict[str, str]:
    """NAME=value lines as systemd reads them (comments skipped, one level of quotes off)."""
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip().strip('"')
    return found


def settings_from(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> Settings:
    """Settings read from exactly these environment variables, as the app reads them."""
    for name in [name for name in os.environ if name.startswith("OPTOUT_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_the_example_environment_file_names_only_settings_and_needs_its_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (DEPLOY / "env.example").read_text()
    given = env_file_settings(text)
    commented = env_file_settings("\n".join(re.findall(r"^#(OPTOUT_\w+=.*)$", text, re.M)))
    assert unknown_variables({**given, **commented}) == []
    assert given["OPTOUT_SECRET_KEY"] == ""  # filled in by the install step, else refused:
    with pytest.raises(ValueError, match="OPTOUT_SECRET_KEY must be at least 32"):
        settings_from(monkeypatch, given)
    settings = settings_from(monkeypatch, {**given, **commented, "OPTOUT_SECRET_KEY": SECRET})
    assert settings.base_url.startswith("https://") and not settings.is_sqlite
    assert settings.mail_on


def test_the_compose_file_runs_migrate_app_and_worker_with_real_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "app", "worker"}
    for name in ("migrate", "app", "worker"):
        command = services[name].get("command", ["optout-tracker", "serve"])
        assert command[0] == "optout-tracker"
        parse_command(command[1:])
        assert unknown_variables(services[name]["environment"]) == []
    assert services["migrate"]["command"][1:] == ["db", "upgrade"]
    for name in ("app", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    containerfile = (DEPLOY / "Containerfile").read_text()
    (cmd,) = re.findall(r"^CMD (\[.*\])$", containerfile, re.M)
    parse_command(yaml.safe_load(cmd)[1:])
    assert "--require-hashes -r /tmp/requirements.lock" in containerfile
    assert re.search(r"^USER optout-tracker$", containerfile, re.M)


def test_litestream_replicates_the_file_the_units_use() -> None:
    config = yaml.safe_load((DEPLOY / "litestream.yml").read_text())
    (database,) = config["dbs"]
    sqlite_url = re.search(r"sqlite:////\S+", (DEPLOY / "env.example").read_text())
    assert sqlite_url is not None
    assert f"sqlite:///{database['path']}" == sqlite_url.group()
    server_unit = (DEPLOY / "systemd" / "optout-tracker.service").read_text()
    assert f"StateDirectory={Path(database['path']).parent.name}\n" in server_unit
    assert database["replicas"][0]["retention"]


# The SQLite backup script, on a real database in WAL mode with a writer at work.


def run_script(database: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPTOUT_")}
    environment["OPTOUT_DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, str(DEPLOY / "sqlite_backup.py"), *args],
        cwd=cwd, env=environment, capture_output=True, text=True,
    )  # fmt: skip


def rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT note FROM vote ORDER BY id")]


def test_sqlite_backup_copies_a_live_database_and_restore_puts_it_back(tmp_path: Path) -> None:
    database = tmp_path / "data" / "optout-tracker.db"
    database.parent.mkdir()
    (secret := Path(f"{database}.secret")).write_text(SECRET)
    secret.chmod(0o600)
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # what is committed stays in the WAL file
    writer.execute("CREATE TABLE vote (id INTEGER PRIMARY KEY, note TEXT)")
    writer.executemany("INSERT INTO vote (note) VALUES (?)", [("first",), ("second",)])
    writer.commit()
    writer.execute("INSERT INTO vote (note) VALUES ('uncommitted')")  # a write in flight
    assert Path(f"{database}-wal").stat().st_size > 0

    made = run_script(database, "backup", str(tmp_path / "backups"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert backup.parent == tmp_path / "backups" and backup.name.startswith("optout-tracker-")
    assert rows(backup) == ["first", "second"]  # the committed rows, from the WAL too
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert Path(f"{backup}.secret").read_text() == SECRET
    assert stat.S_IMODE(Path(f"{backup}.secret").stat().st_mode) == 0o600
    assert not list((tmp_path / "backups").glob(".*partial"))

    writer.rollback()
    writer.execute("DELETE FROM vote")
    writer.execute("INSERT INTO vote (note) VALUES ('after the backup')")
    writer.commit()
    writer.close()
    secret.write_text("t" * 40)

    put = run_script(database, "restore", str(backup), cwd=tmp_path)
    assert put.returncode == 0, put.stderr
    assert rows(database) == ["first", "second"]
    assert secret.read_text() == SECRET


def test_sqlite_backup_keeps_the_newest_and_refuses_what_is_no_database(tmp_path: Path) -> None:
    database = tmp_path / "optout-tracker.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE vote (id INTEGER PRIMARY KEY, note TEXT)")
    connection.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20200101T000000Z", "20200102T000000Z"):  # older ones, made earlier
        (backups / f"optout-tracker-{stamp}.db").write_bytes(b"")
        (backups / f"optout-tracker-{stamp}.db.secret").write_text(SECRET)
    made = run_script(database, "backup", str(backups), "--keep", "2", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    kept = sorted(p.name for p in backups.iterdir())
    newest = "optout-tracker-20200102T000000Z.db"
    assert kept == [newest, f"{newest}.secret", Path(made.stdout.strip()).name]

    missing = run_script(tmp_path / "typo.db", "backup", str(backups), cwd=tmp_path)
    assert missing.returncode != 0 and "no database at" in missing.stderr
    assert not (tmp_path / "typo.db").exists()  # never made by looking for it
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, " * 100)
    refused = run_script(database, "restore", str(garbage), cwd=tmp_path)
    assert refused.returncode != 0
    assert rows(database) == []  # untouched
