#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium, for the headless report.html test (the machine's own
# package; no browser download). Run by `npm test` (pretest) and by .ci/run. Installs it with apt-get as
# root (or through sudo without a password); otherwise says which command to run and exits 1.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "error: $CHROMIUM is missing; the report.html test needs Debian's chromium package." >&2
  echo "fix: run as root: apt-get update && apt-get install -y --no-install-recommends chromium" >&2
  echo "     (or: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium), then rerun." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: $CHROMIUM is missing and there is no apt-get here; install Chromium so that $CHROMIUM runs, then rerun." >&2
  exit 1
fi

echo "installing Debian's chromium for the report.html test (apt-get, once)..." >&2
export DEBIAN_FRONTEND=noninteractive
${SUDO[@]+"${SUDO[@]}"} apt-get install -y --no-install-recommends chromium >&2 ||
  { ${SUDO[@]+"${SUDO[@]}"} apt-get update >&2 && ${SUDO[@]+"${SUDO[@]}"} apt-get install -y --no-install-recommends chromium >&2; }
[ -x "$CHROMIUM" ] || { echo "error: apt-get finished but $CHROMIUM is still missing" >&2; exit 1; }
echo "installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)" >&2
