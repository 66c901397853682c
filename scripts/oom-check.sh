#!/usr/bin/env bash
# Says whether risk was killed for memory. `docker compose ps` does not show OOM kills, and after
# a restart Docker resets State.OOMKilled and State.ExitCode, so the engine's event log (an `oom`
# event per kill, a `die` event with the exit code per stop) is what counts, with the current
# state as a fallback for events the engine no longer keeps.
set -euo pipefail
id=$(${COMPOSE:-docker compose} ps --all --quiet risk 2>/dev/null || true)
[[ -n "$id" ]] || exit 0
read -r created oom_now code restarts < <(docker inspect -f '{{.Created}} {{.State.OOMKilled}} {{.State.ExitCode}} {{.RestartCount}}' "$id")
ooms=$(docker events --since "$created" --until "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" \
  --filter "container=$id" --filter event=oom --format '{{.Action}}' | grep -c . || true)
exits=$(docker events --since "$created" --until "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" \
  --filter "container=$id" --filter event=die --format '{{index .Actor.Attributes "exitCode"}}' | paste -sd, -)
if [[ "$oom_now" == true && "$ooms" == 0 ]]; then ooms=1; fi
if ((ooms > 0)); then
  echo "risk was OOM-killed $ooms time(s) and restarted $restarts time(s) (exit codes: ${exits:-none}): the leak ran into its memory limit, as in production."
elif ((restarts > 0)); then
  echo "risk restarted $restarts time(s), not for memory (exit codes: ${exits:-unknown}, no OOM kill): see 'make logs'."
else
  echo "risk: no OOM kill so far (exit code now $code)."
fi
