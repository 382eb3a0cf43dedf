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
# shellcheck source=deploy/pg-url.sh
source "$(dirname "$0")/pg-url.sh" pg-restore.sh

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
  --exit-on-error --dbname="$url" "$dump"
echo "restored $dump" >&2
