#!/usr/bin/env bash
# Runs the real-Airflow suite (tests/airflow): ensures the Airflow venvs every golden case needs
# (hack/airflow/venv.sh, cached), a pinned pytest venv (tests/airflow/requirements.txt, cached),
# Debian's chromium and chromedriver for the UI test (hack/airflow/browser.sh, installed when missing), the
# pinned StatsD exporter (hack/tools/statsd-exporter.sh, cached), the OpenID Connect provider of the FAB
# login test (hack/tools/oidc-provider.sh, cached),
# starts the tests' PostgreSQL and Redis (hack/airflow/services.sh), runs pytest, and stops every
# process it started, also on failure or interrupt.
# Env: AIRKUBE_CACHE (default ~/.cache/airkube); AIRKUBE_PYTEST_WORKERS (parallel pytest workers,
#      default 2); pytest's own PYTEST_ADDOPTS for extra arguments (e.g. PYTEST_ADDOPTS='-k "not celery"').
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"

CACHE_ROOT="${AIRKUBE_CACHE:-${HOME}/.cache/airkube}"
SERVICES="${ROOT}/hack/airflow/services.sh"
REQ="${ROOT}/tests/airflow/requirements.txt"
T0=$SECONDS
phase_start=$SECONDS
phase() { # phase NAME: prints the previous phase's time, starts the next
  echo "airflow.sh: -- $1 (previous phase $((SECONDS - phase_start))s, total $((SECONDS - T0))s)" >&2
  phase_start=$SECONDS
}

PYTEST_PID=""
SERVICES_STARTED=0
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "${PYTEST_PID}" ]]; then
    # pytest ran in its own process group: anything a test left behind is ended here.
    if pgrep -g "${PYTEST_PID}" >/dev/null 2>&1; then
      echo "airflow.sh: ending processes left in the test session's group ${PYTEST_PID}:" >&2
      pgrep -a -g "${PYTEST_PID}" >&2 || true
      kill -TERM -- "-${PYTEST_PID}" 2>/dev/null || true
      sleep 2
      kill -KILL -- "-${PYTEST_PID}" 2>/dev/null || true
    fi
  fi
  # Stops them unless another test session on this machine still holds them.
  if [[ "${SERVICES_STARTED}" == "1" ]]; then "${SERVICES}" release "$$" || true; fi
  echo "airflow.sh: total $((SECONDS - T0))s, exit ${rc}" >&2
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase "Airflow venvs"
# 3.3.2 and 2.11.2 always, 3.2.2 for test_upgrade.py (a 3.x whose XCom migration fails on NaN), plus
# every version a golden case renders for.
mapfile -t versions < <({ echo 3.3.2; echo 2.11.2; echo 3.2.2
  grep -ho 'app.kubernetes.io/version: "[0-9.]*"' tests/golden/*/manifest.yaml | grep -o '[0-9][0-9.]*'
} | sort -uV)
for v in "${versions[@]}"; do
  hack/airflow/venv.sh "${v}" >/dev/null
done

phase "test runner venv"
PY="${AIRKUBE_AIRFLOW_PYTHON:-python3}"
stamp="$({ cat "${REQ}"; "${PY}" -c 'import platform; print(platform.python_version())'; } | sha256sum | cut -c1-12)"
RUNNER="${CACHE_ROOT}/tools/pytest-${stamp}"
mkdir -p "${CACHE_ROOT}/tools"
(
  flock 9
  if [[ ! -f "${RUNNER}/.airkube-complete" ]]; then
    echo "airflow.sh: creating ${RUNNER}" >&2
    rm -rf "${RUNNER}"
    "${PY}" -m venv "${RUNNER}" >&2
    PIP_DISABLE_PIP_VERSION_CHECK=1 "${RUNNER}/bin/pip" install -q --no-deps -r "${REQ}" >&2
    "${RUNNER}/bin/python" -m pip check >&2
    touch "${RUNNER}/.airkube-complete"
  fi
) 9>"${CACHE_ROOT}/tools/.pytest.lock"

phase "headless browser (chromium, chromedriver)"
hack/airflow/browser.sh

phase "statsd_exporter (the metrics test's exporter)"
hack/tools/statsd-exporter.sh >/dev/null

phase "OpenID Connect provider (the FAB OIDC login test's)"
hack/tools/oidc-provider.sh >/dev/null

phase "bin/airkube"
go build -o bin/airkube ./generator/cmd/airkube

phase "services (PostgreSQL, Redis)"
SERVICES_STARTED=1
"${SERVICES}" start "$$"
eval "$("${SERVICES}" env)"

phase "pytest tests/airflow"
workers="${AIRKUBE_PYTEST_WORKERS:-2}"
args=(-p no:cacheprovider -rfEs --durations=15)
if [[ "${workers}" != "0" && "${workers}" != "1" ]]; then args+=(-n "${workers}" --dist loadgroup); fi
args+=(tests/airflow)
rc=0
# setsid: pytest and everything it starts share one process group that cleanup() can end.
setsid "${RUNNER}/bin/python" -m pytest "${args[@]}" &
PYTEST_PID=$!
wait "${PYTEST_PID}" || rc=$?
if [[ "${rc}" == "5" ]]; then
  echo "airflow.sh: pytest collected no tests" >&2
  rc=1
fi
phase "done"
exit "${rc}"
