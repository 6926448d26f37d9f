#!/usr/bin/env bash
# Prints the path of a `temporal` CLI (1.5 or newer): one on PATH, or the pinned build in .tools/bin,
# building it from Go modules the first time (about 3 minutes, 252 MB; never committed).
set -euo pipefail
PINNED=v1.5.1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bindir="$root/.tools/bin"

version_ok() {
  # "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)" -> 1.5.1
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^temporal version \([0-9][0-9.]*\).*/\1/p' | head -1)
  [ -n "$v" ] || return 1
  local major minor
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 5 ]; }
}

# `go install` builds report version 0.0.0-DEV, so our own build is recognised by the marker written after it.
marker="$bindir/temporal.pinned"
if [ -x "$bindir/temporal" ] && [ "$(cat "$marker" 2>/dev/null)" = "$PINNED" ] && "$bindir/temporal" --version >/dev/null 2>&1; then
  echo "$bindir/temporal"; exit 0
fi
if command -v temporal >/dev/null 2>&1; then
  onpath=$(command -v temporal)
  # Our own pinned build reports 0.0.0-DEV; the marker beside it says what it is.
  if version_ok "$onpath" || [ "$(cat "$(dirname "$onpath")/temporal.pinned" 2>/dev/null)" = "$PINNED" ]; then
    echo "$onpath"; exit 0
  fi
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: no temporal CLI (1.5 or newer) on PATH and no Go to build the pinned one." >&2
  echo "fix: install Go (https://go.dev/dl) and rerun, or put temporal >= 1.5 on PATH (https://docs.temporal.io/cli)." >&2
  exit 1
fi
mkdir -p "$bindir"
echo "building temporal CLI $PINNED from Go modules into $bindir (about 3 minutes, once)..." >&2
GOBIN="$bindir" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$PINNED" >&2
"$bindir/temporal" --version >/dev/null 2>&1 || { echo "error: the build finished but $bindir/temporal does not run" >&2; exit 1; }
echo "$PINNED" > "$marker"
echo "built $("$bindir/temporal" --version)" >&2
echo "$bindir/temporal"
