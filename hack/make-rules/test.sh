#!/usr/bin/env bash
# Runs every test: vet, unit/golden/invariants, verify, the kwok e2e suite, then real Airflow and real pods
# on kind side by side.
# Each phase's time is printed as a FIGURE line when it ends, and the total at the end.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"

T0=${SECONDS}
phase_name="" phase_start=${SECONDS}
phase() { # phase NAME: ends the running phase (its FIGURE line) and starts NAME; no NAME ends the last
  [[ -z "${phase_name}" ]] || echo "FIGURE make test phase ${phase_name}: $((SECONDS - phase_start)) s" >&2
  phase_name="${1:-}" phase_start=${SECONDS}
  [[ -z "${phase_name}" ]] || echo "== ${phase_name}" >&2
}

# The kind cluster comes up (engine, images, cluster, KEDA: minutes of mostly disk and waiting) while the
# quick phases run, in a session of its own so that a failure on either side ends it.
kind_log="$(mktemp)" airflow_log="$(mktemp)"
AIRKUBE_CLUSTER=airkube-e2e setsid hack/kind/up.sh >"${kind_log}" 2>&1 &
kind_up=$!
airflow_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  for pid in ${kind_up} ${airflow_pid}; do
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM -- "-${pid}" 2>/dev/null || true
      wait "${pid}" 2>/dev/null || true
    fi
  done
  [[ -z "${kind_up}" ]] || AIRKUBE_CLUSTER=airkube-e2e hack/kind/down.sh >&2 || true
  rm -f "${kind_log}" "${airflow_log}"
}
trap cleanup EXIT

phase "go vet"
go vet ./...
go vet -tags e2e ./tests/e2e/
phase "unit, golden and invariant tests"
go test -count=1 ./...
phase "verify generated files"
hack/make-rules/verify.sh
phase "verify Airflow config key lists against the real packages"
hack/airflow/verify-config-keys.sh
phase "cluster e2e (kwok)"
hack/make-rules/e2e.sh

# The two long suites run side by side: the real-Airflow suite's processes on the host and the kind
# suite's pods wait on Airflow's own loops much of the time, so together they take little more than
# the longer one. The real-Airflow suite's output is printed whole when it ends.
phase "real Airflow and real pods on kind, side by side"
AIRKUBE_AIRFLOW_LOG="${airflow_log}" setsid bash -c 't0=${SECONDS} rc=0
  hack/make-rules/airflow.sh >"${AIRKUBE_AIRFLOW_LOG}" 2>&1 || rc=$?
  { echo "== real Airflow (ran beside kind): its output"; cat "${AIRKUBE_AIRFLOW_LOG}"
    echo "FIGURE make test suite real Airflow: $((SECONDS - t0)) s (exit ${rc})"; } >&2
  exit "${rc}"' &
airflow_pid=$!
kind_rc=0
t0=${SECONDS}
if wait "${kind_up}"; then
  grep -E '^FIGURE' "${kind_log}" >&2 || true
  echo "FIGURE make test wait for the kind cluster after the quick phases: $((SECONDS - t0)) s" >&2
  kind_up="" # e2e.sh takes the cluster over and removes it
  AIRKUBE_CLUSTER=airkube-e2e AIRKUBE_E2E_CLUSTER=kind AIRKUBE_KIND_KUBECONFIG="$(tail -n 1 "${kind_log}")" \
    hack/make-rules/e2e.sh || kind_rc=$?
else
  cat "${kind_log}" >&2
  echo "test.sh: hack/kind/up.sh failed" >&2
  kind_rc=1
fi
echo "FIGURE make test suite real pods on kind (with its cluster's start): $((SECONDS - t0)) s (exit ${kind_rc})" >&2
airflow_rc=0
wait "${airflow_pid}" || airflow_rc=$?
airflow_pid=""
phase
echo "FIGURE make test total: $((SECONDS - T0)) s" >&2
if (( kind_rc != 0 || airflow_rc != 0 )); then
  echo "test.sh: failed: real Airflow exit ${airflow_rc}, kind exit ${kind_rc}" >&2
  exit 1
fi
