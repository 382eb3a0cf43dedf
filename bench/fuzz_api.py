"""A long schemathesis run against a live server, with the stateful phase, on both databases.

Run `.venv/bin/python bench/fuzz_api.py` (or `make fuzz`). For SQLite (a temporary file) and
PostgreSQL (a database of its own on `OPTOUT_TEST_POSTGRES_URL`, dropped afterwards) it

1. migrates, seeds, loads the historical dataset and makes an admin API key;
2. starts `optout-tracker serve` on 127.0.0.1 (a free port);
3. runs `schemathesis run` on `/openapi.json` with that key, every phase (examples, coverage,
   fuzzing, stateful: sequences of calls that follow the Location of what they create) for
   `--minutes` per database, with the `not_a_server_error` check;
4. prints schemathesis' summary and fails (exit 1) if any answer was a 5xx.

The suite's own schemathesis test (tests/test_schemathesis.py) runs a fixed, derandomized
set of cases in CI; this one runs longer and in sequences, so it is kept out of the suite.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa
from serving import HOST, free_port, start_server, stop_server, wait_until_up
from sqlmodel import Session

from optout_tracker import migrate
from optout_tracker.config import Settings
from optout_tracker.db import create_db_engine
from optout_tracker.enums import Scope
from optout_tracker.history import load_history
from optout_tracker.security import CLI
from optout_tracker.seed import seed
from optout_tracker.services import accounts

BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get(
    "OPTOUT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def prepare(url: str) -> str:
    """Migrate, seed and load the history into the database at `url`; an admin key."""
    settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(32))
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed(session)
        load_history(session, settings.response_window_days)
        _, token = accounts.create_api_key(session, "fuzz", Scope.admin, CLI)
        session.commit()
    engine.dispose()
    return token


def fuzz(name: str, url: str, minutes: float, workdir: Path) -> bool:
    token = prepare(url)
    port = free_port()
    env = {
        **os.environ,
        "OPTOUT_DATABASE_URL": url,
        "OPTOUT_SECRET_KEY": secrets.token_urlsafe(32),
        "OPTOUT_WEBHOOK_ALLOW_PRIVATE": "false",
    }
    log = workdir / f"server-{name}.log"
    cli = [str(BIN / "optout-tracker"), "serve", "--host", HOST, "--port", str(port)]
    server = start_server(cli, log, env, workdir)
    try:
        base = f"http://{HOST}:{port}"
        wait_until_up(base, "/openapi.json", server, log)
        print(f"== {name}: schemathesis for {minutes:g} min against {base}", flush=True)
        run = subprocess.run(
            [
                str(BIN / "schemathesis"), "run", f"{base}/openapi.json",
                "-H", f"Authorization: Bearer {token}",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--checks", "not_a_server_error",
                "--max-time", str(int(minutes * 60)),
                # One worker: hypothesis' lambda introspection is not thread-safe on 3.11
                # ("AST constructor recursion depth mismatch" with two).
                "--workers", "1",
                "--suppress-health-check", "all",
                # Revoking the run's own key would leave nothing but 401s to test.
                "--exclude-operation-id", "revoke_api_key",
            ],
            cwd=workdir,
        )  # fmt: skip
    finally:
        stop_server(server)
    errors = [line for line in log.read_text().splitlines() if '" 5' in line or "Traceback" in line]
    print(f"== {name}: schemathesis exit {run.returncode}; server 5xx/tracebacks: {len(errors)}")
    for line in errors[:20]:
        print("   ", line)
    return run.returncode == 0 and not errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5, help="per database (default 5)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.only in (None, "sqlite"):
            ok &= fuzz("sqlite", f"sqlite:///{workdir / 'fuzz.db'}", args.minutes, workdir)
        if args.only in (None, "postgres"):
            admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            db = f"optout_fuzz_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{db}"')
            try:
                url = sa.make_url(POSTGRES_ADMIN_URL).set(database=db)
                ok &= fuzz("postgres", url.render_as_string(False), args.minutes, workdir)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                admin.dispose()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
