#!/usr/bin/env bash
# Starts the Temporal dev server for development: SQLite file under .state/, UI on the frontend port + 1000
# (8233 by default), namespace default.
# Eager activity execution is on: an activity scheduled on the workflow's own task queue starts on the worker
# that scheduled it, without a round trip through the matching service.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$(bash "$root/infra/temporal/ensure-cli.sh")
mkdir -p "$root/.state"
exec "$bin" server start-dev \
  --db-filename "$root/.state/temporal.sqlite" \
  --port "${TEMPORAL_PORT:-7233}" \
  --ui-port "${TEMPORAL_UI_PORT:-$(( ${TEMPORAL_PORT:-7233} + 1000 ))}" \
  --namespace default \
  --dynamic-config-value system.enableActivityEagerExecution=true \
  --log-level warn "$@"
