#!/usr/bin/env bash
# Says whether risk was killed for memory: `docker compose ps` does not show OOM kills, but the
# container's state does (OOMKilled, exit code 137) and so does its restart count.
set -euo pipefail
id=$(docker compose ps --all --quiet risk 2>/dev/null || true)
[[ -n "$id" ]] || exit 0
read -r oom code restarts < <(docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.RestartCount}}' "$id")
if [[ "$oom" == "true" || "$code" == "137" || "$restarts" != "0" ]]; then
  echo "risk was OOM-killed and restarted ($restarts restarts, last exit code $code, OOMKilled=$oom): the leak ran into its memory limit, as in production."
else
  echo "risk: no OOM kill so far."
fi
