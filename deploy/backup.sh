#!/usr/bin/env bash
# One backup of whichever database OPTOUT_DATABASE_URL names, into DIR: SQLite through
# sqlite_backup.py (the online backup API), PostgreSQL through pg-backup.sh (pg_dump).
# What optout-tracker-backup.service runs daily; prints the new backup's path.
#
#   deploy/backup.sh DIR      (as the service's user, with its settings: deploy/manage.sh)
set -Eeuo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: backup.sh DIR}"
python="${APP_PYTHON:-/opt/optout-tracker/current/bin/python}"
command -v "$python" >/dev/null || python=python3

case "${OPTOUT_DATABASE_URL:-sqlite}" in
  sqlite*) exec "$python" "$here/sqlite_backup.py" backup "$dir" --keep "${KEEP:-14}" ;;
  postgresql*) exec bash "$here/pg-backup.sh" "$dir" ;;
  *) echo "backup.sh: cannot back up ${OPTOUT_DATABASE_URL%%:*} databases" >&2; exit 2 ;;
esac
