#!/usr/bin/env bash
# Installs Debian packages on this machine for the test scripts: hack/tools/apt-install.sh [--with-recommends] PKG...
#
# `make test` runs scripts that install packages side by side (the kind cluster's engine and debootstrap
# while the real-Airflow suite installs PostgreSQL, Redis and Chromium), and dpkg takes one at a time: a
# second apt-get fails at once on its lock ("Could not get lock /var/lib/dpkg/lock-frontend"), which broke
# make test on a fresh machine. Every install therefore goes through here:
# - one at a time on this machine (flock on /var/lock/airkube-apt.lock), and waiting up to 10 minutes for
#   dpkg's own lock when anything else holds it;
# - `apt-get update` only when the install fails (missing or old package lists on a fresh machine);
# - with a policy-rc.d (exit 101) in place when none exists, so that maintainer scripts start no system
#   service (PostgreSQL, Redis, Docker) that the scripts would then leak;
# - without recommended packages unless --with-recommends.
set -o errexit -o nounset -o pipefail

log() { echo "apt-install.sh: $*" >&2; }
recommends=(--no-install-recommends)
if [[ "${1:-}" == "--with-recommends" ]]; then
  recommends=()
  shift
fi
[[ $# -gt 0 ]] || { log "usage: $0 [--with-recommends] PKG..."; exit 2; }
[[ "$(id -u)" == "0" ]] || { log "not root: install $* by hand (apt-get install $*)"; exit 1; }
command -v apt-get >/dev/null || { log "no apt-get: install $* by hand"; exit 1; }

exec 9>/var/lock/airkube-apt.lock
flock 9
policy=/usr/sbin/policy-rc.d added=0
if [[ ! -e "${policy}" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"${policy}"
  chmod +x "${policy}"
  added=1
fi
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { [[ "${added}" == 0 ]] || rm -f "${policy}"; }
trap cleanup EXIT

APT=(apt-get -q -y -o DPkg::Lock::Timeout=600)
log "apt-get install $*"
if ! DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "${recommends[@]+"${recommends[@]}"}" "$@" >&2; then
  log "apt-get install failed; running apt-get update and retrying"
  "${APT[@]}" update >&2 || true
  DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "${recommends[@]+"${recommends[@]}"}" "$@" >&2
fi
