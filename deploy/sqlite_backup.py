"""Online backup and restore of the SQLite database, with Python's sqlite3 backup API.

    python3 deploy/sqlite_backup.py backup DIR [--keep 14]
    python3 deploy/sqlite_backup.py restore FILE

The database is OPTOUT_DATABASE_URL's file (sqlite:///path.db), else optout-tracker.db in
the current directory: what the app itself opens. Run it as the service's user with its
settings (deploy/manage.sh does both).

`backup` copies the database while the server and the worker run: SQLite's backup API
reads one consistent snapshot (in WAL mode writers go on meanwhile), and the copy is
checked (PRAGMA integrity_check) before it is renamed into place, so DIR never holds half a
backup. The session secret made beside the database (`<db>.secret`, when
OPTOUT_SECRET_KEY is unset) is copied too: restored without it, everyone signs in again.

`restore` writes a backup over the database through the same API (never a file copy,
which would leave a stale -wal file beside it), and its secret beside it. Stop the server
and the worker first; start them after (they migrate an older backup to this release).
"""

import argparse
import os
import shutil
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

PREFIX = "optout-tracker-"


def database_path() -> Path:
    """The app's SQLite file, by the app's rule (config.Settings.database_url)."""
    url = os.environ.get("OPTOUT_DATABASE_URL", "")
    if not url:
        return Path.cwd() / "optout-tracker.db"
    if not url.startswith("sqlite:///"):
        scheme = url.split(":")[0]
        sys.exit(f"OPTOUT_DATABASE_URL is not a SQLite file ({scheme}): use pg-backup.sh")
    path = unquote(url.removeprefix("sqlite:///").split("?")[0])
    if not path or path == ":memory:":
        sys.exit("OPTOUT_DATABASE_URL names no file")
    return Path(path)


def _open_existing(path: Path) -> sqlite3.Connection:
    """A connection to `path` that never creates it (a typo would back up an empty file)."""
    if not path.is_file():
        sys.exit(f"no database at {path}")
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True)


def _check(connection: sqlite3.Connection, what: Path) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        sys.exit(f"{what} failed its integrity check: {result}")


def _copy_secret(source: Path, target: Path) -> None:
    """The session secret file, kept private (the app refuses one open to others)."""
    if source.is_file():
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(source, partial)
        partial.chmod(0o600)
        partial.replace(target)


def backup(directory: Path, keep: int) -> Path:
    database = database_path()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    final = directory / f"{PREFIX}{stamp}.db"
    partial = directory / f".{final.name}.partial"
    partial.unlink(missing_ok=True)
    source = _open_existing(database)
    try:
        # Made private before a byte is written: it holds private notes and password hashes.
        partial.touch(mode=0o600)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # all pages in one step: one consistent snapshot
            _check(target, partial)
        finally:
            target.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    _copy_secret(Path(f"{database}.secret"), Path(f"{final}.secret"))
    partial.replace(final)
    for old in sorted(directory.glob(f"{PREFIX}*.db"), reverse=True)[keep:]:
        old.unlink()
        Path(f"{old}.secret").unlink(missing_ok=True)
    return final


def restore(file: Path) -> Path:
    database = database_path()
    if not file.is_file():
        sys.exit(f"no backup at {file}")
    source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        _check(source, file)
        if not database.exists():
            database.touch(mode=0o600)
        target = _open_existing(database)
        try:
            source.backup(target)
            _check(target, database)
        finally:
            target.close()
    finally:
        source.close()
    _copy_secret(Path(f"{file}.secret"), Path(f"{database}.secret"))
    return database


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Online backup and restore of SQLite.")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="copy the running database into DIR")
    make.add_argument("directory", type=Path)
    make.add_argument("--keep", type=int, default=14, help="newest backups kept (14)")
    put = commands.add_parser("restore", help="write FILE over the (stopped) database")
    put.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "backup" and args.keep < 1:
        parser.error("--keep must be at least 1")
    try:
        if args.command == "backup":
            print(backup(args.directory, args.keep))
        else:
            print(f"restored {args.file} into {restore(args.file)}", file=sys.stderr)
    except sqlite3.DatabaseError as exc:  # e.g. "file is not a database": nothing was changed
        sys.exit(f"{args.command} failed: {exc}")


if __name__ == "__main__":
    main()
