#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a Postgres server whose user may create databases:
#   1. DATABASE_URL, if set;
#   2. else a throwaway cluster made from the local server binaries (scripts/pg-bindir.sh finds
#      them; as the `postgres` user when run as root: the server refuses to run as root);
#   3. else, when a Docker engine answers, a throwaway ${POSTGRES_IMAGE:-postgres:16} container
#      (the image found locally, or pulled);
# stopped and deleted when the command ends.
#
# `with-postgres.sh --check` makes the same choice without starting anything (scripts/preflight.sh
# runs it before compiling): exit 0, silent, or with one note when it will use Docker; exit 1 with
# one line saying what to install.
set -euo pipefail

case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
image=${POSTGRES_IMAGE:-postgres:16}
check=false
if [[ ${1:-} == --check ]]; then
  check=true
  shift
fi

if [[ -n "${DATABASE_URL:-}" ]]; then
  if $check; then
    exit 0
  fi
  exec "$@"
fi

# Whether Docker can provide the image: present locally, or pulled now (a note says so, as a pull
# takes a while). Sets pull_error when it cannot.
pull_error=
docker_can_provide() {
  command -v docker >/dev/null 2>&1 || return 1
  docker info >/dev/null 2>&1 || return 1
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  echo "with-postgres: no local PostgreSQL server binaries; pulling $image for a throwaway test database" >&2
  if ! pull_error=$(docker pull "$image" 2>&1 >/dev/null); then
    pull_error=${pull_error%%$'\n'*}
    [[ -n "$pull_error" ]] || pull_error="docker pull failed"
    return 1
  fi
}

# pg-bindir.sh prints the directory, or one line saying why there is none (on stderr: kept).
if ! pg_bin=$("$here/pg-bindir.sh" 2>&1); then
  if [[ -n "${PG_BIN_DIR:-}" ]]; then
    # An explicit choice that is wrong: say so rather than quietly using something else.
    echo "$pg_bin" >&2
    exit 1
  fi
  pg_bin=
  if ! docker_can_provide; then
    why=
    [[ -n "$pull_error" ]] && why=" (the Docker fallback needs $image, which the engine could not pull: $pull_error)"
    echo "PostgreSQL server: $("$here/pg-bindir.sh" --install-hint), or set DATABASE_URL to a server whose user may create databases$why" >&2
    exit 1
  fi
  if $check; then
    echo "note: no local PostgreSQL server binaries: the tests will use a throwaway $image container (Docker)" >&2
  fi
fi
if $check; then
  exit 0
fi

if [[ -z "$pg_bin" ]]; then
  cid=$(docker run --detach --rm --label leakstorm=with-postgres -e POSTGRES_HOST_AUTH_METHOD=trust \
    -p 127.0.0.1::5432 "$image" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400)
  trap 'docker rm --force --volumes "$cid" >/dev/null 2>&1 || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  hostport=$(docker port "$cid" 5432/tcp)
  hostport=${hostport%%$'\n'*}
  port=${hostport##*:}
  # The image's entrypoint runs a socket-only server while it initialises, then restarts it on
  # TCP: ready over TCP means the real server.
  for ((i = 0; ; i++)); do
    docker exec "$cid" pg_isready -q -h 127.0.0.1 -U postgres >/dev/null 2>&1 && break
    if ((i >= 120)); then
      echo "with-postgres: the $image container did not become ready in 60 s; its log:" >&2
      docker logs "$cid" >&2 2>&1 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "with-postgres: throwaway $image container on 127.0.0.1:$port" >&2
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  "$@"
  exit
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/leakstorm-pg.XXXXXX")
cleanup() {
  "$here/pg-cluster.sh" stop "$dir" immediate >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port below the usual ephemeral ranges (where the tests' own port-0 listeners land) that
# nothing listens on; another process may still take it first, so a taken port tries another.
started=false
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  status=0
  "$here/pg-cluster.sh" start "$dir" "$port" 400 || status=$?
  if ((status == 0)); then
    started=true
    break
  fi
  ((status == 3)) || exit 1
done
if ! $started; then
  echo "with-postgres: the throwaway cluster did not start: no free port in five tries" >&2
  exit 1
fi

echo "with-postgres: throwaway cluster on 127.0.0.1:$port" >&2
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
