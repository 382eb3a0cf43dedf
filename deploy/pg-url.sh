# Sourced by pg-backup.sh and pg-restore.sh: turns $url (the app's SQLAlchemy URL) into one
# libpq takes, and moves a password out of it into PGPASSWORD: a command line is visible to
# every user of the host (ps). $1 names the calling script in its errors.
[[ "$url" == postgresql* ]] || { echo "$1: not a PostgreSQL URL (${url%%:*})" >&2; exit 2; }
url="postgresql://${url#*://}"  # postgresql+psycopg://… -> postgresql://…
if [[ "$url" =~ ^postgresql://([^:@/]*):([^@/]*)@(.*)$ ]]; then
  pass="${BASH_REMATCH[2]}"
  PGPASSWORD="$(printf '%b' "${pass//%/\\x}")"  # URL-decoded
  export PGPASSWORD
  url="postgresql://${BASH_REMATCH[1]}@${BASH_REMATCH[3]}"
fi
