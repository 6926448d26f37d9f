#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL 15 server binaries are at /usr/lib/postgresql/15/bin, for the store tests (each
# test file starts a private cluster there with initdb and pg_ctl). Run by `npm test` (pretest) and by .ci/run.
# Installs the postgresql package with apt-get as root (or through sudo without a password); otherwise says
# which command to run and exits 1. Set THOUGHT_PROBE_PG_BIN to use binaries elsewhere.
set -euo pipefail
PG_BIN=${THOUGHT_PROBE_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/postgres" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "error: $PG_BIN/initdb is missing; the store tests need Debian's postgresql package (PostgreSQL 15)." >&2
  echo "fix: run as root: apt-get update && apt-get install -y --no-install-recommends postgresql" >&2
  echo "     (or: sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql), then rerun." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: $PG_BIN/initdb is missing and there is no apt-get here; install PostgreSQL 15 and set THOUGHT_PROBE_PG_BIN to its bin directory, then rerun." >&2
  exit 1
fi

echo "installing Debian's postgresql for the store tests (apt-get, once)..." >&2
export DEBIAN_FRONTEND=noninteractive
${SUDO[@]+"${SUDO[@]}"} apt-get install -y --no-install-recommends postgresql >&2 ||
  { ${SUDO[@]+"${SUDO[@]}"} apt-get update >&2 && ${SUDO[@]+"${SUDO[@]}"} apt-get install -y --no-install-recommends postgresql >&2; }
[ -x "$PG_BIN/initdb" ] || { echo "error: apt-get finished but $PG_BIN/initdb is still missing (is the postgresql package another major version here? set THOUGHT_PROBE_PG_BIN)" >&2; exit 1; }
echo "installed $("$PG_BIN/postgres" --version 2>/dev/null || echo postgresql)" >&2
