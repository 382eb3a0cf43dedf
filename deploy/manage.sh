#!/usr/bin/env bash
# Run an optout-tracker command (or one of deploy/'s scripts) as the service runs: as its
# user, in its state directory, with the settings of /etc/optout-tracker/env and nothing
# else of the caller's environment. Run as root. For commands that end: the server and the
# worker are the units' (on SIGTERM runuser kills its command after 2 s).
#
#   deploy/manage.sh optout-tracker api-keys create partner --scope read
#   deploy/manage.sh optout-tracker db upgrade
#   deploy/manage.sh /opt/optout-tracker/current/deploy/backup.sh /var/backups/optout-tracker
#
# MANAGE_ENV_FILE, MANAGE_USER, MANAGE_HOME and MANAGE_PREFIX (the venv) change those places.
set -Eeuo pipefail
env_file="${MANAGE_ENV_FILE:-/etc/optout-tracker/env}"
user="${MANAGE_USER:-optout-tracker}"
home="${MANAGE_HOME:-/var/lib/optout-tracker}"
prefix="${MANAGE_PREFIX:-/opt/optout-tracker/current}"
(($# > 0)) || { echo "usage: manage.sh optout-tracker COMMAND… | SCRIPT …" >&2; exit 2; }
[[ -r "$env_file" ]] || { echo "manage.sh: cannot read $env_file" >&2; exit 2; }
[[ $1 == optout-tracker ]] && set -- "$prefix/bin/optout-tracker" "${@:2}"

# The file is read as the units read it: NAME=value lines. Quote a value that holds spaces
# or shell characters ("Coalition <alerts@example.org>"): systemd and the shell agree then.
umask 0077  # as the units' UMask: what it makes is the service's alone
# shellcheck disable=SC2016  # $0 and $@ are the inner shell's, on purpose
exec runuser -u "$user" -- env -i -C "$home" HOME="$home" LANG=C.UTF-8 \
  PATH="$prefix/bin:/usr/local/bin:/usr/bin:/bin" APP_PYTHON="$prefix/bin/python" \
  bash -c 'set -a; . "$0"; set +a; exec "$@"' "$env_file" "$@"
