#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL 15 server binaries are at /usr/lib/postgresql/15/bin, for the store tests (each
# test file starts a private cluster there with initdb and pg_ctl). Run by `npm test` (pretest) and by .ci/run.
# Set THOUGHT_PROBE_PG_BIN to use binaries elsewhere.
set -euo pipefail
PG_BIN=${THOUGHT_PROBE_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/postgres" ] && exit 0
if [ -n "${THOUGHT_PROBE_PG_BIN:-}" ]; then
  echo "error: THOUGHT_PROBE_PG_BIN=$PG_BIN holds no initdb, pg_ctl and postgres; point it at PostgreSQL's bin directory." >&2
  exit 1
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/ensure-apt.sh" postgresql "$PG_BIN/initdb" "the store tests (PostgreSQL 15)"
