#!/usr/bin/env bash
# The deployment kit's smoke test: what deploy/README.md tells an operator to do, done for
# real and checked. It builds the wheel from this checkout, installs requirements.lock
# (hash-checked) and the wheel into a fresh venv in a temporary directory outside the
# checkout, makes a throwaway PostgreSQL database, runs `db upgrade`, starts the server and
# the worker from that venv, waits for /readyz, makes a key with the CLI, writes a vote and
# reads it back, sees the worker deliver its webhook, backs the database up and restores it
# with deploy/pg-backup.sh and deploy/pg-restore.sh, stops both processes (each must exit 0),
# and drops the databases. Any failure stops it with a non-zero status, and the trap cleans up.
#
#   bash deploy/smoke.sh
#
# Environment: SMOKE_PYTHON (python3.11) makes the venv; BUILD_PYTHON (the checkout's
# .venv/bin/python, which has hatchling) builds the wheel; PGHOST/PGPORT/PGUSER
# (127.0.0.1/5432/postgres, trust auth) name the server. pip's cache is reused between runs.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SMOKE_PYTHON="${SMOKE_PYTHON:-python3.11}"
BUILD_PYTHON="${BUILD_PYTHON:-$ROOT/.venv/bin/python}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

say() { printf 'smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# Only the settings this script sets reach the app (the caller's, CI's
# OPTOUT_TEST_POSTGRES_URL among them, would be warned about or change what is tested), and
# the installed package is imported, never the checkout's src/.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OPTOUT_' || true)
unset PYTHONPATH

command -v "$SMOKE_PYTHON" >/dev/null || fail "$SMOKE_PYTHON is missing (set SMOKE_PYTHON)"
[[ -x "$BUILD_PYTHON" ]] || fail "no $BUILD_PYTHON to build the wheel (run make, or set BUILD_PYTHON)"
pg_isready -q || fail "PostgreSQL does not answer on $PGHOST:$PGPORT"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/optout-smoke.XXXXXX")"
case "$WORK/" in "$ROOT"/*) fail "the temporary directory $WORK is inside the checkout";; esac
SUFFIX="$(basename "$WORK" | tr -dc '[:alnum:]' | tr '[:upper:]' '[:lower:]')"
DB="optout_smoke_$SUFFIX"
RESTORED="${DB}_restored"
PIDS=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((status != 0)); then
    for log in server worker receiver; do
      [[ -s "$WORK/$log.log" ]] && { echo "--- $log.log (last 40 lines)"; tail -n 40 "$WORK/$log.log"; }
    done >&2
  fi
  dropdb --if-exists --force "$DB" 2>/dev/null || true
  dropdb --if-exists --force "$RESTORED" 2>/dev/null || true
  rm -rf "$WORK"
  if ((status == 0)); then say "passed"; else say "failed (exit $status)" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$WORK"  # nothing is written into the checkout, nothing imported from it

say "building the wheel"
"$BUILD_PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation -w "$WORK/dist" "$ROOT"
WHEEL="$(ls "$WORK"/dist/optout_tracker-*.whl)"

say "installing requirements.lock (--require-hashes) and $(basename "$WHEEL") into $WORK/venv"
"$SMOKE_PYTHON" -m venv "$WORK/venv"
VENV="$WORK/venv"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --require-hashes -r "$ROOT/requirements.lock"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$WHEEL"
"$VENV/bin/python" -m pip check  # the lock holds every dependency the wheel declares
where="$("$VENV/bin/python" -c 'import optout_tracker; print(optout_tracker.__file__)')"
[[ "$where" == "$VENV/"* ]] || fail "optout_tracker was imported from $where, not the venv"

free_port() { "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
HOOK_PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"

createdb "$DB"
export OPTOUT_DATABASE_URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$DB"
OPTOUT_SECRET_KEY="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
export OPTOUT_SECRET_KEY
export OPTOUT_BASE_URL="$BASE"
export OPTOUT_WEBHOOK_ALLOW_PRIVATE=true OPTOUT_WEBHOOK_BACKOFF_SECONDS=1
OT="$VENV/bin/optout-tracker"

say "db upgrade on $DB"
"$OT" db upgrade
"$OT" db current

say "starting the server on port $PORT and the worker"
"$OT" serve --host 127.0.0.1 --port "$PORT" --workers 2 >"$WORK/server.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
"$OT" worker --poll 0.2 >"$WORK/worker.log" 2>&1 &
WORKER=$!
PIDS+=("$WORKER")

# A webhook receiver on loopback: each POST's body on a line of hooks.jsonl.
cat >"$WORK/receiver.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open("hooks.jsonl", "ab") as out:
            out.write(body + b"\n")
        self.send_response(204)
        self.end_headers()


HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
PY
"$VENV/bin/python" "$WORK/receiver.py" "$HOOK_PORT" >"$WORK/receiver.log" 2>&1 &
PIDS+=("$!")

ready=""
for _ in $(seq 1 240); do  # up to 60 s: serve migrates and seeds before it listens
  kill -0 "$SERVER" 2>/dev/null || fail "the server exited before it was ready"
  kill -0 "$WORKER" 2>/dev/null || fail "the worker exited"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" || true)"
  [[ "$code" == 200 ]] && { ready=yes; break; }
  sleep 0.25
done
[[ -n "$ready" ]] || fail "/readyz never answered 200 (last: $code)"
say "/readyz: $(curl -sf "$BASE/readyz")"
curl -sf -o /dev/null "$BASE/healthz" || fail "/healthz did not answer 200"

# json EXPRESSIONS: the comma-separated Python expressions of the JSON `d` on stdin, printed.
json() { "$VENV/bin/python" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

say "making keys with the CLI"
WRITE_KEY="$("$OT" api-keys create smoke-writer --scope write 2>/dev/null)"
ADMIN_KEY="$("$OT" api-keys create smoke-admin --scope admin 2>/dev/null)"
[[ "$WRITE_KEY" == optk_* && "$ADMIN_KEY" == optk_* ]] || fail "api-keys create printed no key"

api() {  # api METHOD PATH KEY [JSON]: the body on stdout; fails on any status not 2xx
  local method=$1 path=$2 key=$3 data=${4:-}
  curl -sS --fail-with-body -X "$method" "$BASE/api/v1$path" \
    -H "Authorization: Bearer $key" -H 'Accept: application/json' \
    ${data:+-H 'Content-Type: application/json' --data "$data"}
}

hook="$(api POST /webhooks "$ADMIN_KEY" \
  "{\"url\": \"http://127.0.0.1:$HOOK_PORT/hook\", \"events\": [\"vote.created\"]}")"
[[ "$(json 'd["active"]' <<<"$hook")" == True ]] || fail "the webhook is not active: $hook"

JID="$(api GET '/jurisdictions?fips=06085' "$WRITE_KEY" | json 'd["items"][0]["id"]')"
say "round trip: a vote for jurisdiction $JID (Santa Clara County, seeded)"
created="$(api POST /votes "$WRITE_KEY" "{\"jurisdiction_id\": $JID, \"body\": \"Smoke Board\",
  \"held_on\": \"2011-06-01\", \"outcome\": \"passed\", \"private_notes\": \"smoke $SUFFIX\"}")"
VID="$(json 'd["id"]' <<<"$created")"
read_back="$(api GET "/votes/$VID" "$WRITE_KEY")"
got="$(json 'd["body"], d["private_notes"], d["jurisdiction_id"]' <<<"$read_back")"
[[ "$got" == "Smoke Board smoke $SUFFIX $JID" ]] || fail "vote $VID read back as $got"

say "waiting for the worker to deliver vote.created"
delivered=""
for _ in $(seq 1 100); do  # up to 20 s
  if [[ -s "$WORK/hooks.jsonl" ]] && grep -q "\"vote.created\"" "$WORK/hooks.jsonl"; then
    delivered=yes
    break
  fi
  kill -0 "$WORKER" 2>/dev/null || fail "the worker exited"
  sleep 0.2
done
[[ -n "$delivered" ]] || fail "the worker delivered no vote.created webhook"
hook_vote="$(grep '"vote.created"' "$WORK/hooks.jsonl" | head -n 1 | json 'd["data"]["id"], "private_notes" in d["data"]')"
[[ "$hook_vote" == "$VID False" ]] || fail "the webhook carried $hook_vote, not vote $VID without its notes"

say "online backup with deploy/pg-backup.sh, restore with deploy/pg-restore.sh"
DUMP="$(bash "$ROOT/deploy/pg-backup.sh" "$WORK/backups")"
[[ -s "$DUMP" ]] || fail "pg-backup.sh made no dump"
createdb "$RESTORED"
bash "$ROOT/deploy/pg-restore.sh" "$DUMP" "postgresql://$PGUSER@$PGHOST:$PGPORT/$RESTORED"
notes="$(psql -XAtq -d "$RESTORED" -c "SELECT private_notes FROM vote WHERE id = $VID")"
[[ "$notes" == "smoke $SUFFIX" ]] || fail "the restored database has vote $VID as '$notes'"
OPTOUT_DATABASE_URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$RESTORED" "$OT" db current

say "stopping the server and the worker (SIGTERM)"
kill -TERM "$SERVER" "$WORKER"
wait "$SERVER" || fail "the server exited with $? on SIGTERM"
wait "$WORKER" || fail "the worker exited with $? on SIGTERM"
PIDS=("${PIDS[@]:2}")  # the receiver: the trap ends it
grep -q '^worker: ' "$WORK/worker.log" || fail "the worker did not stop cleanly (no tally)"
