#!/usr/bin/env bash
# The one throwaway-Postgres routine: a cluster made from the local server binaries
# (scripts/pg-bindir.sh finds them), run as the `postgres` user when called as root (the server
# refuses to run as root). scripts/with-postgres.sh (the tests) and `leakstorm up` (the native
# fleet) both use it.
#
#   pg-cluster.sh start DIR PORT [MAX_CONNECTIONS]   initdb DIR/data if needed, then start it on
#                                                    127.0.0.1:PORT (socket in DIR, log DIR/postgres.log)
#   pg-cluster.sh stop DIR [fast|immediate]          stop it
#   pg-cluster.sh createdb PORT NAME                 create a database (exit 0 if it exists)
#
# Exit status: 0 done; 1 failed (the reason on stderr, with the server's log); 3 PORT is taken.
set -euo pipefail

case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
pg_bin=$("$here/pg-bindir.sh")

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

command=${1:-}
case $command in
  start)
    dir=$2 port=$3 max_connections=${4:-300}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd) # the server resolves paths from its data directory
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    rm -f "$dir/postgres.log"
    # Durability is irrelevant for a throwaway cluster; speed and connection headroom are not.
    if as_owner "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
      -o "-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=$max_connections" \
      start >/dev/null; then
      exit 0
    fi
    if grep -q "could not bind" "$dir/postgres.log" 2>/dev/null; then
      echo "pg-cluster: port $port is taken" >&2
      exit 3
    fi
    echo "pg-cluster: the cluster in $dir did not start; its log:" >&2
    cat "$dir/postgres.log" >&2 2>/dev/null || true
    exit 1
    ;;
  stop)
    dir=$2 mode=${3:-fast}
    as_owner "$pg_bin/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null
    ;;
  createdb)
    port=$2 name=$3
    if ! out=$(as_owner "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name" 2>&1); then
      [[ $out == *"already exists"* ]] && exit 0
      echo "pg-cluster: createdb $name: $out" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: pg-cluster.sh start DIR PORT [MAX_CONNECTIONS] | stop DIR [fast|immediate] | createdb PORT NAME" >&2
    exit 2
    ;;
esac
