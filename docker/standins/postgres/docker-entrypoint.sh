#!/usr/bin/env bash
# The parts of docker-library/postgres's entrypoint that compose.yaml relies on: first start
# initialises PGDATA from POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB (scram-sha-256 for TCP),
# running a temporary server that listens on the unix socket only; then the real server on TCP.
set -Eeuo pipefail

if [[ "${1:-}" == -* ]]; then set -- postgres "$@"; fi
if [[ "$1" != postgres ]]; then exec "$@"; fi

if [[ "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    echo "Database is uninitialized and superuser password is not specified (POSTGRES_PASSWORD)." >&2
    exit 1
  fi
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") -D "$PGDATA" >/dev/null
  printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  # Unix socket only, as upstream: nothing can reach the server on TCP during initialisation.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p 5432" start >/dev/null
  if [[ "$db" != postgres ]]; then
    psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres -q \
      -c "CREATE DATABASE \"$db\""
  fi
  # Upstream runs /docker-entrypoint-initdb.d here; this stand-in has none to run.
  sleep "${STANDIN_INIT_PAUSE_SECS:-0}"
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
