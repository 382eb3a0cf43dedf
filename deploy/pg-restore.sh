#!/usr/bin/env bash
# Restore a dump made by pg-backup.sh into DATABASE_URL, replacing what it holds, in one
# transaction: on any error nothing changes. Stop the server and the worker first, and
# restart them after: `optout-tracker db upgrade` then brings an older dump to this release.
#
#   deploy/pg-restore.sh FILE.dump DATABASE_URL
#
# The target is never taken from the environment: name it, so that a restore cannot land on
# the wrong database by accident. The database must exist (createdb it if need be).
set -Eeuo pipefail

dump="${1:?usage: pg-restore.sh FILE.dump DATABASE_URL}"
url="${2:?usage: pg-restore.sh FILE.dump DATABASE_URL (the target, named on purpose)}"
[[ -r "$dump" ]] || { echo "pg-restore.sh: cannot read $dump" >&2; exit 2; }
[[ "$url" == postgresql* ]] || { echo "pg-restore.sh: not a PostgreSQL URL (${url%%:*})" >&2; exit 2; }
url="postgresql://${url#*://}"  # postgresql+psycopg://… -> postgresql://…
# A password leaves the URL for PGPASSWORD: a command line is visible to every user (ps).
if [[ "$url" =~ ^postgresql://([^:@/]*):([^@/]*)@(.*)$ ]]; then
  pass="${BASH_REMATCH[2]}"
  PGPASSWORD="$(printf '%b' "${pass//%/\\x}")"  # URL-decoded
  export PGPASSWORD
  url="postgresql://${BASH_REMATCH[1]}@${BASH_REMATCH[3]}"
fi

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
  --exit-on-error --dbname="$url" "$dump"
echo "restored $dump" >&2
