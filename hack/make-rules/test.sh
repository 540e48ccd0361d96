#!/usr/bin/env bash
# Runs every test: vet, unit/golden/invariants, verify, the kwok e2e suite, real Airflow, then real pods on kind.
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
# The kind cluster comes up (engine, images, cluster, image load, KEDA: minutes of disk work) while the
# real-Airflow suite runs, in a session of its own so that a failure on either side ends it.
kind_log="$(mktemp)"
AIRKUBE_CLUSTER=airkube-e2e setsid hack/kind/up.sh >"${kind_log}" 2>&1 &
kind_up=$!
# shellcheck disable=SC2317  # called by the EXIT trap
kind_cleanup() {
  if kill -0 "${kind_up}" 2>/dev/null; then
    kill -TERM -- "-${kind_up}" 2>/dev/null || true
    wait "${kind_up}" 2>/dev/null || true
  fi
  [[ -z "${kind_up}" ]] || AIRKUBE_CLUSTER=airkube-e2e hack/kind/down.sh >&2 || true
  rm -f "${kind_log}"
}
trap kind_cleanup EXIT
phase "real Airflow (the kind cluster comes up beside it)"
hack/make-rules/airflow.sh
phase "real pods on kind"
if ! wait "${kind_up}"; then
  cat "${kind_log}" >&2
  echo "test.sh: hack/kind/up.sh failed" >&2
  exit 1
fi
grep -E '^FIGURE' "${kind_log}" >&2 || true
kind_up="" # e2e.sh takes the cluster over and removes it
AIRKUBE_CLUSTER=airkube-e2e AIRKUBE_E2E_CLUSTER=kind AIRKUBE_KIND_KUBECONFIG="$(tail -n 1 "${kind_log}")" hack/make-rules/e2e.sh
rm -f "${kind_log}"
phase
echo "FIGURE make test total: $((SECONDS - T0)) s" >&2
