#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium, for the headless report.html test (the machine's own
# package; no browser download). Run by `npm test` (pretest) and by .ci/run.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/ensure-apt.sh" chromium /usr/bin/chromium "the report.html test"
