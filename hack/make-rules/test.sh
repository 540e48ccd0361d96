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
phase "real Airflow"
hack/make-rules/airflow.sh
phase "real pods on kind"
AIRKUBE_E2E_CLUSTER=kind hack/make-rules/e2e.sh
phase
echo "FIGURE make test total: $((SECONDS - T0)) s" >&2
