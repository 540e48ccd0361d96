#!/usr/bin/env bash
# Runs every test: vet, unit/golden/invariants, verify, the kwok e2e suite, real Airflow, then real pods on kind.
set -o errexit -o nounset -o pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"

echo "== go vet" >&2
go vet ./...
go vet -tags e2e ./tests/e2e/
echo "== unit, golden and invariant tests" >&2
go test -count=1 ./...
echo "== verify generated files" >&2
hack/make-rules/verify.sh
echo "== verify Airflow config key lists against the real packages" >&2
hack/airflow/verify-config-keys.sh
if [[ -d tests/e2e ]]; then
  echo "== cluster e2e" >&2
  hack/make-rules/e2e.sh
fi
if [[ -x hack/make-rules/airflow.sh ]]; then
  echo "== real Airflow" >&2
  hack/make-rules/airflow.sh
fi
echo "== real pods on kind" >&2
AIRKUBE_E2E_CLUSTER=kind hack/make-rules/e2e.sh
