#!/usr/bin/env bash
# Online backup of the PostgreSQL database: `pg_dump --format=custom` (consistent, taken
# while the service runs), written under a temporary name, checked to be readable by
# pg_restore, then renamed into place. Prints the dump's path. Keeps the newest KEEP dumps
# (default 14) in DIR.
#
#   deploy/pg-backup.sh DIR [DATABASE_URL]
#
# DATABASE_URL defaults to OPTOUT_DATABASE_URL (e.g. from /etc/optout-tracker/env); its
# SQLAlchemy driver suffix (postgresql+psycopg://) is dropped for pg_dump. A password is
# best kept in ~/.pgpass rather than in the URL.
set -Eeuo pipefail

dir="${1:?usage: pg-backup.sh DIR [DATABASE_URL]}"
url="${2:-${OPTOUT_DATABASE_URL:-}}"
keep="${KEEP:-14}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "pg-backup.sh: KEEP must be a number from 1" >&2; exit 2; }
# shellcheck source=deploy/pg-url.sh
source "$(dirname "$0")/pg-url.sh" pg-backup.sh

mkdir -p "$dir"
umask 077  # a dump holds private notes and users' password hashes
final="$dir/optout-tracker-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --no-owner --no-privileges --file="$partial" "$url"
pg_restore --list "$partial" >/dev/null  # a dump pg_restore cannot read is no backup
mv "$partial" "$final"
echo "$final"

# Keep the newest $keep dumps: the names sort by time, and a glob sorts them.
shopt -s nullglob
dumps=("$dir"/optout-tracker-*.dump)
((${#dumps[@]} <= keep)) || rm -f -- "${dumps[@]:0:${#dumps[@]}-keep}"
