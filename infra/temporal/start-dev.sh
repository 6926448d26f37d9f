#!/usr/bin/env bash
# Starts the Temporal dev server for development: SQLite file under .state/, UI on 8233, namespace default.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$(bash "$root/infra/temporal/ensure-cli.sh")
mkdir -p "$root/.state"
exec "$bin" server start-dev \
  --db-filename "$root/.state/temporal.sqlite" \
  --port "${TEMPORAL_PORT:-7233}" \
  --ui-port "${TEMPORAL_UI_PORT:-8233}" \
  --namespace default \
  --log-level warn "$@"
