#!/usr/bin/env bash
# Runs `make test` as on a fresh machine (make test-cold), without touching this machine's caches: a fresh
# clone of HEAD in a temporary folder, where everything a run caches starts empty: HOME (so ~/.cache and
# ~/go), GOMODCACHE, GOCACHE, AIRKUBE_CACHE (tool builds, venvs, images' inputs, clusters), pip's and uv's
# caches, TMPDIR, apt's download cache and package lists, and a Docker engine of its own (socket, data root
# and exec root in the folder). Machine configuration is kept: Go's env file (GOENV), git's config, pip.conf.
# Prints each phase's time (FIGURE lines of hack/make-rules/test.sh) and the total, and stops and removes
# everything it started. AIRKUBE_COLD_KEEP=1 keeps the folder (for a look at a failure).
#
#   hack/make-rules/test-cold.sh [PARENT]     the temporary folder goes in PARENT (default /var/tmp)
#
# What changes outside the folder is what a fresh machine needs anyway: Debian packages the scripts install
# when missing (docker.io, debootstrap, PostgreSQL, Redis, Chromium, build headers), system-wide.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

[[ "$(id -u)" == 0 ]] || { echo "test-cold: run as root (a Docker engine of its own, apt, chroots)" >&2; exit 1; }
# A second engine would share iptables chains and the docker0 bridge with a running one.
if docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; then
  echo "test-cold: a Docker engine runs on /var/run/docker.sock; stop it first (make kind-down stops the one kind-up started)" >&2
  exit 1
fi
if [[ -n "$(git -C "${ROOT}" status --porcelain --untracked-files=no)" ]]; then
  echo "test-cold: warning: uncommitted changes are not in the run: it tests HEAD ($(git -C "${ROOT}" rev-parse --short HEAD))" >&2
fi

parent="${1:-/var/tmp}"
mkdir -p "${parent}"
COLD="$(mktemp -d "${parent%/}/airkube-cold.XXXXXX")"
SRC="${COLD}/airkube"
home="${COLD}/home"
mkdir -p "${home}" "${COLD}/tmp" "${COLD}/apt/lists/partial" "${COLD}/apt/cache/archives/partial" "${COLD}/docker"
echo "test-cold: in ${COLD}" >&2

goenv="$(go env GOENV)"
env_vars=(
  HOME="${home}" TMPDIR="${COLD}/tmp" XDG_CACHE_HOME="${home}/.cache" XDG_CONFIG_HOME="${home}/.config"
  GOENV="${goenv}" GOPATH="${home}/go" GOMODCACHE="${home}/go/pkg/mod" GOCACHE="${home}/.cache/go-build"
  AIRKUBE_CACHE="${home}/.cache/airkube" PIP_CACHE_DIR="${home}/.cache/pip" UV_CACHE_DIR="${home}/.cache/uv"
  APT_CONFIG="${COLD}/apt/apt.conf"
  DOCKER_HOST="unix://${COLD}/docker/docker.sock" AIRKUBE_DOCKER_ROOT="${COLD}/docker/data"
  AIRKUBE_DOCKER_EXEC_ROOT="${COLD}/docker/exec"
)
cat >"${COLD}/apt/apt.conf" <<APT
Dir::Cache "${COLD}/apt/cache";
Dir::State::Lists "${COLD}/apt/lists";
APT
[[ ! -f "${HOME}/.gitconfig" ]] || cp "${HOME}/.gitconfig" "${home}/.gitconfig"
in_cold() { env "${env_vars[@]}" "$@"; }

RUN_PID=""
cleanup() {
  local rc=$?
  trap '' INT TERM
  trap - EXIT
  set +o errexit
  echo "test-cold: stopping what the run started" >&2
  if [[ -n "${RUN_PID}" ]]; then
    kill -TERM -- "-${RUN_PID}" 2>/dev/null
    { sleep 30; kill -KILL -- "-${RUN_PID}" 2>/dev/null; } &
    local watchdog=$!
    wait "${RUN_PID}" 2>/dev/null   # reaps the group's leader (a zombie would still answer kill -0)
    kill "${watchdog}" 2>/dev/null
    kill -KILL -- "-${RUN_PID}" 2>/dev/null   # what the leader left in its group
  fi
  # The suites' own traps stop their clusters and services; these catch an interrupted run.
  if [[ -d "${SRC}" ]]; then
    (cd "${SRC}" && AIRKUBE_CLUSTER=airkube-e2e in_cold hack/cluster/down.sh >/dev/null 2>&1)
    (cd "${SRC}" && in_cold hack/airflow/services.sh stop >/dev/null 2>&1)
    (cd "${SRC}" && AIRKUBE_CLUSTER=airkube-e2e in_cold hack/kind/down.sh)   # the kind cluster, then the engine
  fi
  for sig in TERM TERM TERM KILL; do
    pgrep -f -- "${COLD}/" >/dev/null || break
    pkill "-${sig}" -f -- "${COLD}/"
    sleep 2
  done
  # Mounts left below the folder (a killed dockerd's overlays, a chroot's /proc) go before the folder.
  awk -v d="${COLD}/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
  if left="$(pgrep -a -f -- "${COLD}/")"; then
    echo "test-cold: still running:" >&2
    echo "${left}" >&2
    rc=1
  fi
  if [[ "${AIRKUBE_COLD_KEEP:-0}" == 1 ]]; then
    echo "test-cold: kept ${COLD}" >&2
  else
    chmod -R u+w "${COLD}" 2>/dev/null
    rm -rf "${COLD}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=${SECONDS}
git clone --quiet "${ROOT}" "${SRC}"
# CI lays shared/ beside its clone: the suites that read ../shared see it here too.
[[ ! -d "${ROOT}/../shared" ]] || ln -s "$(cd "${ROOT}/../shared" && pwd)" "${COLD}/shared"
echo "test-cold: make test on a fresh clone of $(git -C "${SRC}" rev-parse --short HEAD), every cache empty" >&2

# make test runs in a process group of its own, in the background: a signal to this script then ends it
# (bash runs traps only between commands, and `wait` is one it interrupts).
set +o errexit
setsid env -C "${SRC}" "${env_vars[@]}" make test > >(tee "${COLD}/make-test.log") 2>&1 &
RUN_PID=$!
wait "${RUN_PID}"
status=$?
RUN_PID=""
set -o errexit

echo "test-cold: summary (make test $( ((status == 0)) && echo passed || echo "FAILED, exit ${status}"))" >&2
grep -E '^FIGURE make test ' "${COLD}/make-test.log" | sed 's/^FIGURE make test /FIGURE make test-cold /' >&2 || true
echo "FIGURE make test-cold total with the clone: $((SECONDS - start)) s" >&2
exit "${status}"
