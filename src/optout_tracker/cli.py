"""The `optout-tracker` command."""

import functools
import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session

from . import csv_io, logs, migrate, process_memory
from .clock import today
from .config import Settings, get_settings
from .db import create_db_engine, unit_of_work
from .enums import Alerts, Role, Scope
from .errors import AppError, ConfigError, InvalidInput, english
from .history import load_history
from .mail_worker import MailWorker
from .models import Letter, Response, Vote
from .schemas import BY_PLURAL
from .security import CLI
from .seed import seed
from .services import accounts, digests, exports, imports, status_projection
from .session_secret import session_secret
from .webhook_worker import Worker

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn configuration and connection failures into one clear line, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AppError as exc:
            raise click.ClickException(english(exc.detail)) from exc
        except DatabaseError as exc:  # unreachable, locked, or a file that is no database
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(f"the database refused: {reason}") from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{e['loc'][0] if e['loc'] else 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise click.ClickException(f"invalid OPTOUT_ settings: {problems}") from exc

    return wrapper


def _engine() -> tuple[Settings, Engine]:
    """The settings and an engine whose database has been reached once."""
    settings = get_settings()
    engine = create_db_engine(settings)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        url = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        hint = (
            "check that its directory exists and is writable"
            if settings.is_sqlite
            else "check that the server is running and the URL is right"
        )
        raise ConfigError(f"cannot open the database {url}: {reason} ({hint})") from exc
    return settings, engine


def _log_as_configured() -> Settings:
    """Configure logging as OPTOUT_LOG_FORMAT says before anything logs (reading the settings
    warns of unknown OPTOUT_ variables), and return the settings."""
    logs.configure(Settings().log_format)
    return get_settings()


def _timed(label: str, action: Callable[[], Any], *, quiet_if_unchanged: bool = False) -> Any:
    """Run `action` and say what it did and how long it took (`quiet_if_unchanged`: only if
    its result is truthy, i.e. it changed something)."""
    start = time.perf_counter()
    result = action()
    if result or not quiet_if_unchanged:
        click.echo(f"{label}: {result} ({time.perf_counter() - start:.1f}s)")
    return result


def has_events(engine: Engine) -> bool:
    with engine.connect() as conn:
        return any(
            conn.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Vote, Letter, Response)
        )


def upgrade_database(engine: Engine) -> None:
    """Migrate to head, then derive every stored status again with this release's rules."""
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        if changed := status_projection.refresh_all(session):
            click.echo(f"the rules of this release changed {len(changed)} derived statuses")


def prepare(settings: Settings, engine: Engine, *, demo: bool) -> None:
    """Migrate to head, load the reference data (idempotent: what a release adds, such as
    agencies' contacts, reaches a database in use, never over an edit) and, with demo, the
    history."""
    upgrade_database(engine)
    with unit_of_work(engine) as session:
        _timed("seed", lambda: seed(session), quiet_if_unchanged=True)
    if demo and not has_events(engine):
        with unit_of_work(engine) as session:
            _timed("demo", lambda: load_history(session, settings.response_window_days))


def _prepare_apart(demo: bool) -> None:
    """prepare() in a process of its own: what migrating loads (Alembic, the migration
    scripts, 32 MB) would otherwise stay in the server for as long as it runs."""
    child = multiprocessing.get_context("spawn").Process(target=_prepare_child, args=(demo,))
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit(child.exitcode)


def _prepare_child(demo: bool) -> None:
    @friendly_errors
    def run() -> None:
        _log_as_configured()  # a process of its own: its lines formatted as the server's
        settings, engine = _engine()
        prepare(settings, engine, demo=demo)
        engine.dispose()

    try:
        run()
    except click.ClickException as exc:  # said as the command itself would say it
        exc.show()
        sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Track campaigns by US jurisdictions to opt out of Secure Communities.

    Settings come from the environment: OPTOUT_DATABASE_URL (default: a SQLite file
    optout-tracker.db in the current directory), OPTOUT_SECRET_KEY,
    OPTOUT_RESPONSE_WINDOW_DAYS (30), OPTOUT_BASE_URL. See the README for all of them.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Load the 2008–2014 history if there are no events yet.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--webhooks", is_flag=True, help="Also deliver webhooks from this process (one machine)."
)
@friendly_errors
def serve(host: str, port: int, demo: bool, workers: int, webhooks: bool) -> None:
    """Migrate the database, load reference data if missing, and serve the site and API."""
    import uvicorn

    process_memory.limit_arenas()  # before the threads that would each make an arena
    # Made (or checked) once, before any worker starts: a clear error, not a traceback.
    secret = session_secret(_log_as_configured())
    settings, engine = _engine()
    click.echo(f"session cookies are signed with the secret from {secret.source}")
    _prepare_apart(demo)
    if webhooks:
        worker = Worker(engine, settings)
        threading.Thread(target=worker.run, name="webhook-worker", daemon=True).start()
        mailer = MailWorker(engine, settings)
        threading.Thread(target=mailer.run, name="mail-worker", daemon=True).start()
    else:
        engine.dispose()
    click.echo(f"serving on http://{host}:{port} (API docs at /docs)")
    # Each of uvicorn's worker processes configures its logging from log_config; the app logs
    # each request (http/observe.py) in place of uvicorn's access log.
    log_config = logs.config(settings.log_format)
    if workers == 1:
        from .main import create_app

        uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True,
                    log_config=log_config, access_log=False)  # fmt: skip
    else:
        uvicorn.run("optout_tracker.main:create_app", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=True, log_config=log_config,
                    access_log=False)  # fmt: skip


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds between looks for new deliveries.")  # fmt: skip
@friendly_errors
def worker(once: bool, poll: float) -> None:
    """Deliver webhooks and mail, retrying with backoff, and queue the digests and alerts
    due each day (run one or more)."""
    _log_as_configured()
    settings, engine = _engine()
    migrate.upgrade(engine)
    stop = threading.Event()
    # Ctrl-C or SIGTERM (a deploy) lets the attempts in flight finish and record their outcomes.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    mailer = MailWorker(engine, settings)
    if once:
        tally = Worker(engine, settings).run(once=True, stop=stop, poll_seconds=poll)
        click.echo(f"worker: {tally}; {mailer.run(once=True, stop=stop)}")
        return
    click.echo(
        "delivering webhooks and "
        + ("mail" if settings.mail_on else "no mail (OPTOUT_SMTP_URL is unset)")
        + " (Ctrl-C to stop)"
    )
    mail_thread = threading.Thread(
        target=mailer.run, kwargs={"stop": stop, "poll_seconds": poll}, name="mail-worker"
    )
    mail_thread.start()
    tally = Worker(engine, settings).run(once=False, stop=stop, poll_seconds=poll)
    mail_thread.join()
    click.echo(f"worker: {tally}")


@main.command()
@click.option("--frequency", type=click.Choice(["daily", "weekly"]), default="daily",
              show_default=True)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print what would go out; queue nothing.")
@friendly_errors
def digest(frequency: str, dry_run: bool) -> None:
    """Build the digests of today for users with daily (or weekly) follows, and queue them
    for the worker (each once a day: a second run queues nothing)."""
    settings, engine = _engine()
    if not settings.mail_on and not dry_run:
        raise click.ClickException("OPTOUT_SMTP_URL is unset: no mail is sent (try --dry-run)")
    on = today()
    with unit_of_work(engine, write=not dry_run) as session:
        found = digests.digests(session, settings, Alerts(frequency), on)
        if dry_run:
            for d in found:
                click.echo(f"To: {d.user.email}\nSubject: {d.subject}\n\n{d.text}\n")
        else:
            digests.queue_digests(session, settings, found)
    verb = "would go out" if dry_run else "queued"
    click.echo(f"{len(found)} {frequency} digest{'' if len(found) == 1 else 's'} {verb}")


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command()
@friendly_errors
def upgrade() -> None:
    """Bring the database to the newest migration (and its derived statuses to these rules)."""
    _, engine = _engine()
    upgrade_database(engine)
    click.echo(f"database at {migrate.current_revision(engine)} (head)")


# ignore_unknown_options: "-1" is a relative revision, not an option.
@db.command(context_settings={"ignore_unknown_options": True})
@click.argument("revision")
@friendly_errors
def downgrade(revision: str) -> None:
    """Step the database back to REVISION ('base' removes every table, '-1' one step)."""
    _, engine = _engine()
    try:
        migrate.downgrade(engine, revision)
    except Exception as exc:
        if type(exc).__module__.startswith("alembic"):
            raise click.ClickException(f"cannot downgrade to {revision!r}: {exc}") from exc
        raise
    click.echo(f"database at {migrate.current_revision(engine) or 'base'}")


@db.command()
@friendly_errors
def current() -> None:
    """Show the database's migration revision and the newest one."""
    _, engine = _engine()
    now, head = migrate.current_revision(engine), migrate.head_revision()
    click.echo(f"current: {now or 'none (empty database)'}\nhead:    {head}")
    if now != head:
        click.echo("run `optout-tracker db upgrade` to migrate", err=True)
        sys.exit(1)


@main.command(name="seed")
@friendly_errors
def seed_command() -> None:
    """Load the reference data (states, counties, agencies); keeps existing records as they are."""
    _, engine = _engine()
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        _timed("seed", lambda: seed(session))


@main.command()
@friendly_errors
def demo() -> None:
    """Load the historical 2008–2014 dataset (idempotent; seeds reference data first)."""
    settings, engine = _engine()
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        _timed("seed", lambda: seed(session))
        _timed("demo", lambda: load_history(session, settings.response_window_days))


@main.group()
def users() -> None:
    """People who sign in to the site."""


@users.command(name="create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="viewer reads private notes; organizer also logs events; admin manages all.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create a user who signs in with EMAIL (the password is asked for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _, engine = _engine()
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        user = accounts.create_user(session, email, Role(role), password, CLI)
        click.echo(f"created {user.role} {user.email} (id {user.id})")


@main.group(name="api-keys")
def api_keys() -> None:
    """Keys for partner tools calling the API."""


@api_keys.command(name="create")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    required=True,
    help="read sees private notes; write also creates and edits; admin manages all.",
)
@friendly_errors
def create_key(name: str, scope: str) -> None:
    """Create a key called NAME and print it once: store it now, it cannot be shown again."""
    _, engine = _engine()
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        key, token = accounts.create_api_key(session, name, Scope(scope), CLI)
    click.echo(
        f"created API key {key.id} {key.name!r} with scope {key.scope}; the key is:", err=True
    )
    click.echo(token)


@api_keys.command(name="list")
@friendly_errors
def list_keys() -> None:
    """List keys: id, name, scope, prefix, last use, revoked."""
    _, engine = _engine()
    with unit_of_work(engine) as session:
        keys = accounts.list_api_keys(session, CLI)
    for k in keys:
        used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never used"
        revoked = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{k.id}\t{k.name}\t{k.scope}\toptk_{k.prefix}_…\t{used}\t{revoked}")
    if not keys:
        click.echo("no API keys yet: `optout-tracker api-keys create NAME --scope read`", err=True)


@api_keys.command(name="revoke")
@click.argument("key_id", type=int)
@friendly_errors
def revoke_key(key_id: int) -> None:
    """Revoke the key with id KEY_ID: it stops working at once."""
    _, engine = _engine()
    with unit_of_work(engine) as session:
        key = accounts.revoke_api_key(session, key_id, CLI)
        click.echo(f"revoked API key {key.id} {key.name!r}")


KIND = click.Choice(list(BY_PLURAL))


@main.command(name="import")
@click.argument("kind", type=KIND)
@click.argument("file", type=click.File("rb"))
@click.option(
    "--dry-run", is_flag=True, help="Check every row and say what each would do; write nothing."
)
@friendly_errors
def import_command(kind: str, file: Any, dry_run: bool) -> None:
    """Import KIND records from a CSV FILE: a row with an id updates that record, one
    without creates one; all rows are checked, then written all or none."""
    settings, engine = _engine()
    migrate.upgrade(engine)
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file.name} is not UTF-8 (byte {exc.start})") from exc
    try:
        with unit_of_work(engine) as session:
            report = imports.import_csv(
                session, kind, text, CLI, response_window_days=settings.response_window_days,
                max_rows=settings.import_max_rows, dry_run=dry_run,
            )  # fmt: skip
    except InvalidInput as exc:
        for error in exc.errors:
            click.echo(f"{error.field}: {english(error.message)}", err=True)
        raise click.ClickException(english(exc.detail)) from exc
    for step in report.plan or []:
        changed = f" ({', '.join(step['changed'])})" if step["changed"] else ""
        click.echo(f"row {step['row']}: {step['action']} {step['id'] or 'new'}{changed}")
    verb = "would import" if dry_run else "imported"
    totals = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    click.echo(f"{verb} {report.rows} {kind} from {file.name}: {totals}")
    for what, ids in (("created", report.created_ids), ("updated", report.updated_ids)):
        if ids:
            click.echo(f"{what}: {_ranges(ids)}")


def _ranges(ids: list[int]) -> str:
    """1, 2, 3, 7 -> "1-3, 7": an import's new ids run on, and there may be 100,000."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


@main.command(name="export")
@click.argument("kind", type=KIND)
@click.option(
    "--out", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout)."
)
@friendly_errors
def export_command(kind: str, out: Any) -> None:
    """Write every KIND record as CSV, private columns included (this is the operator)."""
    _, engine = _engine()
    status_projection.keep_current(engine)  # the statuses as of today
    with Session(engine) as session:
        everything = exports.everything(session, kind)
        header = everything.header(private=True)
        for chunk in csv_io.stream(session, everything.statement, everything.to_row, header):
            out.write(chunk)
