#!/usr/bin/env bash
# `make storm`: the k6 storm in its one-off container. k6 exits 99 when thresholds are crossed,
# which in leaky mode is the point (the leak's collateral damage), so that is reported, not failed.
set -uo pipefail
${COMPOSE:-docker compose} --profile storm run --rm k6
status=$?
if [[ $status == 99 ]]; then
  echo "storm: k6 thresholds crossed (exit 99): expected while risk is leaky; after 'make fix' the same storm should pass them."
  exit 0
fi
exit "$status"
