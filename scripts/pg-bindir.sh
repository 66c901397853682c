#!/bin/sh
# Prints the directory holding the PostgreSQL server binaries (initdb, pg_ctl, postgres). The one
# lookup behind scripts/pg-cluster.sh (the throwaway cluster of the tests and of `leakstorm up`)
# and scripts/preflight.sh, so the tests and the native fleet cannot disagree about which server
# they use.
#
# Order: PG_BIN_DIR (an explicit choice, never second-guessed); `pg_config --bindir`; `initdb` on
# PATH (symlinks followed: Homebrew links Cellar binaries into bin/, and Fedora puts them straight
# in /usr/bin); Homebrew kegs (postgresql@N is keg-only, so not on PATH); Debian's
# /usr/lib/postgresql/N/bin; PGDG's /usr/pgsql-N/bin. Among versions, the newest.
# With none, exits 1 with one line on stderr saying what to install (`--install-hint`: the
# install commands alone).
#
# PG_LOOKUP_ROOT, for the tests only, is prefixed to the fixed paths (/opt/homebrew, /usr/lib, ...).
# POSIX sh on purpose: it must run from Debian's dash, macOS's bash 3.2 and Rust alike.

root=${PG_LOOKUP_ROOT:-}
install_hint="sudo apt-get install postgresql | sudo dnf install postgresql-server | brew install postgresql@16"
# The install commands alone, for the scripts that phrase their own line around them.
if [ "${1:-}" = --install-hint ]; then
  printf '%s\n' "$install_hint"
  exit 0
fi

usable() {
  [ -n "$1" ] && [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]
}

found() {
  printf '%s\n' "$1"
  exit 0
}

# The real file behind a chain of symlinks (`readlink -f` is missing from older macOS).
resolve() {
  f=$1
  n=0
  while [ -L "$f" ] && [ $n -lt 40 ]; do
    link=$(readlink "$f" 2>/dev/null) || break
    case $link in
      /*) f=$link ;;
      *) f=${f%/*}/$link ;;
    esac
    n=$((n + 1))
  done
  printf '%s\n' "$f"
}

# Prints the usable "$1<version>$2" with the highest major version (a keg or dir without a number
# counts as version 0).
newest() {
  best=
  best_v=-1
  for d in "$1"*"$2"; do
    usable "$d" || continue
    v=${d#"$1"}
    v=${v%"$2"}
    v=${v%%.*}
    case $v in '' | *[!0-9]*) v=0 ;; esac
    if [ "$v" -gt "$best_v" ]; then
      best=$d
      best_v=$v
    fi
  done
  [ -n "$best" ] && printf '%s\n' "$best"
}

if [ -n "${PG_BIN_DIR:-}" ]; then
  usable "$PG_BIN_DIR" && found "$PG_BIN_DIR"
  echo "PG_BIN_DIR=$PG_BIN_DIR holds no initdb, pg_ctl and postgres: point it at the PostgreSQL server's bin directory, or unset it to search ($install_hint)" >&2
  exit 1
fi

if command -v pg_config >/dev/null 2>&1; then
  dir=$(pg_config --bindir 2>/dev/null) && usable "$dir" && found "$dir"
fi

if initdb=$(command -v initdb 2>/dev/null) && [ -n "$initdb" ]; then
  real=$(resolve "$initdb")
  # Logical cd: drops the bin/.. a relative link leaves in the path.
  real=$(cd "${real%/*}" 2>/dev/null && pwd) && usable "$real" && found "$real"
  usable "${initdb%/*}" && found "${initdb%/*}"
fi

kegs() {
  dir=$(newest "$1/opt/postgresql@" /bin) && found "$dir"
  usable "$1/opt/postgresql/bin" && found "$1/opt/postgresql/bin"
}
if [ -n "${HOMEBREW_PREFIX:-}" ]; then
  kegs "$HOMEBREW_PREFIX"
else
  kegs "$root/opt/homebrew"
  kegs "$root/usr/local"
  kegs "$root/home/linuxbrew/.linuxbrew"
fi

dir=$(newest "$root/usr/lib/postgresql/" /bin) && found "$dir"
dir=$(newest "$root/usr/pgsql-" /bin) && found "$dir"

echo "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: $install_hint (or set PG_BIN_DIR to their directory)" >&2
exit 1
