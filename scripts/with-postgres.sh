#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a Postgres server whose user may create databases:
# the one in DATABASE_URL if set, otherwise a throwaway cluster made from the local PostgreSQL
# binaries (as the `postgres` user when run as root), stopped and deleted when the command ends.
set -euo pipefail

if [[ -n "${DATABASE_URL:-}" ]]; then
  exec "$@"
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
  echo "with-postgres: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql), and DATABASE_URL is unset" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/leakstorm-pg.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$dir"
fi

cleanup() {
  as_owner "'$pg_bin/pg_ctl' -D '$dir/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

as_owner "'$pg_bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --no-sync" >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# Durability is irrelevant for a throwaway test cluster; speed is not.
as_owner "'$pg_bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400\" start" >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

echo "with-postgres: throwaway cluster on 127.0.0.1:$port" >&2
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
