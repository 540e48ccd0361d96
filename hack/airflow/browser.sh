#!/usr/bin/env bash
# Ensures the headless browser of the UI tests (tests/airflow/test_browser.py, tests/e2e/kind_browser_test.go):
# Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver), installed with
# apt-get only when one is missing, and prints both versions (stderr). Quiet and quick when both
# are there. No browser is downloaded from anywhere else: Selenium is given the driver's path, so
# its own driver manager never runs.
# Usage: hack/airflow/browser.sh
set -o errexit -o nounset -o pipefail

log() { echo "browser.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver
CERTUTIL=/usr/bin/certutil

# Other scripts install packages beside this one: hack/tools/apt-install.sh takes turns with them.
install() {
  "$(dirname "${BASH_SOURCE[0]}")/../tools/apt-install.sh" chromium chromium-driver libnss3-tools
}

# certutil (libnss3-tools) puts a test CA in a browser's own NSS database (the kind suite's UI sign-in).
if [[ ! -x "${CHROMIUM}" || ! -x "${DRIVER}" || ! -x "${CERTUTIL}" ]]; then
  install
fi
[[ -x "${CHROMIUM}" && -x "${DRIVER}" && -x "${CERTUTIL}" ]] || die "no ${CHROMIUM}, ${DRIVER} or ${CERTUTIL} after apt-get install"

# Debian's launcher script warns on stderr about /dev/shm; only the version line matters.
browser_version="$("${CHROMIUM}" --version 2>/dev/null)"
driver_version="$("${DRIVER}" --version 2>/dev/null)"
log "${browser_version}; ${driver_version%% (*}"
# chromedriver only drives the Chromium of its own major version (Debian builds both from one source).
major() { grep -o '[0-9][0-9]*\.' <<<"$1" | head -1; }
[[ "$(major "${browser_version}")" == "$(major "${driver_version}")" ]] ||
  die "chromium (${browser_version}) and chromedriver (${driver_version}) differ in major version: apt-get install chromium chromium-driver"
