#!/usr/bin/env bash
# Usage: ensure-apt.sh PACKAGE FILE WHAT
# Makes sure FILE exists (an executable that Debian's PACKAGE provides, needed for WHAT): installs PACKAGE with
# apt-get as root (or through sudo without a password), running apt-get update first if the install fails;
# otherwise says which command to run and exits 1. Used by ensure-chromium.sh and ensure-postgres.sh.
set -euo pipefail
PACKAGE=$1 FILE=$2 WHAT=$3
[ -x "$FILE" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "error: $FILE is missing; $WHAT needs Debian's $PACKAGE package." >&2
  echo "fix: run as root: apt-get update && apt-get install -y --no-install-recommends $PACKAGE" >&2
  echo "     (or: sudo apt-get update && sudo apt-get install -y --no-install-recommends $PACKAGE), then rerun." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: $FILE is missing and there is no apt-get here; install $PACKAGE so that $FILE exists, then rerun." >&2
  exit 1
fi

echo "installing Debian's $PACKAGE for $WHAT (apt-get, once)..." >&2
export DEBIAN_FRONTEND=noninteractive
${SUDO[@]+"${SUDO[@]}"} apt-get install -y --no-install-recommends "$PACKAGE" >&2 ||
  { ${SUDO[@]+"${SUDO[@]}"} apt-get update >&2 && ${SUDO[@]+"${SUDO[@]}"} apt-get install -y --no-install-recommends "$PACKAGE" >&2; }
[ -x "$FILE" ] || { echo "error: apt-get finished but $FILE is still missing" >&2; exit 1; }
echo "installed $PACKAGE" >&2
