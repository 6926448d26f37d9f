#!/usr/bin/env bash
# Prints the folder holding the pinned Temporal server (`temporal-server`) and its SQL tool (`temporal-sql-tool`),
# building both from Go modules into .tools/bin the first time (about 5 minutes on 2 cores; never committed), with
# the PostgreSQL schema folders the module ships copied to .tools/share/temporal-server/schema (for cluster.sh).
set -euo pipefail
PINNED=v1.29.1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bindir="$root/.tools/bin"
marker="$bindir/temporal-server.pinned"
schema="$root/.tools/share/temporal-server/schema"

binaries_built() {
  [ -x "$bindir/temporal-server" ] && [ -x "$bindir/temporal-sql-tool" ] && [ "$(cat "$marker" 2>/dev/null)" = "$PINNED" ]
}
schema_copied() {
  [ "$(cat "$schema/pinned" 2>/dev/null)" = "$PINNED" ]
}

if binaries_built && schema_copied; then echo "$bindir"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: the Temporal server $PINNED is not built in $bindir and there is no Go to build it." >&2
  echo "fix: install Go (https://go.dev/dl) and rerun \`bash infra/temporal/ensure-server.sh\`." >&2
  exit 1
fi
mkdir -p "$bindir"
# One build at a time: .ci/run starts this in the background and the pretest may ask again while it runs.
exec 9>"$bindir/.temporal-server.lock"
flock 9
if ! binaries_built; then
  echo "building Temporal server $PINNED and its SQL tool from Go modules into $bindir (about 5 minutes, once)..." >&2
  # `go install` names binaries after their package folder (server, sql): build into a scratch GOBIN and rename,
  # so a half-finished build never sits under the final names.
  scratch=$(mktemp -d "$bindir/.server-build.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  GOBIN="$scratch" GOFLAGS=-mod=mod go install \
    "go.temporal.io/server/cmd/server@$PINNED" "go.temporal.io/server/cmd/tools/sql@$PINNED" >&2
  "$scratch/server" --help >/dev/null 2>&1 || { echo "error: the build finished but $scratch/server does not run" >&2; exit 1; }
  mv -f "$scratch/server" "$bindir/temporal-server"
  mv -f "$scratch/sql" "$bindir/temporal-sql-tool"
  echo "$PINNED" > "$marker"
  echo "built Temporal server $PINNED into $bindir" >&2
fi
if ! schema_copied; then
  module=$(GOFLAGS=-mod=mod go mod download -json "go.temporal.io/server@$PINNED" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -d "$module/schema/postgresql/v12/temporal/versioned" ] || { echo "error: no PostgreSQL schema in the module at '$module'" >&2; exit 1; }
  rm -rf "$schema"
  mkdir -p "$schema"
  cp -R "$module/schema/postgresql" "$schema/"
  # The module cache is read-only; the copy need not be.
  chmod -R u+w "$schema"
  echo "$PINNED" > "$schema/pinned"
fi
echo "$bindir"
